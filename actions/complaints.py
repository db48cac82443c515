"""The complaint form, ticket submission and status: thin adapters over civic.tickets."""
import asyncio
import logging
import threading
from pathlib import Path
from typing import Any, Dict, List, Optional
from zoneinfo import ZoneInfo

import yaml
from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from civic.city import get_city
from civic.db import StorageUnavailable, migrate
from civic.entities import extract_entities
from civic.location import extract_location
from civic.numbers import parse_menu_choice, parse_number
from civic.tickets import MAX_DESCRIPTION_CHARS, PublicStatus, TicketRecord, TicketRepository

logger = logging.getLogger(__name__)

LABELS: Dict[str, Any] = yaml.safe_load(
    Path(__file__).with_name("labels.yml").read_text(encoding="utf-8")
)
# The order of the category menu in utter_ask_category (the domain).
CATEGORY_MENU = [
    "street_light", "drinking_water", "water_leakage", "sewer", "sanitation", "construction",
    "house_tax",
]
FORM_SLOTS = [
    "category", "ward", "location", "latitude", "longitude", "description", "photo", "confirm",
    "pending_category", "ward_attempts", "category_label",
    "pending_category_label", "photo_label", "requested_slot",
]
NO_PHOTO = "none"
# Words that skip the photo question when NLU does not call them `deny`.
SKIP_WORDS = {"skip", "छोड़ें", "छोड़ो", "छोड़े", "chhodo", "chodo", "chhoden", "chhod do", "no photo"}
# From the third wrong ward answer on, the helpline is offered too.
WARD_TRIES_BEFORE_HELPLINE = 3
MIN_WORDS_FOR_DESCRIPTION = 4

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


def label(group: str, key: Optional[str], language: Optional[str]) -> str:
    """A word from labels.yml in `language`: label("status", "resolved", "hi")."""
    names = LABELS[group][key] if key else LABELS[group]
    return names.get(language or "en") or names["en"]


def latest_intent(tracker: Tracker) -> str:
    """The latest message's intent (past a fallback, the runner-up, as rasa-sdk does)."""
    return (tracker.get_intent_of_latest_message()
            or (tracker.latest_message.get("intent") or {}).get("name") or "")


def language_of(tracker: Tracker) -> str:
    return tracker.get_slot("language") or "en"


def local_time(moment) -> str:
    """A date and time in the city's zone, written the same way in every language."""
    return moment.astimezone(ZoneInfo(get_city().timezone)).strftime("%d-%m-%Y %H:%M")


def category_label(category: Optional[str], language: str) -> Optional[str]:
    if not category:
        return None
    return get_city().categories[category].name(language)


