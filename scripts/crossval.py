"""5-fold cross-validation of an NLU config on the hand-written training data.

    python scripts/crossval.py --config config.yml --out results/crossval
    python scripts/crossval.py --config config.yml --hand-only   # without generated data

Folds split the hand-written examples of data/nlu/*.yml (stratified by intent, fixed seed).
The generated data (scripts/generate_nlu.py) is made again for each fold from that fold's
training part only, so no spelling variant of a test example is trained on; Rasa's own
`rasa test nlu --cross-validation` over data/nlu would mix the generated variants of one
example into both sides. Scored like the held-out test (scripts/nlu_heldout.py: an
`out_of_scope` message answered by a fallback is right); `strict_accuracy` counts every
fallback as wrong, as Rasa's cross-validation does. Writes report.json and an
intent_report.json in Rasa's format (strict), which scripts/nlu_report.py summarises.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import generate_nlu  # noqa: E402
from nlu_heldout import Example, Parse, intent_metrics, parse_all  # noqa: E402

FOLDS = 5
SEED = 42


def rasa_env() -> dict:
    return {**os.environ, "PYTHONHASHSEED": "0", "TF_CPP_MIN_LOG_LEVEL": "3",
            "RASA_MAX_CACHE_SIZE": "0", "PYTHONPATH": str(ROOT),
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}


def cpu_seconds_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def train_nlu(config: Path, nlu: Path, out: Path, log) -> tuple:
    """`rasa train nlu` into out/candidate.tar.gz; returns (model path, wall seconds, CPU
    seconds). On a shared machine the CPU seconds are the steadier measure."""
    start, cpu = time.perf_counter(), cpu_seconds_of_children()
    subprocess.run([sys.executable, "-m", "rasa", "train", "nlu", "--config", str(config),
                    "--nlu", str(nlu), "--out", str(out), "--fixed-model-name", "candidate"],
                   cwd=ROOT, env=rasa_env(), check=True, stdout=subprocess.DEVNULL, stderr=log)
    return (out / "candidate.tar.gz", time.perf_counter() - start,
            cpu_seconds_of_children() - cpu)


def write_training_data(folder: Path, hand, generated: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hand.yml").write_text(generate_nlu.render(sorted(hand), "hand-written"),
                                     encoding="utf-8")
    for name, examples in generated.items():
        (folder / name).write_text(generate_nlu.render(examples, name), encoding="utf-8")


def folds(hand):
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    return splitter.split(hand, [intent for intent, _ in hand])


def crossvalidate(config: Path, out: Path, hand_only: bool = False, only=None) -> dict:
    """All folds, or with `only` just those (their rows go to out/fold<k>.json; a call
    without `only` reuses the fold files it finds, so folds can run in parallel processes)."""
    seeds = yaml.safe_load(generate_nlu.SEEDS.read_text(encoding="utf-8"))
    intents = generate_nlu.domain_intents()
    hand = [e for e in generate_nlu.read_folder(generate_nlu.HAND, recursive=False) if e[0] in intents]
    held_out = [t for folder in generate_nlu.HELD_OUT for _, t in generate_nlu.read_folder(folder)]
    out.mkdir(parents=True, exist_ok=True)
    examples, parses, seconds = [], [], []
    with (out / "train.log").open("w", encoding="utf-8") as log, \
            tempfile.TemporaryDirectory(prefix="nlu-crossval-") as tmp:
        for k, (train_index, test_index) in enumerate(folds(hand)):
            train = [hand[i] for i in train_index]
            test = [hand[i] for i in test_index]
            saved = out / f"fold{k}.json"
            if only is not None and k not in only:
                continue
            if only is None and saved.exists():
                rows = json.loads(saved.read_text(encoding="utf-8"))
                examples += [Example(t, i, frozenset()) for t, i, _ in rows]
                parses += [Parse(p, frozenset(), (), 0.0) for _, _, p in rows]
                continue
            generated = {} if hand_only else generate_nlu.generate(
                train, seeds, intents, held_out + [t for _, t in test])
            data = Path(tmp) / f"fold{k}"
            write_training_data(data / "nlu", train, generated)
            model, train_s, _ = train_nlu(config, data / "nlu", data, log)
            seconds.append(train_s)
            parsed, _ = parse_all(str(model), [t for _, t in test])
            examples += [Example(t, i, frozenset()) for i, t in test]
            parses += parsed
            saved.write_text(json.dumps([[t, i, p.intent] for (i, t), p in zip(test, parsed)],
                                        ensure_ascii=False), encoding="utf-8")
            print(f"  fold {k + 1}/{FOLDS}: {len(train)} hand + "
                  f"{sum(map(len, generated.values()))} generated, trained in {train_s:.0f} s",
                  flush=True)
    if only is not None:
        return {}
    result = intent_metrics(examples, parses)
    gold = [e.intent for e in examples]
    predicted = [p.intent for p in parses]
    result["strict_accuracy"] = sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold)
    result["train_seconds_mean"] = sum(seconds) / len(seconds) if seconds else None
    result["hand_only"] = hand_only
    from sklearn.metrics import classification_report

    (out / "intent_report.json").write_text(json.dumps(
        classification_report(gold, predicted, output_dict=True, zero_division=0), indent=1),
        encoding="utf-8")
    (out / "report.json").write_text(json.dumps(result, ensure_ascii=False, indent=1),
                                     encoding="utf-8")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=ROOT / "config.yml")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "crossval")
    parser.add_argument("--hand-only", action="store_true", help="no generated data")
    parser.add_argument("--fold", type=int, action="append",
                        help="run only this fold (0-4; repeatable); a later run without --fold "
                             "reuses the folds done")
    args = parser.parse_args()
    result = crossvalidate(args.config, args.out, args.hand_only, args.fold)
    if not result:
        return 0
    languages = ", ".join(f"{k} {v['accuracy']:.3f}" for k, v in result["by_language"].items())
    print(f"{FOLDS}-fold cross-validation ({result['examples']} hand-written examples): "
          f"accuracy {result['accuracy']:.3f} (strict, a fallback wrong: "
          f"{result['strict_accuracy']:.3f}), macro F1 {result['macro_f1']:.3f}; {languages}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
