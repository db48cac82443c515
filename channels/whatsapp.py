"""WhatsApp Business Cloud API input channel for Rasa 3.6.

``credentials.yml``::

    channels.whatsapp.WhatsAppInput:
      verify_token: ""      # empty: read from WHATSAPP_VERIFY_TOKEN
      app_secret: ""        # WHATSAPP_APP_SECRET
      access_token: ""      # WHATSAPP_ACCESS_TOKEN
      phone_number_id: ""   # WHATSAPP_PHONE_NUMBER_ID
      api_base_url: ""      # WHATSAPP_API_BASE_URL, default https://graph.facebook.com/v21.0
      inbox_url: ""         # WHATSAPP_INBOX_URL, else DATABASE_URL, else a SQLite file

Routes: ``GET /webhooks/whatsapp/`` (health), ``GET /webhooks/whatsapp/webhook``
(Meta's verification handshake), ``POST /webhooks/whatsapp/webhook`` (events),
``POST /webhooks/whatsapp/wake`` (signed like a webhook: the separate receiver of
``channels/receiver.py`` stored messages, so the worker claims at once).

A POST is checked (HMAC-SHA256 of the raw body), each of its messages is read on its own
and stored in the inbox (``channels/inbox.py``) before the 200; a database that cannot
store them gets Meta a 503, and Meta delivers again. The inbox's worker then runs each
message as a Rasa turn, one citizen's in arrival order, across restarts and replicas.
What citizens send becomes Rasa text (every text cleaned: ``channels/text_cleaning.py``):

- typed text → the text, never an intent payload (a leading ``/`` goes);
- a tapped button or list row, a template's quick reply → its id/payload (ids of what the
  bot sent); a tap without an id → its title, as typed text (with neither: unsupported);
- location → ``/share_location{"latitude": .., "longitude": ..}`` if both are on Earth;
- image → its caption as typed text, or ``/share_photo{"photo_id": "<media id>"}`` without
  one; ``photo_id`` is in the metadata either way; a malformed media id is refused;
- anything else → ``/unsupported_message``.

Metadata carries the message ``type``, so the Rasa side can tell taps and media from words.
"""

import asyncio
import concurrent.futures
import hashlib
import hmac
import json
import logging
import math
import os
import re
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.inbox import (
    CONCURRENT_TURNS,
    DEFAULT_LEASE_SECONDS,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_POLL_SECONDS,
    PARKED,
    Inbox,
    InboxMessage,
    InboxWorker,
)
from channels.replies import MESSAGE_CUT_RESPONSE, NO_REPLY_RESPONSE, channel_reply
from channels.staff import StaffDesk
from channels.text_cleaning import as_typed_text, clean_text
from channels.whatsapp_output import (
    DEFAULT_API_BASE_URL,
    WhatsAppAPIError,
    WhatsAppClient,
    WhatsAppOutput,
)

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
    "inbox_url": "WHATSAPP_INBOX_URL",
    "dedupe_url": "WHATSAPP_DEDUPE_URL",  # the former name of inbox_url, still read
    "max_attempts": "WHATSAPP_INBOX_MAX_ATTEMPTS",
    "lease_seconds": "WHATSAPP_INBOX_LEASE_SECONDS",
    "poll_seconds": "WHATSAPP_INBOX_POLL_SECONDS",
    "concurrent_turns": "WHATSAPP_INBOX_CONCURRENT_TURNS",
}
REQUIRED_CREDENTIALS = ("verify_token", "app_secret", "access_token", "phone_number_id")
SHUTDOWN_GRACE_SECONDS = 10.0
STORE_THREADS = 4  # the webhook's inserts have threads of their own (see blueprint)

INTENT_SHARE_LOCATION = "share_location"
INTENT_SHARE_PHOTO = "share_photo"
INTENT_UNSUPPORTED = "unsupported_message"
UNPARSEABLE_PREFIX = "unparseable:"
ID_LIMIT = 255  # the inbox's key column
# Graph API media ids are digits (letters allowed): nothing that could be a path or a URL.
MEDIA_ID = re.compile(r"[A-Za-z0-9]{1,128}")


