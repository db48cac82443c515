"""NLU benchmark: parse latency (p50/p95) of the trained model and its size.

Parses every held-out message REPEAT times after a warm-up, one at a time, as the server does
for one citizen's message. Compare against a baseline measured in the same run with --baseline
(another model file, e.g. a pipeline variant). Numbers go into README / docs/benchmarks.md.
"""
import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.nlu_heldout import load_examples  # noqa: E402


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def measure(model: str, texts, repeat: int):
    from rasa.core.agent import Agent

    agent = Agent.load(model)
    for text in texts[:50]:  # warm-up
        await agent.parse_message(text)
    latencies = []
    for _ in range(repeat):
        for text in texts:
            start = time.perf_counter()
            await agent.parse_message(text)
            latencies.append((time.perf_counter() - start) * 1000)
    return latencies


def report(name: str, model: str, texts, repeat: int) -> None:
    latencies = asyncio.run(measure(model, texts, repeat))
    size = Path(model).stat().st_size / 1e6
    print(f"{name}: {len(latencies)} parses, p50 {percentile(latencies, 50):.1f} ms, "
          f"p95 {percentile(latencies, 95):.1f} ms, mean {statistics.mean(latencies):.1f} ms, "
          f"model {size:.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="models/nagar-sahayak.tar.gz")
    parser.add_argument("--baseline", help="a second model to measure in the same run")
    parser.add_argument("--data", default="tests/nlu")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    texts = [text for text, _ in load_examples(Path(args.data))]
    report("model", args.model, texts, args.repeat)
    if args.baseline:
        report("baseline", args.baseline, texts, args.repeat)


if __name__ == "__main__":
    main()
