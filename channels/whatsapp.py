"""WhatsApp Business Cloud API input channel for Rasa 3.6.

``credentials.yml``::

    channels.whatsapp.WhatsAppInput:
      verify_token: ""      # empty: read from WHATSAPP_VERIFY_TOKEN
      app_secret: ""        # WHATSAPP_APP_SECRET
      access_token: ""      # WHATSAPP_ACCESS_TOKEN
      phone_number_id: ""   # WHATSAPP_PHONE_NUMBER_ID
      api_base_url: ""      # WHATSAPP_API_BASE_URL, default https://graph.facebook.com/v21.0
      dedupe_url: ""        # WHATSAPP_DEDUPE_URL, else DATABASE_URL, else a SQLite file

Routes: ``GET /webhooks/whatsapp/`` (health), ``GET /webhooks/whatsapp/webhook``
(Meta's verification handshake), ``POST /webhooks/whatsapp/webhook`` (events).

A POST is checked (HMAC-SHA256 of the raw body) and acknowledged at once; each message
then runs as a Rasa turn in the background, one sender's messages one after another in
arrival order, each message id only once. What citizens send becomes Rasa text:

- text → the text; a tapped button or list row, a template's quick reply → its id/payload;
- location → ``/share_location{"latitude": .., "longitude": ..}``;
- image → ``/share_photo{"photo_id": "<media id>"}`` (caption in metadata);
- anything else → ``/unsupported_message``.
"""

import asyncio
import hashlib
import hmac
import json
import logging
import os
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Deque, Dict, List, Optional, Set

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.dedupe import DEFAULT_TTL_DAYS, DedupeStore, create_dedupe_store
from channels.staff import StaffDesk
from channels.whatsapp_output import (
    DEFAULT_API_BASE_URL,
    WhatsAppAPIError,
    WhatsAppClient,
    WhatsAppOutput,
)
from civic.city import get_city
from civic.language import detect_language

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Hub-Signature-256"
SIGNATURE_PREFIX = "sha256="

# credentials.yml key → environment variable used when the key is empty
CREDENTIAL_ENV_VARS = {
    "verify_token": "WHATSAPP_VERIFY_TOKEN",
    "app_secret": "WHATSAPP_APP_SECRET",
    "access_token": "WHATSAPP_ACCESS_TOKEN",
    "phone_number_id": "WHATSAPP_PHONE_NUMBER_ID",
    "api_base_url": "WHATSAPP_API_BASE_URL",
    "dedupe_url": "WHATSAPP_DEDUPE_URL",
}
REQUIRED_CREDENTIALS = ("verify_token", "app_secret", "access_token", "phone_number_id")
SHUTDOWN_GRACE_SECONDS = 10.0

INTENT_SHARE_LOCATION = "share_location"
INTENT_SHARE_PHOTO = "share_photo"
INTENT_UNSUPPORTED = "unsupported_message"


@dataclass(frozen=True)
class InboundMessage:
    """One citizen message from a webhook, ready to become a Rasa ``UserMessage``."""

    sender_id: str
    message_id: str
    text: str
    metadata: Dict[str, Any] = field(default_factory=dict)


def signature_is_valid(app_secret: str, body: bytes, header: Optional[str]) -> bool:
    """True if header is ``sha256=`` + the HMAC-SHA256 of the raw body with app_secret."""
    if not header or not header.startswith(SIGNATURE_PREFIX):
        return False
    expected = hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    received = header[len(SIGNATURE_PREFIX) :].strip().lower()
    return hmac.compare_digest(expected.encode("ascii"), received.encode("utf-8", "replace"))


def _dicts(value: Any) -> List[Dict[str, Any]]:
    """The dict items of a list; anything else is treated as empty."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _dict(value: Any) -> Dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> Optional[str]:
    """A non-empty string (numbers as their text), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value
    return None


def _intent(name: str, entities: Optional[Dict[str, Any]] = None) -> str:
    """Rasa's ``/intent{"entity": value}`` message syntax."""
    if not entities:
        return f"/{name}"
    return f"/{name}{json.dumps(entities, ensure_ascii=False)}"


def _number(value: Any) -> Optional[float]:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None


