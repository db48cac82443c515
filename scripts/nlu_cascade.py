"""Measure the e5 cascade (nlu_components/cascade_classifier.py) against today's pipeline.

    python scripts/nlu_cascade.py --model models/cascade.tar.gz --baseline models/today.tar.gz

1. Two passes of the cascade model over every message of the tuning, unseen, fresh and
   other-domain sets: the gate above 1 (the n-gram + e5 model always) and 0 (the n-gram model
   always), and each message's n-gram confidence. The pipeline is deterministic, so the whole
   parse (entities, MessageRules, FallbackClassifier included) at gate g is the first pass's
   where the n-gram confidence is below g and the second's elsewhere: every gate of --gates is
   scored without parsing again (scripts/nlu_heldout.py's rules).
2. The gate is chosen without the frozen sets, by a rule fixed before any other set is looked
   at: the lowest gate of --gates from which up, at every gate of the grid, the tuning set's
   (tests/nlu) accuracy overall and in each language (Devanagari / Hinglish / English) is at
   least the always-e5 model's; with --cv (the crossval.json of a --crossval run), the same
   rule on the cross-validation too, and the higher of the two gates. --gate overrides it.
3. The chosen gate, parsed for real (checked against the simulation), and the baseline model
   (today's config.yml) on the same sets.
4. Latency: the two models loaded side by side in this process, each tuning-set message
   parsed by both, alternately first, --repeat times after a warm-up (scripts/bench_nlu.py's
   messages and repeats); p50 / p95 / mean of each, the share of parses that skipped e5, and
   the load average before and after.

Writes report.json into --out and prints a summary table.
"""
import argparse
import asyncio
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.nlu_heldout import (  # noqa: E402
    ENTITY_TYPES,
    FALLBACK,
    Parse,
    evaluate,
    language_of,
    load_set,
    percentile,
    right,
    training_texts,
)

GATES = [0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99, 1.01]
ALWAYS, NEVER = 2.0, 0.0


def cascade_component(agent):
    from nlu_components.cascade_classifier import CascadeClassifier

    nodes = agent.processor.graph_runner._instantiated_nodes.values()
    found = [n._component for n in nodes if isinstance(n._component, CascadeClassifier)]
    if len(found) != 1:
        raise SystemExit(f"expected one CascadeClassifier in the model, found {len(found)}")
    return found[0]


async def parse_texts(agent, texts: List[str], confidence: Optional[Dict[str, float]] = None
                      ) -> Dict[str, Parse]:
    """Parses as nlu_heldout.parse_all does; with `confidence`, records each message's n-gram
    confidence there (CascadeClassifier's `ngram_confidence`, not in the usual output)."""
    from rasa.core.channels.channel import UserMessage

    parses = {}
    for text in texts:
        start = time.perf_counter()
        parsed = await agent.processor.parse_message(UserMessage(text),
                                                     only_output_properties=False)
        ms = (time.perf_counter() - start) * 1000
        if confidence is not None:
            confidence[text] = parsed["ngram_confidence"]
        entities = frozenset((e["entity"], str(e["value"])) for e in parsed.get("entities", [])
                             if e["entity"] in ENTITY_TYPES)
        ranking = tuple((r["name"], r["confidence"]) for r in parsed.get("intent_ranking", [])
                        if r["name"] != FALLBACK)
        parses[text] = Parse(parsed["intent"]["name"], entities, ranking, ms)
    return parses


def combine(full: Dict[str, Parse], ngram: Dict[str, Parse], confidence: Dict[str, float],
            gate: float) -> Dict[str, Parse]:
    return {t: ngram[t] if confidence[t] >= gate else full[t] for t in full}


def summary(report: dict, fresh_report: dict, skipped: Dict[str, float]) -> dict:
    def scripts(section):
        return {k: round(v["accuracy"], 4) for k, v in section["by_script"].items()}

    return {
        "tuning": round(report["tuning"]["accuracy"], 4),
        "tuning_language": {k: round(v["accuracy"], 4) for k, v in report["tuning"]["by_language"].items()},
        "unseen": round(report["unseen"]["accuracy"], 4), "unseen_script": scripts(report["unseen"]),
        "unseen_wrong": len(report["unseen"]["errors"]),
        "fresh": round(fresh_report["unseen"]["accuracy"], 4),
        "fresh_script": scripts(fresh_report["unseen"]),
        "fresh_wrong": len(fresh_report["unseen"]["errors"]),
        "entity_f1": (round(report["unseen"]["entities"]["f1"], 4),
                      round(fresh_report["unseen"]["entities"]["f1"], 4)),
        "other_civic": round(report["other_domain"]["civic_rate"], 4),
        "other_civic_count": report["other_domain"]["civic"],
        "skipped_e5": skipped,
    }


