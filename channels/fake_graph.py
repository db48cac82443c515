"""A local stand-in for the WhatsApp Graph API, and builders of signed webhook posts.

For tests, the simulator (``scripts/whatsapp_simulator.py``) and the benchmark: nothing
here talks to Meta. ``FakeGraphAPI`` listens on 127.0.0.1, records every message the bot
sends and can answer with scripted errors (429, 5xx, permanent Graph codes).
"""

import hashlib
import hmac
import itertools
import json
import time
import uuid
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from aiohttp import web

DEFAULT_VERSION = "v21.0"


class FakeGraphAPI:
    """Records ``POST /{version}/{phone_number_id}/messages`` and answers like Graph."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        version: str = DEFAULT_VERSION,
        on_message: Optional[Callable[[Dict[str, Any]], None]] = None,
    ) -> None:
        self.host = host
        self.port = port
        self.version = version
        self.on_message = on_message
        self.requests: List[Dict[str, Any]] = []  # every POST: path, auth, payload
        self.messages: List[Dict[str, Any]] = []  # accepted message payloads
        self.read_receipts: List[str] = []  # message ids marked read
        self._scripted: List[Tuple[int, Dict[str, Any], Dict[str, str]]] = []
        self._failing_recipients: Dict[str, Tuple[int, Dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._runner: Optional[web.AppRunner] = None

    @property
    def base_url(self) -> str:
        """What the channel's ``api_base_url`` should be."""
        return f"http://{self.host}:{self.port}/{self.version}"

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/{version}/{phone_number_id}/messages", self._messages)
        app.router.add_get("/{version}/{media_id}", self._media)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]  # the port the system chose for port 0
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def reset(self) -> None:
        """Forget recorded traffic and scripted errors."""
        self.requests.clear()
        self.messages.clear()
        self.read_receipts.clear()
        self._scripted.clear()
        self._failing_recipients.clear()

    def fail_next(
        self,
        status: int,
        code: int,
        times: int = 1,
        retry_after: Optional[float] = None,
        message: str = "scripted failure",
    ) -> None:
        """Answer the next ``times`` message posts with a Graph error."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        for _ in range(times):
            self._scripted.append((status, _error(code, message), headers))

    def fail_recipient(self, wa_id: str, status: int = 400, code: int = 131021) -> None:
        """Always refuse messages to wa_id (default: "not a WhatsApp user")."""
        self._failing_recipients[wa_id] = (status, _error(code, "recipient refused"))

    async def _messages(self, request: web.Request) -> web.Response:
        try:
            payload = await request.json()
        except ValueError:
            return web.json_response(_error(100, "invalid JSON"), status=400)
        self.requests.append(
            {
                "path": request.path,
                "authorization": request.headers.get("Authorization"),
                "payload": payload,
            }
        )
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return web.json_response(_error(190, "missing access token"), status=401)
        if self._scripted:
            status, body, headers = self._scripted.pop(0)
            return web.json_response(body, status=status, headers=headers)
        if payload.get("status") == "read":
            self.read_receipts.append(payload.get("message_id"))
            return web.json_response({"success": True})
        failure = self._failing_recipients.get(str(payload.get("to")))
        if failure:
            return web.json_response(failure[1], status=failure[0])
        self.messages.append(payload)
        if self.on_message:
            self.on_message(payload)
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": payload.get("to"), "wa_id": payload.get("to")}],
                "messages": [{"id": f"wamid.fake.{next(self._ids)}"}],
            }
        )

    async def _media(self, request: web.Request) -> web.Response:
        media_id = request.match_info["media_id"]
        return web.json_response(
            {
                "id": media_id,
                "url": f"http://{self.host}:{self.port}/media/{media_id}",
                "mime_type": "image/jpeg",
            }
        )


def _error(code: int, message: str) -> Dict[str, Any]:
    return {"error": {"message": message, "type": "OAuthException", "code": code}}


# --- webhook posts as Meta sends them -------------------------------------------------


def new_message_id() -> str:
    return f"wamid.sim.{uuid.uuid4().hex}"


def inbound_message(wa_id: str, kind: str, content: Any, **extra: Any) -> Dict[str, Any]:
    """One entry of ``value.messages``: ``inbound_message("9199…", "text", {"body": "hi"})``."""
    message = {
        "from": wa_id,
        "id": extra.pop("message_id", None) or new_message_id(),
        "timestamp": str(int(time.time())),
        "type": kind,
        kind: content,
    }
    message.update(extra)
    return message


def text_message(wa_id: str, body: str, **extra: Any) -> Dict[str, Any]:
    return inbound_message(wa_id, "text", {"body": body}, **extra)


def webhook_payload(
    messages: Sequence[Dict[str, Any]] = (),
    phone_number_id: str = "100000000000001",
    profile_name: str = "Test Citizen",
    statuses: Sequence[Dict[str, Any]] = (),
) -> Dict[str, Any]:
    """A whole POST body with one entry and one change holding messages and statuses."""
    value: Dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": "15550000000",
            "phone_number_id": phone_number_id,
        },
    }
    senders = {m["from"] for m in messages if isinstance(m, dict) and isinstance(m.get("from"), str)}
    if messages:
        value["contacts"] = [{"profile": {"name": profile_name}, "wa_id": wa_id} for wa_id in sorted(senders)]
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = list(statuses)
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA_ID", "changes": [{"field": "messages", "value": value}]}],
    }


def encode(payload: Any, ensure_ascii: bool = True) -> bytes:
    """UTF-8 JSON bytes; Meta escapes non-ASCII characters (``\\u0915``), others may not."""
    return json.dumps(payload, ensure_ascii=ensure_ascii).encode("utf-8")


def sign(body: bytes, app_secret: str) -> str:
    """The ``X-Hub-Signature-256`` header value for body."""
    return "sha256=" + hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def signed_headers(body: bytes, app_secret: str) -> Dict[str, str]:
    return {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, app_secret)}
