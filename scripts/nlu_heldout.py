"""Held-out NLU test: parse the tuning set, the unseen set and the other-domain set with the
trained model, score them, fail below the bars.

- tuning set (`--data`, tests/nlu): the set the pipeline was chosen on. Bars: intent accuracy
  >= --min-accuracy and every intent's F1 >= --min-f1.
- unseen set (`--unseen`, tests/nlu_unseen): written later by other hands in other styles,
  frozen, never tuned on. Bars: accuracy >= --unseen-min-accuracy overall and
  >= --min-script-accuracy in Devanagari and in Latin script (mixed-script messages are
  reported, too few for a bar); canonical entities (type and value, micro F1) >=
  --min-entity-f1. Rows whose intent the model does not have yet are left out of the
  accuracy and reported apart; while there are any, the overall and per-script bars are
  --pending-min-accuracy instead (the goals apply once the model has every intent).
- other-domain set (`--other-domain`, tests/nlu_other_domain): weather, music, trains ...;
  fails when more than --max-other-domain-civic of it is taken for a civic intent
  (complaint_*, report_complaint, complaint_status, reopen_complaint, covid_*).

For `out_of_scope`, a fallback (nlu_fallback) also counts as right. A message of the unseen
or other-domain set that also appears in the training data (--training; compared
case-insensitively, spaces collapsed) is not scored, and the report says how many.
Parse latency p50/p95 over every parse is reported, not checked (a shared machine's timing
is no pass/fail signal). Writes report.json into --out; prints a summary.
"""
import argparse
import asyncio
import json
import logging
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Dict, FrozenSet, List, NamedTuple, Optional, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from civic.language import detect_language  # noqa: E402

FALLBACK = "nlu_fallback"
ACCEPTABLE = {"out_of_scope": {"out_of_scope", FALLBACK}}
ENTITY_TYPES = frozenset({"ward", "number", "complaint_id", "district"})
CIVIC_PREFIXES = ("complaint_", "covid_")
CIVIC_INTENTS = frozenset({"report_complaint", "reopen_complaint"})


class Example(NamedTuple):
    text: str
    intent: str
    entities: FrozenSet[Tuple[str, str]]  # (entity type, canonical value)


class Parse(NamedTuple):
    intent: str
    entities: FrozenSet[Tuple[str, str]]
    ranking: Tuple[Tuple[str, float], ...]  # without nlu_fallback
    ms: float


def is_civic(intent: Optional[str]) -> bool:
    """A complaint, a complaint status or reopening, or a COVID question."""
    return bool(intent) and (intent in CIVIC_INTENTS or intent.startswith(CIVIC_PREFIXES))


def script_of(text: str) -> str:
    """devanagari, latin, mixed (both in one message) or none (digits, emoji only)."""
    devanagari = any("\u0900" <= ch <= "\u097f" for ch in text)
    latin = any("a" <= ch <= "z" for ch in text.lower())
    if devanagari and latin:
        return "mixed"
    return "devanagari" if devanagari else "latin" if latin else "none"


def language_of(text: str) -> str:
    """devanagari, hinglish or english: the split the tuning set has always been reported in."""
    if any("\u0900" <= ch <= "\u097f" for ch in text):
        return "devanagari"
    return "hinglish" if detect_language(text) == "hinglish" else "english"


def normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def load_set(folder: Path) -> List[Example]:
    """Every intent example of the *.yml files in `folder` (recursively), with its entities."""
    from rasa.shared.nlu.training_data.loading import load_data

    examples = []
    for path in sorted(Path(folder).rglob("*.yml")):
        for message in load_data(str(path)).intent_examples:
            entities = frozenset((e["entity"], str(e["value"])) for e in message.get("entities") or []
                                 if e["entity"] in ENTITY_TYPES)
            examples.append(Example(message.get("text"), message.get("intent"), entities))
    return examples


def load_examples(folder: Path) -> List[Tuple[str, str]]:
    """(text, intent) pairs of a set (scripts/bench_nlu.py uses the texts)."""
    return [(e.text, e.intent) for e in load_set(folder)]