def choose_gate(per_gate: Dict[float, dict], always: dict) -> float:
    """The lowest gate from which up the tuning set loses nothing against always-e5."""
    def holds(row):
        return row["tuning"] >= always["tuning"] and all(
            row["tuning_language"][k] >= v for k, v in always["tuning_language"].items())

    chosen = None
    for gate in sorted(per_gate, reverse=True):
        if not holds(per_gate[gate]):
            break
        chosen = gate
    return chosen if chosen is not None else max(per_gate)


async def latency(cascade_agent, baseline_agent, texts: List[str], repeat: int,
                  confidence: Dict[str, float], gate: float) -> dict:
    """Both models, each message alternately first; e5 skipped where the n-gram confidence
    (recorded before) is at least the gate, as the component decides."""
    for text in texts[:50]:
        await cascade_agent.parse_message(text)
        await baseline_agent.parse_message(text)
    times = {"cascade": [], "baseline": []}
    skipped = []
    load_before = os.getloadavg()
    for r in range(repeat):
        for i, text in enumerate(texts):
            order = [("cascade", cascade_agent), ("baseline", baseline_agent)]
            if (i + r) % 2:
                order.reverse()
            for name, agent in order:
                start = time.perf_counter()
                await agent.parse_message(text)
                times[name].append((time.perf_counter() - start) * 1000)
            skipped.append(confidence[text] >= gate)
    load_after = os.getloadavg()
    return {
        **{name: {"parses": len(v), "p50": percentile(v, 50), "p95": percentile(v, 95),
                  "mean": statistics.mean(v)} for name, v in times.items()},
        "cascade_skipped_e5": sum(skipped) / len(skipped),
        "load_average_before": load_before, "load_average_after": load_after,
    }


def skipped_share(examples, confidence, gate) -> float:
    values = [confidence[e.text] >= gate for e in examples]
    return round(sum(values) / len(values), 4) if values else 0.0