def signature_is_valid(app_secret: str, body: bytes, header: Optional[str]) -> bool:
    """True if header is ``sha256=`` + the HMAC-SHA256 of the raw body with app_secret.

    Without an app secret nothing is valid: an empty key would sign for anyone.
    """
    if not app_secret or not header or not header.startswith(SIGNATURE_PREFIX):
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
    """A cleaned, non-empty string (numbers as their text), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        value = str(value)
    if not isinstance(value, str):
        return None
    value = clean_text(value).text
    return value if value.strip() else None


def _typed(value: Any) -> Optional[str]:
    """What the citizen typed, as Rasa text: cleaned, cut to 4,096, never a payload."""
    text = _text(value)
    return as_typed_text(text) if text else None


def _intent(name: str, entities: Optional[Dict[str, Any]] = None) -> str:
    """Rasa's ``/intent{"entity": value}`` message syntax."""
    if not entities:
        return f"/{name}"
    return f"/{name}{json.dumps(entities, ensure_ascii=False)}"


def _coordinate(value: Any, bound: float) -> Optional[float]:
    """A finite number within [-bound, bound], else None."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) and -bound <= number <= bound else None


def media_id(value: Any) -> Optional[str]:
    """value if it looks like a Graph API media id (letters and digits, bounded), else None."""
    return value if isinstance(value, str) and MEDIA_ID.fullmatch(value) else None


def message_text(message: Dict[str, Any]) -> Optional[str]:
    """The text Rasa acts on for one WhatsApp message; None if it carries nothing usable."""
    kind = message.get("type")
    if kind == "text":
        return _typed(_dict(message.get("text")).get("body"))
    if kind == "interactive":
        interactive = _dict(message.get("interactive"))
        if interactive.get("type") in ("button_reply", "list_reply"):
            reply = _dict(interactive.get(interactive["type"]))
            # a tap that carries neither is still a tap: answered, not parked in silence
            return (_text(reply.get("id")) or _typed(reply.get("title"))
                    or _intent(INTENT_UNSUPPORTED))
        return _intent(INTENT_UNSUPPORTED)
    if kind == "button":
        button = _dict(message.get("button"))
        return (_text(button.get("payload")) or _typed(button.get("text"))
                or _intent(INTENT_UNSUPPORTED))
    if kind == "location":
        location = _dict(message.get("location"))
        latitude = _coordinate(location.get("latitude"), 90)
        longitude = _coordinate(location.get("longitude"), 180)
        if latitude is None or longitude is None:
            return _intent(INTENT_UNSUPPORTED)
        return _intent(INTENT_SHARE_LOCATION, {"latitude": latitude, "longitude": longitude})
    if kind == "image":
        image = _dict(message.get("image"))
        photo_id = media_id(image.get("id"))
        if photo_id is None:
            return _intent(INTENT_UNSUPPORTED)
        return _typed(image.get("caption")) or _intent(INTENT_SHARE_PHOTO, {"photo_id": photo_id})
    # audio, sticker, video, document, reaction, unknown, and types yet to come
    return _intent(INTENT_UNSUPPORTED)


def typed_text(message: InboxMessage) -> Optional[str]:
    """The words the citizen typed in a stored message (text, or a photo's caption); None
    for a tap, a location, a photo without caption, a voice note ..."""
    kind = message.metadata.get("type")
    if kind == "text":
        return message.text
    if kind == "image":
        return message.metadata.get("caption")
    return None


def _was_cut(message: Dict[str, Any]) -> bool:
    """True if the citizen's words in message are longer than we read (4,096 characters)."""
    kind = message.get("type")
    value = (_dict(message.get("text")).get("body") if kind == "text"
             else _dict(message.get("image")).get("caption") if kind == "image" else None)
    return isinstance(value, str) and clean_text(value).cut


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
        "type": _text(kind),
        "context_id": _text(_dict(message.get("context")).get("id")),
        "phone_number_id": _text(_dict(value.get("metadata")).get("phone_number_id")),
    }
    if _text(message.get("username")):
        metadata["username"] = _text(message.get("username"))
    if kind == "image":
        image = _dict(message.get("image"))
        metadata["photo_id"] = media_id(image.get("id"))
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
    if _was_cut(message):
        metadata["message_cut"] = True
    return metadata


