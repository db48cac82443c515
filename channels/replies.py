"""Responses our channels send themselves, outside a Rasa turn, in the citizen's language.

`utter_no_reply` (a turn that produced nothing, a parked message) and `utter_message_cut`
(a text cut at 4,096 characters) live in the domain like every other sentence and are
rendered by Rasa's own response generator. Their language follows the rule the replies
follow (rasa_extensions/language_policy.py): only words the citizen wrote may set it. So
a tap, a photo without caption, a location, a voice note or a bare number keep the
conversation's language (the `language` slot in the tracker store); typed words decide
unless the citizen pinned a language; with neither, the city's default language
(city.yml `default_language`).
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Optional, Tuple

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator

from civic.city import get_city
from civic.language import detect_language

logger = logging.getLogger(__name__)

NO_REPLY_RESPONSE = "utter_no_reply"
MESSAGE_CUT_RESPONSE = "utter_message_cut"
TRACKER_TIMEOUT_SECONDS = 5.0


async def conversation_language(agent: Any, sender_id: str) -> Tuple[Optional[str], bool]:
    """(language slot, language_pinned slot) of the conversation; (None, False) when
    there is none or the tracker store cannot say (it may be why the turn failed)."""
    store = getattr(agent, "tracker_store", None)
    if store is None:
        return None, False
    try:
        tracker = await asyncio.wait_for(store.retrieve(sender_id), TRACKER_TIMEOUT_SECONDS)
    except Exception as error:  # any store failure means "unknown"
        logger.warning("No conversation language for %s: %s", sender_id, error)
        return None, False
    if tracker is None:
        return None, False
    return tracker.get_slot("language"), bool(tracker.get_slot("language_pinned"))


async def reply_language(agent: Any, sender_id: str, typed_text: Optional[str]) -> str:
    """The language of the next reply to sender_id, whose latest message typed typed_text
    (None for a tap, a photo without caption, a location, a voice note ...)."""
    current, pinned = await conversation_language(agent, sender_id)
    if pinned and current:
        return current
    return detect_language(typed_text or "") or current or get_city().default_language


def render(domain: Any, response: str, language: str, channel: str) -> Optional[str]:
    """The text of response in language, with the city's helpline; None if the domain
    has no such response."""
    responses = getattr(domain, "responses", None) or {}
    if response not in responses:
        return None
    slots = {"language": language, "helpline": get_city().helpline}
    reply = TemplatedNaturalLanguageGenerator(responses).generate_from_slots(
        response, slots, channel)
    return (reply or {}).get("text")


async def channel_reply(agent: Any, response: str, sender_id: str,
                        typed_text: Optional[str], channel: str) -> Optional[str]:
    """response rendered for sender_id in the language of the next reply."""
    language = await reply_language(agent, sender_id, typed_text)
    return render(getattr(agent, "domain", None), response, language, channel)
