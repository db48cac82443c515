"""Outbound side of the WhatsApp channel: a Graph API client and Rasa's output channel.

Rasa responses map to WhatsApp messages as follows:

- ``text`` → text message(s), split above 4,096 characters;
- ``text`` + 1–3 ``buttons`` → reply buttons; 4–10 → a list (its button label from the
  response's ``metadata.list_button``); more → the text with a numbered list;
- ``custom: {type: location_request}`` (+ ``text``) → a location request;
- ``custom: {template: {name, language, parameters}}`` → a pre-approved template;
- ``custom`` with a WhatsApp message ``type`` → sent as given; ``image`` → image by link.
"""

import asyncio
import logging
import random
from typing import Any, Dict, Iterable, List, Mapping, Optional

import aiohttp
from rasa.core.channels.channel import OutputChannel

from channels.text_limits import measure, split_text, truncate

logger = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://graph.facebook.com/v21.0"

TEXT_LIMIT = 4096
INTERACTIVE_BODY_LIMIT = 1024
BUTTON_TITLE_LIMIT = 20
BUTTON_ID_LIMIT = 256
MAX_REPLY_BUTTONS = 3
MAX_LIST_ROWS = 10
LIST_BUTTON_LIMIT = 20
ROW_TITLE_LIMIT = 24
ROW_DESCRIPTION_LIMIT = 72
# A list needs a label on its opening button; the domain supplies one in the
# citizen's language (response metadata ``list_button``), this symbol is the fallback.
DEFAULT_LIST_BUTTON = "☰"

# Graph error codes that mean "try again later" (rate limits, temporary outages).
RETRIABLE_ERROR_CODES = {1, 2, 4, 80007, 130429, 131016, 131056}
RAW_MESSAGE_TYPES = {
    "audio",
    "contacts",
    "document",
    "image",
    "interactive",
    "location",
    "reaction",
    "sticker",
    "template",
    "text",
    "video",
}


class WhatsAppAPIError(Exception):
    """A request to the Graph API failed."""

    def __init__(
        self,
        status: Optional[int],
        code: Optional[int],
        message: str,
        retry_after: Optional[float] = None,
    ) -> None:
        super().__init__(f"status={status} code={code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after

    @property
    def retriable(self) -> bool:
        """Network errors, 429, 5xx and rate-limit codes are worth another try."""
        if self.code in RETRIABLE_ERROR_CODES:
            return True
        return self.status is None or self.status == 429 or self.status >= 500

    @classmethod
    def from_response(cls, status: int, body: Any, headers: Mapping[str, str]) -> "WhatsAppAPIError":
        error = body.get("error") if isinstance(body, dict) else None
        error = error if isinstance(error, dict) else {}
        code = error.get("code")
        return cls(
            status=status,
            code=code if isinstance(code, int) else None,
            message=str(error.get("message") or body)[:500],
            retry_after=_seconds(headers.get("Retry-After")),
        )


def _seconds(value: Optional[str]) -> Optional[float]:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


class WhatsAppClient:
    """Posts to ``{api_base_url}/{phone_number_id}/messages`` with bounded retries."""

    def __init__(
        self,
        access_token: str,
        phone_number_id: str,
        api_base_url: str = DEFAULT_API_BASE_URL,
        *,
        max_attempts: int = 4,
        backoff_seconds: float = 0.5,
        max_backoff_seconds: float = 8.0,
        timeout_seconds: float = 10.0,
    ) -> None:
        self.access_token = access_token
        self.phone_number_id = phone_number_id
        self.api_base_url = api_base_url.rstrip("/")
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: Optional[aiohttp.ClientSession] = None

    @property
    def messages_url(self) -> str:
        return f"{self.api_base_url}/{self.phone_number_id}/messages"

    def _get_session(self) -> aiohttp.ClientSession:
        # created lazily: a session belongs to the event loop that is running
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=self.timeout,
                headers={"Authorization": f"Bearer {self.access_token}"},
            )
        return self._session

    async def send(self, payload: Dict[str, Any], attempts: Optional[int] = None) -> Dict:
        """Post one message payload; returns Graph's JSON answer or raises the last error."""
        attempts = attempts or self.max_attempts
        for attempt in range(1, attempts + 1):
            try:
                return await self._post(payload)
            except WhatsAppAPIError as error:
                if not error.retriable or attempt == attempts:
                    raise
                delay = self._delay(attempt, error.retry_after)
                logger.warning(
                    "WhatsApp send failed (status=%s code=%s), retry %d/%d in %.2fs.",
                    error.status,
                    error.code,
                    attempt,
                    attempts - 1,
                    delay,
                )
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    async def mark_read(self, message_id: str) -> None:
        """Show the citizen blue ticks; one attempt, since it only matters now."""
        await self.send(
            {"messaging_product": "whatsapp", "status": "read", "message_id": message_id},
            attempts=1,
        )

    async def _post(self, payload: Dict[str, Any]) -> Dict:
        try:
            async with self._get_session().post(self.messages_url, json=payload) as resp:
                try:
                    body = await resp.json(content_type=None)
                except ValueError:
                    body = {"error": {"message": (await resp.text())[:500]}}
                if resp.status < 300:
                    return body if isinstance(body, dict) else {}
                raise WhatsAppAPIError.from_response(resp.status, body, resp.headers)
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise WhatsAppAPIError(None, None, repr(error)) from error

    def _delay(self, attempt: int, retry_after: Optional[float]) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_backoff_seconds)
        backoff = min(self.backoff_seconds * 2 ** (attempt - 1), self.max_backoff_seconds)
        return backoff * random.uniform(0.5, 1.0)  # jitter spreads out parallel retries

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