def training_texts(folder: Path) -> set:
    return {normalised(e.text) for e in load_set(folder)}


def parse_all(model: str, texts: List[str]) -> Tuple[List[Parse], set]:
    """One Parse per text, and the intents the model knows."""
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # unconfigured, Rasa logs every parse at debug level

    async def run():
        agent = Agent.load(model)
        await agent.parse_message("warm up")
        parses = []
        for text in texts:
            start = time.perf_counter()
            parsed = await agent.parse_message(text)
            ms = (time.perf_counter() - start) * 1000
            entities = frozenset((e["entity"], str(e["value"])) for e in parsed.get("entities", [])
                                 if e["entity"] in ENTITY_TYPES)
            ranking = tuple((r["name"], r["confidence"]) for r in parsed.get("intent_ranking", [])
                            if r["name"] != FALLBACK)
            parses.append(Parse(parsed["intent"]["name"], entities, ranking, ms))
        return parses, set(agent.domain.intents)

    return asyncio.run(run())


def right(gold: str, predicted: str) -> bool:
    return predicted in ACCEPTABLE.get(gold, {gold})


def f1_scores(gold: List[str], predicted: List[str]) -> Dict[str, Dict[str, float]]:
    tp, fp, fn = Counter(), Counter(), Counter()
    for g, p in zip(gold, predicted, strict=True):
        if right(g, p):
            tp[g] += 1
        else:
            fn[g] += 1
            fp[p] += 1
    scores = {}
    for intent in sorted(set(gold)):
        precision = tp[intent] / (tp[intent] + fp[intent]) if tp[intent] + fp[intent] else 0.0
        recall = tp[intent] / (tp[intent] + fn[intent]) if tp[intent] + fn[intent] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores[intent] = {"precision": precision, "recall": recall, "f1": f1,
                          "support": tp[intent] + fn[intent]}
    return scores


def intent_metrics(examples: List[Example], parses: List[Parse]) -> dict:
    """Accuracy overall, by script and by language, F1 per intent, the misses."""
    ok = [right(e.intent, p.intent) for e, p in zip(examples, parses, strict=True)]
    by_script, by_language = defaultdict(list), defaultdict(list)
    for example, hit in zip(examples, ok, strict=True):
        by_script[script_of(example.text)].append(hit)
        by_language[language_of(example.text)].append(hit)
    scores = f1_scores([e.intent for e in examples], [p.intent for p in parses])
    f1 = {i: s["f1"] for i, s in scores.items()}
    return {
        "examples": len(examples),
        "accuracy": sum(ok) / len(ok) if ok else 0.0,
        "by_script": {s: {"accuracy": sum(v) / len(v), "examples": len(v)}
                      for s, v in sorted(by_script.items())},
        "by_language": {s: {"accuracy": sum(v) / len(v), "examples": len(v)}
                        for s, v in sorted(by_language.items())},
        "macro_f1": sum(f1.values()) / len(f1) if f1 else 0.0,
        "min_f1": min(f1.values()) if f1 else 0.0,
        "min_f1_intent": min(f1, key=f1.get) if f1 else None,
        "fallbacks": sum(p.intent == FALLBACK for p in parses),
        "intents": scores,
        "errors": [{"text": e.text, "intent": e.intent, "predicted": p.intent}
                   for e, p, hit in zip(examples, parses, ok, strict=True) if not hit],
    }


def entity_metrics(examples: List[Example], parses: List[Parse]) -> dict:
    """Micro precision / recall / F1 of (type, canonical value) pairs per message."""
    tp = fp = fn = 0
    errors = []
    for example, parse in zip(examples, parses, strict=True):
        tp += len(example.entities & parse.entities)
        fp += len(parse.entities - example.entities)
        fn += len(example.entities - parse.entities)
        if example.entities != parse.entities:
            errors.append({"text": example.text, "gold": sorted(example.entities),
                           "predicted": sorted(parse.entities)})
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"gold": tp + fn, "precision": precision, "recall": recall, "f1": f1,
            "errors": errors}


