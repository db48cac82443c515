"""Compare NLU pipeline configs on the held-out set (tests/nlu); results in docs/nlu.md.

For each config: `rasa train nlu` (PYTHONHASHSEED=0, fixed seeds in the config) into a temp
dir, then parse every held-out example in a fresh process and record accuracy (overall and
per script), macro and min intent F1, train seconds, model MB and parse p50/p95 ms. The
FallbackClassifier threshold is swept offline from each parse's intent_ranking.

    python scripts/compare_pipelines.py docs/nlu_configs/*.yml --out results/compare
    python scripts/compare_pipelines.py docs/nlu_configs/a_current.yml --crossval

Scoring rules are scripts/nlu_heldout.py's (out_of_scope answered by a fallback is right).
Run one at a time: trainings compete for the same cores.
"""
import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from nlu_heldout import ACCEPTABLE, f1_scores, load_examples, script_of  # noqa: E402

FALLBACK = "nlu_fallback"
THRESHOLDS = [0.0, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7]


def env() -> dict:
    # No cache: every candidate trains from scratch (comparable times, no stale features
    # when a component's code changed between runs).
    return {**os.environ, "PYTHONHASHSEED": "0", "TF_CPP_MIN_LOG_LEVEL": "3",
            "RASA_MAX_CACHE_SIZE": "0", "PYTHONPATH": str(ROOT),
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}


def train(config: Path, nlu: Path, out: Path, log) -> tuple:
    """Trains an NLU-only model (Rasa's output to log); returns (model path, seconds)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "rasa", "train", "nlu", "--config", str(config),
                    "--nlu", str(nlu), "--out", str(out), "--fixed-model-name", "candidate"],
                   cwd=ROOT, env=env(), check=True, stdout=subprocess.DEVNULL,
                   stderr=log)
    return out / "candidate.tar.gz", time.perf_counter() - start


def parse_all(model: str, texts: list) -> list:
    """[(intent name, ranking, ms)] for each text; ranking excludes nlu_fallback."""
    from rasa.core.agent import Agent

    async def run():
        agent = Agent.load(model)
        await agent.parse_message("warm up")
        results = []
        for text in texts:
            start = time.perf_counter()
            parsed = await agent.parse_message(text)
            ms = (time.perf_counter() - start) * 1000
            ranking = [(r["name"], r["confidence"]) for r in parsed.get("intent_ranking", [])
                       if r["name"] != FALLBACK]
            results.append((parsed["intent"]["name"], ranking, ms))
        return results

    return asyncio.run(run())


def apply_fallback(ranking: list, threshold: float, ambiguity: float) -> str:
    """What FallbackClassifier would answer with these settings."""
    if not ranking:
        return FALLBACK
    top = ranking[0][1]
    second = ranking[1][1] if len(ranking) > 1 else 0.0
    if top < threshold or top - second < ambiguity:
        return FALLBACK
    return ranking[0][0]


def metrics(texts, gold, predicted) -> dict:
    right = [p in ACCEPTABLE.get(g, {g}) for g, p in zip(gold, predicted, strict=False)]
    by_script = defaultdict(list)
    for text, ok in zip(texts, right, strict=False):
        by_script[script_of(text)].append(ok)
    scores = f1_scores(gold, predicted)
    f1 = {i: s["f1"] for i, s in scores.items()}
    return {
        "accuracy": sum(right) / len(right),
        "by_script": {s: sum(v) / len(v) for s, v in sorted(by_script.items())},
        "macro_f1": sum(f1.values()) / len(f1),
        "min_f1": min(f1.values()),
        "min_f1_intent": min(f1, key=f1.get),
        "fallbacks": sum(p == FALLBACK for p in predicted),
        "f1": f1,
        "errors": [(t, g, p) for t, g, p, ok in zip(texts, gold, predicted, right, strict=False) if not ok],
    }


def fallback_settings(config: Path) -> tuple:
    import yaml

    for item in yaml.safe_load(config.read_text(encoding="utf-8"))["pipeline"]:
        if item["name"] == "FallbackClassifier":
            return item.get("threshold", 0.3), item.get("ambiguity_threshold", 0.1)
    return 0.0, 0.0


def score(model: Path, config: Path, test: Path) -> dict:
    examples = load_examples(test)
    texts = [t for t, _ in examples]
    gold = [i for _, i in examples]
    parsed = parse_all(str(model), texts)
    threshold, ambiguity = fallback_settings(config)
    ms = sorted(p[2] for p in parsed)
    result = metrics(texts, gold, [p[0] for p in parsed])
    result.update({
        "threshold": threshold, "ambiguity": ambiguity,
        "parse_ms_p50": ms[len(ms) // 2], "parse_ms_p95": ms[int(len(ms) * 0.95)],
        "sweep": {},
    })
    for t in THRESHOLDS:
        swept = metrics(texts, gold, [apply_fallback(p[1], t, ambiguity) for p in parsed])
        result["sweep"][str(t)] = {k: swept[k] for k in
                                   ("accuracy", "macro_f1", "min_f1", "min_f1_intent", "fallbacks")}
    return result


def crossval(config: Path, nlu: Path, out: Path, log) -> dict:
    """5-fold cross-validation on the training data: intent accuracy and macro F1."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "rasa", "test", "nlu", "--nlu", str(nlu),
                    "--config", str(config), "--cross-validation", "--folds", "5", "--runs", "1", "--out", str(out)],
                   cwd=ROOT, env=env(), check=True, stdout=subprocess.DEVNULL,
                   stderr=log)
    report = json.loads((out / "intent_report.json").read_text(encoding="utf-8"))
    return {"accuracy": report["accuracy"], "macro_f1": report["macro avg"]["f1-score"],
            "seconds": time.perf_counter() - start}