def message_text(message: Dict[str, Any]) -> Optional[str]:
    """The text Rasa acts on for one WhatsApp message; None if it carries nothing usable."""
    kind = message.get("type")
    if kind == "text":
        return _text(_dict(message.get("text")).get("body"))
    if kind == "interactive":
        interactive = _dict(message.get("interactive"))
        if interactive.get("type") in ("button_reply", "list_reply"):
            reply = _dict(interactive.get(interactive["type"]))
            return _text(reply.get("id")) or _text(reply.get("title"))
        return _intent(INTENT_UNSUPPORTED)
    if kind == "button":
        button = _dict(message.get("button"))
        return _text(button.get("payload")) or _text(button.get("text"))
    if kind == "location":
        location = _dict(message.get("location"))
        latitude = _number(location.get("latitude"))
        longitude = _number(location.get("longitude"))
        if latitude is None or longitude is None:
            return _intent(INTENT_UNSUPPORTED)
        return _intent(INTENT_SHARE_LOCATION, {"latitude": latitude, "longitude": longitude})
    if kind == "image":
        photo_id = _text(_dict(message.get("image")).get("id"))
        if photo_id is None:
            return _intent(INTENT_UNSUPPORTED)
        return _intent(INTENT_SHARE_PHOTO, {"photo_id": photo_id})
    # audio, sticker, video, document, reaction, unknown, and types yet to come
    return _intent(INTENT_UNSUPPORTED)


def _message_metadata(
    message: Dict[str, Any], value: Dict[str, Any], sender_id: str, message_id: str
) -> Dict[str, Any]:
    contacts = _dicts(value.get("contacts"))
    contact = next(
        (c for c in contacts if c.get("wa_id") == sender_id or c.get("user_id") == sender_id),
        contacts[0] if len(contacts) == 1 else {},
    )
    kind = message.get("type")
    metadata: Dict[str, Any] = {
        "wa_id": sender_id,
        "profile_name": _text(_dict(contact.get("profile")).get("name")),
        "message_id": message_id,
        "timestamp": _text(message.get("timestamp")),
        "type": kind if isinstance(kind, str) else None,
        "context_id": _text(_dict(message.get("context")).get("id")),
        "phone_number_id": _text(_dict(value.get("metadata")).get("phone_number_id")),
    }
    if _text(message.get("username")):
        metadata["username"] = _text(message.get("username"))
    if kind == "image":
        image = _dict(message.get("image"))
        metadata["caption"] = _text(image.get("caption"))
        metadata["mime_type"] = _text(image.get("mime_type"))
    elif kind == "location":
        location = _dict(message.get("location"))
        metadata["location_name"] = _text(location.get("name"))
        metadata["location_address"] = _text(location.get("address"))
    elif kind == "interactive":
        interactive = _dict(message.get("interactive"))
        kind_name = interactive.get("type")
        reply = _dict(interactive.get(kind_name)) if isinstance(kind_name, str) else {}
        metadata["reply_title"] = _text(reply.get("title"))
    elif kind == "button":
        metadata["reply_title"] = _text(_dict(message.get("button")).get("text"))
    return metadata


def parse_webhook(payload: Any, phone_number_id: Optional[str] = None) -> List[InboundMessage]:
    """Every citizen message in a webhook payload, in order; receipts and junk skipped.

    Messages addressed to another business number than ``phone_number_id`` are skipped.
    """
    inbound: List[InboundMessage] = []
    for entry in _dicts(_dict(payload).get("entry")):
        for change in _dicts(entry.get("changes")):
            value = _dict(change.get("value"))
            statuses = _dicts(value.get("statuses"))
            if statuses:
                logger.debug("Ignoring %d WhatsApp status receipts.", len(statuses))
            to_number = _text(_dict(value.get("metadata")).get("phone_number_id"))
            for message in _dicts(value.get("messages")):
                if phone_number_id and to_number and to_number != str(phone_number_id):
                    logger.info("Skipping WhatsApp message for phone number id %s.", to_number)
                    continue
                parsed = _parse_message(message, value)
                if parsed is not None:
                    inbound.append(parsed)
    return inbound