class WhatsAppOutput(OutputChannel):
    """Sends Rasa's responses as WhatsApp messages; failures are logged, not raised."""

    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    def __init__(self, client: WhatsAppClient) -> None:
        self.client = client
        self.responses = 0  # Rasa responses handed to this channel (one turn's output)

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        """As Rasa's, but a location request carries the response text as its body."""
        self.responses += 1
        custom = message.get("custom")
        if (
            isinstance(custom, dict)
            and custom.get("type") == "location_request"
            and message.get("text")
            and not message.get("buttons")
        ):
            message = dict(message)
            message["custom"] = {"text": message.pop("text"), **custom}
        await super().send_response(recipient_id, message)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for part in split_text(text, TEXT_LIMIT):
            await self._send(recipient_id, "text", {"body": part})

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self._send(recipient_id, "image", {"link": image})

    async def send_text_with_buttons(
        self,
        recipient_id: str,
        text: str,
        buttons: List[Dict[str, Any]],
        **kwargs: Any,
    ) -> None:
        choices = [_choice(button) for button in buttons if isinstance(button, dict)]
        choices = [choice for choice in choices if choice["id"]]
        ids = [choice["id"] for choice in choices]
        interactive_ok = (
            bool(text and text.strip())
            and 0 < len(choices) <= MAX_LIST_ROWS
            and all(measure(i) <= BUTTON_ID_LIMIT for i in ids)
            and len(set(ids)) == len(ids)
        )
        if not interactive_ok:
            await self._send_numbered(recipient_id, text, choices)
            return

        # earlier parts of a long text go first as plain text
        *leading, body = split_text(text, INTERACTIVE_BODY_LIMIT)
        for part in leading:
            await self._send(recipient_id, "text", {"body": part})
        if len(choices) <= MAX_REPLY_BUTTONS:
            interactive = _reply_buttons(body, choices)
        else:
            metadata = kwargs.get("metadata")
            label = metadata.get("list_button") if isinstance(metadata, dict) else None
            interactive = _list(body, choices, label or DEFAULT_LIST_BUTTON)
        await self._send(recipient_id, "interactive", interactive)

    async def send_custom_json(self, recipient_id: str, json_message: Dict[str, Any], **kwargs: Any) -> None:
        if not isinstance(json_message, dict):
            logger.error("WhatsApp custom message is not a mapping: %r", json_message)
            return
        if json_message.get("type") == "location_request":
            await self._send_location_request(recipient_id, json_message)
        elif "template" in json_message:
            await self._send_template(recipient_id, json_message["template"])
        elif json_message.get("type") in RAW_MESSAGE_TYPES:
            payload = {"messaging_product": "whatsapp", "to": recipient_id}
            payload.update(json_message)
            await self._post(payload)
        else:
            logger.error("WhatsApp custom message of unknown shape: %r", json_message)

    async def _send_location_request(self, recipient_id: str, json_message: Dict[str, Any]) -> None:
        body = json_message.get("text") or json_message.get("body")
        if not body:
            logger.error("WhatsApp location request without text: %r", json_message)
            return
        await self._send(
            recipient_id,
            "interactive",
            {
                "type": "location_request_message",
                "body": {"text": truncate(body, INTERACTIVE_BODY_LIMIT)},
                "action": {"name": "send_location"},
            },
        )

    async def _send_template(self, recipient_id: str, template: Any) -> None:
        if not isinstance(template, dict) or not template.get("name"):
            logger.error("WhatsApp template without a name: %r", template)
            return
        language = template.get("language")
        if isinstance(language, str):
            language = {"code": language}
        if not isinstance(language, dict) or not language.get("code"):
            logger.error("WhatsApp template %s without a language.", template["name"])
            return
        components = template.get("components")
        parameters = template.get("parameters") or []
        if components is None and parameters:
            components = [{"type": "body", "parameters": [_template_parameter(p) for p in parameters]}]
        body: Dict[str, Any] = {"name": template["name"], "language": language}
        if components:
            body["components"] = components
        await self._send(recipient_id, "template", body)

    async def _send_numbered(
        self, recipient_id: str, text: Optional[str], choices: List[Dict[str, str]]
    ) -> None:
        lines = [f"{n}. {choice['title']}" for n, choice in enumerate(choices, 1)]
        message = "\n\n".join(part for part in (text, "\n".join(lines)) if part)
        if message:
            await self.send_text_message(recipient_id, message)

    async def _send(self, recipient_id: str, kind: str, content: Dict[str, Any]) -> None:
        await self._post(
            {
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": recipient_id,
                "type": kind,
                kind: content,
            }
        )

    async def _post(self, payload: Dict[str, Any]) -> Optional[Dict]:
        try:
            return await self.client.send(payload)
        except WhatsAppAPIError as error:
            logger.error(
                "WhatsApp %s message to %s not sent: status=%s code=%s %s",
                payload.get("type"),
                payload.get("to"),
                error.status,
                error.code,
                error.message,
            )
            return None


