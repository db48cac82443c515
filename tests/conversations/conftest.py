"""End-to-end conversations: the trained model, a real rasa-sdk action server process and a
real ticket database. `make test-conversations` runs these after training.

The model comes from NAGAR_MODEL (default models/nagar-sahayak.tar.gz); without a model the
tests skip with the reason. The action server runs on a free loopback port with its own
SQLite database in a temporary folder, so nothing here touches tickets.db.
"""
from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Dict, List

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODEL = Path(os.environ.get("NAGAR_MODEL", ROOT / "models" / "nagar-sahayak.tar.gz"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_action_server(database_url: str, log_path: Path, extra_env: Dict[str, str] = None):
    """A rasa-sdk action server process on a free port; returns (process, webhook URL)."""
    port = free_port()
    env = dict(os.environ, DATABASE_URL=database_url, PYTHONPATH=str(ROOT), **(extra_env or {}))
    log = open(log_path, "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"action server exited; see {log_path}:\n{log_path.read_text()}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
            return process, f"http://127.0.0.1:{port}/webhook"
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"action server did not become healthy; see {log_path}")


def stop(process) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


class Chat:
    """One citizen talking to the assistant; `say` returns the bot's messages of that turn."""

    def __init__(self, agent, loop, sender_id: str = None):
        self.agent, self.loop = agent, loop
        self.sender_id = sender_id or "91" + uuid.uuid4().hex[:10]

    def say(self, text: str) -> List[dict]:
        return self.loop.run_until_complete(self.agent.handle_text(text, sender_id=self.sender_id))

    def texts(self, text: str) -> str:
        return "\n".join(m.get("text") or "" for m in self.say(text))

    def slot(self, name: str):
        tracker = self.loop.run_until_complete(
            self.agent.processor.fetch_tracker_with_initial_session(self.sender_id))
        return tracker.get_slot(name)


@pytest.fixture(scope="session")
def event_loop_for_agent():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture(scope="session")
def ticket_db_url(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('conversations') / 'tickets.db'}"


@pytest.fixture(scope="session")
def action_server(ticket_db_url, tmp_path_factory):
    if not MODEL.exists():
        pytest.skip(f"no trained model at {MODEL}: run `make train` first")
    process, url = start_action_server(ticket_db_url, tmp_path_factory.mktemp("logs") / "actions.log")
    yield url
    stop(process)


@pytest.fixture(scope="session")
def agent(action_server, event_loop_for_agent):
    from rasa.core.agent import Agent
    from rasa.utils.endpoints import EndpointConfig

    from rasa_extensions import speedups

    speedups.apply()  # as `python -m rasa_extensions run` serves citizens
    return Agent.load(str(MODEL), action_endpoint=EndpointConfig(url=action_server))


@pytest.fixture
def chat(agent, event_loop_for_agent) -> Chat:
    return Chat(agent, event_loop_for_agent)


@pytest.fixture
def repository(ticket_db_url):
    from civic.db import create_engine_for, make_session_factory
    from civic.tickets import TicketRepository

    engine = create_engine_for(ticket_db_url)
    yield TicketRepository(make_session_factory(engine))
    engine.dispose()


def trigger(agent, loop, sender_id: str, intent: str, entities: dict) -> List[dict]:
    """What Rasa's /conversations/{id}/trigger_intent does; returns the messages sent out."""
    from rasa.core.channels.channel import CollectingOutputChannel

    async def run():
        output = CollectingOutputChannel()
        tracker = await agent.processor.fetch_tracker_with_initial_session(sender_id, output)
        await agent.processor.trigger_external_user_uttered(intent, entities, tracker, output)
        return output.messages

    return loop.run_until_complete(run())