def _parse_message(message: Dict[str, Any], value: Dict[str, Any]) -> Optional[InboundMessage]:
    # Citizens with a username may come without a phone number ("from").
    sender_id = (
        _text(message.get("from")) or _text(message.get("from_user_id")) or _text(message.get("username"))
    )
    message_id = _text(message.get("id"))
    if sender_id is None or message_id is None:
        logger.warning(
            "Skipping WhatsApp message without sender or id (id=%r, type=%r).",
            message.get("id"),
            message.get("type"),
        )
        return None
    text = message_text(message)
    if text is None:
        logger.warning(
            "Skipping WhatsApp message %s of type %r without content.",
            message_id,
            message.get("type"),
        )
        return None
    return InboundMessage(
        sender_id=sender_id,
        message_id=message_id,
        text=text,
        metadata=_message_metadata(message, value, sender_id, message_id),
    )


class SenderQueues:
    """Runs messages in the background, one sender's one after another in arrival order."""

    def __init__(self, handle: Callable[[InboundMessage], Awaitable[None]]) -> None:
        self._handle = handle
        self._queues: Dict[str, Deque[InboundMessage]] = {}
        self._tasks: Set[asyncio.Task] = set()

    def submit(self, message: InboundMessage) -> None:
        """Queue a message; never waits, so the webhook can answer at once."""
        queue = self._queues.get(message.sender_id)
        if queue is None:
            queue = self._queues[message.sender_id] = deque()
            task = asyncio.create_task(self._drain(message.sender_id, queue))
            self._tasks.add(task)  # keep a reference: the loop holds tasks weakly
            task.add_done_callback(self._tasks.discard)
        queue.append(message)

    async def _drain(self, sender_id: str, queue: Deque[InboundMessage]) -> None:
        try:
            while queue:
                message = queue.popleft()
                try:
                    await self._handle(message)
                except Exception:
                    logger.exception("WhatsApp message %s from %s failed.", message.message_id, sender_id)
        finally:
            # no await since the queue was seen empty, so nothing slipped in
            if self._queues.get(sender_id) is queue:
                del self._queues[sender_id]

    async def join(self) -> None:
        """Wait until every queued message has been handled."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


# The response the channel sends itself when a turn produced no reply at all (the domain).
NO_REPLY_RESPONSE = "utter_no_reply"


def no_reply_text(domain: Any, text: Optional[str]) -> Optional[str]:
    """`utter_no_reply` in the language the message is written in (Hindi when it has none),
    with the city's helpline, chosen by Rasa's own response generator; None if the
    assistant's domain has no such response."""
    responses = getattr(domain, "responses", None) or {}
    if NO_REPLY_RESPONSE not in responses:
        return None
    slots = {"language": detect_language(text or "") or "hi", "helpline": get_city().helpline}
    reply = TemplatedNaturalLanguageGenerator(responses).generate_from_slots(
        NO_REPLY_RESPONSE, slots, WhatsAppInput.name())
    return (reply or {}).get("text")