def other_domain_metrics(examples: List[Example], parses: List[Parse]) -> dict:
    civic = [(e.text, p.intent) for e, p in zip(examples, parses, strict=True) if is_civic(p.intent)]
    return {
        "examples": len(examples),
        "civic": len(civic),
        "civic_rate": len(civic) / len(examples) if examples else 0.0,
        "predicted": dict(Counter(p.intent for p in parses).most_common()),
        "taken_for_civic": [{"text": t, "predicted": i} for t, i in civic],
    }


def percentile(values: List[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))] if ordered else 0.0


def split_seen(examples: List[Example], seen: set) -> Tuple[List[Example], List[Example]]:
    """(examples not in the training data, examples that are)."""
    fresh = [e for e in examples if normalised(e.text) not in seen]
    return fresh, [e for e in examples if normalised(e.text) in seen]


def evaluate(tuning: List[Example], unseen: List[Example], other: List[Example],
             parses: Dict[str, Parse], model_intents: set, seen: set) -> dict:
    """The whole report from parses keyed by text (scripts/compare_pipelines.py reuses it)."""
    def of(examples):
        return [parses[e.text] for e in examples]

    unseen_fresh, unseen_seen = split_seen(unseen, seen)
    other_fresh, other_seen = split_seen(other, seen)
    known = [e for e in unseen_fresh if e.intent in model_intents]
    pending = [e for e in unseen_fresh if e.intent not in model_intents]
    ms = [p.ms for p in parses.values()]
    return {
        "tuning": intent_metrics(tuning, of(tuning)),
        "unseen": {
            **intent_metrics(known, of(known)),
            "in_training_data": [e.text for e in unseen_seen],
            "pending_intents": {
                "examples": len(pending),
                "intents": dict(Counter(e.intent for e in pending)),
                "predicted": dict(Counter(parses[e.text].intent for e in pending).most_common()),
            },
            "entities": entity_metrics(unseen_fresh, of(unseen_fresh)),
        },
        "other_domain": {**other_domain_metrics(other_fresh, of(other_fresh)),
                         "in_training_data": [e.text for e in other_seen]},
        "latency_ms": {"parses": len(ms), "p50": percentile(ms, 50), "p95": percentile(ms, 95)},
    }


def check(report: dict, args) -> List[str]:
    """The bars each set misses (empty: all passed)."""
    failures = []
    tuning, unseen, other = report["tuning"], report["unseen"], report["other_domain"]
    if tuning["accuracy"] < args.min_accuracy:
        failures.append(f"tuning accuracy {tuning['accuracy']:.3f} < {args.min_accuracy}")
    for intent, s in sorted(tuning["intents"].items()):
        if s["f1"] < args.min_f1:
            failures.append(f"tuning intent {intent}: F1 {s['f1']:.3f} < {args.min_f1}")
    pending = unseen["pending_intents"]["examples"]
    overall = args.pending_min_accuracy if pending else args.unseen_min_accuracy
    per_script = args.pending_min_accuracy if pending else args.min_script_accuracy
    if unseen["accuracy"] < overall:
        failures.append(f"unseen accuracy {unseen['accuracy']:.3f} < {overall}")
    for script in ("devanagari", "latin"):
        value = unseen["by_script"].get(script, {}).get("accuracy", 0.0)
        if value < per_script:
            failures.append(f"unseen {script} accuracy {value:.3f} < {per_script}")
    if unseen["entities"]["f1"] < args.min_entity_f1:
        failures.append(f"unseen entity F1 {unseen['entities']['f1']:.3f} < {args.min_entity_f1}")
    if other["civic_rate"] > args.max_other_domain_civic:
        failures.append(f"other-domain taken for civic {other['civic_rate']:.3f} > "
                        f"{args.max_other_domain_civic}")
    return failures


