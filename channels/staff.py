"""Field staff on WhatsApp: the one place that decides a message is a staff member's, and
the messages staff get.

`StaffDesk.handles(message)` is what the WhatsApp channel asks of every inbound message
before Rasa sees it: a message from the registered, active WhatsApp number of a staff
account (civic.officers) goes to the staff flow (civic.staff_flow) and is answered here;
it never becomes a turn of the citizens' assistant. A number stays known as staff while
the database cannot be reached, so an outage does not send a lineman's "Done" to the
citizens' assistant.

`StaffSender` sends what the officers' side queues (civic.workflow's staff outbox): a new
assignment (the ticket's number, category, ward, place, the citizen's description, the
location pin and the citizen's photos by media id, with the buttons "Started", "Done",
"Can't fix"; outside WhatsApp's 24-hour window the approved template with those buttons as
quick replies), and escalations (always a template). Never the citizen's phone number.

Every sentence is a response of domain/staff.yml in the staff member's language, chosen and
filled by Rasa's own response generator.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional
from zoneinfo import ZoneInfo

import yaml
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator

from channels.whatsapp_output import WhatsAppClient, WhatsAppOutput
from civic.city import City, get_city
from civic.db import StorageUnavailable
from civic.officers import OfficerRecord
from civic.staff_flow import ACTIONS, StaffFlow, StaffInput, StaffReply, parse_payload, payload
from civic.tickets import TicketRecord
from civic.workflow import ChatState, StaffMessageRecord, Workflow

logger = logging.getLogger(__name__)

STAFF_RESPONSES = Path(__file__).resolve().parent.parent / "domain" / "staff.yml"
SERVICE_WINDOW = timedelta(hours=24)  # free-form messages only this long after theirs
# StaffReply.key -> the response that says it
REPLIES = {
    "started": "utter_staff_started", "already_started": "utter_staff_already_started",
    "send_photo": "utter_staff_send_photo", "ask_reason": "utter_staff_ask_reason",
    "resolved": "utter_staff_resolved", "returned": "utter_staff_returned",
    "photo_needed": "utter_staff_photo_needed", "reason_needed": "utter_staff_reason_needed",
    "not_yours": "utter_staff_not_yours", "not_open": "utter_staff_not_open",
    "help": "utter_staff_help", "no_work": "utter_staff_no_work",
    "unavailable": "utter_staff_unavailable",
}
ASSIGNMENT_RESPONSE = "utter_staff_assignment"
TEMPLATE_TEXT_LIMIT = 200  # a template parameter is one short line


class StaffTexts:
    """The responses of domain/staff.yml, rendered by Rasa's TemplatedNaturalLanguageGenerator."""

    def __init__(self, path: Path = STAFF_RESPONSES) -> None:
        responses = yaml.safe_load(path.read_text(encoding="utf-8"))["responses"]
        self._nlg = TemplatedNaturalLanguageGenerator(responses)

    def render(self, name: str, language: str, **values: Any) -> Dict[str, Any]:
        message = self._nlg.generate_from_slots(name, {"language": language}, "whatsapp", **values)
        if message is None:
            raise KeyError(f"no response {name} in {STAFF_RESPONSES}")
        return message


class _RaisingOutput(WhatsAppOutput):
    """WhatsAppOutput that raises what the Graph API refused (the outbox retries the row)."""

    async def _post(self, payload: Dict[str, Any]) -> Optional[Dict]:
        return await self.client.send(payload)


def one_line(text: str, limit: int = TEMPLATE_TEXT_LIMIT) -> str:
    """A template parameter: no newlines or runs of spaces (WhatsApp refuses them), short."""
    text = re.sub(r"\s+", " ", text or "").strip() or "-"
    return text if len(text) <= limit else text[: limit - 1] + "…"


