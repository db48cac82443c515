"""Measure how fast the WhatsApp webhook acknowledges signed posts (goal: p99 ≤ 50 ms under
load; Meta's own target is a median ≤ 250 ms).

`make bench` runs it with ``--start``: an action server and `python -m rasa_extensions run`
with the WhatsApp channel (inbox on a SQLite file in a temporary folder, or ``--inbox-url``)
and a fake Graph API, all on loopback. Two phases in the same run:

- ``receipts``: status receipts, which are acknowledged without storing anything: the cost
  of the signature check, JSON and Sanic alone (the baseline);
- ``messages``: citizen text messages, each stored in the inbox before the 200, while the
  turns of the earlier ones run in the same process (the load).

Every post is distinct, from one of ``--senders`` citizens, ``--concurrency`` at a time
(closed loop: the server's saturation), or with ``--rate N`` arriving at N posts a second
whether the earlier ones are answered or not (open loop: a city's traffic, at a rate far
above Saharanpur's first week, while the turns of the earlier messages run).
After the messages, it waits until every one has been answered at the fake Graph API.

``--receiver`` also starts the separate webhook receiver (``python -m channels.receiver``,
the same inbox, nudging the Rasa server's ``/webhooks/whatsapp/wake``) and measures, in
``--rounds`` interleaved rounds against the same Rasa server, the channel's own webhook
(the baseline) and the receiver's. A PostgreSQL ``--inbox-url`` gets a fresh schema,
dropped afterwards.
Against a Rasa you started yourself (see whatsapp_simulator.py)::

    python scripts/bench_webhook.py --url http://localhost:5005/webhooks/whatsapp/webhook

Prints p50/p90/p99/max in milliseconds and the HTTP statuses; ``--json FILE`` writes them.
"""

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import aiohttp
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_load import BIN, base_env, free_port, machine, start, stop, wait_http  # noqa: E402

from channels.fake_graph import (  # noqa: E402 - after the path set-up above
    FakeGraphAPI,
    encode,
    signed_headers,
    text_message,
    webhook_payload,
)

APP_SECRET = "bench-secret"