def crossvalidate_gates(config: Path, out: Path, gates: List[float]) -> dict:
    """scripts/crossval.py's 5 folds of the hand-written data (generated data remade from each
    training part), each test part parsed at gate 0 and above 1 as in step 1; the accuracy of
    every gate over all folds, overall and per language. Fold rows are kept in out/cv_fold<k>.json,
    so a run that stopped resumes."""
    import yaml

    sys.path.insert(0, str(ROOT / "scripts"))
    import generate_nlu
    from crossval import folds, train_nlu, write_training_data
    from rasa.core.agent import Agent

    seeds = yaml.safe_load(generate_nlu.SEEDS.read_text(encoding="utf-8"))
    intents = generate_nlu.domain_intents()
    hand = [e for e in generate_nlu.read_folder(generate_nlu.HAND, recursive=False) if e[0] in intents]
    held_out = [t for folder in generate_nlu.HELD_OUT for _, t in generate_nlu.read_folder(folder)]
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    with (out / "cv_train.log").open("a", encoding="utf-8") as log, \
            tempfile.TemporaryDirectory(prefix="nlu-cascade-cv-") as tmp:
        for k, (train_index, test_index) in enumerate(folds(hand)):
            saved = out / f"cv_fold{k}.json"
            if saved.exists():
                rows += json.loads(saved.read_text(encoding="utf-8"))
                continue
            train = [hand[i] for i in train_index]
            test = [hand[i] for i in test_index]
            generated = generate_nlu.generate(train, seeds, intents, held_out + [t for _, t in test])
            data = Path(tmp) / f"fold{k}"
            write_training_data(data / "nlu", train, generated)
            model, seconds, cpu = train_nlu(config, data / "nlu", data, log)
            texts = list(dict.fromkeys(t for _, t in test))

            async def two_passes(model=model, texts=texts):
                agent = Agent.load(str(model))
                component = cascade_component(agent)
                confidence, passes = {}, {}
                for name, gate in (("full", ALWAYS), ("ngram", NEVER)):
                    component.gate = gate
                    passes[name] = await parse_texts(agent, texts, confidence)
                return passes, confidence

            passes, confidence = asyncio.run(two_passes())
            fold_rows = [[t, i, passes["full"][t].intent, passes["ngram"][t].intent, confidence[t]]
                         for i, t in test]
            saved.write_text(json.dumps(fold_rows, ensure_ascii=False), encoding="utf-8")
            rows += fold_rows
            print(f"  cross-validation fold {k + 1}: trained in {seconds:.0f} s wall, {cpu:.0f} s CPU",
                  flush=True)

    def accuracy(gate):
        hits = defaultdict(list)
        for text, gold, full, ngram, conf in rows:
            hit = right(gold, ngram if conf >= gate else full)
            hits["all"].append(hit)
            hits[language_of(text)].append(hit)
        return {k: round(sum(v) / len(v), 4) for k, v in sorted(hits.items())}

    return {"examples": len(rows), "always_e5": accuracy(ALWAYS), "never_e5": accuracy(NEVER),
            "per_gate": {g: accuracy(g) | {"skipped_e5": round(
                sum(r[4] >= g for r in rows) / len(rows), 4)} for g in gates}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="a model with CascadeClassifier")
    parser.add_argument("--baseline", help="today's model, parsed on the same sets and timed")
    parser.add_argument("--gates", type=float, nargs="*", default=GATES)
    parser.add_argument("--gate", type=float, help="instead of the rule")
    parser.add_argument("--cv", type=Path, help="crossval.json of a --crossval run: its rule too")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-latency", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "cascade")
    parser.add_argument("--limit", type=int, help="only the first N messages of each set (a smoke test)")
    parser.add_argument("--crossval", type=Path, metavar="CONFIG",
                        help="instead: cross-validate the gates of this cascade config")
    args = parser.parse_args()
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # unconfigured, Rasa logs every parse at debug level
    if args.crossval:
        result = crossvalidate_gates(args.crossval, args.out, args.gates)
        (args.out / "crossval.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
        print(f"cross-validation, {result['examples']} hand-written examples; always e5 "
              f"{result['always_e5']}; never e5 {result['never_e5']}")
        for gate, row in result["per_gate"].items():
            print(f"  gate {gate}: {row}")
        return 0

    if not args.model:
        parser.error("--model is required (or --crossval CONFIG)")
    from rasa.core.agent import Agent

    sets = {name: load_set(ROOT / "tests" / folder) for name, folder in
            (("tuning", "nlu"), ("unseen", "nlu_unseen"), ("fresh", "nlu_fresh"),
             ("other", "nlu_other_domain"))}
    if args.limit:
        sets = {name: examples[: args.limit] for name, examples in sets.items()}
    texts = list(dict.fromkeys(e.text for examples in sets.values() for e in examples))
    seen = training_texts(ROOT / "data" / "nlu")

    async def run():
        agent = Agent.load(args.model)
        intents = set(agent.domain.intents)
        component = cascade_component(agent)
        await agent.parse_message("warm up")
        passes, confidence = {}, {}
        for name, gate in (("full", ALWAYS), ("ngram", NEVER)):
            component.gate = gate
            passes[name] = await parse_texts(agent, texts, confidence)

        def score(parses):
            report = evaluate(sets["tuning"], sets["unseen"], sets["other"], parses, intents, seen)
            fresh = evaluate(sets["tuning"], sets["fresh"], sets["other"], parses, intents, seen)
            return report, fresh

        def row(parses, gate):
            report, fresh = score(parses)
            skipped = {name: skipped_share(examples, confidence, gate)
                       for name, examples in sets.items()}
            return summary(report, fresh, skipped)

        always = row(passes["full"], ALWAYS)
        per_gate = {g: row(combine(passes["full"], passes["ngram"], confidence, g), g)
                    for g in args.gates}
        chosen = args.gate if args.gate is not None else choose_gate(per_gate, always)
        if args.gate is None and args.cv:
            cv = json.loads(args.cv.read_text(encoding="utf-8"))
            cv_gates = {float(g): {"tuning": r["all"], "tuning_language": {
                k: v for k, v in r.items() if k not in ("all", "skipped_e5")}}
                for g, r in cv["per_gate"].items()}
            cv_always = {"tuning": cv["always_e5"]["all"], "tuning_language": {
                k: v for k, v in cv["always_e5"].items() if k != "all"}}
            chosen = max(chosen, choose_gate(cv_gates, cv_always))
        component.gate = chosen
        real = await parse_texts(agent, texts)
        simulated = combine(passes["full"], passes["ngram"], confidence, chosen)
        mismatches = [t for t in texts if (real[t].intent, real[t].entities)
                      != (simulated[t].intent, simulated[t].entities)]
        result = {"gate": chosen, "gate_rule": "--gate" if args.gate is not None else
                  "tuning set and cross-validation" if args.cv else "tuning set",
                  "always_e5": always, "never_e5": row(passes["ngram"], NEVER),
                  "per_gate": per_gate, "chosen": row(real, chosen),
                  "simulation_mismatches": mismatches}
        real_report, real_fresh = score(real)
        result["chosen_errors"] = {"unseen": real_report["unseen"]["errors"],
                                   "fresh": real_fresh["unseen"]["errors"],
                                   "other_civic": real_report["other_domain"]["taken_for_civic"]}
        # tuning-set rows that the gate changes, for the record
        result["tuning_changed"] = [
            {"text": e.text, "intent": e.intent, "always_e5": passes["full"][e.text].intent,
             "cascade": real[e.text].intent, "language": language_of(e.text)}
            for e in sets["tuning"] if real[e.text].intent != passes["full"][e.text].intent]
        for name in ("unseen", "fresh", "other"):
            result[f"{name}_changed"] = [
                {"text": e.text, "intent": e.intent, "always_e5": passes["full"][e.text].intent,
                 "cascade": real[e.text].intent,
                 "right_before": right(e.intent, passes["full"][e.text].intent),
                 "right_after": right(e.intent, real[e.text].intent)}
                for e in sets[name] if real[e.text].intent != passes["full"][e.text].intent]
        if args.baseline:
            baseline = Agent.load(args.baseline)
            await baseline.parse_message("warm up")
            base = await parse_texts(baseline, texts)
            result["baseline"] = row(base, ALWAYS) | {"skipped_e5": {}}
            result["baseline_differs_from_always_e5"] = [
                t for t in texts if base[t].intent != passes["full"][t].intent]
            if not args.no_latency:
                bench_texts = [e.text for e in sets["tuning"]]
                result["latency"] = await latency(agent, baseline, bench_texts, args.repeat,
                                                  confidence, chosen)
        return result

    result = asyncio.run(run())
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(result, ensure_ascii=False, indent=1),
                                          encoding="utf-8")
    print_table(result)
    return 0