class StaffSender:
    """Messages to staff, each in the language of their account."""

    def __init__(self, client: WhatsAppClient, city: Optional[City] = None,
                 texts: Optional[StaffTexts] = None) -> None:
        self.client = client
        self.city = city or get_city()
        self.texts = texts or StaffTexts()

    # -- the outbox (officer side) ---------------------------------------------------------

    async def deliver(self, message: StaffMessageRecord, recipient: OfficerRecord,
                      ticket: TicketRecord, chat: ChatState, now: datetime) -> None:
        """Send one staff_messages row; raises WhatsAppAPIError when it was not sent."""
        if not recipient.whatsapp_number:
            raise ValueError(f"{recipient.username} has no WhatsApp number")
        output = _RaisingOutput(self.client)
        to, language = recipient.whatsapp_number, recipient.language
        if message.kind == "escalation":
            await output.send_custom_json(to, {"template": self._template(
                "escalation", language, [
                    ticket.number, self._category(ticket, language), str(ticket.ward),
                    self.city.department_name(ticket.department, language), self._time(ticket.due_at)])})
            return
        within = chat.last_message_at is not None and now - chat.last_message_at < SERVICE_WINDOW
        if not within:
            template = self._template("staff_assignment", language, [
                ticket.number, self._category(ticket, language), str(ticket.ward),
                one_line(ticket.location_text), one_line(ticket.description)])
            template["components"] = [
                {"type": "body", "parameters": [{"type": "text", "text": p} for p in template.pop("parameters")]},
                *({"type": "button", "sub_type": "quick_reply", "index": str(i),
                   "parameters": [{"type": "payload", "payload": payload(action, ticket.number)}]}
                  for i, action in enumerate(ACTIONS))]
            await output.send_custom_json(to, {"template": template})
            return
        await output.send_response(to, self.texts.render(
            ASSIGNMENT_RESPONSE, language, ticket_number=ticket.number,
            category=self._category(ticket, language), ward=ticket.ward,
            place=ticket.location_text, description=ticket.description, due=self._time(ticket.due_at)))
        if ticket.latitude is not None and ticket.longitude is not None:
            await output.send_custom_json(to, {"type": "location", "location": {
                "latitude": ticket.latitude, "longitude": ticket.longitude, "name": ticket.number,
                "address": one_line(ticket.location_text, 100)}})
        for media_id in ticket.photo_media_ids:
            await output.send_custom_json(to, {"type": "image", "image": {"id": media_id}})

    # -- answers to a staff member's message (the channel) -----------------------------------

    async def reply(self, staff: OfficerRecord, to: str, replies: List[StaffReply]) -> None:
        output = WhatsAppOutput(self.client)  # failures are logged, as for citizens' replies
        for reply in replies:
            lines = "\n".join(self.texts.render(
                "utter_staff_ticket_line", staff.language, ticket_number=t.number,
                category=self._category(t, staff.language), ward=t.ward,
                place=one_line(t.location_text, 60))["text"] for t in reply.tickets)
            await output.send_response(to, self.texts.render(
                REPLIES[reply.key], staff.language, ticket_number=reply.number or "", tickets=lines))

    # -- helpers ---------------------------------------------------------------------------

    def _template(self, key: str, language: str, parameters: List[str]) -> Dict[str, Any]:
        templates = self.city.whatsapp_templates
        return {"name": templates.get(key), "parameters": [one_line(p) for p in parameters],
                "language": self.city.template_language(language)}

    def _category(self, ticket: TicketRecord, language: str) -> str:
        return self.city.categories[ticket.category].name(language)

    def _time(self, moment: datetime) -> str:
        return moment.astimezone(ZoneInfo(self.city.timezone)).strftime("%d-%m-%Y %H:%M")


def staff_input(message: Any) -> StaffInput:
    """A channel message (channels.whatsapp.InboundMessage) as the staff flow reads it:
    only a tapped button (or a template's quick reply) is a tap; typed text is text."""
    metadata = message.metadata or {}
    kind = metadata.get("type")
    if kind in ("interactive", "button"):
        tapped = parse_payload(message.text)
        return StaffInput("tap", *tapped) if tapped else StaffInput("other")
    if kind == "image":
        return StaffInput("photo", media_id=metadata.get("photo_id") or _photo_id(message.text),
                          text=metadata.get("caption"))
    if kind == "text":
        return StaffInput("text", text=message.text)
    return StaffInput("other")


def _photo_id(text: str) -> Optional[str]:
    """The media id of the channel's `/share_photo{"photo_id": "…"}` text."""
    start = (text or "").find("{")
    try:
        value = json.loads(text[start:]).get("photo_id") if start >= 0 else None
    except (ValueError, AttributeError):
        return None
    return str(value) if value else None


class StaffDesk:
    """The WhatsApp channel's staff side (see the module docstring)."""

    def __init__(self, client: WhatsAppClient, workflow: Optional[Workflow] = None,
                 sender: Optional[StaffSender] = None,
                 clock=lambda: datetime.now(timezone.utc)) -> None:
        self.workflow = workflow or Workflow()
        self.flow = StaffFlow(self.workflow)
        self.sender = sender or StaffSender(client)
        self.clock = clock
        self._known: Dict[str, OfficerRecord] = {}  # numbers seen as staff in this process

    async def staff_member(self, wa_id: str) -> Optional[OfficerRecord]:
        """The staff account of this WhatsApp number; the last known one while the database
        cannot be reached."""
        try:
            staff = await asyncio.to_thread(self.workflow.staff_for_number, wa_id)
        except StorageUnavailable as exc:
            staff = self._known.get(wa_id)
            logger.warning("Staff directory unavailable (%s); %s treated as %s.", exc, wa_id,
                           "staff" if staff else "a citizen")
            return staff
        if staff is None:
            self._known.pop(wa_id, None)
        else:
            self._known[wa_id] = staff
        return staff

    async def handles(self, message: Any) -> bool:
        """True when the message was a staff member's and has been answered here."""
        staff = await self.staff_member(message.sender_id)
        if staff is None:
            return False
        item = staff_input(message)
        try:
            replies = await asyncio.to_thread(self.flow.handle, staff, item, self.clock())
        except StorageUnavailable as exc:
            logger.error("Staff message %s from %s not saved: %s", message.message_id, staff.username, exc)
            replies = [StaffReply("unavailable")]
        logger.info("Staff message %s from %s (%s): %s", message.message_id, staff.username,
                    item.kind, ", ".join(r.key for r in replies))
        await self.sender.reply(staff, message.sender_id, replies)
        return True
