"""The whole loop on real processes: a citizen writes on WhatsApp (signed webhooks), `rasa run`
with the WhatsApp channel and the trained model answers through a fake Graph API, a ticket is
stored; an officer resolves it, the outbox delivers the update through Rasa's external-event API,
the citizen gets it on WhatsApp and rates it with a list tap."""
import os
import re
import subprocess
import sys
import time
import urllib.request

import pytest

from channels.fake_graph import FakeGraphAPI, encode, inbound_message, signed_headers, webhook_payload

from conftest import MODEL, ROOT, free_port, start_action_server, stop
from whatsapp_support import LoopThread

APP_SECRET = "loop-secret"
PHONE_NUMBER_ID = "100000000000009"
RASA_TOKEN = "loop-token"
CITIZEN = "919812345678"
NUMBER = re.compile(r"SRN-\d{6}")


@pytest.fixture
def whatsapp_stack(tmp_path):
    if not MODEL.exists():
        pytest.skip(f"no trained model at {MODEL}: run `make train` first")
    database_url = f"sqlite:///{tmp_path / 'tickets.db'}"
    loop = LoopThread()
    graph = FakeGraphAPI()
    loop.run(graph.start())
    actions, webhook = start_action_server(database_url, tmp_path / "actions.log")
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(f'action_endpoint:\n  url: "{webhook}"\n', encoding="utf-8")
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT), DATABASE_URL=database_url,
               WHATSAPP_VERIFY_TOKEN="loop-verify", WHATSAPP_APP_SECRET=APP_SECRET,
               WHATSAPP_ACCESS_TOKEN="loop-access", WHATSAPP_PHONE_NUMBER_ID=PHONE_NUMBER_ID,
               WHATSAPP_API_BASE_URL=graph.base_url,
               WHATSAPP_INBOX_URL=f"sqlite:///{tmp_path / 'inbox.db'}")
    log = open(tmp_path / "rasa.log", "w")
    rasa = subprocess.Popen(
        [sys.executable, "-m", "rasa_extensions", "run", "--model", str(MODEL), "--port", str(port),
         "--credentials", str(ROOT / "credentials.yml"), "--endpoints", str(endpoints),
         "--enable-api", "--auth-token", RASA_TOKEN],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/status?token={RASA_TOKEN}", timeout=2) as response:
                if b"model_file" in response.read():
                    break
        except OSError:
            time.sleep(1)
    else:
        pytest.fail(f"rasa run did not start: {(tmp_path / 'rasa.log').read_text()[-3000:]}")
    yield base, graph, database_url
    stop(rasa)
    stop(actions)
    loop.run(graph.stop())
    loop.close()


def send(base: str, message: dict) -> None:
    body = encode(webhook_payload([message], phone_number_id=PHONE_NUMBER_ID))
    request = urllib.request.Request(f"{base}/webhooks/whatsapp/webhook", data=body,
                                     headers=signed_headers(body, APP_SECRET), method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200


def replies_after(graph: FakeGraphAPI, count: int, timeout: float = 30) -> list:
    """The messages sent to the citizen beyond the first `count`, once the bot has answered."""
    deadline = time.monotonic() + timeout
    seen = -1
    while time.monotonic() < deadline:
        mine = [m for m in graph.messages if m.get("to") == CITIZEN]
        if len(mine) > count and len(mine) == seen:  # the turn's messages have stopped coming
            return mine[count:]
        seen = len(mine)
        time.sleep(0.7)
    raise AssertionError(f"no reply after {timeout} s; sent so far: {graph.messages}")


def say(base, graph, text: str) -> list:
    before = len([m for m in graph.messages if m.get("to") == CITIZEN])
    send(base, inbound_message(CITIZEN, "text", {"body": text}))
    return replies_after(graph, before)


def body_of(message: dict) -> str:
    if message["type"] == "text":
        return message["text"]["body"]
    return message["interactive"]["body"]["text"]


def test_complaint_on_whatsapp_then_resolution_then_rating(whatsapp_stack):
    from civic.db import create_engine_for, make_session_factory
    from civic.notifications import NotificationOutbox, change_status_and_notify
    from civic.tickets import TicketRepository
    from officer.notifier import NotificationWorker, RasaNotifier

    base, graph, database_url = whatsapp_stack
    first = say(base, graph, "ward 23 me street light kharab hai Court Road pe")
    assert any(m["type"] == "interactive" and m["interactive"]["type"] == "button" for m in first)
    summary = say(base, graph, "skip")
    assert "Court Road" in body_of(summary[-1])
    done = " ".join(body_of(m) for m in say(base, graph, "haan"))
    number = NUMBER.search(done).group(0)

    engine = create_engine_for(database_url)
    sessions = make_session_factory(engine)
    repository = TicketRepository(sessions)
    try:
        assert repository.get(number).citizen_id == CITIZEN
        for status in ("assigned", "in_progress", "resolved"):
            change_status_and_notify(repository, number, status, actor="officer:je",
                                     remark="naya bulb laga diya" if status == "resolved" else None)
        before = len([m for m in graph.messages if m.get("to") == CITIZEN])
        worker = NotificationWorker(NotificationOutbox(sessions), RasaNotifier(base, RASA_TOKEN))
        loop = LoopThread()
        try:
            report = loop.run(worker.run_once())
        finally:
            loop.close()
        assert (report.delivered, report.failed) == (3, 0)
        updates = replies_after(graph, before)
        resolved = updates[-1]
        assert resolved["interactive"]["type"] == "list"
        assert "samadhan" in body_of(resolved) and "naya bulb laga diya" in body_of(resolved)

        tap = inbound_message(CITIZEN, "interactive",
                              {"type": "list_reply", "list_reply": {"id": "5", "title": "5 ⭐"}})
        before = len([m for m in graph.messages if m.get("to") == CITIZEN])
        send(base, tap)
        thanks = replies_after(graph, before)
        assert "5/5" in body_of(thanks[-1])
        assert repository.get(number).rating == 5
    finally:
        engine.dispose()