def previous_slot_value(tracker: Tracker, slot: str) -> Any:
    """The slot's value before the latest user message (its new candidate comes after it)."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            seen_user = True
        elif seen_user and event.get("event") == "slot" and event.get("name") == slot:
            return event.get("value")
    return None


def category_from_answer(value: Any) -> Optional[str]:
    """A category from a menu answer ("3", "teen") or its key; None when it is neither."""
    text = str(value or "").strip()
    if text in CATEGORY_MENU:
        return text
    choice = parse_menu_choice(text, len(CATEGORY_MENU))
    return CATEGORY_MENU[choice - 1] if choice else None


def ward_from_answer(value: Any) -> Optional[int]:
    """The ward number in an answer: "23", "२३", "teis", "ward no. 23"."""
    text = str(value or "").strip()
    if text.isdigit():
        return int(text)
    number = parse_number(text)
    if number is not None:
        return number
    city = get_city()
    for entity in extract_entities(text, city.complaint_prefix, city.wards):
        if entity["entity"] in ("ward", "number"):
            return int(entity["value"])
    return None


def reset_complaint() -> List[EventType]:
    """Clear the form for the next complaint (switch_category back to "nothing to decide")."""
    return [SlotSet(slot, None) for slot in FORM_SLOTS] + [SlotSet("switch_category", False)]


class ValidateComplaintForm(FormValidationAction):
    """Fills the complaint form without asking what the citizen already said."""

    def name(self) -> str:
        return "validate_complaint_form"

    # -- reuse the first message ---------------------------------------------------------

    @staticmethod
    def _opening_message(tracker: Tracker) -> Optional[str]:
        """The message that started the form, if it named a complaint in words."""
        if tracker.get_slot("requested_slot") is not None:
            return None
        intent = latest_intent(tracker)
        text = (tracker.latest_message.get("text") or "").strip()
        if not intent.startswith("complaint_") or intent == "complaint_status" or text.startswith("/"):
            return None
        return text

    async def extract_description(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        text = self._opening_message(tracker)
        if tracker.get_slot("description") or not text or len(text.split()) < MIN_WORDS_FOR_DESCRIPTION:
            return {}
        return {"description": text}

    async def extract_location(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        text = self._opening_message(tracker)
        if tracker.get_slot("location") or not text:
            return {}
        place = extract_location(text)
        return {"location": place} if place else {}

    # -- validation ----------------------------------------------------------------------

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        events = await super().get_validation_events(dispatcher, tracker, domain)
        if not events:
            return []  # nothing extracted: let the form reject, so digressions are handled
        tracker.add_slots(events)
        language = language_of(tracker)
        photo = tracker.get_slot("photo")
        return events + [
            SlotSet("category_label", category_label(tracker.get_slot("category"), language)),
            SlotSet("pending_category_label",
                    category_label(tracker.get_slot("pending_category"), language)),
            SlotSet("photo_label",
                    None if photo is None else label("photo", "none" if photo == NO_PHOTO else "attached", language)),
        ]

    async def validate_category(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        category = category_from_answer(value)
        if category is None:
            dispatcher.utter_message(response="utter_not_a_category")
            return {"category": None}
        previous = previous_slot_value(tracker, "category")
        asked_for_it = tracker.get_slot("requested_slot") == "category"
        if previous and previous != category and not asked_for_it and tracker.active_loop_name:
            # A different complaint mid-form: keep the current one and ask before switching.
            return {"category": previous, "pending_category": category, "switch_category": None}
        return {"category": category}

    async def validate_switch_category(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        pending = tracker.get_slot("pending_category")
        result = {"switch_category": False, "pending_category": None}
        if value and pending:
            # The new complaint keeps ward and place; its description comes from the citizen.
            result.update({"category": pending, "description": None, "confirm": None})
        return result

    async def validate_ward(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        ward = ward_from_answer(value)
        if ward is not None and get_city().valid_ward(ward):
            return {"ward": str(ward), "ward_attempts": None}
        attempts = int(tracker.get_slot("ward_attempts") or 0) + 1
        dispatcher.utter_message(response="utter_invalid_ward")
        if attempts >= WARD_TRIES_BEFORE_HELPLINE:
            dispatcher.utter_message(response="utter_ward_helpline")
        return {"ward": None, "ward_attempts": attempts}

    async def validate_location(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        if value == "pin":
            latitude, longitude = tracker.get_slot("latitude"), tracker.get_slot("longitude")
            if latitude is None or longitude is None:
                return {"location": None}
            metadata = tracker.latest_message.get("metadata") or {}
            place = metadata.get("location_address") or metadata.get("location_name")
            pin = f"{label('location', 'pin', language_of(tracker))} ({latitude:.5f}, {longitude:.5f})"
            return {"location": f"{place} {pin}" if place else pin}
        text = str(value or "").strip()
        return {"location": text or None}

    async def validate_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        text = str(value or "").strip()
        if not text:
            return {"description": None}
        if len(text) > MAX_DESCRIPTION_CHARS:
            dispatcher.utter_message(response="utter_description_cut")
            text = text[:MAX_DESCRIPTION_CHARS]
        return {"description": text}

    async def validate_photo(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        intent = latest_intent(tracker)
        if value and (intent == "share_photo" or value == previous_slot_value(tracker, "photo")):
            return {"photo": str(value)}  # a new photo, or the answer kept from before (form restart)
        text = (tracker.latest_message.get("text") or "").strip().lower()
        if intent == "deny" or text in SKIP_WORDS:
            return {"photo": NO_PHOTO}
        dispatcher.utter_message(response="utter_photo_expected")
        return {"photo": None}


class ActionSubmitComplaint(Action):
    """Register the confirmed complaint; tell the number, department and due time."""

    def name(self) -> str:
        return "action_submit_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        if tracker.get_slot("confirm") is False:
            dispatcher.utter_message(response="utter_complaint_cancelled")
            return reset_complaint()
        language = language_of(tracker)
        photo = tracker.get_slot("photo")
        try:
            result = await run_storage(
                repository.create_ticket,
                citizen_id=tracker.sender_id,
                category=tracker.get_slot("category"),
                ward=tracker.get_slot("ward"),
                location_text=tracker.get_slot("location") or "",
                description=tracker.get_slot("description") or "",
                language=language,
                latitude=tracker.get_slot("latitude"),
                longitude=tracker.get_slot("longitude"),
                photo_media_ids=[photo] if photo and photo != NO_PHOTO else [],
            )
        except StorageUnavailable as exc:
            logger.error("could not store a complaint for %s: %s", tracker.sender_id, exc)
            dispatcher.utter_message(response="utter_storage_down")
            # Everything typed stays in the slots; "yes" shows the summary again and retries.
            return [SlotSet("confirm", None), SlotSet("ticket_outcome", "unavailable")]

        if result.limit_reached:
            dispatcher.utter_message(
                response="utter_ticket_limit", limit=get_city().max_tickets_per_citizen_per_day
            )
        elif result.duplicate:
            dispatcher.utter_message(
                response="utter_ticket_duplicate", ticket_number=result.ticket.number,
                status=label("status", result.ticket.status, language),
            )
        else:
            ticket = result.ticket
            dispatcher.utter_message(
                response="utter_ticket_created", ticket_number=ticket.number,
                department=get_city().department_name(ticket.department, language),
                due=local_time(ticket.due_at),
            )
        return reset_complaint() + [SlotSet("ticket_outcome", result.outcome.value)]


class ActionCancelComplaint(Action):
    """Stop the complaint form after the citizen confirmed the cancellation."""

    def name(self) -> str:
        return "action_cancel_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        return [ActiveLoop(None), *reset_complaint()]


class ActionComplaintStatus(Action):
    """Status of a complaint number, or the citizen's last five complaints."""

    def name(self) -> str:
        return "action_complaint_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        language = language_of(tracker)
        number = next(tracker.get_latest_entity_values("complaint_id"), None)
        try:
            if number:
                await self._one(dispatcher, tracker.sender_id, number, language)
            else:
                await self._recent(dispatcher, tracker.sender_id, language)
        except StorageUnavailable as exc:
            logger.error("status lookup failed: %s", exc)
            dispatcher.utter_message(response="utter_status_unavailable")
        return []

    @staticmethod
    async def _one(dispatcher, citizen_id: str, number: str, language: str) -> None:
        city = get_city()
        ticket = await run_storage(repository.get, number)
        if ticket is None:
            dispatcher.utter_message(
                response="utter_ticket_not_found", ticket_number=number,
                example_number=f"{city.complaint_prefix}-000145",
            )
            return
        if ticket.citizen_id != citizen_id:
            # Someone else's number: only what the repository's public view holds.
            ticket = await run_storage(repository.status_view, number)
        common = dict(
            ticket_number=ticket.number,
            category=city.categories[ticket.category].name(language),
            department=city.department_name(ticket.department, language),
            status=label("status", ticket.status, language),
            updated=local_time(ticket.updated_at),
        )
        if isinstance(ticket, PublicStatus):
            dispatcher.utter_message(response="utter_ticket_status_public", **common)
            return
        history = await run_storage(repository.history, ticket.number)
        remark = next((e.remark for e in reversed(history) if e.remark), None)
        dispatcher.utter_message(
            response="utter_ticket_status", ward=ticket.ward, due=local_time(ticket.due_at),
            remark=f"\n{label('remark', None, language)}: {remark}" if remark else "",
            **common,
        )

    @staticmethod
    async def _recent(dispatcher, citizen_id: str, language: str) -> None:
        tickets: List[TicketRecord] = await run_storage(repository.recent_for_citizen, citizen_id, 5)
        if not tickets:
            dispatcher.utter_message(response="utter_no_tickets")
            return
        city = get_city()
        lines = [
            f"{t.number} · {city.categories[t.category].name(language)} · "
            f"{label('ward', None, language)} {t.ward} · {label('status', t.status, language)}"
            for t in tickets
        ]
        dispatcher.utter_message(response="utter_ticket_list", tickets="\n".join(lines))
