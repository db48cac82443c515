"""Compare NLU pipeline configs on both held-out sets, the other-domain set and
cross-validation; results in docs/nlu.md.

For each config: `rasa train nlu` (PYTHONHASHSEED=0, fixed seeds in the config) into a temp
dir, then, in a fresh process, parse the tuning set (tests/nlu), the unseen set
(tests/nlu_unseen) and the other-domain set (tests/nlu_other_domain) and score them with
scripts/nlu_heldout.py's rules. The FallbackClassifier threshold is swept offline from each
parse's intent_ranking, so the sweep costs no training.

    python scripts/compare_pipelines.py docs/nlu_configs/*.yml --out results/compare
    python scripts/compare_pipelines.py config.yml --crossval     # + scripts/crossval.py
    python scripts/compare_pipelines.py config.yml --hand-only    # without data/nlu/generated

Run one at a time: trainings compete for the same cores.
"""
import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from crossval import crossvalidate, rasa_env, train_nlu  # noqa: E402
from nlu_heldout import (  # noqa: E402
    FALLBACK,
    Parse,
    evaluate,
    load_set,
    parse_all,
    training_texts,
)

THRESHOLDS = [0.0, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7]
SETS = {"tuning": ROOT / "tests" / "nlu", "unseen": ROOT / "tests" / "nlu_unseen",
        "other": ROOT / "tests" / "nlu_other_domain"}


def fallback_settings(config: Path) -> tuple:
    import yaml

    for item in yaml.safe_load(config.read_text(encoding="utf-8"))["pipeline"]:
        if item["name"] == "FallbackClassifier":
            return item.get("threshold", 0.3), item.get("ambiguity_threshold", 0.1)
    return 0.0, 0.0


def apply_fallback(parse: Parse, threshold: float, ambiguity: float) -> Parse:
    """The parse as FallbackClassifier with these settings would leave it."""
    ranking = parse.ranking
    if ranking and parse.intent not in (FALLBACK, ranking[0][0]):
        return parse  # a rule (a bare number is `inform`) decided, not the classifier
    top = ranking[0][1] if ranking else 0.0
    second = ranking[1][1] if len(ranking) > 1 else 0.0
    fallback = not ranking or top < threshold or top - second < ambiguity
    return parse._replace(intent=FALLBACK if fallback else ranking[0][0])


def summary(report: dict) -> dict:
    tuning, unseen, other = report["tuning"], report["unseen"], report["other_domain"]
    return {
        "tuning": tuning["accuracy"], "tuning_min_f1": tuning["min_f1"],
        "unseen": unseen["accuracy"],
        "unseen_script": {k: v["accuracy"] for k, v in unseen["by_script"].items()},
        "unseen_language": {k: v["accuracy"] for k, v in unseen["by_language"].items()},
        "entity_f1": unseen["entities"]["f1"], "other_civic": other["civic_rate"],
        "fallbacks": tuning["fallbacks"] + unseen["fallbacks"],
    }


def score(model: Path, config: Path, training: Path) -> dict:
    sets = {name: load_set(folder) for name, folder in SETS.items()}
    texts = list(dict.fromkeys(e.text for examples in sets.values() for e in examples))
    parsed, _ = parse_all(str(model), texts)
    parses = dict(zip(texts, parsed, strict=True))
    seen = training_texts(training)
    # An NLU-only model has no domain to list its intents: those of its training data.
    intents = {e.intent for e in load_set(training)}
    report = evaluate(sets["tuning"], sets["unseen"], sets["other"], parses, intents, seen)
    threshold, ambiguity = fallback_settings(config)
    result = {"report": report, "summary": summary(report), "threshold": threshold,
              "sweep": {}}
    for t in THRESHOLDS:
        swept = {text: apply_fallback(p, t, ambiguity) for text, p in parses.items()}
        result["sweep"][str(t)] = summary(
            evaluate(sets["tuning"], sets["unseen"], sets["other"], swept, intents, seen))
    return result


HEADER = ("| config | tuning | unseen | deva | latin | hinglish | en | entity F1 | other→civic "
          "| CV | train s | MB | parse ms p50/p95 |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|")


def row(name: str, r: dict) -> str:
    s = r["summary"]
    latency = r["report"]["latency_ms"]
    cv = f"{r['crossval']['accuracy']:.3f}" if "crossval" in r else "-"
    return (f"| {name} | {s['tuning']:.3f} | {s['unseen']:.3f} | "
            f"{s['unseen_script'].get('devanagari', 0):.3f} | {s['unseen_script'].get('latin', 0):.3f} | "
            f"{s['unseen_language'].get('hinglish', 0):.3f} | {s['unseen_language'].get('english', 0):.3f} | "
            f"{s['entity_f1']:.3f} | {s['other_civic']:.1%} | {cv} | "
            f"{r['train_s']:.0f} ({r['train_cpu_s']:.0f} CPU) | "
            f"{r['model_mb']:.1f} | {latency['p50']:.0f}/{latency['p95']:.0f} |")


def hand_only_copy(tmp: Path) -> Path:
    folder = tmp / "hand"
    folder.mkdir()
    for path in (ROOT / "data" / "nlu").glob("*.yml"):
        shutil.copy(path, folder / path.name)
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("configs", nargs="*", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "compare")
    parser.add_argument("--crossval", action="store_true", help="also scripts/crossval.py")
    parser.add_argument("--hand-only", action="store_true", help="train without data/nlu/generated")
    parser.add_argument("--score-model", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--score-config", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--training", type=Path, default=ROOT / "data" / "nlu", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.score_model:  # child process: a fresh Rasa per model
        print(json.dumps(score(args.score_model, args.score_config, args.training)))
        return 0

    args.out.mkdir(parents=True, exist_ok=True)
    print(HEADER, flush=True)
    for config in args.configs:
        name = config.stem + ("-hand-only" if args.hand_only else "")
        log = (args.out / f"{name}.log").open("w", encoding="utf-8")
        with tempfile.TemporaryDirectory(prefix="nlu-compare-") as tmp:
            nlu = hand_only_copy(Path(tmp)) if args.hand_only else ROOT / "data" / "nlu"
            model, seconds, cpu = train_nlu(config, nlu, Path(tmp), log)
            child = subprocess.run(
                [sys.executable, __file__, "--score-model", str(model), "--score-config",
                 str(config), "--training", str(nlu)],
                cwd=ROOT, env=rasa_env(), check=True, capture_output=True, text=True)
            result = json.loads(child.stdout.strip().splitlines()[-1])
            result.update({"train_s": seconds, "train_cpu_s": cpu,
                           "model_mb": model.stat().st_size / 1e6})
        if args.crossval:
            result["crossval"] = {k: v for k, v in crossvalidate(
                config, args.out / f"{name}-crossval", args.hand_only).items()
                if k in ("accuracy", "strict_accuracy", "macro_f1", "by_language")}
        log.close()
        (args.out / f"{name}.json").write_text(
            json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
        print(row(name, result), flush=True)
        sweep = ", ".join(f"{t}: {v['tuning']:.3f}/{v['unseen']:.3f}/{v['other_civic']:.1%}"
                          for t, v in result["sweep"].items())
        print(f"  fallback sweep (tuning/unseen/other→civic): {sweep}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
