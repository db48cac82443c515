"""Load benchmark: scripted citizens against Nagar Sahayak and against the `rasa init` assistant.

    python scripts/bench_load.py --users 20 --turns 21            # what `make bench` runs
    python scripts/bench_load.py --phases nagar-rest --users 5 --turns 7 --no-baseline

Everything runs on this machine, on loopback, in a temporary folder:

- nagar-rest       U citizens talk through the REST channel (POST /webhooks/rest/webhook):
                   a complaint to a ticket (3 turns), a status check, a COVID question and
                   small talk, in English, Hinglish or Hindi by user; turns of one citizen
                   are sequential, citizens run concurrently. `--mix varied` (the default):
                   every citizen words each step in their own way (scripts/bench_mix.yml:
                   ten kinds of complaint, places of city.yml, SMS case and punctuation);
                   `--mix fixed`: one wording per language and step, street lights only.
- nagar-whatsapp   the same scripts as signed WhatsApp webhooks; the bot's replies go to a
                   fake Graph API here. A turn lasts from the POST to the arrival of its last
                   reply (as many messages as the same REST turn returned).
- baseline-rest    the assistant `rasa init` creates (its own small model, trained once and
                   cached in $NAGAR_BENCH_CACHE or <tmp>/nagar-bench-cache), driven the same
                   way with its greet / mood messages (varied: drawn from its own data/nlu.yml).

Reports msg/s (turns answered per second of wall time), p50/p95/p99 per turn, tickets
created, errors; the ratio Nagar/baseline; the machine. --profile FILE records the Nagar
Rasa server with py-spy during each Nagar phase, into FILE with the phase's name before the suffix
(speedscope .json, flame graph .svg, collapsed .txt).
--json FILE writes the numbers.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import aiohttp
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from channels.fake_graph import (  # noqa: E402 - after the path set-up above
    FakeGraphAPI,
    encode,
    signed_headers,
    text_message,
    webhook_payload,
)
from civic.city import get_city  # noqa: E402 - after the path set-up above

BIN = Path(sys.executable).parent
TICKET = re.compile(r"[A-Z]{2,5}-\d{6}")
APP_SECRET = "bench-secret"
PHONE_NUMBER_ID = "100000000000001"
STARTUP_TIMEOUT = 240

# One cycle of seven turns per language; {ward} differs per cycle, so no complaint is a duplicate.
# Step kinds: talk, complaint (form turns), submit (must answer with a ticket number), status, covid.
CYCLES: Dict[str, List[Tuple[str, str]]] = {
    "en": [
        ("hello", "talk"),
        ("street light not working in ward {ward} near Court Road", "complaint"),
        ("skip", "complaint"),
        ("yes", "submit"),
        ("what is the status of my complaints", "status"),
        ("how many corona cases in saharanpur", "covid"),
        ("thank you", "talk"),
    ],
    "hinglish": [
        ("namaste", "talk"),
        ("ward {ward} me street light kharab hai Court Road pe", "complaint"),
        ("photo nahi hai", "complaint"),
        ("haan", "submit"),
        ("meri shikayat ka kya hua", "status"),
        ("saharanpur me corona ke kitne case hai", "covid"),
        ("dhanyavaad", "talk"),
    ],
    "hi": [
        ("नमस्ते", "talk"),
        ("वार्ड {ward} में स्ट्रीट लाइट खराब है घंटाघर के पास", "complaint"),
        ("फोटो नहीं है", "complaint"),
        ("हाँ", "submit"),
        ("मेरी शिकायत का क्या हुआ", "status"),
        ("सहारनपुर में कोरोना के कितने केस हैं", "covid"),
        ("धन्यवाद", "talk"),
    ],
}
# The moodbot's own stories: greet, moods, affirm/deny, bot challenge, goodbye.
BASELINE_CYCLE = [
    ("hi", "talk"), ("I am sad", "talk"), ("yes", "talk"), ("hello", "talk"),
    ("great", "talk"), ("are you a bot?", "talk"), ("bye", "talk"),
]
LANGUAGES = list(CYCLES)


# --- numbers -------------------------------------------------------------------------------


def percentile(values: List[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


@dataclass
class Phase:
    name: str
    users: int
    turns_per_user: int
    wall_s: float = 0.0
    latencies_ms: List[float] = field(default_factory=list)
    errors: Dict[str, int] = field(default_factory=dict)
    tickets_in_replies: int = 0
    tickets_in_db: Optional[int] = None
    submits: int = 0
    examples: List[Dict[str, object]] = field(default_factory=list)  # of errors, the first few
    transcripts: Dict[int, List] = field(default_factory=dict)  # user → [(text, replies)]
    cpu_ms: Dict[str, float] = field(default_factory=dict)  # process → CPU time during the phase
    by_kind: Dict[str, List[float]] = field(default_factory=dict)  # step kind → latencies

    def latency(self, kind: str, ms: float) -> None:
        self.latencies_ms.append(ms)
        self.by_kind.setdefault(kind, []).append(ms)

    def error(self, kind: str, user: Optional[int] = None, turns: Optional[List] = None) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1
        if turns is not None and len(self.examples) < 20:
            self.examples.append({"error": kind, "user": user, "turns": turns})

    def summary(self) -> Dict[str, object]:
        answered = len(self.latencies_ms)
        return {
            "phase": self.name, "users": self.users, "turns_per_user": self.turns_per_user,
            "turns_answered": answered, "wall_s": round(self.wall_s, 2),
            "msg_per_s": round(answered / self.wall_s, 2) if self.wall_s else 0.0,
            "p50_ms": round(percentile(self.latencies_ms, 0.50), 1),
            "p95_ms": round(percentile(self.latencies_ms, 0.95), 1),
            "p99_ms": round(percentile(self.latencies_ms, 0.99), 1),
            "max_ms": round(max(self.latencies_ms), 1) if self.latencies_ms else None,
            "submits": self.submits, "tickets_in_replies": self.tickets_in_replies,
            "tickets_in_db": self.tickets_in_db, "errors": sum(self.errors.values()),
            "error_kinds": dict(self.errors), "error_examples": self.examples,
            # CPU time per answered turn, by server process (user + system, from /proc)
            "cpu_ms_per_turn": {name: round(ms / answered, 1) for name, ms in self.cpu_ms.items()}
            if answered else {},
            "p50_p95_ms_by_kind": {kind: [round(percentile(ms, 0.5)), round(percentile(ms, 0.95))]
                                   for kind, ms in sorted(self.by_kind.items())},
        }


MIX_FILE = ROOT / "scripts" / "bench_mix.yml"


class Mix:
    """Each citizen's turns: the fixed script, or (`varied`) their own wordings of it.

    `script(user)` gives (text, kind) per turn; a user number says which citizen, so the REST
    and WhatsApp phases send the same texts and the warm-up (users from 1000) others.
    """

    def __init__(self, name: str, baseline: bool, baseline_nlu: Optional[Path] = None) -> None:
        self.name, self.baseline = name, baseline
        if name == "varied":
            data = yaml.safe_load(MIX_FILE.read_text(encoding="utf-8"))
            if baseline:
                examples = moodbot_examples(baseline_nlu)
                self.cycles = {"base": [(examples[intent], "talk") for intent in data["baseline"]]}
            else:
                self.cycles = {language: [(data[language][step["name"]], step["kind"])
                                          for step in data["steps"]] for language in LANGUAGES}
            self.places = city_places()

    def language(self, user: int) -> str:
        return "base" if self.baseline else LANGUAGES[user % len(LANGUAGES)]

    def script(self, user: int, turns: int) -> List[Tuple[str, str]]:
        language = self.language(user)
        if self.name != "varied":
            cycle = BASELINE_CYCLE if self.baseline else CYCLES[language]
            return [(cycle[n % len(cycle)][0].format(ward=ward_of(user, n // len(cycle))),
                     cycle[n % len(cycle)][1]) for n in range(turns)]
        rng = random.Random(f"nagar-bench-{language}-{user}")
        cycle = self.cycles[language]
        decks: Dict[int, List[str]] = {}
        places = self.places["hi" if language == "hi" else "latin"]
        out = []
        for n in range(turns):
            round_, step = divmod(n, len(cycle))
            pool, kind = cycle[step]
            if not decks.get(step):  # every wording once before any comes again
                decks[step] = rng.sample(pool, len(pool))
            text = decks[step].pop().format(ward=ward_of(user, round_), place=rng.choice(places))
            out.append((sms_case(text, rng), kind))
        return out


def ward_of(user: int, round_: int) -> int:
    return (user * 11 + round_ * 3) % 70 + 1  # distinct per round for one user


def sms_case(text: str, rng: random.Random) -> str:
    """Case and end punctuation as people type them; the words stay."""
    if rng.random() < 0.3:
        text = text.lower()
    roll = rng.random()
    if roll < 0.3:
        text = text.rstrip(".?!")
    elif roll < 0.4:
        text += "."
    elif roll < 0.45:
        text += "!!"
    return text


def city_places() -> Dict[str, List[str]]:
    """The city's localities (civic.city, as the assistant reads city.yml), in Latin letters and
    in Devanagari (their first Devanagari spelling)."""
    localities = get_city().localities
    return {"latin": [place.name for place in localities],
            "hi": [next((s for s in place.also if not s.isascii()), place.name) for place in localities]}


def moodbot_examples(nlu: Path) -> Dict[str, List[str]]:
    """The moodbot's training examples by intent (its data/nlu.yml, `- text` lists)."""
    examples = {}
    for block in yaml.safe_load(nlu.read_text(encoding="utf-8"))["nlu"]:
        if "intent" in block:
            examples[block["intent"]] = [line[2:].strip() for line in block["examples"].splitlines()
                                         if line.startswith("- ")]
    return examples


