"""Processes and plumbing for the scale and fault tests: `rasa run` servers, action servers,
a round-robin HTTP proxy, and reachability checks for Redis and PostgreSQL."""
from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Dict, List, Optional
from urllib.parse import urlsplit

import yaml

ROOT = Path(__file__).resolve().parents[2]
MODEL = Path(os.environ.get("NAGAR_MODEL", ROOT / "models" / "nagar-sahayak.tar.gz"))
BIN = Path(sys.executable).parent
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_HOST = os.environ.get("TEST_REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("TEST_REDIS_PORT", "6379"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def reachable(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=2).close()
        return True
    except OSError:
        return False


def env(**extra: str) -> Dict[str, str]:
    values = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3",
                  SQLALCHEMY_SILENCE_UBER_WARNING="1", COVID_DATA_URL="")
    values.update(extra)
    return values


def wait_http(url: str, process: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode}; {log}:\n{log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} not up after {timeout:.0f}s; see {log}")


def start_actions(database_url: str, log: Path, port: Optional[int] = None):
    """A rasa-sdk action server; returns (process, port). Not waited for: see wait_http."""
    port = port or free_port()
    process = subprocess.Popen(
        [str(BIN / "python"), "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)],
        cwd=ROOT, env=env(DATABASE_URL=database_url), stdout=open(log, "w"),
        stderr=subprocess.STDOUT)
    return process, port


REST = {"channels.rest.CleanRestInput": None}  # our REST channel, as credentials.yml has it


def start_rasa(endpoints: dict, folder: Path, name: str, credentials: Optional[dict] = None,
               extra_env: Optional[Dict[str, str]] = None, port: Optional[int] = None):
    """`rasa run` with the given endpoints; returns (process, port, log). Not waited for.
    The same name again is a restart with the same settings (its log is appended to)."""
    port = port or free_port()
    (folder / f"{name}-endpoints.yml").write_text(yaml.safe_dump(endpoints))
    (folder / f"{name}-credentials.yml").write_text(yaml.safe_dump(credentials or REST))
    log = folder / f"{name}.log"
    process = subprocess.Popen(
        [str(BIN / "python"), "-m", "rasa_extensions", "run", "--model", str(MODEL), "--interface", "127.0.0.1",
         "--port", str(port), "--endpoints", str(folder / f"{name}-endpoints.yml"),
         "--credentials", str(folder / f"{name}-credentials.yml")],
        cwd=ROOT, env=env(**(extra_env or {})), stdout=open(log, "a"), stderr=subprocess.STDOUT)
    return process, port, log


def stop(process: Optional[subprocess.Popen], sig: int = signal.SIGINT) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def say(port: int, sender: str, text: str, timeout: float = 60):
    """One REST turn; returns (HTTP status, list of bot texts)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/webhooks/rest/webhook",
        data=json.dumps({"sender": sender, "message": text}).encode(),
        headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, [m.get("text") or "" for m in json.loads(response.read())]
    except urllib.error.HTTPError as error:
        return error.code, []


def postgres_parts(url: str = POSTGRES_URL) -> Dict[str, object]:
    parts = urlsplit(url)
    return {"host": parts.hostname or "127.0.0.1", "port": parts.port or 5432,
            "user": parts.username or "postgres", "password": parts.password or "",
            "db": parts.path.lstrip("/") or "postgres"}


class RoundRobinProxy:
    """An HTTP reverse proxy on 127.0.0.1 sending each request to the next backend in turn
    (per request, not per connection), on its own thread and event loop."""

    def __init__(self, backend_ports: List[int]) -> None:
        self.backends = itertools.cycle(backend_ports)
        self.port = free_port()
        self.sent: Dict[int, int] = {p: 0 for p in backend_ports}
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def _run(self) -> None:
        from aiohttp import ClientSession, ClientTimeout, web

        asyncio.set_event_loop(self._loop)

        async def forward(request: web.Request) -> web.Response:
            backend = next(self.backends)
            self.sent[backend] += 1
            async with self._session.request(
                request.method, f"http://127.0.0.1:{backend}{request.path_qs}",
                data=await request.read(),
                headers={k: v for k, v in request.headers.items() if k.lower() != "host"},
            ) as answer:
                body = await answer.read()
                return web.Response(body=body, status=answer.status,
                                    content_type=answer.content_type)

        async def setup() -> None:
            self._session = ClientSession(timeout=ClientTimeout(total=120))
            app = web.Application()
            app.router.add_route("*", "/{tail:.*}", forward)
            self._runner = web.AppRunner(app, access_log=None)
            await self._runner.setup()
            await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

        self._loop.run_until_complete(setup())
        self._ready.set()
        self._loop.run_forever()

    def close(self) -> None:
        async def cleanup() -> None:
            await self._session.close()
            await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
