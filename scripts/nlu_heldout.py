"""Held-out NLU test: parse every example in tests/nlu with the trained model.

Fails (exit 1) when intent accuracy is below --min-accuracy or any intent's F1 is below
--min-f1. For `out_of_scope` examples, a fallback (nlu_fallback) also counts as right: a
clarifying question is an acceptable answer to something we do not handle. Writes
report.json (per intent, per script, errors) into --out; prints a summary.
"""
import argparse
import asyncio
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from civic.language import detect_language  # noqa: E402

ACCEPTABLE = {"out_of_scope": {"out_of_scope", "nlu_fallback"}}


def script_of(text: str) -> str:
    if any("\u0900" <= ch <= "\u097f" for ch in text):
        return "devanagari"
    return "hinglish" if detect_language(text) == "hinglish" else "english"


def load_examples(folder: Path):
    from rasa.shared.nlu.training_data.loading import load_data

    examples = []
    for path in sorted(folder.glob("*.yml")):
        for message in load_data(str(path)).intent_examples:
            examples.append((message.get("text"), message.get("intent")))
    return examples


async def predict(model: str, texts):
    from rasa.core.agent import Agent

    agent = Agent.load(model)
    return [(await agent.parse_message(text))["intent"]["name"] for text in texts]


def f1_scores(gold, predicted):
    tp, fp, fn = Counter(), Counter(), Counter()
    for g, p in zip(gold, predicted, strict=False):
        if p in ACCEPTABLE.get(g, {g}):
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", default="tests/nlu")
    parser.add_argument("--out", default="results/heldout")
    parser.add_argument("--min-accuracy", type=float, default=0.92)
    parser.add_argument("--min-f1", type=float, default=0.80)
    args = parser.parse_args()

    examples = load_examples(Path(args.data))
    texts = [t for t, _ in examples]
    gold = [i for _, i in examples]
    predicted = asyncio.run(predict(args.model, texts))

    right = [p in ACCEPTABLE.get(g, {g}) for g, p in zip(gold, predicted, strict=False)]
    accuracy = sum(right) / len(right)
    per_script = defaultdict(list)
    for text, ok in zip(texts, right, strict=False):
        per_script[script_of(text)].append(ok)
    scores = f1_scores(gold, predicted)
    errors = [{"text": t, "intent": g, "predicted": p}
              for t, g, p, ok in zip(texts, gold, predicted, right, strict=False) if not ok]
    report = {
        "examples": len(examples),
        "accuracy": accuracy,
        "accuracy_by_script": {s: {"accuracy": sum(v) / len(v), "examples": len(v)}
                               for s, v in sorted(per_script.items())},
        "macro_f1": sum(s["f1"] for s in scores.values()) / len(scores),
        "intents": scores,
        "errors": errors,
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")

    print(f"held-out NLU: {len(examples)} examples, accuracy {accuracy:.3f}, "
          f"macro F1 {report['macro_f1']:.3f}")
    for script, value in report["accuracy_by_script"].items():
        print(f"  {script:<10} accuracy {value['accuracy']:.3f} ({value['examples']} examples)")
    failing = {i: s["f1"] for i, s in scores.items() if s["f1"] < args.min_f1}
    for intent, f1 in sorted(failing.items()):
        print(f"  intent {intent}: F1 {f1:.3f} < {args.min_f1}")
    for error in errors[:40]:
        print(f"  miss: {error['text']!r} {error['intent']} -> {error['predicted']}")
    if accuracy < args.min_accuracy or failing:
        print(f"FAILED: accuracy must be >= {args.min_accuracy} and every intent F1 >= {args.min_f1}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