def _choice(button: Dict[str, Any]) -> Dict[str, str]:
    title = str(button.get("title") or button.get("payload") or "")
    return {
        "id": str(button.get("payload") or button.get("title") or ""),
        "title": title,
        "description": str(button.get("description") or ""),
    }


def _reply_buttons(body: str, choices: Iterable[Dict[str, str]]) -> Dict[str, Any]:
    return {
        "type": "button",
        "body": {"text": body},
        "action": {
            "buttons": [
                {
                    "type": "reply",
                    "reply": {
                        "id": choice["id"],
                        "title": truncate(choice["title"], BUTTON_TITLE_LIMIT),
                    },
                }
                for choice in choices
            ]
        },
    }


def _list(body: str, choices: Iterable[Dict[str, str]], label: str) -> Dict[str, Any]:
    rows = []
    for choice in choices:
        row = {"id": choice["id"], "title": truncate(choice["title"], ROW_TITLE_LIMIT)}
        # a title cut short is shown whole in the description line
        description = choice["description"] or (
            choice["title"] if row["title"] != choice["title"].strip() else ""
        )
        if description:
            row["description"] = truncate(description, ROW_DESCRIPTION_LIMIT)
        rows.append(row)
    return {
        "type": "list",
        "body": {"text": body},
        "action": {
            "button": truncate(label, LIST_BUTTON_LIMIT),
            "sections": [{"rows": rows}],
        },
    }


def _template_parameter(parameter: Any) -> Dict[str, Any]:
    if isinstance(parameter, dict):
        return parameter
    return {"type": "text", "text": str(parameter)}