def parse_webhook(payload: Any, phone_number_id: Optional[str] = None) -> List[InboxMessage]:
    """Every citizen message in a webhook payload, in order, each read on its own.

    A message that cannot be read comes back ``parked`` with the reason, kept as it came
    (one bad message never costs the others of its batch). Receipts are skipped, and so are
    messages addressed to another business number than ``phone_number_id``.
    """
    inbound: List[InboxMessage] = []
    for entry in _dicts(_dict(payload).get("entry")):
        for change in _dicts(entry.get("changes")):
            value = _dict(change.get("value"))
            statuses = _dicts(value.get("statuses"))
            if statuses:
                logger.debug("Ignoring %d WhatsApp status receipts.", len(statuses))
            to_number = _text(_dict(value.get("metadata")).get("phone_number_id"))
            if phone_number_id and to_number and to_number != str(phone_number_id):
                logger.info("Skipping WhatsApp messages for phone number id %s.", to_number)
                continue
            messages = value.get("messages")
            for message in messages if isinstance(messages, list) else []:
                try:
                    inbound.append(_parse_message(message, value))
                except Exception as error:  # a shape nobody foresaw: keep it, go on
                    logger.exception("Could not read a WhatsApp message.")
                    inbound.append(_unparseable(message, f"{type(error).__name__}: {error}"))
    return inbound


def _parse_message(message: Any, value: Dict[str, Any]) -> InboxMessage:
    if not isinstance(message, dict):
        return _unparseable(message, "not a JSON object")
    # Citizens with a username may come without a phone number ("from").
    sender_id = (
        _text(message.get("from")) or _text(message.get("from_user_id")) or _text(message.get("username"))
    )
    message_id = _text(message.get("id"))
    if sender_id is None or message_id is None:
        return _unparseable(message, "no sender or no message id")
    if len(sender_id) > ID_LIMIT or len(message_id) > ID_LIMIT:
        return _unparseable(message, f"sender or message id longer than {ID_LIMIT} characters")
    text = message_text(message)
    if text is None:
        return _unparseable(message, f"no content in a message of type {message.get('type')!r}",
                            sender_id)
    return InboxMessage(
        message_id=message_id,
        sender_id=sender_id,
        text=text,
        metadata=_message_metadata(message, value, sender_id, message_id),
        raw=message,
    )


def _unparseable(message: Any, reason: str, sender_id: str = "") -> InboxMessage:
    """A message kept as it came, parked: its key is made from its content, so a
    redelivery of it is still one row."""
    raw = json.dumps(message, ensure_ascii=True, sort_keys=True, default=str)
    logger.warning("Unreadable WhatsApp message kept in the inbox (%s): %.300s", reason, raw)
    return InboxMessage(
        message_id=UNPARSEABLE_PREFIX + hashlib.sha256(raw.encode("ascii")).hexdigest(),
        sender_id=sender_id,
        text="",
        raw=message,
        status=PARKED,
        last_error=f"unparseable: {reason}",
    )


def verify_subscription(request: Request, verify_token: str) -> HTTPResponse:
    """Meta's verification handshake (GET): the challenge back for the right token."""
    token = request.args.get("hub.verify_token") or ""
    if request.args.get("hub.mode") == "subscribe" and hmac.compare_digest(
        token.encode("utf-8"), verify_token.encode("utf-8")
    ):
        return response.text(request.args.get("hub.challenge") or "")
    logger.warning("WhatsApp webhook verification failed: wrong verify token.")
    return response.text("forbidden", status=403)


