"""The citizen hears back: a transactional outbox of status-change notifications.

A status change that the citizen should hear about (assigned, in progress, resolved,
rejected) writes one `notification_outbox` row in the SAME transaction as the change, so a
notification exists exactly when the change committed. A worker (officer/notifier.py)
delivers due rows to Rasa and records the outcome here: attempts, last_error, back-off
through next_attempt_at, delivered_at; after MAX_ATTEMPTS a row is given up (failed_at)
and stays visible on the ticket page until someone retries it.

Delivery is at least once: a row is claimed by pushing its next_attempt_at past a lease,
so two workers do not send it together, and a worker that dies mid-send is retried later.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Optional

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Text, select
from sqlalchemy.orm import Session, sessionmaker

from civic.db import UnitOfWork
from civic.tickets import (
    ASSIGNED,
    IN_PROGRESS,
    REJECTED,
    RESOLVED,
    Base,
    Ticket,
    TicketNotFound,
    TicketRecord,
    TicketRepository,
    UTCDateTime,
    _now,
)

__all__ = [
    "NOTIFY_STATUSES", "MAX_ATTEMPTS", "Notification", "NotificationRecord", "LeasedOutbox",
    "NotificationOutbox", "change_status_and_notify", "backoff",
]

# The changes a citizen is told about; closed and reopened are the citizen's own doing.
NOTIFY_STATUSES = (ASSIGNED, IN_PROGRESS, RESOLVED, REJECTED)
MAX_ATTEMPTS = 10
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)
# How long a claimed row is hidden from other workers while one delivers it.
CLAIM_LEASE = timedelta(minutes=2)


class Notification(Base):
    __tablename__ = "notification_outbox"

    id = Column(Integer, primary_key=True)
    ticket_id = Column(Integer, ForeignKey("tickets.id"), nullable=False)
    ticket_number = Column(String(20), nullable=False)
    citizen_id = Column(String(64), nullable=False)
    status = Column(String(16), nullable=False)  # the status the citizen is told about
    created_at = Column(UTCDateTime(), nullable=False)
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(UTCDateTime(), nullable=False)
    last_error = Column(Text)
    delivered_at = Column(UTCDateTime())
    failed_at = Column(UTCDateTime())  # given up after MAX_ATTEMPTS

    __table_args__ = (
        Index("ix_notification_outbox_ticket_id", "ticket_id"),
        Index("ix_notification_outbox_delivered_at_next_attempt_at", "delivered_at", "next_attempt_at"),
    )


@dataclass(frozen=True)
class NotificationRecord:
    id: int
    ticket_number: str
    citizen_id: str
    status: str
    created_at: datetime
    attempts: int
    next_attempt_at: datetime
    last_error: Optional[str]
    delivered_at: Optional[datetime]
    failed_at: Optional[datetime]

    @property
    def state(self) -> str:
        """"delivered", "failed" (given up) or "pending"."""
        if self.delivered_at is not None:
            return "delivered"
        return "failed" if self.failed_at is not None else "pending"


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after `attempts` failed ones: 30 s, 1 min, 2 min … 1 h."""
    return min(BACKOFF_BASE * (2 ** min(max(0, attempts - 1), 16)), BACKOFF_MAX)


def queue_notification(session: Session, ticket: Ticket, now: datetime) -> None:
    """Add the outbox row for `ticket`'s new status to the caller's transaction."""
    if ticket.status in NOTIFY_STATUSES:
        session.add(Notification(
            ticket_id=ticket.id, ticket_number=ticket.number, citizen_id=ticket.citizen_id,
            status=ticket.status, created_at=now, attempts=0, next_attempt_at=now,
        ))


def change_status_and_notify(
    repo: TicketRepository, number: str, new_status: str, actor: str,
    remark: Optional[str] = None, now: Optional[datetime] = None,
) -> TicketRecord:
    """TicketRepository.change_status plus the citizen's notification, in one transaction."""
    now = _now(now)
    return repo.change_status(
        number, new_status, actor, remark, now=now,
        on_change=lambda session, ticket: queue_notification(session, ticket, now),
    )


