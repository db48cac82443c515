"""The citizen hears back: status changes from the officers, then a rating or a reopening."""
import logging
from datetime import datetime, timedelta, timezone
from typing import List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.assignment import assignee_words
from actions.common import GuardedAction, label, language_of, latest_entity, repository, run_storage
from civic.city import get_city
from civic.corrections import categories_named
from civic.db import StorageUnavailable
from civic.language import citizen_words
from civic.tickets import (
    ASSIGNED,
    RESOLVED,
    NotTicketOwner,
    OpenTicketExists,
    RatingNotAllowed,
    ReopenWindowExpired,
    TransitionNotAllowed,
)

logger = logging.getLogger(__name__)

# WhatsApp allows free-form messages only within 24 hours of the citizen's last message.
SERVICE_WINDOW = timedelta(hours=24)
UPDATE_RESPONSES = {
    "assigned": "utter_ticket_assigned",
    "in_progress": "utter_ticket_in_progress",
    "resolved": "utter_ticket_resolved",
    "rejected": "utter_ticket_rejected",
}
REOPEN_CHOICE = 6
MIN_REASON_WORDS = 2  # fewer: "6", "haan", a tap; no reason


def last_citizen_message_at(tracker: Tracker) -> Optional[datetime]:
    """When the citizen last wrote (external events are not the citizen)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name") or ""
            if not intent.startswith("EXTERNAL_") and event.get("timestamp"):
                return datetime.fromtimestamp(event["timestamp"], tz=timezone.utc)
    return None


async def latest_remark(number: str) -> Optional[str]:
    """The remark of the latest change the citizen may read of (not an escalation step)."""
    history = await run_storage(repository.history, number)
    return next((e.remark for e in reversed(history) if e.for_citizen), None)


class ActionPrepareTicketUpdate(Action):
    """Switch the reply language to the ticket's before the update is written."""

    def name(self) -> Text:
        return "action_prepare_ticket_update"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        number = next(tracker.get_latest_entity_values("complaint_id"), None)
        ticket = await run_storage(repository.get, number) if number else None
        if ticket is None or ticket.citizen_id != tracker.sender_id:
            logger.warning("ticket update for %s: no ticket %s of this citizen", tracker.sender_id, number)
            return []
        return [SlotSet("language", ticket.language)]


class ActionNotifyTicketUpdate(Action):
    """Tell the citizen the ticket's new status: a message, or the template after 24 hours."""

    def name(self) -> Text:
        return "action_notify_ticket_update"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        number = next(tracker.get_latest_entity_values("complaint_id"), None)
        ticket = await run_storage(repository.get, number) if number else None
        if ticket is None or ticket.citizen_id != tracker.sender_id or ticket.status not in UPDATE_RESPONSES:
            return []
        announced = latest_entity(tracker, "ticket_status") or ticket.status
        if announced != ticket.status:
            # an officer moved on since (assigned, then resolved a minute later): the citizen
            # hears the ticket's status once, from the latest notification
            logger.info("%s: %s superseded by %s, not announced", number, announced, ticket.status)
            return []
        language = ticket.language
        remark = await latest_remark(ticket.number)
        last_seen = last_citizen_message_at(tracker)
        photo = ticket.resolution_media_id if ticket.status == RESOLVED else None
        if last_seen is None or datetime.now(timezone.utc) - last_seen > SERVICE_WINDOW:
            templates = get_city().whatsapp_templates
            template = {
                "name": templates.get("ticket_update"),
                "language": get_city().template_language(language),
                "parameters": [ticket.number, label("status", ticket.status, language), remark or "-"],
            }
            if photo:  # the field worker's after-photo as the template's image header
                template = {**template, "name": templates.get("ticket_resolved_photo"), "components": [
                    {"type": "header", "parameters": [{"type": "image", "image": {"id": photo}}]},
                    {"type": "body", "parameters": [{"type": "text", "text": ticket.number},
                                                    {"type": "text", "text": remark or "-"}]}]}
            dispatcher.utter_message(json_message={"template": template})
        else:
            city = get_city()
            assignee = await assignee_words(ticket, language) if ticket.status == ASSIGNED else None
            if photo:
                dispatcher.utter_message(response="utter_ticket_resolved_photo",
                                         ticket_number=ticket.number, photo_id=photo)
            dispatcher.utter_message(
                response="utter_ticket_assigned_to" if assignee else UPDATE_RESPONSES[ticket.status],
                ticket_number=ticket.number, assignee=assignee,
                department=city.department_name(ticket.department, language),
                remark=f"\n{label('remark', None, language)}: {remark}" if remark else "",
            )
        return [SlotSet("rating_ticket", ticket.number if ticket.status == RESOLVED else None)]