async def accept_webhook(
    request: Request,
    app_secret: str,
    phone_number_id: Optional[str],
    store: Callable[[List[InboxMessage]], Awaitable[Any]],
) -> Tuple[HTTPResponse, bool]:
    """A webhook POST: signature, JSON, every message stored (``store``, into the inbox)
    before the answer. Returns the answer and whether anything was stored. The channel's
    route and the separate receiver (channels/receiver.py) both answer with this."""
    body = request.body or b""
    if not signature_is_valid(app_secret, body, request.headers.get(SIGNATURE_HEADER)):
        logger.warning("WhatsApp webhook with a missing or wrong signature.")
        return response.text("invalid signature", status=403), False
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        logger.warning("WhatsApp webhook body is not JSON (%d bytes).", len(body))
        return response.text("invalid JSON", status=400), False
    if not isinstance(payload, dict):
        logger.warning("WhatsApp webhook body is not a JSON object.")
        return response.text("unexpected payload", status=400), False
    messages = parse_webhook(payload, phone_number_id)
    if messages:
        try:
            await store(messages)
        except Exception:
            # never 200 without the messages stored: Meta delivers again on a 5xx
            logger.exception("Could not store %d WhatsApp messages; answering 503.",
                             len(messages))
            return response.json({"status": "unavailable"}, status=503), False
    return response.json({"status": "ok"}), bool(messages)