class LeasedOutbox(UnitOfWork):
    """An outbox table delivered at least once: rows are claimed with a lease, retried with
    back-off, given up after max_attempts. Subclasses name the ORM `model` (columns attempts,
    next_attempt_at, last_error, delivered_at, failed_at) and turn rows into records."""

    model: Any = None  # the ORM class (SQLAlchemy 1.4 models are untyped), set by each subclass

    def __init__(self, session_factory: Optional[sessionmaker] = None,
                 max_attempts: int = MAX_ATTEMPTS):
        super().__init__(session_factory)
        self.max_attempts = max_attempts

    @staticmethod
    def _record(row):
        raise NotImplementedError

    def claim_due(self, limit: int = 20, now: Optional[datetime] = None) -> list:
        """Due, undelivered rows, oldest first; each counted as an attempt and leased."""
        now = _now(now)
        model = self.model
        with self._unit() as session:
            rows = session.execute(
                select(model).where(
                    model.delivered_at.is_(None), model.failed_at.is_(None),
                    model.next_attempt_at <= now,
                ).order_by(model.next_attempt_at, model.id).limit(limit)
                # PostgreSQL: concurrent workers skip each other's rows; SQLite serialises.
                .with_for_update(skip_locked=True)
            ).scalars().all()
            for row in rows:
                row.attempts += 1
                row.next_attempt_at = now + CLAIM_LEASE
            session.flush()
            return [self._record(row) for row in rows]

    def mark_delivered(self, row_id: int, now: Optional[datetime] = None) -> None:
        with self._unit() as session:
            row = session.get(self.model, row_id)
            row.delivered_at = _now(now)
            row.last_error = None

    def mark_failed(self, row_id: int, error: str, now: Optional[datetime] = None):
        """Record a failed attempt: back off, or give up after max_attempts."""
        now = _now(now)
        with self._unit() as session:
            row = session.get(self.model, row_id)
            row.last_error = (error or "unknown error")[:1000]
            if row.attempts >= self.max_attempts:
                row.failed_at = now
            else:
                row.next_attempt_at = now + backoff(row.attempts)
            session.flush()
            return self._record(row)

    def retry(self, row_id: int, now: Optional[datetime] = None) -> None:
        """Make an undelivered row due now again (also one that was given up)."""
        with self._unit() as session:
            row = session.get(self.model, row_id)
            if row is not None and row.delivered_at is None:
                row.failed_at = None
                row.attempts = min(row.attempts, self.max_attempts - 1)
                row.next_attempt_at = _now(now)

    def get(self, row_id: int):
        with self._read() as session:
            row = session.get(self.model, row_id)
            return self._record(row) if row is not None else None

    def for_ticket(self, number: str) -> list:
        """The ticket's rows, oldest first."""
        with self._read() as session:
            ticket_id = session.execute(select(Ticket.id).where(Ticket.number == number)).scalar()
            if ticket_id is None:
                raise TicketNotFound(number)
            rows = session.execute(
                select(self.model).where(self.model.ticket_id == ticket_id).order_by(self.model.id)
            ).scalars().all()
            return [self._record(row) for row in rows]


class NotificationOutbox(LeasedOutbox):
    """The citizens' notifications; each call is one transaction."""

    model = Notification

    @staticmethod
    def _record(row: Notification) -> NotificationRecord:
        return _record(row)


def _record(row: Notification) -> NotificationRecord:
    return NotificationRecord(
        id=row.id, ticket_number=row.ticket_number, citizen_id=row.citizen_id, status=row.status,
        created_at=row.created_at, attempts=row.attempts, next_attempt_at=row.next_attempt_at,
        last_error=row.last_error, delivered_at=row.delivered_at, failed_at=row.failed_at,
    )
