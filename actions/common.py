"""What every action shares: the ticket store, the reply language, words in that language,
reading the latest message, and a guard so that a failing action still answers."""
import asyncio
import logging
import threading
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional
from zoneinfo import ZoneInfo

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from civic.city import get_city
from civic.db import StorageUnavailable, migrate
from civic.language import citizen_words
from civic.tickets import TicketRepository

logger = logging.getLogger(__name__)

LABELS: Dict[str, Any] = yaml.safe_load(Path(__file__).with_name("labels.yml").read_text(encoding="utf-8"))

repository = TicketRepository()
_schema_lock = threading.Lock()
_schema_ready = False


def ensure_schema() -> None:
    """Bring the ticket database to the latest migration (once per process)."""
    global _schema_ready
    if _schema_ready:
        return
    with _schema_lock:
        if not _schema_ready:
            migrate()
            _schema_ready = True


try:  # at action-server start; a database that is down now is retried on first use
    ensure_schema()
except StorageUnavailable as exc:  # pragma: no cover - depends on the environment
    logger.warning("ticket database not ready at start (%s); will retry on first use", exc)


async def run_storage(function, *args, **kwargs):
    """Run a blocking ticket call off the event loop, schema first."""

    def call():
        ensure_schema()
        return function(*args, **kwargs)

    return await asyncio.to_thread(call)


def in_language(names: Mapping[str, str], language: Optional[str]) -> str:
    """`names[language]`, else the English entry: the one rule for words in three languages."""
    return names.get(language or "en") or names["en"]


def label(group: str, key: Optional[str], language: Optional[str]) -> str:
    """A word from labels.yml in `language`: label("status", "resolved", "hi")."""
    return in_language(LABELS[group][key] if key else LABELS[group], language)


def language_of(tracker: Tracker) -> str:
    """The reply language: the `language` slot, else the city's default language."""
    return tracker.get_slot("language") or get_city().default_language


def latest_intent(tracker: Tracker) -> str:
    """The latest message's intent (past a fallback, the runner-up, as rasa-sdk does)."""
    return (tracker.get_intent_of_latest_message()
            or (tracker.latest_message.get("intent") or {}).get("name") or "")


def raw_intent(tracker: Tracker) -> str:
    """The latest message's intent as NLU gave it (`nlu_fallback` included)."""
    return (tracker.latest_message.get("intent") or {}).get("name") or ""


def typed_text(tracker: Tracker) -> Optional[str]:
    """The words the citizen wrote in the latest message (a photo's caption included);
    None for a tap, a payload, a location, a voice note or other media."""
    message = tracker.latest_message or {}
    return citizen_words(message.get("text") or "", (message.get("metadata") or {}).get("type"))


def latest_entity(tracker: Tracker, name: str) -> Optional[str]:
    return next(tracker.get_latest_entity_values(name), None)


def local_time(moment) -> str:
    """A date and time in the city's zone, written the same way in every language."""
    return moment.astimezone(ZoneInfo(get_city().timezone)).strftime("%d-%m-%Y %H:%M")


class GuardedAction(Action, ABC):
    """An action that answers even when something unforeseen fails: the citizen is told,
    and nothing they said is dropped (the action returns no events, so the slots stay)."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[EventType]:
        try:
            return await self.act(dispatcher, tracker, domain)
        except Exception:  # noqa: BLE001 - the citizen must hear back whatever failed
            logger.exception("%s failed for %s", self.name(), tracker.sender_id)
            dispatcher.utter_message(response="utter_action_failed")
        return []

    @abstractmethod
    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[EventType]:
        """What the action does (`run` calls it inside the guard)."""


RATING_STILL_ANSWERED = 2  # bot messages after the rating question a bare number still answers


def rating_asked_lately(tracker: Tracker) -> bool:
    """The rating question is among the bot's last few messages ("धन्यवाद" → "आपका स्वागत है",
    then "५": still the rating, not a number days later)."""
    bots = [e for e in reversed(tracker.events) if e.get("event") == "bot"][:RATING_STILL_ANSWERED + 1]
    return any((e.get("metadata") or {}).get("utter_action") == "utter_ticket_resolved" for e in bots)
