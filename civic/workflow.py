"""The officers' workflow: a named assignee, field staff's steps, escalation, staff messages.

- **Assignment.** The desk (officer, department head, admin) names who works a ticket: a
  field worker, officer or head of the ticket's department. A registered or reopened ticket
  becomes `assigned` (the citizen is told through the notification outbox); an assigned or
  in-progress one is reassigned without a status change. The assignee gets the ticket on
  WhatsApp through the staff outbox (`staff_messages`), in the same transaction.
- **Field steps** (from WhatsApp, civic.staff_flow): started → in_progress; done with an
  after-photo → resolved, the photo kept as proof; can't fix with a reason → back to the
  desk (no assignee, status registered), which the citizen is not told.
- **Escalation.** An open ticket past its due time goes to its department head (level 1);
  `workflow.escalate_to_commissioner_after_hours` later, if still open, to the
  commissioner's office, the admins (level 2). Each step raises `tickets.escalation_level`
  in the transaction that writes its history event and its staff messages, under a row lock
  (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite serialises writers), so a step happens once
  however often and however many workers run, across restarts.

History events carry a kind (civic.tickets.EVENT_KINDS): the citizen reads remarks of status
changes and assignments only, never a field worker's reason or an escalation step.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import List, Optional, Tuple

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    and_,
    or_,
    select,
)

from civic.db import UnitOfWork
from civic.notifications import LeasedOutbox, queue_notification
from civic.officers import ADMIN, ASSIGNABLE_ROLES, DEPARTMENT_HEAD, Officer, OfficerRecord
from civic.officers import _record as officer_record
from civic.tickets import (
    ASSIGNED,
    ASSIGNMENT_EVENT,
    ESCALATION_EVENT,
    IN_PROGRESS,
    OPEN_STATUSES,
    REGISTERED,
    REOPENED,
    RESOLVED,
    RETURN_EVENT,
    STATUS_EVENT,
    Base,
    Ticket,
    TicketError,
    TicketEvent,
    TicketNotFound,
    TicketRecord,
    UTCDateTime,
    _load_for_update,
    _now,
    _record,
)

__all__ = [
    "AWAITING_PHOTO", "AWAITING_REASON", "LEVEL_HEAD", "LEVEL_COMMISSIONER", "ESCALATION_ACTORS",
    "AssignmentRefused", "ChatState", "EscalationStep", "StaffMessageRecord", "StaffOutbox",
    "Workflow", "actor_of",
]

AWAITING_PHOTO, AWAITING_REASON = "after_photo", "reason"
ASSIGNMENT, ESCALATION = "assignment", "escalation"  # staff_messages.kind
LEVEL_HEAD, LEVEL_COMMISSIONER = 1, 2
# The history's actor of each escalation step (the workspace names them in its language).
ESCALATION_ACTORS = {LEVEL_HEAD: "escalation:department_head",
                     LEVEL_COMMISSIONER: "escalation:commissioner"}
MAX_REASON_CHARS = 1000


class AssignmentRefused(TicketError):
    """A workflow step that is not allowed; `reason` names why (the workspace and the staff
    flow say it in their language): not_open, not_staff, same, not_yours."""

    def __init__(self, number: str, reason: str):
        super().__init__(f"{number}: {reason}")
        self.number, self.reason = number, reason


class StaffChat(Base):
    """Where a staff member's WhatsApp conversation stands: what the flow waits for, and when
    they last wrote (WhatsApp's 24-hour window for free-form messages)."""

    __tablename__ = "staff_chats"

    officer_id = Column(Integer, ForeignKey("officers.id"), primary_key=True)
    awaiting = Column(String(16))  # AWAITING_PHOTO / AWAITING_REASON / None
    ticket_number = Column(String(20))
    awaiting_since = Column(UTCDateTime())
    last_message_at = Column(UTCDateTime())


class StaffMessage(Base):
    """An outbox row: a WhatsApp message to a staff member (assignment or escalation)."""

    __tablename__ = "staff_messages"

    id = Column(Integer, primary_key=True)
    officer_id = Column(Integer, ForeignKey("officers.id"), nullable=False)
    ticket_id = Column(Integer, ForeignKey("tickets.id"), nullable=False)
    kind = Column(String(16), nullable=False)
    level = Column(SmallInteger)  # the escalation level
    created_at = Column(UTCDateTime(), nullable=False)
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(UTCDateTime(), nullable=False)
    last_error = Column(Text)
    delivered_at = Column(UTCDateTime())
    failed_at = Column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("kind IN ('assignment', 'escalation')", name="kind"),
        Index("ix_staff_messages_ticket_id", "ticket_id"),
        Index("ix_staff_messages_delivered_at_next_attempt_at", "delivered_at", "next_attempt_at"),
    )