def channel_settings(credentials: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """Each key of CREDENTIAL_ENV_VARS: its credentials.yml value, else its environment
    variable, else None."""
    credentials = credentials or {}
    return {key: credentials.get(key) or os.environ.get(env_var) or None
            for key, env_var in CREDENTIAL_ENV_VARS.items()}


def inbox_from_settings(settings: Dict[str, Any]) -> Inbox:
    """The inbox the settings name (ValueError for a database that cannot hold it)."""
    return Inbox(
        settings["inbox_url"] or settings["dedupe_url"],
        max_attempts=int(settings["max_attempts"] or DEFAULT_MAX_ATTEMPTS),
        lease_seconds=float(settings["lease_seconds"] or DEFAULT_LEASE_SECONDS),
    )


def _agent_ready(agent: Any) -> bool:
    return agent is not None and getattr(agent, "is_ready", lambda: True)()


class WhatsAppInput(InputChannel):
    """Receives WhatsApp Cloud API webhooks; replies through ``WhatsAppOutput``."""

    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        credentials = credentials or {}
        settings = channel_settings(credentials)
        missing = [key for key in REQUIRED_CREDENTIALS if not settings[key]]
        if missing:
            raise RasaException(
                "The whatsapp channel needs "
                + ", ".join(f"'{key}' (or env {CREDENTIAL_ENV_VARS[key]})" for key in missing)
                + " under 'channels.whatsapp.WhatsAppInput' in credentials.yml."
            )
        try:
            inbox = inbox_from_settings(settings)
        except ValueError as error:
            raise RasaException(f"channels.whatsapp.WhatsAppInput: {error}") from error
        return cls(
            verify_token=str(settings["verify_token"]),
            app_secret=str(settings["app_secret"]),
            access_token=str(settings["access_token"]),
            phone_number_id=str(settings["phone_number_id"]),
            api_base_url=settings["api_base_url"] or DEFAULT_API_BASE_URL,
            inbox=inbox,
            mark_read=bool(credentials.get("mark_read", True)),
            poll_seconds=float(settings["poll_seconds"] or DEFAULT_POLL_SECONDS),
            concurrent_turns=int(settings["concurrent_turns"] or CONCURRENT_TURNS),
        )

    def __init__(
        self,
        verify_token: str,
        app_secret: str,
        access_token: str,
        phone_number_id: str,
        api_base_url: str = DEFAULT_API_BASE_URL,
        inbox: Optional[Inbox] = None,
        mark_read: bool = True,
        client: Optional[WhatsAppClient] = None,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
        concurrent_turns: int = CONCURRENT_TURNS,
        staff: Optional[StaffDesk] = None,
    ) -> None:
        self.verify_token = verify_token
        self.app_secret = app_secret
        self.phone_number_id = phone_number_id
        self.inbox = inbox or Inbox()
        self.mark_read = mark_read
        self.poll_seconds = poll_seconds
        self.concurrent_turns = concurrent_turns
        self.client = client or WhatsAppClient(access_token, phone_number_id, api_base_url)
        self.worker: Optional[InboxWorker] = None
        self._app: Any = None  # the Sanic app, for its agent (a model can be replaced)
        # The acknowledgement waits for its insert only, never behind the worker's own
        # database calls (claims, leases) in the event loop's default executor.
        self._store_threads = concurrent.futures.ThreadPoolExecutor(
            STORE_THREADS, thread_name_prefix="whatsapp-inbox-store")
        # Field staff's numbers are answered by the staff flow, never by the assistant.
        self.staff = staff or StaffDesk(self.client)

    def get_output_channel(self) -> OutputChannel:
        return WhatsAppOutput(self.client)

    @property
    def agent(self) -> Any:
        return getattr(self._app.ctx, "agent", None) if self._app is not None else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        whatsapp_webhook = Blueprint("whatsapp_webhook", __name__)

        async def handle(message: InboxMessage) -> None:
            await self._run_turn(message, on_new_message)

        async def apologise(message: InboxMessage) -> None:
            await self._send_reply(NO_REPLY_RESPONSE, message)

        worker = self.worker = InboxWorker(self.inbox, handle, apologise, poll_seconds=self.poll_seconds,
                                           concurrency=self.concurrent_turns,
                                           ready=lambda: _agent_ready(self.agent))

        @whatsapp_webhook.listener("after_server_start")
        async def resume_inbox(app: Any, *_: Any) -> None:
            # Rasa loads the model before the server starts; then whatever the inbox holds
            # unfinished (a restart, another replica's leftovers) is resumed.
            self._app = app
            worker.start()

        @whatsapp_webhook.listener("before_server_stop")
        async def finish_turns(*_: Any) -> None:
            # unfinished turns go back to the inbox, for the next start or another replica
            await worker.stop(SHUTDOWN_GRACE_SECONDS)
            await self.client.close()
            self._store_threads.shutdown(wait=True)
            self.inbox.close()

        @whatsapp_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @whatsapp_webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            return verify_subscription(request, self.verify_token)

        @whatsapp_webhook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            answer, stored = await accept_webhook(
                request, self.app_secret, self.phone_number_id, self._store)
            if stored:
                worker.wake()
            return answer

        @whatsapp_webhook.route("/wake", methods=["POST"])
        async def wake(request: Request) -> HTTPResponse:
            # the webhook receiver (channels/receiver.py) stored something: claim it now
            if not signature_is_valid(self.app_secret, request.body or b"",
                                      request.headers.get(SIGNATURE_HEADER)):
                return response.text("invalid signature", status=403)
            worker.wake()
            return response.json({"status": "ok"})

        return whatsapp_webhook

    async def _store(self, messages: List[InboxMessage]) -> None:
        # SQLAlchemy is blocking: off the event loop
        await asyncio.get_running_loop().run_in_executor(
            self._store_threads, self.inbox.add, messages)

    async def _run_turn(
        self,
        message: InboxMessage,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> None:
        """One Rasa turn for a stored message; raises if the turn did (the worker retries)."""
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
        if message.metadata.get("message_cut"):
            await self._send_reply(MESSAGE_CUT_RESPONSE, message)
        output = self.get_output_channel()
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
        if not output.responses:
            # The turn said nothing (the action server down, say): the citizen is not
            # left waiting in silence.
            logger.error("No reply to WhatsApp message %s from %s; sending %s.",
                         message.message_id, message.sender_id, NO_REPLY_RESPONSE)
            await self._send_reply(NO_REPLY_RESPONSE, message)

    async def _send_reply(self, response_name: str, message: InboxMessage) -> None:
        """Sends a response of the domain (utter_no_reply, utter_message_cut) by itself."""
        text = await channel_reply(self.agent, response_name, message.sender_id,
                                   typed_text(message), self.name())
        if text is None:
            logger.error("The domain has no %s to send to %s.", response_name, message.sender_id)
            return
        await self.get_output_channel().send_text_message(message.sender_id, text)
