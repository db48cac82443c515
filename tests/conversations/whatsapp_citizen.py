"""Citizens on WhatsApp, for conversation tests through the real channel.

`WhatsAppStack` runs what a deployment runs, on loopback: `python -m rasa_extensions run` with
the trained model and the WhatsApp channel of credentials.yml (signed webhooks, Graph API
pointed at a fake one), a rasa-sdk action server with its own ticket database, and the
officers' notification path (Rasa's trigger_intent API). A `Citizen` sends what a phone
sends (typed text, taps on the buttons and list rows the bot sent, photos with captions,
location pins, voice notes) and reads back what the bot sent, rendered as the citizen sees it.

A turn ends when Rasa has stored the conversation after the citizen's message (the tracker's
latest event is `action_listen` after that message), so no test waits on a clock.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

from channels.fake_graph import FakeGraphAPI, encode, inbound_message, signed_headers, webhook_payload

ROOT = Path(__file__).resolve().parents[2]
APP_SECRET = "conversation-secret"
PHONE_NUMBER_ID = "100000000000042"
RASA_TOKEN = "conversation-token"
TURN_TIMEOUT = 60.0


@dataclass
class Reply:
    """One message the citizen received: its text and the choices it offered."""

    text: str
    choices: List[Dict[str, str]] = field(default_factory=list)  # {"id", "title"} of buttons / rows
    kind: str = "text"  # text, button, list, template

    @property
    def titles(self) -> List[str]:
        return [c["title"] for c in self.choices]


def render(payload: Dict[str, Any]) -> Reply:
    """What a phone shows for one Graph API message payload."""
    kind = payload.get("type")
    if kind == "text":
        return Reply(payload["text"]["body"])
    if kind == "interactive":
        interactive = payload["interactive"]
        body = interactive.get("body", {}).get("text", "")
        if interactive["type"] == "button":
            choices = [b["reply"] for b in interactive["action"]["buttons"]]
            return Reply(body, [{"id": c["id"], "title": c["title"]} for c in choices], "button")
        if interactive["type"] == "list":
            rows = [r for s in interactive["action"]["sections"] for r in s["rows"]]
            return Reply(body, [{"id": r["id"], "title": r["title"]} for r in rows], "list")
        return Reply(body, [], interactive["type"])
    if kind == "template":
        template = payload["template"]
        params = [p.get("text", "") for c in template.get("components", []) for p in c.get("parameters", [])]
        return Reply(" ".join([template["name"], *params]), [], "template")
    return Reply(json.dumps(payload, ensure_ascii=False), [], str(kind))


class WhatsAppStack:
    """Rasa (WhatsApp channel + REST + HTTP API), an action server and a fake Graph API."""

    def __init__(self, model: Path, folder: Path, loop) -> None:
        from conftest import free_port, start_action_server  # tests/conversations/conftest.py

        self.loop = loop
        self.database_url = f"sqlite:///{folder / 'tickets.db'}"
        self.graph = FakeGraphAPI()
        loop.run(self.graph.start())
        self.actions, webhook = start_action_server(self.database_url, folder / "actions.log")
        endpoints = folder / "endpoints.yml"
        endpoints.write_text(f'action_endpoint:\n  url: "{webhook}"\n', encoding="utf-8")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, PYTHONPATH=str(ROOT), DATABASE_URL=self.database_url,
                   WHATSAPP_VERIFY_TOKEN="conversation-verify", WHATSAPP_APP_SECRET=APP_SECRET,
                   WHATSAPP_ACCESS_TOKEN="conversation-access", WHATSAPP_PHONE_NUMBER_ID=PHONE_NUMBER_ID,
                   WHATSAPP_API_BASE_URL=self.graph.base_url,
                   WHATSAPP_INBOX_URL=f"sqlite:///{folder / 'inbox.db'}", COVID_DATA_URL="")
        self.log = folder / "rasa.log"
        self.rasa = subprocess.Popen(
            [sys.executable, "-m", "rasa_extensions", "run", "--model", str(model), "--port", str(self.port),
             "--interface", "127.0.0.1", "--credentials", str(ROOT / "credentials.yml"),
             "--endpoints", str(endpoints), "--enable-api", "--auth-token", RASA_TOKEN],
            cwd=ROOT, env=env, stdout=open(self.log, "w"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if self.rasa.poll() is not None:
                raise RuntimeError(f"rasa run exited: {self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.base}/status?token={RASA_TOKEN}", timeout=2) as answer:
                    if b"model_file" in answer.read():
                        break
            except OSError:
                time.sleep(0.5)
        else:
            raise RuntimeError(f"rasa run did not start: {self.log.read_text()[-3000:]}")

    def close(self) -> None:
        from conftest import stop

        stop(self.rasa)
        stop(self.actions)
        self.loop.run(self.graph.stop())

    # -- what the other side does ------------------------------------------------------------

    def post(self, message: Dict[str, Any]) -> None:
        body = encode(webhook_payload([message], phone_number_id=PHONE_NUMBER_ID))
        request = urllib.request.Request(f"{self.base}/webhooks/whatsapp/webhook", data=body,
                                         headers=signed_headers(body, APP_SECRET), method="POST")
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200, answer.status

    def tracker(self, sender: str) -> Dict[str, Any]:
        url = f"{self.base}/conversations/{urllib.parse.quote(sender)}/tracker?token={RASA_TOKEN}"
        with urllib.request.urlopen(url, timeout=10) as answer:
            return json.loads(answer.read())

    def repository(self):
        from civic.db import create_engine_for, make_session_factory
        from civic.tickets import TicketRepository

        return TicketRepository(make_session_factory(create_engine_for(self.database_url)))

    def officer_sets(self, number: str, *statuses: str, remark: Optional[str] = None) -> None:
        """An officer moves the ticket on; the outbox delivers the updates as the workspace does."""
        from civic.db import create_engine_for, make_session_factory
        from civic.notifications import NotificationOutbox, change_status_and_notify
        from civic.tickets import TicketRepository
        from officer.notifier import NotificationWorker, RasaNotifier

        engine = create_engine_for(self.database_url)
        try:
            sessions = make_session_factory(engine)
            repository = TicketRepository(sessions)
            for status in statuses:
                change_status_and_notify(repository, number, status, actor="officer:je",
                                         remark=remark if status == statuses[-1] else None)
            worker = NotificationWorker(NotificationOutbox(sessions), RasaNotifier(self.base, RASA_TOKEN))
            report = self.loop.run(worker.run_once(), timeout=60)
            assert report.failed == 0, report
        finally:
            engine.dispose()


class Citizen:
    """One phone number writing to the assistant."""

    def __init__(self, stack: WhatsAppStack, wa_id: Optional[str] = None) -> None:
        self.stack = stack
        self.wa_id = wa_id or "91" + str(uuid.uuid4().int)[:10]
        self.last: List[Reply] = []
        self._read = 0

    def _sent_to_me(self) -> List[Dict[str, Any]]:
        return [m for m in self.stack.graph.messages if m.get("to") == self.wa_id]

    def send(self, message: Dict[str, Any]) -> List[Reply]:
        """Deliver one message and return what the bot sent back in that turn."""
        before = len(self._sent_to_me())
        self.stack.post(message)
        deadline = time.monotonic() + TURN_TIMEOUT
        while time.monotonic() < deadline:
            events = self.stack.tracker(self.wa_id).get("events", [])
            users = [i for i, e in enumerate(events) if e.get("event") == "user"
                     and e.get("message_id") == message["id"]]
            if users and events[-1].get("event") == "action" and events[-1].get("name") == "action_listen" \
                    and len(events) - 1 > users[-1]:
                break
            time.sleep(0.1)
        else:
            raise AssertionError(f"no end of turn for {message} in {TURN_TIMEOUT} s; "
                                 f"bot sent: {self._sent_to_me()[before:]}")
        self.last = [render(m) for m in self._sent_to_me()[before:]]
        self._read = len(self._sent_to_me())
        return self.last

    def unread(self) -> List[Reply]:
        """What arrived since the citizen's last turn (an officer's update: the trigger_intent
        call that sent it has returned, so it is all here)."""
        self.last = [render(m) for m in self._sent_to_me()[self._read:]]
        self._read = len(self._sent_to_me())
        return self.last

    def say(self, text: str) -> List[Reply]:
        return self.send(inbound_message(self.wa_id, "text", {"body": text}))

    def tap(self, title: str) -> List[Reply]:
        """Tap the button or list row with this title among the bot's last messages."""
        for reply in reversed(self.last):
            for choice in reply.choices:
                if choice["title"] == title:
                    kind = "button_reply" if reply.kind == "button" else "list_reply"
                    return self.send(inbound_message(self.wa_id, "interactive", {
                        "type": kind, kind: {"id": choice["id"], "title": choice["title"]}}))
        raise AssertionError(f"no choice {title!r} in {[r.titles for r in self.last]}")

    def photo(self, caption: Optional[str] = None, media_id: Optional[str] = None) -> List[Reply]:
        image = {"id": media_id or str(uuid.uuid4().int)[:15], "mime_type": "image/jpeg", "sha256": "x"}
        if caption:
            image["caption"] = caption
        return self.send(inbound_message(self.wa_id, "image", image))

    def location(self, latitude: float, longitude: float, name: Optional[str] = None) -> List[Reply]:
        pin: Dict[str, Any] = {"latitude": latitude, "longitude": longitude}
        if name:
            pin["name"] = name
        return self.send(inbound_message(self.wa_id, "location", pin))

    def voice(self) -> List[Reply]:
        return self.send(inbound_message(self.wa_id, "audio", {"id": "778899", "mime_type": "audio/ogg",
                                                                 "voice": True}))

    def text(self) -> str:
        return "\n".join(r.text for r in self.last)