@dataclass(frozen=True)
class StaffMessageRecord:
    id: int
    officer_id: int
    ticket_number: str
    kind: str
    level: Optional[int]
    created_at: datetime
    attempts: int
    next_attempt_at: datetime
    last_error: Optional[str]
    delivered_at: Optional[datetime]
    failed_at: Optional[datetime]

    @property
    def state(self) -> str:
        if self.delivered_at is not None:
            return "delivered"
        return "failed" if self.failed_at is not None else "pending"


@dataclass(frozen=True)
class ChatState:
    awaiting: Optional[str] = None
    ticket_number: Optional[str] = None
    last_message_at: Optional[datetime] = None


@dataclass(frozen=True)
class EscalationStep:
    ticket_number: str
    level: int
    recipients: Tuple[str, ...]  # usernames told on WhatsApp


def actor_of(officer: OfficerRecord) -> str:
    """How an account appears in a ticket's history: `role:username`."""
    return f"{officer.role}:{officer.username}"


class StaffOutbox(LeasedOutbox):
    """Messages to staff (civic.notifications.LeasedOutbox: leased, retried, given up)."""

    model = StaffMessage

    @staticmethod
    def _record(row: StaffMessage) -> StaffMessageRecord:
        return StaffMessageRecord(
            id=row.id, officer_id=row.officer_id, ticket_number=_ticket_number(row),
            kind=row.kind, level=row.level, created_at=row.created_at, attempts=row.attempts,
            next_attempt_at=row.next_attempt_at, last_error=row.last_error,
            delivered_at=row.delivered_at, failed_at=row.failed_at)


def _ticket_number(row: StaffMessage) -> str:
    from sqlalchemy.orm import object_session

    return object_session(row).get(Ticket, row.ticket_id).number


def _queue_staff(session, officer_id: int, ticket: Ticket, kind: str, now: datetime,
                 level: Optional[int] = None) -> None:
    session.add(StaffMessage(officer_id=officer_id, ticket_id=ticket.id, kind=kind, level=level,
                             created_at=now, attempts=0, next_attempt_at=now))