class WhatsAppInput(InputChannel):
    """Receives WhatsApp Cloud API webhooks; replies through ``WhatsAppOutput``."""

    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        credentials = credentials or {}
        settings = {
            key: credentials.get(key) or os.environ.get(env_var) or None
            for key, env_var in CREDENTIAL_ENV_VARS.items()
        }
        missing = [key for key in REQUIRED_CREDENTIALS if not settings[key]]
        if missing:
            raise RasaException(
                "The whatsapp channel needs "
                + ", ".join(f"'{key}' (or env {CREDENTIAL_ENV_VARS[key]})" for key in missing)
                + " under 'channels.whatsapp.WhatsAppInput' in credentials.yml."
            )
        return cls(
            verify_token=str(settings["verify_token"]),
            app_secret=str(settings["app_secret"]),
            access_token=str(settings["access_token"]),
            phone_number_id=str(settings["phone_number_id"]),
            api_base_url=settings["api_base_url"] or DEFAULT_API_BASE_URL,
            dedupe_store=create_dedupe_store(
                settings["dedupe_url"],
                float(credentials.get("dedupe_ttl_days") or DEFAULT_TTL_DAYS),
            ),
            mark_read=bool(credentials.get("mark_read", True)),
        )

    def __init__(
        self,
        verify_token: str,
        app_secret: str,
        access_token: str,
        phone_number_id: str,
        api_base_url: str = DEFAULT_API_BASE_URL,
        dedupe_store: Optional[DedupeStore] = None,
        mark_read: bool = True,
        client: Optional[WhatsAppClient] = None,
        staff: Optional[StaffDesk] = None,
    ) -> None:
        self.verify_token = verify_token
        self.app_secret = app_secret
        self.phone_number_id = phone_number_id
        self.dedupe_store = dedupe_store or create_dedupe_store()
        self.mark_read = mark_read
        self._domain: Any = None  # the loaded model's domain, seen at each webhook
        self.client = client or WhatsAppClient(access_token, phone_number_id, api_base_url)
        self.queues: Optional[SenderQueues] = None
        # Field staff's numbers are answered by the staff flow, never by the assistant.
        self.staff = staff or StaffDesk(self.client)

    def get_output_channel(self) -> OutputChannel:
        return WhatsAppOutput(self.client)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        whatsapp_webhook = Blueprint("whatsapp_webhook", __name__)

        async def handle(message: InboundMessage) -> None:
            await self._handle_message(message, on_new_message)

        self.queues = SenderQueues(handle)

        @whatsapp_webhook.listener("before_server_stop")
        async def finish_turns(*_: Any) -> None:
            # acknowledged messages are lost if the process stops before their turn
            try:
                await asyncio.wait_for(self.queues.join(), SHUTDOWN_GRACE_SECONDS)
            except asyncio.TimeoutError:
                logger.warning("Stopping with WhatsApp messages still being handled.")
            await self.client.close()

        @whatsapp_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @whatsapp_webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            token = request.args.get("hub.verify_token") or ""
            if request.args.get("hub.mode") == "subscribe" and hmac.compare_digest(
                token.encode("utf-8"), self.verify_token.encode("utf-8")
            ):
                return response.text(request.args.get("hub.challenge") or "")
            logger.warning("WhatsApp webhook verification failed: wrong verify token.")
            return response.text("forbidden", status=403)

        @whatsapp_webhook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            body = request.body or b""
            if not signature_is_valid(self.app_secret, body, request.headers.get(SIGNATURE_HEADER)):
                logger.warning("WhatsApp webhook with a missing or wrong signature.")
                return response.text("invalid signature", status=403)
            try:
                payload = json.loads(body)
            except (ValueError, RecursionError):
                logger.warning("WhatsApp webhook body is not JSON (%d bytes).", len(body))
                return response.text("invalid JSON", status=400)
            if not isinstance(payload, dict):
                logger.warning("WhatsApp webhook body is not a JSON object.")
                return response.text("unexpected payload", status=400)
            try:
                messages = parse_webhook(payload, self.phone_number_id)
            except Exception:  # a payload shape nobody foresaw must not make Meta retry
                logger.exception("Could not read WhatsApp webhook payload.")
                return response.json({"status": "ignored"})
            # the loaded model's domain, for utter_no_reply (a model can be replaced at run time)
            self._domain = getattr(request.app.ctx.agent, "domain", None)
            for message in messages:
                self.queues.submit(message)
            return response.json({"status": "ok"})

        return whatsapp_webhook

    async def _handle_message(
        self,
        message: InboundMessage,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> None:
        try:
            first_delivery = await self.dedupe_store.claim(message.message_id)
        except Exception:
            # store down: a possible duplicate turn is better than a lost complaint
            logger.exception("Dedupe store failed; handling %s anyway.", message.message_id)
            first_delivery = True
        if not first_delivery:
            logger.info("Duplicate WhatsApp message %s ignored.", message.message_id)
            return
        if self.mark_read:
            try:
                await self.client.mark_read(message.message_id)
            except WhatsAppAPIError as error:
                logger.warning(
                    "Could not mark WhatsApp message %s read: status=%s code=%s",
                    message.message_id,
                    error.status,
                    error.code,
                )
        if await self.staff.handles(message):  # a registered staff number (channels/staff.py)
            return
        output = self.get_output_channel()
        try:
            await on_new_message(
                UserMessage(
                    text=message.text,
                    output_channel=output,
                    sender_id=message.sender_id,
                    input_channel=self.name(),
                    message_id=message.message_id,
                    metadata=message.metadata,
                )
            )
        finally:
            if not output.responses:
                # The turn failed or said nothing (an action server that is down, say):
                # the citizen is not left waiting in silence.
                apology = no_reply_text(self._domain, message.text)
                logger.error("No reply to WhatsApp message %s from %s; %s.", message.message_id,
                             message.sender_id, "sent utter_no_reply" if apology else
                             "the domain has no utter_no_reply to send")
                if apology:
                    await output.send_text_message(message.sender_id, apology)