async def rate_or_reopen(
    dispatcher: CollectingDispatcher, tracker: Tracker, choice: int
) -> List[EventType]:
    """The citizen's answer to utter_ticket_resolved: 1-5 stars, or 6 to reopen."""
    number = tracker.get_slot("rating_ticket")
    if not number:
        dispatcher.utter_message(response="utter_help")
        return []
    if choice == REOPEN_CHOICE:
        return await reopen(dispatcher, tracker, number)
    try:
        await run_storage(repository.rate, number, tracker.sender_id, choice)
    except (TransitionNotAllowed, NotTicketOwner, RatingNotAllowed) as exc:
        logger.info("rating of %s refused: %s", number, exc)
        dispatcher.utter_message(response="utter_rating_not_possible", ticket_number=number)
    except StorageUnavailable as exc:
        logger.error("rating of %s failed: %s", number, exc)
        dispatcher.utter_message(response="utter_status_unavailable")
        return []
    else:
        dispatcher.utter_message(response="utter_rating_thanks", stars=choice)
    return [SlotSet("rating_ticket", None)]

class ActionReopenComplaint(GuardedAction):
    """"Still not fixed, open it again": the ticket named, the one just rated, or the
    citizen's latest resolved ticket is reopened within the city's reopen window."""

    def name(self) -> Text:
        return "action_reopen_complaint"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        number = latest_entity(tracker, "complaint_id") or tracker.get_slot("rating_ticket") \
            or tracker.get_slot("reopen_ticket")
        named = number is not None
        try:
            ticket = await run_storage(repository.get, number) if number else await self._latest(tracker)
        except StorageUnavailable as exc:
            logger.error("reopen lookup failed: %s", exc)
            dispatcher.utter_message(response="utter_status_unavailable")
            return []
        if ticket is None or ticket.citizen_id != tracker.sender_id:
            dispatcher.utter_message(response="utter_nothing_to_reopen", ticket_number=number or "")
            return []
        if ticket.is_open:
            dispatcher.utter_message(response="utter_ticket_still_open", ticket_number=ticket.number,
                                     status=label("status", ticket.status, language_of(tracker)))
            return [SlotSet("rating_ticket", None)]
        if not named and not tracker.active_loop_name:
            # "still not clean, look again", no number and no rating asked: which one, never silently
            self._offer(dispatcher, ticket, language_of(tracker))
            return []
        events = await reopen(dispatcher, tracker, ticket.number)
        if tracker.active_loop_name and any(e.get("name") == "last_ticket" for e in events):
            # reopened in the middle of a complaint form: that was the complaint; the form ends
            from actions.complaints import reset_complaint  # (actions.complaints imports this module)

            return [ActiveLoop(None), *reset_complaint(tracker), *events]
        return events

    @staticmethod
    def _offer(dispatcher: CollectingDispatcher, ticket, language: str) -> None:
        """Reopen this ticket, or a new complaint of its category: two buttons."""
        buttons = [
            {"title": label("reopen_choice", "reopen", language),
             "payload": f'/reopen_complaint{{"complaint_id":"{ticket.number}"}}'},
            {"title": label("reopen_choice", "new", language), "payload": f"/complaint_{ticket.category}"},
        ]
        dispatcher.utter_message(response="utter_ask_reopen_which", ticket_number=ticket.number,
                                 category=get_city().categories[ticket.category].name(language), buttons=buttons)

    @staticmethod
    async def _latest(tracker: Tracker):
        """The latest resolved ticket, of the category being registered or named, if any."""
        city = get_city()
        category = tracker.get_slot("category") if tracker.active_loop_name else None
        if category is None:
            named = categories_named(tracker.latest_message.get("text") or "", city.category_words)
            category = next(iter(named)) if len(named) == 1 else None
        ticket = await run_storage(repository.latest_resolved_for, tracker.sender_id, category) \
            if category else None
        return ticket or await run_storage(repository.latest_resolved_for, tracker.sender_id)


def reopen_reason(tracker: Tracker) -> Optional[str]:
    """The citizen's own words for reopening: this message, or (after a tap, "6" or "haan") the
    one before it ("/affirm" or "6" in the ticket's history told the officer nothing; round 5, 10)."""
    users = [event for event in reversed(tracker.events) if event.get("event") == "user"][:2]
    for event in users:
        words = citizen_words(event.get("text") or "", (event.get("metadata") or {}).get("type"))
        if words and not words.startswith("/") and len(words.split()) >= MIN_REASON_WORDS:
            return words
    return None


async def reopen(dispatcher: CollectingDispatcher, tracker: Tracker, number: str) -> List[EventType]:
    """Reopen the citizen's resolved ticket, saying why when it cannot be."""
    try:
        await run_storage(repository.reopen, number, tracker.sender_id, reopen_reason(tracker))
    except OpenTicketExists as exc:
        dispatcher.utter_message(response="utter_reopen_open_exists", ticket_number=number,
                                 other_number=exc.existing_number)
    except (ReopenWindowExpired, TransitionNotAllowed, NotTicketOwner) as exc:
        logger.info("reopen of %s refused: %s", number, exc)
        dispatcher.utter_message(response="utter_reopen_not_possible", ticket_number=number,
                                 days=get_city().reopen_window_days)
    except StorageUnavailable as exc:
        logger.error("reopen of %s failed: %s", number, exc)
        dispatcher.utter_message(response="utter_status_unavailable")
        return []
    else:
        dispatcher.utter_message(response="utter_ticket_reopened", ticket_number=number)
        return [SlotSet("rating_ticket", None), SlotSet("last_ticket", number)]
    return [SlotSet("rating_ticket", None)]