class Workflow(UnitOfWork):
    """Assignment, field staff's steps, escalation; each call is one transaction."""

    # --- the desk ------------------------------------------------------------------------

    def assignable(self, department: str) -> List[OfficerRecord]:
        """Active accounts of the department a ticket may be assigned to, field staff first."""
        order = {role: i for i, role in enumerate(ASSIGNABLE_ROLES)}
        with self._read() as session:
            rows = session.execute(select(Officer).where(
                Officer.department == department, Officer.active.is_(True),
                Officer.role.in_(ASSIGNABLE_ROLES))).scalars().all()
            records = [officer_record(row) for row in rows]
        return sorted(records, key=lambda o: (order[o.role], o.display_name.casefold()))

    def assign(self, number: str, assignee_id: int, actor: str, by_id: Optional[int] = None,
               remark: Optional[str] = None, now: Optional[datetime] = None) -> TicketRecord:
        """Name the ticket's assignee (see the module docstring). `actor` is written in the
        history (actor_of(account), or cli:USER); `by_id`, the account assigning, gets no
        WhatsApp message about a ticket they assign to themself."""
        now = _now(now)
        with self._unit() as session:
            ticket = _load_for_update(session, number)
            if ticket.status not in OPEN_STATUSES:
                raise AssignmentRefused(number, "not_open")
            assignee = session.get(Officer, assignee_id)
            if (assignee is None or not assignee.active or assignee.role not in ASSIGNABLE_ROLES
                    or assignee.department != ticket.department):
                raise AssignmentRefused(number, "not_staff")
            if ticket.assignee_id == assignee.id:
                raise AssignmentRefused(number, "same")
            ticket.assignee_id = assignee.id
            ticket.updated_at = now
            status_changed = ticket.status in (REGISTERED, REOPENED)
            if status_changed:
                ticket.status = ASSIGNED
            session.add(TicketEvent(ticket_id=ticket.id, status=ticket.status, at=now,
                                    actor=actor, remark=(remark or "").strip() or None,
                                    kind=ASSIGNMENT_EVENT, assignee_id=assignee.id))
            session.flush()
            if status_changed:
                queue_notification(session, ticket, now)
            if assignee.whatsapp_number and assignee.id != by_id:
                _queue_staff(session, assignee.id, ticket, ASSIGNMENT, now)
            return _record(ticket)

    # --- field staff ---------------------------------------------------------------------

    def start(self, number: str, staff: OfficerRecord, now: Optional[datetime] = None) -> Tuple[TicketRecord, bool]:
        """"Started": assigned (or reopened) → in progress; (ticket, whether it changed)."""
        now = _now(now)
        with self._unit() as session:
            ticket = self._theirs(session, number, staff)
            if ticket.status == IN_PROGRESS:
                return _record(ticket), False
            self._set_status(session, ticket, IN_PROGRESS, staff, None, now)
            return _record(ticket), True

    def resolve(self, number: str, staff: OfficerRecord, media_id: str,
                remark: Optional[str] = None, now: Optional[datetime] = None) -> TicketRecord:
        """"Done" with the after-photo: resolved, the photo kept as proof (through in progress
        when work was never marked started; the citizen then hears only "resolved")."""
        now = _now(now)
        with self._unit() as session:
            ticket = self._theirs(session, number, staff)
            if ticket.status != IN_PROGRESS:
                self._set_status(session, ticket, IN_PROGRESS, staff, None, now)
            ticket.resolved_at = now
            ticket.resolution_media_id = media_id
            self._set_status(session, ticket, RESOLVED, staff, (remark or "").strip()[:MAX_REASON_CHARS] or None, now)
            return _record(ticket)

    def return_to_desk(self, number: str, staff: OfficerRecord, reason: str,
                       now: Optional[datetime] = None) -> TicketRecord:
        """"Can't fix": nobody is assigned any more and the ticket waits at the desk."""
        now = _now(now)
        with self._unit() as session:
            ticket = self._theirs(session, number, staff)
            ticket.assignee_id = None
            if ticket.status in (ASSIGNED, IN_PROGRESS):
                ticket.status = REGISTERED
            ticket.updated_at = now
            session.add(TicketEvent(ticket_id=ticket.id, status=ticket.status, at=now,
                                    actor=actor_of(staff), kind=RETURN_EVENT,
                                    remark=reason.strip()[:MAX_REASON_CHARS]))
            session.flush()
            return _record(ticket)

    def open_for(self, staff_id: int, limit: int = 10) -> List[TicketRecord]:
        """The open tickets assigned to one person, most urgent first."""
        with self._read() as session:
            rows = session.execute(
                select(Ticket).where(Ticket.assignee_id == staff_id, Ticket.status.in_(OPEN_STATUSES))
                .order_by(Ticket.due_at, Ticket.id).limit(limit)).scalars().all()
            return [_record(t) for t in rows]

    def their_ticket(self, number: str, staff: OfficerRecord) -> TicketRecord:
        """The open ticket assigned to this person; AssignmentRefused otherwise."""
        with self._unit() as session:
            return _record(self._theirs(session, number, staff))

    @staticmethod
    def _theirs(session, number: str, staff: OfficerRecord) -> Ticket:
        try:
            ticket = _load_for_update(session, number)
        except TicketNotFound:
            raise AssignmentRefused(number, "not_yours") from None
        if ticket.assignee_id != staff.id:
            raise AssignmentRefused(number, "not_yours")
        if ticket.status not in OPEN_STATUSES:
            raise AssignmentRefused(number, "not_open")
        return ticket

    @staticmethod
    def _set_status(session, ticket: Ticket, status: str, staff: OfficerRecord,
                    remark: Optional[str], now: datetime) -> None:
        ticket.status = status
        ticket.updated_at = now
        session.add(TicketEvent(ticket_id=ticket.id, status=status, at=now, actor=actor_of(staff),
                                remark=remark, kind=STATUS_EVENT))
        session.flush()
        queue_notification(session, ticket, now)

    # --- staff on WhatsApp ---------------------------------------------------------------

    def staff_for_number(self, wa_id: str) -> Optional[OfficerRecord]:
        """The active account whose WhatsApp number this is, if any."""
        if not wa_id:
            return None
        with self._read() as session:
            row = session.execute(select(Officer).where(
                Officer.whatsapp_number == wa_id, Officer.active.is_(True))).scalar_one_or_none()
            return officer_record(row) if row is not None else None

    def chat(self, officer_id: int) -> ChatState:
        with self._read() as session:
            row = session.get(StaffChat, officer_id)
            if row is None:
                return ChatState()
            return ChatState(row.awaiting, row.ticket_number, row.last_message_at)

    def note_message(self, officer_id: int, now: Optional[datetime] = None) -> ChatState:
        """A message from the staff member arrived (their 24-hour window opens); the state
        the flow was in before it."""
        with self._unit() as session:
            row = self._chat_row(session, officer_id)
            state = ChatState(row.awaiting, row.ticket_number, row.last_message_at)
            row.last_message_at = _now(now)
            return state

    def set_awaiting(self, officer_id: int, awaiting: Optional[str], number: Optional[str],
                     now: Optional[datetime] = None) -> None:
        with self._unit() as session:
            row = self._chat_row(session, officer_id)
            row.awaiting, row.ticket_number = awaiting, number if awaiting else None
            row.awaiting_since = _now(now) if awaiting else None

    @staticmethod
    def _chat_row(session, officer_id: int) -> StaffChat:
        row = session.get(StaffChat, officer_id, with_for_update=True)
        if row is None:
            row = StaffChat(officer_id=officer_id)
            session.add(row)
        return row

    # --- escalation ----------------------------------------------------------------------

    def escalate_due(self, now: Optional[datetime] = None, limit: int = 100) -> List[EscalationStep]:
        """Take every escalation step that is due now (see the module docstring)."""
        now = _now(now)
        after = timedelta(hours=self.city.workflow.commissioner_after_hours)
        due = and_(Ticket.status.in_(OPEN_STATUSES), or_(
            and_(Ticket.escalation_level == 0, Ticket.due_at <= now),
            and_(Ticket.escalation_level == LEVEL_HEAD, Ticket.escalated_at <= now - after)))
        steps = []
        with self._unit() as session:
            tickets = session.execute(
                select(Ticket).where(due).order_by(Ticket.due_at, Ticket.id).limit(limit)
                .with_for_update(skip_locked=True)).scalars().all()
            for ticket in tickets:
                level = ticket.escalation_level + 1
                ticket.escalation_level = level
                ticket.escalated_at = now
                session.add(TicketEvent(ticket_id=ticket.id, status=ticket.status, at=now,
                                        actor=ESCALATION_ACTORS[level], kind=ESCALATION_EVENT))
                told = self._escalation_recipients(session, ticket, level)
                for officer in told:
                    _queue_staff(session, officer.id, ticket, ESCALATION, now, level)
                steps.append(EscalationStep(ticket.number, level, tuple(o.username for o in told)))
            session.flush()
        return steps

    @staticmethod
    def _escalation_recipients(session, ticket: Ticket, level: int) -> List[Officer]:
        who = (and_(Officer.role == DEPARTMENT_HEAD, Officer.department == ticket.department)
               if level == LEVEL_HEAD else Officer.role == ADMIN)
        return session.execute(select(Officer).where(
            who, Officer.active.is_(True), Officer.whatsapp_number.isnot(None))
            .order_by(Officer.id)).scalars().all()
