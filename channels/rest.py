"""Rasa's REST channel with the citizen's text cleaned first (channels/text_cleaning.py).

``credentials.yml``, in place of ``rest:`` (the route stays ``/webhooks/rest/webhook``)::

    channels.rest.CleanRestInput:

Everything else is Rasa's ``RestInput``: the same request and answer, streaming included.
The text loses control characters and lone surrogates, is NFC, and is cut at 4,096
characters with `utter_message_cut` sent first; a ``/intent{...}`` payload stays one
(``rasa shell`` buttons) unless Rasa could not parse it safely (JSON nested thousands deep,
or huge), which is then read as text.

**Internal only.** Whoever reaches this route can speak as any sender id, any phone
number: it is for ``rasa shell``, tests and benchmarks, never published (deploy/Caddyfile
answers 404 for it, and deploy/credentials.production.yml does not enable it).
"""
from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Optional

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint
from sanic.request import Request

from channels.replies import MESSAGE_CUT_RESPONSE, channel_reply
from channels.text_cleaning import as_typed_text, clean_text, payload_is_safe

logger = logging.getLogger(__name__)


class CleanRestInput(RestInput):
    """``RestInput`` (channel name ``rest``) whose messages are cleaned at the edge."""

    def __init__(self) -> None:
        self._app: Any = None

    def _extract_message(self, req: Request) -> Optional[str]:
        message = super()._extract_message(req)
        # a number or an object where text belongs is read as its text, never a crash
        return message if message is None or isinstance(message, str) else str(message)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def cleaned(message: UserMessage) -> None:
            if message.text is not None:
                clean = clean_text(message.text)
                text = clean.text
                if not payload_is_safe(text):
                    logger.warning("REST payload from %s read as text (too deep or too long).",
                                   message.sender_id)
                    text = as_typed_text(text)
                if clean.cut:
                    await self._tell_cut(message, text)
                message = UserMessage(text, message.output_channel, message.sender_id,
                                      message.parse_data, message.input_channel,
                                      message.message_id, message.metadata)
            await on_new_message(message)

        blueprint = super().blueprint(cleaned)

        @blueprint.listener("after_server_start")
        async def remember_app(app: Any, *_: Any) -> None:
            self._app = app  # its agent renders utter_message_cut

        return blueprint

    async def _tell_cut(self, message: UserMessage, text: str) -> None:
        agent = getattr(self._app.ctx, "agent", None) if self._app is not None else None
        notice = await channel_reply(agent, MESSAGE_CUT_RESPONSE, message.sender_id, text,
                                     self.name())
        if notice:
            await message.output_channel.send_text_message(message.sender_id, notice)