def check_reply(phase: Phase, kind: str, texts: List[str], user: int, history: List) -> None:
    """Counts errors; `history` is the citizen's (text, replies) so far, kept with the first few."""
    if not texts:
        phase.error("empty reply", user, history[-4:])
    if kind == "submit":
        phase.submits += 1
        if any(TICKET.search(t) for t in texts):
            phase.tickets_in_replies += 1
        else:
            phase.error("complaint without ticket number", user, history[-4:])


# --- processes -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, process: subprocess.Popen, log: Path, timeout: float = STARTUP_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited ({process.returncode}); see {log}:\n{log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f}s; see {log}")


def start(cmd: List[str], env: Dict[str, str], log: Path, cwd: Path = ROOT) -> subprocess.Popen:
    handle = open(log, "w")
    return subprocess.Popen(cmd, cwd=cwd, env=env, stdout=handle, stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop(process: Optional[subprocess.Popen]) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)  # Rasa and Sanic shut down cleanly on Ctrl-C
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --server-pythonpath: folders put before the venv in the servers' path, to measure a package
# version (e.g. `pip install --target DIR jsonschema==3.2.0`) before pinning it.
SERVER_PYTHONPATH: List[str] = []


def base_env(**extra: str) -> Dict[str, str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([*SERVER_PYTHONPATH, str(ROOT)]),
               TF_CPP_MIN_LOG_LEVEL="3",
               SQLALCHEMY_SILENCE_UBER_WARNING="1", PYTHONHASHSEED="0")
    env.update(extra)
    return env