def percentile(values: List[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def body_for(n: int, args: argparse.Namespace, receipts: bool, run_id: str) -> bytes:
    wa_id = f"9199{run_id}{n % args.senders:04d}"
    if receipts:
        receipt = {"id": f"wamid.out.{run_id}.{n}", "status": "delivered", "timestamp": "1",
                   "recipient_id": wa_id}
        return encode(webhook_payload(statuses=[receipt], phone_number_id=args.phone_number_id))
    message = text_message(wa_id, f"बेंचमार्क संदेश {n}: street light kharab hai")
    return encode(webhook_payload([message], phone_number_id=args.phone_number_id))


async def post_all(url: str, bodies: List[bytes], args: argparse.Namespace) -> Dict[str, object]:
    latencies: List[float] = []
    statuses: Counter = Counter()
    semaphore = asyncio.Semaphore(args.concurrency)
    connector = aiohttp.TCPConnector(limit=args.concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def post(body: bytes) -> None:
            async with semaphore:
                started = time.perf_counter()
                try:
                    async with session.post(url, data=body,
                                            headers=signed_headers(body, args.app_secret)) as resp:
                        await resp.read()
                        statuses[str(resp.status)] += 1
                except aiohttp.ClientError as error:
                    statuses[type(error).__name__] += 1
                    return
                latencies.append((time.perf_counter() - started) * 1000)

        async def arrive(index: int, body: bytes) -> None:
            # open loop: post number i leaves at i / rate, whether the earlier ones are
            # answered or not (Meta does not wait for us either)
            await asyncio.sleep(max(0.0, wall + index / args.rate - time.perf_counter()))
            await post(body)

        wall = time.perf_counter()
        if args.rate:
            await asyncio.gather(*(arrive(index, body) for index, body in enumerate(bodies)))
        else:
            await asyncio.gather(*(post(body) for body in bodies))
        wall = time.perf_counter() - wall
    summary: Dict[str, object] = {"posts": len(bodies), "concurrency": args.concurrency,
                                  "rate_per_s": args.rate,
                                  "req_per_s": round(len(latencies) / wall, 1),
                                  "statuses": dict(statuses)}
    if latencies:
        summary.update({name: round(value, 1) for name, value in (
            ("p50_ms", percentile(latencies, 0.50)), ("p90_ms", percentile(latencies, 0.90)),
            ("p99_ms", percentile(latencies, 0.99)), ("max_ms", max(latencies)),
            ("mean_ms", statistics.mean(latencies)))})
    return summary


def fresh_schema(url: str) -> Tuple[str, Callable[[], None]]:
    """A PostgreSQL URL into a new schema (the inbox starts empty), and its dropper."""
    import sqlalchemy as sa

    schema = "bench_" + uuid.uuid4().hex[:10]
    admin = sa.create_engine(url, future=True)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}", drop


class Receiver:
    """`python -m channels.receiver` on the stack's inbox, waking the stack's Rasa."""

    def __init__(self, stack: "Stack") -> None:
        self.port = free_port()
        env = base_env(WHATSAPP_VERIFY_TOKEN="bench", WHATSAPP_APP_SECRET=stack.args.app_secret,
                       WHATSAPP_PHONE_NUMBER_ID=stack.args.phone_number_id,
                       WHATSAPP_INBOX_URL=stack.inbox_url,
                       WHATSAPP_WAKE_URLS=f"http://127.0.0.1:{stack.port}/webhooks/whatsapp/wake")
        log = stack.workdir / "receiver.log"
        self.process = start([str(BIN / "python"), "-m", "channels.receiver",
                              "--port", str(self.port)], env, log)
        stack.processes.append(self.process)
        wait_http(f"http://127.0.0.1:{self.port}/webhooks/whatsapp/", self.process, log)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks/whatsapp/webhook"


class Stack:
    """An action server and `python -m rasa_extensions run` with the WhatsApp channel."""

    def __init__(self, args: argparse.Namespace, workdir: Path, graph_url: str) -> None:
        self.args, self.workdir, self.graph_url = args, workdir, graph_url
        self.port = free_port()
        self.processes: List = []
        self.inbox_url = args.inbox_url or f"sqlite:///{workdir / 'inbox.db'}"

    def __enter__(self) -> "Stack":
        env = base_env(DATABASE_URL=f"sqlite:///{self.workdir / 'tickets.db'}", COVID_DATA_URL="",
                       NAGAR_SPEEDUPS="all,-nlu_process" if self.args.nlu_on_loop else "all")
        action_port = free_port()
        log = self.workdir / "actions.log"
        actions = start([str(BIN / "python"), "-m", "rasa_sdk", "--actions", "actions",
                         "--port", str(action_port)], env, log)
        self.processes.append(actions)
        wait_http(f"http://127.0.0.1:{action_port}/health", actions, log)
        endpoints = {"action_endpoint": {"url": f"http://127.0.0.1:{action_port}/webhook",
                                         "enable_selective_domain": True}}
        (self.workdir / "endpoints.yml").write_text(yaml.safe_dump(endpoints))
        credentials = {"channels.whatsapp.WhatsAppInput": {
            "verify_token": "bench", "app_secret": self.args.app_secret, "access_token": "bench",
            "phone_number_id": self.args.phone_number_id, "api_base_url": self.graph_url,
            "inbox_url": self.inbox_url, "mark_read": False}}
        (self.workdir / "credentials.yml").write_text(yaml.safe_dump(credentials))
        log = self.workdir / "rasa.log"
        rasa = start([str(BIN / "python"), "-m", "rasa_extensions", "run",
                      "--model", str(ROOT / self.args.model),
                      "--endpoints", str(self.workdir / "endpoints.yml"),
                      "--credentials", str(self.workdir / "credentials.yml"),
                      "--interface", "127.0.0.1", "--port", str(self.port)], env, log)
        self.processes.append(rasa)
        wait_http(f"http://127.0.0.1:{self.port}/", rasa, log)
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks/whatsapp/webhook"

    def __exit__(self, *_) -> None:
        for process in reversed(self.processes):
            stop(process)


async def wait_answered(graph: FakeGraphAPI, senders: List[str], timeout: float) -> Optional[float]:
    """Seconds until every sender has had a reply, or None on timeout."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        answered = {m.get("to") for m in graph.messages}
        if all(s in answered for s in senders):
            return time.monotonic() - started
        await asyncio.sleep(0.2)
    return None


async def measure(url: str, graph: FakeGraphAPI, args: argparse.Namespace, run_id: str
                  ) -> Dict[str, object]:
    """The phases against one webhook URL: receipts, then messages until all answered."""
    results: Dict[str, object] = {"url": url}
    phases = {"receipts": True, "messages": False}
    for name in args.phases:
        bodies = [body_for(n, args, phases[name], run_id) for n in range(args.requests)]
        load = os.getloadavg()[0]
        results[name] = await post_all(url, bodies, args)
        results[name]["loadavg_1min"] = [round(load, 2), round(os.getloadavg()[0], 2)]
        print(name, json.dumps(results[name]), flush=True)
    if "messages" in args.phases:
        senders = sorted({f"9199{run_id}{n % args.senders:04d}" for n in range(args.requests)})
        drained = await wait_answered(graph, senders, args.drain)
        results["every_sender_answered_after_s"] = drained and round(drained, 1)
        print(f"every citizen answered {drained:.1f}s after the last post"
              if drained is not None else "NOT every citizen was answered", flush=True)
    return results


async def run(args: argparse.Namespace) -> int:
    graph = FakeGraphAPI(port=0 if args.start else args.graph_port)
    await graph.start()
    workdir = Path(tempfile.mkdtemp(prefix="nagar-bench-webhook-"))
    run_id = str(int(time.time()))[-3:]
    drop_schema: Optional[Callable[[], None]] = None
    if args.start and args.inbox_url and args.inbox_url.startswith("postgresql"):
        try:
            args.inbox_url, drop_schema = fresh_schema(args.inbox_url)
        except Exception as error:  # sqlalchemy's OperationalError: no server there
            print(f"skipped: PostgreSQL not reachable at {args.inbox_url} "
                  f"({str(error).splitlines()[0]})")
            await graph.stop()
            shutil.rmtree(workdir, ignore_errors=True)
            return 0
    results: Dict[str, object] = {"machine": machine(),
                                  "inbox": (args.inbox_url or "sqlite (temp file)").split("?")[0],
                                  "rounds": []}
    try:
        if args.start:
            stack = Stack(args, workdir, graph.base_url).__enter__()
            targets = {"channel": stack.url}
        else:
            stack, targets = None, {"channel": args.url}
        try:
            if args.receiver:
                targets["receiver"] = Receiver(stack).url if stack else args.receiver_url
            # first turns load lazily: not measured, and answered before anything is
            warm_id = "9" + run_id[1:] + "9"
            await post_all(targets["channel"], [body_for(n, args, False, warm_id)
                                                for n in range(20)], args)
            await wait_answered(graph, [f"9199{warm_id}{n % args.senders:04d}" for n in range(20)],
                                args.drain)
            for number in range(args.rounds):
                order = list(targets.items())  # alternated: neither always goes first
                for index, (target, url) in enumerate(order[::-1] if number % 2 else order):
                    print(f"round {number + 1}: {target}", flush=True)
                    measured = await measure(url, graph, args, f"{run_id}{number}{index}")
                    results["rounds"].append({"round": number + 1, "webhook": target, **measured})
        finally:
            if stack is not None:
                stack.__exit__()
    finally:
        await graph.stop()
        if drop_schema is not None:
            drop_schema()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print_table(results)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(results, indent=2))
    ok = all(set(r[name]["statuses"]) == {"200"} and r.get("every_sender_answered_after_s", 0)
             is not None for r in results["rounds"] for name in args.phases)
    return 0 if ok else 1


def print_table(results: Dict[str, object]) -> None:
    print(f"\ninbox: {results['inbox']}\n\n| round | webhook | posts | ack p50 | ack p90 | ack p99 "
          "| max | load (1 min) | statuses | all answered after |\n" + "| --- " * 10 + "|")
    for r in results["rounds"]:
        for name in ("receipts", "messages"):
            m = r.get(name)
            if isinstance(m, dict) and "p50_ms" in m:
                answered = (r.get("every_sender_answered_after_s") if name == "messages" else "")
                print(f"| {r['round']} | {r['webhook']} | {m['posts']} {name} | {m['p50_ms']} ms "
                      f"| {m['p90_ms']} ms | {m['p99_ms']} ms | {m['max_ms']} ms "
                      f"| {m['loadavg_1min'][0]}-{m['loadavg_1min'][1]} | {m['statuses']} "
                      f"| {answered if answered != '' else ''} |")


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", action="store_true",
                        help="start an action server and Rasa with the model (what make bench does)")
    parser.add_argument("--model", default="models/nagar-sahayak.tar.gz")
    parser.add_argument("--inbox-url", default=os.environ.get("BENCH_INBOX_URL"),
                        help="with --start: the inbox database (default a temporary SQLite file)")
    parser.add_argument("--url", default="http://localhost:5005/webhooks/whatsapp/webhook")
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=50,
                        help="posts in flight at most (closed loop: always this many)")
    parser.add_argument("--rate", type=float, default=None,
                        help="open loop: posts arrive at this many per second, answered or not "
                             "(in flight at most --concurrency); default: closed loop")
    parser.add_argument("--senders", type=int, default=50)
    parser.add_argument("--phases", nargs="+", default=["receipts", "messages"],
                        choices=["receipts", "messages"])
    parser.add_argument("--app-secret", default=None)
    parser.add_argument(
        "--phone-number-id",
        default=os.environ.get("WHATSAPP_PHONE_NUMBER_ID") or "100000000000001",
    )
    parser.add_argument("--graph-port", type=int, default=8765,
                        help="without --start: where the Rasa you started sends its replies")
    parser.add_argument("--drain", type=float, default=300.0,
                        help="seconds to wait for every citizen's reply after the messages")
    parser.add_argument("--nlu-on-loop", action="store_true",
                        help="with --start: Rasa's own parse on the event loop (NAGAR_SPEEDUPS=all,-nlu_process), "
                             "the baseline of the NLU process (rasa_extensions/nlu_process.py)")
    parser.add_argument("--receiver", action="store_true",
                        help="also the separate webhook receiver (channels/receiver.py), "
                             "interleaved with the channel's own webhook")
    parser.add_argument("--receiver-url", default="http://localhost:5006/webhooks/whatsapp/webhook",
                        help="without --start: a receiver you started")
    parser.add_argument("--rounds", type=int, default=1,
                        help="rounds; each measures every webhook in turn")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    args = parser.parse_args(argv)
    if args.app_secret is None:
        args.app_secret = APP_SECRET if args.start else (
            os.environ.get("WHATSAPP_APP_SECRET") or "simulator-secret")
    return args


if __name__ == "__main__":
    sys.exit(asyncio.run(run(parse_args())))