def row(name: str, r: dict) -> str:
    s = r["by_script"]
    return (f"| {name} | {r['accuracy']:.3f} | {s.get('devanagari', 0):.3f} | "
            f"{s.get('english', 0):.3f} | {s.get('hinglish', 0):.3f} | {r['macro_f1']:.3f} | "
            f"{r['min_f1']:.2f} ({r['min_f1_intent']}) | {r['train_s']:.0f} | "
            f"{r['model_mb']:.1f} | {r['parse_ms_p50']:.0f}/{r['parse_ms_p95']:.0f} |")


HEADER = ("| config | acc | deva | en | hinglish | macro F1 | min F1 | train s | MB | parse ms p50/p95 |\n"
          "|---|---|---|---|---|---|---|---|---|---|")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("configs", nargs="*", type=Path)
    parser.add_argument("--nlu", type=Path, default=ROOT / "data" / "nlu")
    parser.add_argument("--test", type=Path, default=ROOT / "tests" / "nlu")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "compare")
    parser.add_argument("--crossval", action="store_true", help="also 5-fold CV on --nlu")
    parser.add_argument("--score-model", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--score-config", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.score_model:  # child process: a fresh TensorFlow per model
        print(json.dumps(score(args.score_model, args.score_config, args.test)))
        return 0

    args.out.mkdir(parents=True, exist_ok=True)
    print(HEADER, flush=True)
    for config in args.configs:
        name = config.stem
        log = (args.out / f"{name}.log").open("w", encoding="utf-8")
        with tempfile.TemporaryDirectory(prefix="nlu-compare-") as tmp:
            model, seconds = train(config, args.nlu, Path(tmp), log)
            child = subprocess.run(
                [sys.executable, __file__, "--score-model", str(model), "--score-config",
                 str(config), "--test", str(args.test)],
                cwd=ROOT, env=env(), check=True, capture_output=True, text=True)
            result = json.loads(child.stdout.strip().splitlines()[-1])
            result.update({"train_s": seconds, "model_mb": model.stat().st_size / 1e6})
        if args.crossval:
            result["crossval"] = crossval(config, args.nlu, args.out / f"{name}-crossval", log)
        log.close()
        (args.out / f"{name}.json").write_text(
            json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
        print(row(name, result), flush=True)
        sweep = ", ".join(f"{t}: {v['accuracy']:.3f}/{v['min_f1']:.2f}"
                          for t, v in result["sweep"].items())
        print(f"  fallback sweep (acc/min F1): {sweep}", flush=True)
        if "crossval" in result:
            cv = result["crossval"]
            print(f"  5-fold CV: accuracy {cv['accuracy']:.3f}, macro F1 {cv['macro_f1']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