def print_summary(report: dict, args) -> None:
    def scripts(section, key):
        return ", ".join(f"{s} {v['accuracy']:.3f} ({v['examples']})"
                         for s, v in section[key].items())

    tuning, unseen, other = report["tuning"], report["unseen"], report["other_domain"]
    print(f"tuning set ({args.data}): {tuning['examples']} examples, accuracy "
          f"{tuning['accuracy']:.3f}, macro F1 {tuning['macro_f1']:.3f}, lowest F1 "
          f"{tuning['min_f1']:.3f} ({tuning['min_f1_intent']})")
    print(f"  {scripts(tuning, 'by_language')}")
    pending = unseen["pending_intents"]
    print(f"unseen set ({args.unseen}): {unseen['examples']} examples scored, accuracy "
          f"{unseen['accuracy']:.3f}, macro F1 {unseen['macro_f1']:.3f}, fallbacks "
          f"{unseen['fallbacks']}")
    print(f"  by script: {scripts(unseen, 'by_script')}")
    print(f"  by language: {scripts(unseen, 'by_language')}")
    ent = unseen["entities"]
    print(f"  entities: {ent['gold']} gold, precision {ent['precision']:.3f}, recall "
          f"{ent['recall']:.3f}, F1 {ent['f1']:.3f}")
    if unseen["in_training_data"]:
        print(f"  not scored, also in the training data: {len(unseen['in_training_data'])}")
    if pending["examples"]:
        print(f"  not scored, intent not in the model yet: {pending['examples']} "
              f"{pending['intents']}; predicted {pending['predicted']}")
    print(f"other-domain set ({args.other_domain}): {other['examples']} examples, taken for "
          f"civic {other['civic']} ({other['civic_rate']:.1%})"
          + (f"; not scored, in the training data: {len(other['in_training_data'])}"
             if other["in_training_data"] else ""))
    latency = report["latency_ms"]
    print(f"parse latency over {latency['parses']} parses: p50 {latency['p50']:.1f} ms, "
          f"p95 {latency['p95']:.1f} ms")
    for name, section in (("tuning", tuning), ("unseen", unseen)):
        for error in section["errors"][: args.show]:
            print(f"  {name} miss: {error['text']!r} {error['intent']} -> {error['predicted']}")
    for error in unseen["entities"]["errors"][: args.show]:
        print(f"  entity miss: {error['text']!r} {error['gold']} -> {error['predicted']}")
    for error in other["taken_for_civic"][: args.show]:
        print(f"  other-domain taken for civic: {error['text']!r} -> {error['predicted']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", type=Path, default=Path("tests/nlu"), help="tuning set")
    parser.add_argument("--unseen", type=Path, default=Path("tests/nlu_unseen"))
    parser.add_argument("--other-domain", type=Path, default=Path("tests/nlu_other_domain"))
    parser.add_argument("--training", type=Path, default=Path("data/nlu"))
    parser.add_argument("--out", type=Path, default=Path("results/heldout"))
    parser.add_argument("--min-accuracy", type=float, default=0.92)
    parser.add_argument("--min-f1", type=float, default=0.80)
    parser.add_argument("--unseen-min-accuracy", type=float, default=0.96)
    parser.add_argument("--min-script-accuracy", type=float, default=0.94)
    parser.add_argument("--pending-min-accuracy", type=float, default=0.90)
    parser.add_argument("--min-entity-f1", type=float, default=0.95)
    parser.add_argument("--max-other-domain-civic", type=float, default=0.02)
    parser.add_argument("--show", type=int, default=40, help="misses to print per kind")
    args = parser.parse_args()

    tuning, unseen, other = load_set(args.data), load_set(args.unseen), load_set(args.other_domain)
    texts = list(dict.fromkeys(e.text for e in tuning + unseen + other))
    parsed, model_intents = parse_all(args.model, texts)
    report = evaluate(tuning, unseen, other, dict(zip(texts, parsed, strict=True)),
                      model_intents, training_texts(args.training))
    failures = check(report, args)
    report["failures"] = failures
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2),
                                          encoding="utf-8")
    print_summary(report, args)
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