class NagarStack:
    """An action server and a Rasa server with REST + WhatsApp channels, in workdir."""

    def __init__(self, args: argparse.Namespace, workdir: Path, graph_url: str) -> None:
        self.args, self.workdir, self.graph_url = args, workdir, graph_url
        self.actions: Optional[subprocess.Popen] = None
        self.rasa: Optional[subprocess.Popen] = None
        self.port = free_port()
        self.db_path = workdir / "tickets.db"

    def __enter__(self) -> NagarStack:
        env = base_env(DATABASE_URL=f"sqlite:///{self.db_path}", COVID_DATA_URL="")
        action_port = free_port()
        log = self.workdir / "actions.log"
        self.actions = start([str(BIN / "python"), "-m", "rasa_sdk", "--actions", "actions",
                              "--port", str(action_port)], env, log)
        wait_http(f"http://127.0.0.1:{action_port}/health", self.actions, log)

        endpoints = yaml.safe_load((ROOT / self.args.endpoints).read_text()) or {}
        endpoints["action_endpoint"] = dict(endpoints.get("action_endpoint") or {},
                                            url=f"http://127.0.0.1:{action_port}/webhook")
        (self.workdir / "endpoints.yml").write_text(yaml.safe_dump(endpoints))
        credentials = yaml.safe_load((ROOT / "credentials.yml").read_text()) or {}
        credentials.pop("rest", None)
        credentials["channels.rest.CleanRestInput"] = None  # our REST channel, as shipped
        credentials["channels.whatsapp.WhatsAppInput"] = {
            "verify_token": "bench", "app_secret": APP_SECRET, "access_token": "bench",
            "phone_number_id": PHONE_NUMBER_ID, "api_base_url": self.graph_url,
            "inbox_url": f"sqlite:///{self.workdir / 'inbox.db'}",
        }
        (self.workdir / "credentials.yml").write_text(yaml.safe_dump(credentials))
        log = self.workdir / "rasa.log"
        rasa = [str(BIN / "rasa")] if self.args.plain_rasa else [str(BIN / "python"), "-m",
                                                                 "rasa_extensions"]
        self.rasa = start(
            [*rasa, "run", "--model", str(ROOT / self.args.model),
             "--endpoints", str(self.workdir / "endpoints.yml"),
             "--credentials", str(self.workdir / "credentials.yml"),
             "--interface", "127.0.0.1", "--port", str(self.port)],
            env, log)
        wait_http(f"http://127.0.0.1:{self.port}/", self.rasa, log)
        return self

    def ticket_count(self) -> Optional[int]:
        try:
            with sqlite3.connect(self.db_path) as connection:
                return connection.execute("SELECT count(*) FROM tickets").fetchone()[0]
        except sqlite3.Error:
            return None

    def __exit__(self, *_) -> None:
        stop(self.rasa)
        stop(self.actions)