def print_table(result: dict) -> None:
    def line(name, r):
        u, f = r["unseen_script"], r["fresh_script"]
        skipped = r["skipped_e5"]
        return (f"| {name} | {r['tuning']:.3f} | {r['unseen']:.3f} ({r['unseen_wrong']}) | "
                f"{u.get('devanagari', 0):.3f} / {u.get('latin', 0):.3f} | "
                f"{r['fresh']:.3f} ({r['fresh_wrong']}) | "
                f"{f.get('devanagari', 0):.3f} / {f.get('latin', 0):.3f} | "
                f"{r['other_civic']:.1%} ({r['other_civic_count']}) | "
                + (" / ".join(f"{skipped[k]:.0%}" for k in ("tuning", "unseen", "fresh", "other"))
                   if skipped else "0 %") + " |")

    print("| model | tuning | unseen (wrong) | Deva / Latin | fresh (wrong) | Deva / Latin | "
          "other-domain → civic | skip e5: tuning / unseen / fresh / other |")
    print("|---|---|---|---|---|---|---|---|")
    if "baseline" in result:
        print(line("today (baseline model)", result["baseline"]))
    print(line("always e5 (gate > 1)", result["always_e5"]))
    print(line("never e5 (gate 0)", result["never_e5"]))
    for gate, r in result["per_gate"].items():
        print(line(f"gate {gate}", r))
    print(line(f"**chosen gate {result['gate']}** (parsed)", result["chosen"]))
    print(f"simulation mismatches: {len(result['simulation_mismatches'])}")
    if "baseline" in result:
        print(f"baseline differs from always-e5 on {len(result['baseline_differs_from_always_e5'])} texts")
    if "latency" in result:
        lat = result["latency"]
        for name in ("baseline", "cascade"):
            v = lat[name]
            print(f"latency {name}: {v['parses']} parses, p50 {v['p50']:.1f} ms, p95 {v['p95']:.1f} ms, "
                  f"mean {v['mean']:.1f} ms")
        print(f"cascade skipped e5 in {lat['cascade_skipped_e5']:.1%} of its parses; load average "
              f"before {lat['load_average_before']}, after {lat['load_average_after']}")


if __name__ == "__main__":
    sys.exit(main())
