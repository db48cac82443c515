"""Measure how fast the WhatsApp webhook acknowledges signed posts (Meta's target: p50 ≤ 250 ms).

Against a running Rasa whose Graph API points at a fake (see whatsapp_simulator.py)::

    python scripts/bench_webhook.py --requests 500 --concurrency 50

Every post is a distinct text message from one of ``--senders`` citizens, signed with
``--app-secret`` (default: env WHATSAPP_APP_SECRET or the simulator's secret). The
replies the bot sends go to the fake Graph API started here unless ``--no-graph``.
``--receipts`` posts status receipts instead, timing the acknowledgement alone.
Prints p50/p90/p99/max latency in milliseconds and the count of each HTTP status.
"""

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import List, Optional

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from channels.fake_graph import (  # noqa: E402 - after the path set-up above
    FakeGraphAPI,
    encode,
    signed_headers,
    text_message,
    webhook_payload,
)


def percentile(values: List[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def body_for(n: int, args: argparse.Namespace) -> bytes:
    wa_id = f"91990000{n % args.senders:04d}"
    if args.receipts:
        receipt = {"id": f"wamid.out.{n}", "status": "delivered", "timestamp": "1", "recipient_id": wa_id}
        return encode(webhook_payload(statuses=[receipt], phone_number_id=args.phone_number_id))
    message = text_message(wa_id, f"बेंचमार्क संदेश {n}: street light kharab hai")
    return encode(webhook_payload([message], phone_number_id=args.phone_number_id))


async def run(args: argparse.Namespace) -> int:
    graph = None
    if not args.no_graph:
        graph = FakeGraphAPI(port=args.graph_port)
        await graph.start()
    bodies = [body_for(n, args) for n in range(args.requests)]
    latencies: List[float] = []
    statuses: Counter = Counter()
    semaphore = asyncio.Semaphore(args.concurrency)
    connector = aiohttp.TCPConnector(limit=args.concurrency)

    async with aiohttp.ClientSession(connector=connector) as session:

        async def post(body: bytes) -> None:
            async with semaphore:
                started = time.perf_counter()
                try:
                    async with session.post(
                        args.url, data=body, headers=signed_headers(body, args.app_secret)
                    ) as resp:
                        await resp.read()
                        statuses[resp.status] += 1
                except aiohttp.ClientError as error:
                    statuses[type(error).__name__] += 1
                    return
                latencies.append((time.perf_counter() - started) * 1000)

        wall = time.perf_counter()
        await asyncio.gather(*(post(body) for body in bodies))
        wall = time.perf_counter() - wall

    if graph is not None:
        await asyncio.sleep(args.drain)  # let the bot's replies arrive before stopping
        print(f"bot messages received by the fake Graph API: {len(graph.messages)}")
        await graph.stop()
    if not latencies:
        print("no request succeeded:", dict(statuses))
        return 1
    print(f"{len(latencies)} posts, concurrency {args.concurrency}, {len(latencies) / wall:.0f} req/s")
    summary = {
        "p50": percentile(latencies, 0.50),
        "p90": percentile(latencies, 0.90),
        "p99": percentile(latencies, 0.99),
        "max": max(latencies),
        "mean": statistics.mean(latencies),
    }
    print("ack latency ms: " + "  ".join(f"{k} {v:.1f}" for k, v in summary.items()))
    print("statuses:", dict(statuses))
    return 0 if set(statuses) == {200} else 1


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://localhost:5005/webhooks/whatsapp/webhook")
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--senders", type=int, default=50)
    parser.add_argument("--app-secret", default=os.environ.get("WHATSAPP_APP_SECRET") or "simulator-secret")
    parser.add_argument(
        "--phone-number-id",
        default=os.environ.get("WHATSAPP_PHONE_NUMBER_ID") or "100000000000001",
    )
    parser.add_argument("--graph-port", type=int, default=8765)
    parser.add_argument("--no-graph", action="store_true")
    parser.add_argument("--receipts", action="store_true")
    parser.add_argument("--drain", type=float, default=5.0)
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(run(parse_args())))