class BaselineStack:
    """The `rasa init` assistant (trained once, cached outside the repository)."""

    def __init__(self, cache: Path, workdir: Path) -> None:
        self.project = cache / f"rasa-init-{rasa_version()}"
        self.workdir = workdir
        self.port = free_port()
        self.rasa: Optional[subprocess.Popen] = None

    def ensure_project(self) -> Path:
        models = sorted((self.project / "models").glob("*.tar.gz")) if self.project.exists() else []
        if models:
            return models[-1]
        shutil.rmtree(self.project, ignore_errors=True)
        self.project.mkdir(parents=True)  # rasa init wants the folder to exist
        print(f"baseline: rasa init into {self.project} (trains its model once)", flush=True)
        log = self.workdir / "baseline-init.log"
        with open(log, "w") as handle:
            subprocess.run([str(BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(self.project)],
                           cwd=self.project.parent, env=base_env(), stdout=handle,
                           stderr=subprocess.STDOUT, check=True)
        return sorted((self.project / "models").glob("*.tar.gz"))[-1]

    def __enter__(self) -> BaselineStack:
        model = self.ensure_project()
        log = self.workdir / "baseline-rasa.log"
        self.rasa = start(
            [str(BIN / "rasa"), "run", "--model", str(model),
             "--credentials", str(self.project / "credentials.yml"),
             "--endpoints", str(self.project / "endpoints.yml"),
             "--interface", "127.0.0.1", "--port", str(self.port)],
            base_env(), log, cwd=self.project)
        wait_http(f"http://127.0.0.1:{self.port}/", self.rasa, log)
        return self

    def __exit__(self, *_) -> None:
        stop(self.rasa)


def rasa_version() -> str:
    out = subprocess.run([str(BIN / "python"), "-c", "import rasa; print(rasa.__version__)"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


class CpuClock:
    """CPU time (user + system) the given server processes, and apart their children (Sanic's
    workers, the NLU process), spend from now until elapsed()."""

    def __init__(self, processes: Dict[str, Optional[subprocess.Popen]]) -> None:
        self.pids = {name: p.pid for name, p in processes.items() if p is not None}
        self.start = self.now()

    @staticmethod
    def now() -> Dict[int, float]:
        """pid → (parent, CPU ms) of every process."""
        table = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # ended meanwhile
            ms = (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")  # utime, stime
            table[int(stat.parent.name)] = (int(fields[1]), ms)
        return table

    def elapsed(self) -> Dict[str, float]:
        end = self.now()

        def tree(root: int) -> List[int]:
            pids, queue = [], [root]
            while queue:
                pid = queue.pop()
                pids.append(pid)
                queue += [child for child, (parent, _) in end.items() if parent == pid]
            return pids

        def spent(pids: List[int]) -> float:
            return sum(end[pid][1] - self.start.get(pid, (0, 0.0))[1] for pid in pids if pid in end)

        out = {}
        for name, root in self.pids.items():
            out[name] = spent([root])
            children = tree(root)[1:]  # Sanic's workers, the NLU process
            if children:
                out[f"{name} children"] = spent(children)
        return out


# --- drivers -------------------------------------------------------------------------------


async def drive_rest(port: int, phase: Phase, mix: Mix, run_id: str,
                     reply_counts: Optional[Dict] = None, first_user: int = 0) -> None:
    url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
    timeout = aiohttp.ClientTimeout(total=120)
    connector = aiohttp.TCPConnector(limit=phase.users)

    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:

        async def user(n: int) -> None:
            sender = f"bench-{run_id}-{n}"
            history = phase.transcripts[n] = []
            for turn, (text, kind) in enumerate(mix.script(n, phase.turns_per_user)):
                started = time.perf_counter()
                try:
                    async with session.post(url, json={"sender": sender, "message": text}) as resp:
                        body = await resp.json(content_type=None)
                        if resp.status != 200:
                            phase.error(f"HTTP {resp.status}")
                            continue
                except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
                    phase.error(type(exc).__name__)
                    continue
                phase.latency(kind, (time.perf_counter() - started) * 1000)
                texts = [m.get("text") or "" for m in body or []]
                history.append((text, texts))
                check_reply(phase, kind, texts, n, history)
                if reply_counts is not None:
                    reply_counts[n, turn] = len(body or [])

        wall = time.perf_counter()
        await asyncio.gather(*(user(n) for n in range(first_user, first_user + phase.users)))
        phase.wall_s = time.perf_counter() - wall


class Inbox:
    """What the fake Graph API received, per recipient, with a wake-up for waiters."""

    def __init__(self) -> None:
        self.messages: Dict[str, List[Tuple[float, dict]]] = {}
        self.changed = asyncio.Event()

    def on_message(self, payload: dict) -> None:
        self.messages.setdefault(str(payload.get("to")), []).append((time.perf_counter(), payload))
        self.changed.set()

    def count(self, wa_id: str) -> int:
        return len(self.messages.get(wa_id, ()))

    async def wait(self, wa_id: str, since: int, expected: int, quiet: float, timeout: float):
        """Messages after `since`: until `expected` arrived, or `quiet` seconds without more."""
        deadline = time.perf_counter() + timeout
        while True:
            got = self.messages.get(wa_id, [])[since:]
            now = time.perf_counter()
            if got and (len(got) >= expected or now - got[-1][0] >= quiet):
                return got
            if now >= deadline:
                return got
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), timeout=0.05)
            except asyncio.TimeoutError:
                pass


def text_of(payload: dict) -> str:
    if payload.get("type") == "text":
        return payload["text"]["body"]
    if payload.get("type") == "interactive":
        return (payload["interactive"].get("body") or {}).get("text", "")
    return json.dumps(payload, ensure_ascii=False)


async def drive_whatsapp(port: int, phase: Phase, mix: Mix, inbox: Inbox, run_id: str,
                         reply_counts: Dict) -> None:
    url = f"http://127.0.0.1:{port}/webhooks/whatsapp/webhook"
    connector = aiohttp.TCPConnector(limit=phase.users)
    prefix = f"9197{int(run_id, 16) % 10000:04d}"

    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:

        async def user(n: int) -> None:
            wa_id = f"{prefix}{n:04d}"
            history = phase.transcripts[n] = []
            for turn, (text, kind) in enumerate(mix.script(n, phase.turns_per_user)):
                body = encode(webhook_payload([text_message(wa_id, text)], phone_number_id=PHONE_NUMBER_ID))
                since = inbox.count(wa_id)
                started = time.perf_counter()
                try:
                    async with session.post(url, data=body, headers=signed_headers(body, APP_SECRET)) as resp:
                        await resp.read()
                        if resp.status != 200:
                            phase.error(f"HTTP {resp.status}")
                            continue
                except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                    phase.error(type(exc).__name__)
                    continue
                # Unknown count (no REST phase before): wait until the replies pause for 1.5 s.
                got = await inbox.wait(wa_id, since, reply_counts.get((n, turn), 10**6), quiet=1.5, timeout=60)
                if not got:
                    phase.error("no reply")
                    continue
                phase.latency(kind, (got[-1][0] - started) * 1000)
                history.append((text, [text_of(p) for _, p in got]))
                check_reply(phase, kind, history[-1][1], n, history)

        wall = time.perf_counter()
        await asyncio.gather(*(user(n) for n in range(phase.users)))
        phase.wall_s = time.perf_counter() - wall


async def warm_up(port: int, mix: Mix) -> None:
    """A few unmeasured turns (other citizens than the measured ones): the first predictions are slow."""
    phase = Phase("warm-up", users=2, turns_per_user=7)
    await drive_rest(port, phase, mix, "warm" + uuid.uuid4().hex[:4], first_user=1000)


def write_transcripts(folder: Path, phase: Phase) -> None:
    """Every citizen's turns and the bot's replies, one text file per phase (to read)."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for user, turns in sorted(phase.transcripts.items()):
        lines.append(f"## citizen {user}")
        for text, replies in turns:
            lines.append(f"> {text}")
            lines.extend(f"    < {reply}" for reply in replies)
        lines.append("")
    (folder / f"{phase.name}.txt").write_text("\n".join(lines), encoding="utf-8")


# --- report --------------------------------------------------------------------------------


def machine() -> Dict[str, object]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "unknown")
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    return {"nproc": len(os.sched_getaffinity(0)), "cpu": cpu, "ram_gib": round(mem_kb / 2**20, 1),
            "python": sys.version.split()[0], "rasa": rasa_version(),
            "loadavg_start": os.getloadavg()}


def print_table(rows: List[Dict[str, object]]) -> None:
    head = ["phase", "users", "turns_answered", "msg_per_s", "p50_ms", "p95_ms", "p99_ms",
            "tickets_in_replies", "tickets_in_db", "errors", "cpu_ms_per_turn"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row in rows:
        print("| " + " | ".join(str(row.get(h, "")) for h in head) + " |")


def start_profiler(pid: int, out: Path) -> subprocess.Popen:
    fmt = {".svg": "flamegraph", ".txt": "raw"}.get(out.suffix, "speedscope")
    return subprocess.Popen([str(BIN / "py-spy"), "record", "--pid", str(pid), "--rate", "50",
                             "--format", fmt, "--output", str(out), "--nonblocking"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)


async def run(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="nagar-bench-"))
    cache = Path(os.environ.get("NAGAR_BENCH_CACHE") or Path(tempfile.gettempdir()) / "nagar-bench-cache")
    run_id = uuid.uuid4().hex[:8]
    info = machine()
    info["server_pythonpath"] = SERVER_PYTHONPATH
    print(f"machine: {info}\nworkdir: {workdir}", flush=True)
    results: List[Dict[str, object]] = []
    reply_counts: Dict = {}

    nagar_phases = [p for p in args.phases if p.startswith("nagar")]
    if nagar_phases:
        inbox = Inbox()
        graph = FakeGraphAPI(on_message=inbox.on_message)
        graph_url = await graph.start()
        try:
            with NagarStack(args, workdir, graph_url) as stack:
                mix = Mix(args.mix, baseline=False)
                await warm_up(stack.port, mix)
                for name in nagar_phases:
                    phase = Phase(name, args.users, args.turns)
                    profiler = None
                    if args.profile:
                        out = Path(args.profile).resolve()
                        profiler = start_profiler(stack.rasa.pid, out.with_name(f"{out.stem}-{name}{out.suffix}"))
                    print(f"{name}: {args.users} users x {args.turns} turns", flush=True)
                    before = stack.ticket_count() or 0
                    cpu = CpuClock({"rasa": stack.rasa, "actions": stack.actions})
                    if name == "nagar-rest":
                        await drive_rest(stack.port, phase, mix, run_id, reply_counts)
                    else:
                        await drive_whatsapp(stack.port, phase, mix, inbox, run_id, reply_counts)
                    if profiler is not None:
                        profiler.send_signal(signal.SIGINT)
                        profiler.wait(timeout=60)
                    phase.cpu_ms = cpu.elapsed()
                    phase.tickets_in_db = (stack.ticket_count() or 0) - before
                    results.append(phase.summary())
                    print(json.dumps(results[-1]), flush=True)
                    if args.transcripts:
                        write_transcripts(Path(args.transcripts), phase)
        finally:
            await graph.stop()

    if "baseline-rest" in args.phases:
        with BaselineStack(cache, workdir) as baseline:
            mix = Mix(args.mix, baseline=True, baseline_nlu=baseline.project / "data" / "nlu.yml")
            await warm_up(baseline.port, mix)
            phase = Phase("baseline-rest", args.users, args.turns)
            print(f"baseline-rest: {args.users} users x {args.turns} turns", flush=True)
            cpu = CpuClock({"rasa": baseline.rasa})
            await drive_rest(baseline.port, phase, mix, run_id)
            phase.cpu_ms = cpu.elapsed()
            results.append(phase.summary())
            print(json.dumps(results[-1]), flush=True)

    info["loadavg_end"] = os.getloadavg()
    print()
    print_table(results)
    by_name = {r["phase"]: r for r in results}
    ratios = {}
    if "baseline-rest" in by_name:
        base = by_name["baseline-rest"]
        for name in ("nagar-rest", "nagar-whatsapp"):
            if name in by_name and base["msg_per_s"]:
                ratios[name] = {
                    "msg_per_s_ratio": round(by_name[name]["msg_per_s"] / base["msg_per_s"], 2),
                    "p95_ratio": round(by_name[name]["p95_ms"] / base["p95_ms"], 2),
                }
                print(f"{name} / baseline: msg/s x{ratios[name]['msg_per_s_ratio']}, "
                      f"p95 x{ratios[name]['p95_ratio']}")
    command = "python scripts/bench_load.py " + " ".join(sys.argv[1:])
    print(f"machine: {info}\ncommand: {command}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(
            {"machine": info, "command": command, "results": results, "ratios": ratios}, indent=2))
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if all(r["errors"] == 0 for r in results) else 1


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20, help="concurrent citizens (default 20)")
    parser.add_argument("--turns", type=int, default=21, help="turns per citizen (default 21)")
    parser.add_argument("--model", default="models/nagar-sahayak.tar.gz")
    parser.add_argument("--endpoints", default="endpoints.yml",
                        help="endpoints file whose settings the Nagar server uses (action URL replaced)")
    parser.add_argument("--phases", nargs="+", default=["nagar-rest", "nagar-whatsapp", "baseline-rest"],
                        choices=["nagar-rest", "nagar-whatsapp", "baseline-rest"])
    parser.add_argument("--mix", choices=["varied", "fixed"], default="varied",
                        help="varied: every citizen in their own words (scripts/bench_mix.yml, the "
                             "default); fixed: one wording per language, as before 2026-12-08")
    parser.add_argument("--no-baseline", action="store_true", help="skip the rasa init baseline")
    parser.add_argument("--profile", help="py-spy output of each Nagar phase, the phase's name added before the suffix "
                        "(.json speedscope, .svg flame graph, .txt collapsed)")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--transcripts", help="write every conversation of the Nagar phases into this folder")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    parser.add_argument("--plain-rasa", action="store_true",
                        help="start Nagar's server with plain `rasa` instead of "
                             "`python -m rasa_extensions` (Rasa without rasa_extensions.speedups)")
    parser.add_argument("--server-pythonpath", action="append", default=[],
                        help="a folder put first on the servers' PYTHONPATH (repeatable)")
    args = parser.parse_args(argv)
    SERVER_PYTHONPATH[:] = [str(Path(p).resolve()) for p in args.server_pythonpath]
    if args.no_baseline:
        args.phases = [p for p in args.phases if p != "baseline-rest"]
    return args


if __name__ == "__main__":
    sys.exit(asyncio.run(run(parse_args())))
