"""Field staff's side of WhatsApp: what a tap, a photo or a text from a staff number does.

Plain logic over civic.workflow, with no Rasa and no WhatsApp in it: the channel
(channels/staff.py) turns a staff member's message into a `StaffInput`, calls
`StaffFlow.handle`, and sends the `StaffReply`s back in the staff member's language.

    tap "Started"  → the ticket is in progress (the citizen is told)
    tap "Done"     → "send a photo of the finished work"; the next photo resolves the ticket
                     with that photo as proof (the citizen gets it with the rating request)
    tap "Can't fix" → "why?"; the next text returns the ticket to the desk with that reason
    anything else  → a reminder of what is awaited, or the staff member's open work

A tap names its ticket (`staff:done:SRN-000012`, the button's payload), so taps on an older
message act on the ticket they belong to; a ticket no longer theirs, or closed, is refused.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import List, Optional, Tuple

from civic.officers import OfficerRecord
from civic.tickets import TicketRecord
from civic.workflow import AWAITING_PHOTO, AWAITING_REASON, AssignmentRefused, Workflow

__all__ = ["ACTIONS", "StaffInput", "StaffReply", "StaffFlow", "payload", "parse_payload"]

PAYLOAD_PREFIX = "staff"
STARTED, DONE, CANT_FIX = "started", "done", "cant_fix"
ACTIONS = (STARTED, DONE, CANT_FIX)


def payload(action: str, number: str) -> str:
    """The id of a staff button: `staff:<action>:<ticket number>`."""
    return f"{PAYLOAD_PREFIX}:{action}:{number}"


def parse_payload(text: Optional[str]) -> Optional[Tuple[str, str]]:
    """(action, ticket number) of a staff button's id; None for anything else."""
    parts = (text or "").strip().split(":")
    if len(parts) == 3 and parts[0] == PAYLOAD_PREFIX and parts[1] in ACTIONS and parts[2]:
        return parts[1], parts[2].upper()
    return None


@dataclass(frozen=True)
class StaffInput:
    """One message from a staff member: a tap (action, number), a photo (media_id, text =
    caption), a text, or something else (a voice note, a sticker, a location)."""

    kind: str  # tap, photo, text, other
    action: Optional[str] = None
    number: Optional[str] = None
    media_id: Optional[str] = None
    text: Optional[str] = None


@dataclass(frozen=True)
class StaffReply:
    """What to answer: `key` names the reply (channels/staff.py: response utter_staff_<key>)."""

    key: str
    number: Optional[str] = None
    tickets: Tuple[TicketRecord, ...] = ()


class StaffFlow:
    def __init__(self, workflow: Workflow) -> None:
        self.workflow = workflow

    def handle(self, staff: OfficerRecord, item: StaffInput,
               now: Optional[datetime] = None) -> List[StaffReply]:
        """Act on one message; raises StorageUnavailable when the database is away."""
        state = self.workflow.note_message(staff.id, now)
        waiting_on = state.ticket_number  # the ticket a photo or a reason is awaited for
        try:
            if item.kind == "tap" and item.action and item.number:
                return [self._tap(staff, item.action, item.number, now)]
            if (state.awaiting == AWAITING_PHOTO and waiting_on and item.kind == "photo"
                    and item.media_id):
                self.workflow.resolve(waiting_on, staff, item.media_id, item.text, now)
                self.workflow.set_awaiting(staff.id, None, None, now)
                return [StaffReply("resolved", waiting_on)]
            if (state.awaiting == AWAITING_REASON and waiting_on and item.kind == "text"
                    and item.text and item.text.strip()):
                self.workflow.return_to_desk(waiting_on, staff, item.text, now)
                self.workflow.set_awaiting(staff.id, None, None, now)
                return [StaffReply("returned", waiting_on)]
        except AssignmentRefused as refused:
            self.workflow.set_awaiting(staff.id, None, None, now)
            return [StaffReply(refused.reason, refused.number)]
        if state.awaiting == AWAITING_PHOTO:
            return [StaffReply("photo_needed", state.ticket_number)]
        if state.awaiting == AWAITING_REASON:
            return [StaffReply("reason_needed", state.ticket_number)]
        work = tuple(self.workflow.open_for(staff.id))
        return [StaffReply("help", tickets=work) if work else StaffReply("no_work")]

    def _tap(self, staff: OfficerRecord, action: str, number: str, now) -> StaffReply:
        if action == STARTED:
            self.workflow.set_awaiting(staff.id, None, None, now)
            _, changed = self.workflow.start(number, staff, now)
            return StaffReply("started" if changed else "already_started", number)
        self.workflow.their_ticket(number, staff)  # refuses before asking anything
        awaiting = AWAITING_PHOTO if action == DONE else AWAITING_REASON
        self.workflow.set_awaiting(staff.id, awaiting, number, now)
        return StaffReply("send_photo" if action == DONE else "ask_reason", number)
