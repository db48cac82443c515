"""Summarise a `rasa test nlu` report folder (cross-validation or held-out): accuracy, macro
and weighted F1, and the weakest intents. Usage: nlu_report.py results/crossval"""
import json
import sys
from pathlib import Path


def main(folder: str) -> None:
    report = json.loads((Path(folder) / "intent_report.json").read_text(encoding="utf-8"))
    intents = {k: v for k, v in report.items() if isinstance(v, dict) and "f1-score" in v
               and k not in ("macro avg", "weighted avg", "micro avg")}
    print(f"intent accuracy {report.get('accuracy', float('nan')):.3f}, "
          f"macro F1 {report['macro avg']['f1-score']:.3f}, "
          f"weighted F1 {report['weighted avg']['f1-score']:.3f} ({len(intents)} intents)")
    for name, scores in sorted(intents.items(), key=lambda kv: kv[1]["f1-score"])[:5]:
        print(f"  weakest: {name:<28} F1 {scores['f1-score']:.3f} (support {scores['support']})")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "results/crossval")
