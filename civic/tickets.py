"""Complaint tickets: models, numbering, routing and SLA, status rules, and the repository.

Every public repository call is one unit of work (one transaction) and returns plain frozen
dataclasses, never ORM objects, so callers cannot lazy-load after the session is gone.
A database that cannot be reached raises StorageUnavailable with nothing written.

Ticket numbers are the city prefix plus the zero-padded primary key (`SRN-000001`), set in
the same transaction as the insert. The key comes from SQLite AUTOINCREMENT or a PostgreSQL
sequence: both hand out each value once, across processes, even after a rollback or a
delete, so numbers are unique and never reused without a counter table every writer would
queue on. Gaps (a rolled-back insert) are harmless.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    and_,
    case,
    func,
    not_,
    select,
)
from sqlalchemy import text as sql_text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, declarative_base
from sqlalchemy.types import TypeDecorator

from civic.city import LANGUAGES, City
from civic.db import StorageUnavailable, UnitOfWork, advisory_lock_key

__all__ = [
    "STATUSES", "OPEN_STATUSES", "TRANSITIONS", "MAX_DESCRIPTION_CHARS",
    "Ticket", "TicketEvent", "TicketRepository",
    "CreateOutcome", "CreateResult", "TicketRecord", "TicketEventRecord", "PublicStatus",
    "TicketPage", "MapPoint", "EVENT_KINDS", "TicketError", "TicketNotFound", "InvalidTicketData", "TransitionNotAllowed",
    "ReopenWindowExpired", "OpenTicketExists", "NotTicketOwner", "RatingNotAllowed",
    "StorageUnavailable", "remark_for_status",
]

# --- statuses and the rules between them -------------------------------------------------

REGISTERED = "registered"
ASSIGNED = "assigned"
IN_PROGRESS = "in_progress"
RESOLVED = "resolved"
CLOSED = "closed"
REJECTED = "rejected"
REOPENED = "reopened"
STATUSES = (REGISTERED, ASSIGNED, IN_PROGRESS, RESOLVED, CLOSED, REJECTED, REOPENED)
# Open = the corporation still owes action; only open tickets block a duplicate or go overdue.
OPEN_STATUSES = (REGISTERED, ASSIGNED, IN_PROGRESS, REOPENED)
TRANSITIONS: Dict[str, Tuple[str, ...]] = {
    REGISTERED: (ASSIGNED, REJECTED),
    ASSIGNED: (IN_PROGRESS, REJECTED),
    IN_PROGRESS: (RESOLVED, REJECTED),
    RESOLVED: (CLOSED, REOPENED),
    REOPENED: (ASSIGNED, IN_PROGRESS),
    CLOSED: (),
    REJECTED: (),
}
MAX_DESCRIPTION_CHARS = 1000
CITIZEN_ACTOR = "citizen"
# ticket_events.kind
STATUS_EVENT, ASSIGNMENT_EVENT, RETURN_EVENT, ESCALATION_EVENT = (
    "status", "assignment", "returned", "escalation")
EVENT_KINDS = (STATUS_EVENT, ASSIGNMENT_EVENT, RETURN_EVENT, ESCALATION_EVENT)
# A callback run inside change_status's transaction: (session, the changed Ticket row).
ChangeHook = Callable[[Session, "Ticket"], None]
# "Today" for the daily limit is the citizen's calendar day, not UTC's.


# --- errors --------------------------------------------------------------------------------


class TicketError(Exception):
    """Base class of the ticket rules' refusals."""


class TicketNotFound(TicketError, LookupError):
    def __init__(self, number: str):
        super().__init__(f"no ticket {number!r}")
        self.number = number


class InvalidTicketData(TicketError, ValueError):
    """An argument is outside what the city config or the schema allows."""


class TransitionNotAllowed(TicketError):
    """The requested status change is not allowed from the ticket's current status."""

    def __init__(self, number: str, current: str, requested: str, reason: str):
        super().__init__(f"{number}: {current} -> {requested} not allowed: {reason}")
        self.number, self.current, self.requested, self.reason = number, current, requested, reason


class ReopenWindowExpired(TransitionNotAllowed):
    """The ticket was resolved longer ago than the city's reopen window."""


class OpenTicketExists(TransitionNotAllowed):
    """Reopening would give the citizen two open tickets for one category and ward."""

    def __init__(self, number: str, current: str, existing_number: str):
        super().__init__(number, current, REOPENED, f"open ticket {existing_number} exists")
        self.existing_number = existing_number


class NotTicketOwner(TicketError):
    """A citizen tried to rate or reopen someone else's ticket."""


class RatingNotAllowed(TicketError):
    """Only a resolved or closed ticket can be rated."""


# --- schema (the migrations in migrations/ create it; keep the two in step) ---------------


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC in Python on every backend (SQLite stores naive UTC text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass a timezone-aware one")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)
Base: Any = declarative_base(metadata=metadata)  # SQLAlchemy 1.4 has no types: the models are Any
_OPEN_SQL = "status IN ({})".format(", ".join(f"'{s}'" for s in OPEN_STATUSES))


class Ticket(Base):
    __tablename__ = "tickets"

    id = Column(Integer, primary_key=True)
    number = Column(String(20), unique=True)  # set from id in the inserting transaction
    category = Column(String(32), nullable=False)
    department = Column(String(64), nullable=False)
    ward = Column(Integer, nullable=False)
    location_text = Column(Text, nullable=False)
    latitude = Column(Float)
    longitude = Column(Float)
    description = Column(Text, nullable=False)
    photo_media_ids = Column(JSON, nullable=False)
    citizen_id = Column(String(64), nullable=False)
    language = Column(String(16), nullable=False)
    status = Column(String(16), nullable=False)
    created_at = Column(UTCDateTime(), nullable=False)
    updated_at = Column(UTCDateTime(), nullable=False)
    due_at = Column(UTCDateTime(), nullable=False)
    rating = Column(SmallInteger)
    resolved_at = Column(UTCDateTime())
    # The officers' workflow (civic.workflow): who works it, how far it has escalated, and
    # the field worker's photo of the finished work.
    assignee_id = Column(Integer, ForeignKey("officers.id"))
    escalation_level = Column(SmallInteger, nullable=False, default=0, server_default=sql_text("0"))
    escalated_at = Column(UTCDateTime())
    resolution_media_id = Column(String(128))

    __table_args__ = (
        CheckConstraint(
            "status IN ({})".format(", ".join(f"'{s}'" for s in STATUSES)), name="status"
        ),
        CheckConstraint("rating IS NULL OR (rating BETWEEN 1 AND 5)", name="rating"),
        Index("ix_tickets_citizen_id_created_at", "citizen_id", "created_at"),
        Index("ix_tickets_department_status", "department", "status"),
        Index("ix_tickets_status_due_at", "status", "due_at"),
        Index("ix_tickets_ward", "ward"),
        Index("ix_tickets_created_at", "created_at"),
        Index("ix_tickets_assignee_id_status", "assignee_id", "status"),
        # The duplicate rule, enforced by the database so concurrent requests cannot race it.
        Index(
            "uq_tickets_open_complaint", "citizen_id", "category", "ward", unique=True,
            sqlite_where=sql_text(_OPEN_SQL), postgresql_where=sql_text(_OPEN_SQL),
        ),
        # AUTOINCREMENT: SQLite must never hand out the id (hence the number) of a deleted row.
        {"sqlite_autoincrement": True},
    )


class TicketEvent(Base):
    """Append-only history; database triggers refuse UPDATE and DELETE."""

    __tablename__ = "ticket_events"

    id = Column(Integer, primary_key=True)
    ticket_id = Column(Integer, ForeignKey("tickets.id"), nullable=False)
    status = Column(String(16), nullable=False)  # the ticket's status after this event
    at = Column(UTCDateTime(), nullable=False)
    actor = Column(String(128), nullable=False)
    remark = Column(Text)
    # EVENT_KINDS: a status change (or a citizen's note), an assignment, a return to the desk,
    # an escalation step. The citizen is shown remarks of status changes and assignments only.
    kind = Column(String(16), nullable=False, default="status", server_default="status")
    assignee_id = Column(Integer)  # whom an assignment named

    __table_args__ = (Index("ix_ticket_events_ticket_id_id", "ticket_id", "id"),)


# --- what the repository returns ---------------------------------------------------------


@dataclass(frozen=True)
class TicketRecord:
    """A ticket in full (for its owner and for officers)."""

    number: str
    category: str
    department: str
    ward: int
    location_text: str
    latitude: Optional[float]
    longitude: Optional[float]
    description: str
    photo_media_ids: Tuple[str, ...]
    citizen_id: str
    language: str
    status: str
    created_at: datetime
    updated_at: datetime
    due_at: datetime
    rating: Optional[int]
    resolved_at: Optional[datetime]
    assignee_id: Optional[int] = None
    escalation_level: int = 0
    escalated_at: Optional[datetime] = None
    resolution_media_id: Optional[str] = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_overdue(self, now: Optional[datetime] = None) -> bool:
        return self.is_open and self.due_at < _now(now)


@dataclass(frozen=True)
class PublicStatus:
    """What anyone holding a number may see: no citizen, location, description or photos."""

    number: str
    category: str
    department: str
    status: str
    updated_at: datetime
    due_at: datetime


@dataclass(frozen=True)
class TicketEventRecord:
    status: str
    at: datetime
    actor: str
    remark: Optional[str]
    kind: str = STATUS_EVENT
    assignee_id: Optional[int] = None

    @property
    def for_citizen(self) -> bool:
        """A remark the citizen may read: an officer's, on a status change or an assignment
        (not a field worker's reason for returning it, not an escalation step)."""
        return self.actor != CITIZEN_ACTOR and self.kind in (STATUS_EVENT, ASSIGNMENT_EVENT)


def remark_for_status(history: Sequence[TicketEventRecord]) -> Optional[str]:
    """The officer's remark that goes with the ticket's present status ("kooda utha liya" while
    resolved, a rejection's reason while rejected): given since the ticket last changed status,
    never an older one (a reopened ticket shows no resolver's remark). `history` oldest first."""
    current = history[-1].status if history else None
    for event in reversed(history):
        if event.status != current:
            return None
        if event.for_citizen and event.remark:
            return event.remark
    return None


@dataclass(frozen=True)
class MapPoint:
    """An open ticket with a location pin, for the workspace map."""

    number: str
    latitude: float
    longitude: float
    category: str
    status: str
    ward: int
    overdue: bool
    escalation_level: int


class CreateOutcome(str, Enum):
    CREATED = "created"
    DUPLICATE = "duplicate"  # the citizen's open ticket for this category and ward
    LIMIT_REACHED = "limit_reached"


@dataclass(frozen=True)
class CreateResult:
    outcome: CreateOutcome
    ticket: Optional[TicketRecord]  # the new or the existing ticket; None when limit_reached
    description_truncated: bool = False

    @property
    def created(self) -> bool:
        return self.outcome is CreateOutcome.CREATED

    @property
    def duplicate(self) -> bool:
        return self.outcome is CreateOutcome.DUPLICATE

    @property
    def limit_reached(self) -> bool:
        return self.outcome is CreateOutcome.LIMIT_REACHED


@dataclass(frozen=True)
class TicketPage:
    items: Tuple[TicketRecord, ...]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


# --- the repository ----------------------------------------------------------------------


class TicketRepository(UnitOfWork):
    """All ticket reads and writes; each call is one transaction."""


    # -- citizens -------------------------------------------------------------------------

    def create_ticket(
        self,
        citizen_id: str,
        category: str,
        ward: Union[int, str],
        location_text: str,
        description: str,
        language: str,
        latitude: Optional[float] = None,
        longitude: Optional[float] = None,
        photo_media_ids: Sequence[str] = (),
        now: Optional[datetime] = None,
    ) -> CreateResult:
        """Register a complaint, or return the citizen's open one for this category and ward.

        Routed to the category's department with due_at = now + its SLA. A description over
        MAX_DESCRIPTION_CHARS is cut (description_truncated=True). More than the city's
        max_tickets_per_citizen_per_day new tickets in one local day gives limit_reached.
        """
        city = self.city
        now = _now(now)
        if not citizen_id or not isinstance(citizen_id, str):
            raise InvalidTicketData("citizen_id is required")
        if category not in city.categories:
            raise InvalidTicketData(f"unknown category {category!r}")
        ward_number = _ward(ward, city)
        if language not in LANGUAGES:
            raise InvalidTicketData(f"language must be one of {LANGUAGES}, not {language!r}")
        if not isinstance(location_text, str) or not isinstance(description, str):
            raise InvalidTicketData("location_text and description must be text")
        _check_coordinates(latitude, longitude)
        media = [str(m) for m in photo_media_ids]
        truncated = len(description) > MAX_DESCRIPTION_CHARS
        description = description[:MAX_DESCRIPTION_CHARS]

        try:
            with self._unit() as session:
                if session.bind.dialect.name == "postgresql":
                    # One citizen's creations run one at a time, so the duplicate and daily
                    # limit checks below see every earlier commit (SQLite: BEGIN IMMEDIATE).
                    session.execute(
                        sql_text("SELECT pg_advisory_xact_lock(:key)"),
                        {"key": advisory_lock_key("citizen:" + citizen_id)},
                    )
                existing = _open_duplicate(session, citizen_id, category, ward_number)
                if existing is not None:
                    return CreateResult(CreateOutcome.DUPLICATE, _record(existing), truncated)
                created_today = session.execute(
                    select(func.count(Ticket.id)).where(
                        Ticket.citizen_id == citizen_id,
                        Ticket.created_at >= self._start_of_local_day(now),
                    )
                ).scalar_one()
                if created_today >= city.max_tickets_per_citizen_per_day:
                    return CreateResult(CreateOutcome.LIMIT_REACHED, None, truncated)

                spec = city.categories[category]
                ticket = Ticket(
                    category=category, department=spec.department, ward=ward_number,
                    location_text=location_text, latitude=latitude, longitude=longitude,
                    description=description, photo_media_ids=media, citizen_id=citizen_id,
                    language=language, status=REGISTERED, created_at=now, updated_at=now,
                    due_at=now + timedelta(hours=spec.sla_hours),
                )
                session.add(ticket)
                session.flush()  # assigns ticket.id
                ticket.number = f"{city.complaint_prefix}-{ticket.id:06d}"
                session.add(TicketEvent(ticket_id=ticket.id, status=REGISTERED, at=now,
                                        actor=CITIZEN_ACTOR, remark=None))
                session.flush()
                return CreateResult(CreateOutcome.CREATED, _record(ticket), truncated)
        except IntegrityError:
            # Lost a race against the same complaint (the partial unique index said so):
            # the winner's ticket is the answer.
            with self._unit() as session:
                existing = _open_duplicate(session, citizen_id, category, ward_number)
                if existing is None:
                    raise
                return CreateResult(CreateOutcome.DUPLICATE, _record(existing), truncated)

    def rate(
        self, number: str, citizen_id: str, stars: int, now: Optional[datetime] = None
    ) -> TicketRecord:
        """The owner rates a resolved or closed ticket 1..5 stars (a later rating replaces it)."""
        if isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5:
            raise InvalidTicketData(f"stars must be a whole number from 1 to 5, not {stars!r}")
        now = _now(now)
        with self._unit() as session:
            ticket = _load_for_update(session, number)
            if ticket.citizen_id != citizen_id:
                raise NotTicketOwner(f"{number} belongs to another citizen")
            if ticket.status not in (RESOLVED, CLOSED):
                raise RatingNotAllowed(
                    f"{number} is {ticket.status}; only resolved or closed tickets are rated")
            ticket.rating = stars
            ticket.updated_at = now
            session.add(TicketEvent(ticket_id=ticket.id, status=ticket.status, at=now,
                                    actor=CITIZEN_ACTOR, remark=f"rating: {stars}"))
            session.flush()
            return _record(ticket)

    def reopen(
        self, number: str, citizen_id: str, remark: Optional[str], now: Optional[datetime] = None
    ) -> TicketRecord:
        """The owner reopens a resolved ticket within the city's reopen window."""
        return self._change(number, REOPENED, CITIZEN_ACTOR, remark, now, owner=citizen_id)

    def open_ticket_for(self, citizen_id: str, category: str,
                        ward: Optional[Union[int, str]] = None) -> Optional[TicketRecord]:
        """The citizen's open ticket of this category and ward (what a new one would repeat);
        without a ward, their latest open ticket of this category ("still dark")."""
        with self._read() as session:
            if ward is not None:
                existing = _open_duplicate(session, citizen_id, category, _ward(ward, self.city))
            else:
                existing = session.execute(
                    select(Ticket).where(Ticket.citizen_id == citizen_id, Ticket.category == category,
                                         Ticket.status.in_(OPEN_STATUSES))
                    .order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(1)
                ).scalar_one_or_none()
            return _record(existing) if existing is not None else None

    def latest_resolved_for(self, citizen_id: str, category: Optional[str] = None,
                            reopenable: bool = False, now: Optional[datetime] = None) -> Optional[TicketRecord]:
        """The citizen's most recently resolved ticket, if it is still resolved; of that
        `category` when given; with `reopenable`, only one resolved within the reopen window."""
        conditions = [Ticket.citizen_id == citizen_id, Ticket.status == RESOLVED]
        if category is not None:
            conditions.append(Ticket.category == category)
        if reopenable:
            conditions.append(Ticket.resolved_at >= _now(now) - timedelta(days=self.city.reopen_window_days))
        with self._read() as session:
            ticket = session.execute(
                select(Ticket).where(*conditions)
                .order_by(Ticket.resolved_at.desc(), Ticket.id.desc()).limit(1)
            ).scalar_one_or_none()
            return _record(ticket) if ticket is not None else None

    def add_from_citizen(
        self, number: str, citizen_id: str, note: Optional[str] = None,
        photo_media_ids: Sequence[str] = (), now: Optional[datetime] = None,
    ) -> TicketRecord:
        """The owner adds a note and/or photos to an open ticket; it goes into the history."""
        note = (note or "").strip()[:MAX_DESCRIPTION_CHARS] or None
        media = [str(m) for m in photo_media_ids]
        if note is None and not media:
            raise InvalidTicketData("nothing to add")
        now = _now(now)
        with self._unit() as session:
            ticket = _load_for_update(session, number)
            if ticket.citizen_id != citizen_id:
                raise NotTicketOwner(f"{number} belongs to another citizen")
            if ticket.status not in OPEN_STATUSES:
                raise TransitionNotAllowed(number, ticket.status, ticket.status, "the ticket is not open")
            if media:
                ticket.photo_media_ids = list(ticket.photo_media_ids or []) + media
            ticket.updated_at = now
            remark = " · ".join(part for part in (note, f"+{len(media)} photo" if media else None) if part)
            session.add(TicketEvent(ticket_id=ticket.id, status=ticket.status, at=now,
                                    actor=CITIZEN_ACTOR, remark=remark))
            session.flush()
            return _record(ticket)

    # -- officers -------------------------------------------------------------------------

    def change_status(
        self, number: str, new_status: str, actor: str, remark: Optional[str] = None,
        now: Optional[datetime] = None, on_change: Optional[ChangeHook] = None,
    ) -> TicketRecord:
        """Move a ticket along TRANSITIONS; raises TransitionNotAllowed (or a subclass).

        on_change(session, ticket) runs inside the same transaction after the change, so
        whatever it writes (a notification to send) commits or rolls back with it.
        """
        if not actor:
            raise InvalidTicketData("actor is required")
        return self._change(number, new_status, actor, remark, now, owner=None, on_change=on_change)

    def list_tickets(
        self,
        department: Optional[str] = None,
        status: Optional[str] = None,
        ward: Union[int, str, None] = None,
        category: Optional[str] = None,
        overdue: Optional[bool] = None,
        order: str = "newest",
        page: int = 1,
        page_size: int = 20,
        now: Optional[datetime] = None,
        created_after: Optional[datetime] = None,
        created_before: Optional[datetime] = None,
        assignee_id: Optional[int] = None,
        unassigned: bool = False,
        escalated: bool = False,
    ) -> TicketPage:
        """One page of tickets for the officers' workspace.

        overdue=True: open and past due; overdue=False: everything else. order "newest"
        (created_at descending) or "most_overdue" (earliest due first). created_after /
        created_before bound the ticket's age (inclusive / exclusive). assignee_id: the
        tickets assigned to that account; unassigned: open tickets nobody is named for;
        escalated: open tickets that have escalated.
        """
        if order not in ("newest", "most_overdue"):
            raise InvalidTicketData(f"order must be 'newest' or 'most_overdue', not {order!r}")
        if page < 1 or not 1 <= page_size <= 200:
            raise InvalidTicketData("page starts at 1 and page_size is 1..200")
        conditions = self._conditions(
            department, status, ward, category, overdue, now, created_after, created_before,
            assignee_id, unassigned, escalated)
        ordering = (
            (Ticket.created_at.desc(), Ticket.id.desc()) if order == "newest"
            else (Ticket.due_at.asc(), Ticket.id.asc())
        )
        with self._read() as session:
            total = session.execute(select(func.count(Ticket.id)).where(*conditions)).scalar_one()
            rows = session.execute(
                select(Ticket).where(*conditions).order_by(*ordering)
                .limit(page_size).offset((page - 1) * page_size)
            ).scalars().all()
            return TicketPage(tuple(_record(t) for t in rows), total, page, page_size)

    def map_points(self, limit: int = 2000, now: Optional[datetime] = None,
                   **filters) -> List[MapPoint]:
        """Open tickets with a location pin under the list's filters, most overdue first."""
        now = _now(now)
        conditions = self._conditions(now=now, **filters) + [
            Ticket.status.in_(OPEN_STATUSES), Ticket.latitude.isnot(None), Ticket.longitude.isnot(None)]
        with self._read() as session:
            rows = session.execute(
                select(Ticket).where(*conditions).order_by(Ticket.due_at, Ticket.id).limit(limit)
            ).scalars().all()
            return [MapPoint(t.number, t.latitude, t.longitude, t.category, t.status, t.ward,
                             t.due_at < now, t.escalation_level) for t in rows]

    def ward_counts(self, now: Optional[datetime] = None, **filters) -> List[Tuple[int, int, int]]:
        """(ward, open, overdue) for every ward with open tickets under the list's filters."""
        now = _now(now)
        conditions = self._conditions(now=now, **filters) + [Ticket.status.in_(OPEN_STATUSES)]
        overdue = func.sum(case((Ticket.due_at < now, 1), else_=0))
        with self._read() as session:
            rows = session.execute(
                select(Ticket.ward, func.count(Ticket.id), overdue).where(*conditions)
                .group_by(Ticket.ward).order_by(Ticket.ward)
            ).all()
        return [(ward, count, int(late or 0)) for ward, count, late in rows]

    def escalated_counts(self, department: Optional[str] = None) -> Dict[str, Tuple[int, int]]:
        """Open tickets escalated now, per department: (at the head, at the commissioner)."""
        counts = {d: (0, 0) for d in self.city.departments if department in (None, d)}
        conditions = [Ticket.status.in_(OPEN_STATUSES), Ticket.escalation_level > 0]
        if department is not None:
            conditions.append(Ticket.department == department)
        with self._read() as session:
            rows = session.execute(
                select(Ticket.department, Ticket.escalation_level, func.count(Ticket.id))
                .where(*conditions).group_by(Ticket.department, Ticket.escalation_level)).all()
        for dept, level, count in rows:
            head, commissioner = counts.get(dept, (0, 0))
            counts[dept] = (head + count, commissioner) if level == 1 else (head, commissioner + count)
        return counts

    def _conditions(
        self, department=None, status=None, ward=None, category=None, overdue=None, now=None,
        created_after=None, created_before=None, assignee_id=None, unassigned=False,
        escalated=False,
    ) -> list:
        """The WHERE clauses of the workspace's filters (list, map, ward table)."""
        if status is not None and status not in STATUSES:
            raise InvalidTicketData(f"unknown status {status!r}")
        conditions = []
        if department is not None:
            conditions.append(Ticket.department == department)
        if status is not None:
            conditions.append(Ticket.status == status)
        if ward is not None:
            conditions.append(Ticket.ward == _ward(ward, self.city))
        if category is not None:
            conditions.append(Ticket.category == category)
        if created_after is not None:
            conditions.append(Ticket.created_at >= _now(created_after))
        if created_before is not None:
            conditions.append(Ticket.created_at < _now(created_before))
        if overdue is not None:
            is_overdue = _overdue_clause(_now(now))
            conditions.append(is_overdue if overdue else not_(is_overdue))
        if assignee_id is not None:
            conditions.append(Ticket.assignee_id == assignee_id)
        if unassigned:
            conditions.extend([Ticket.assignee_id.is_(None), Ticket.status.in_(OPEN_STATUSES)])
        if escalated:
            conditions.extend([Ticket.escalation_level > 0, Ticket.status.in_(OPEN_STATUSES)])
        return conditions

    def overdue_counts(self, now: Optional[datetime] = None) -> Dict[str, int]:
        """Open, past-due tickets per department (every configured department, zeros included)."""
        counts = {department: 0 for department in self.city.departments}
        with self._read() as session:
            rows = session.execute(
                select(Ticket.department, func.count(Ticket.id))
                .where(_overdue_clause(_now(now))).group_by(Ticket.department)
            ).all()
        counts.update({department: count for department, count in rows})
        return counts

    # -- lookups --------------------------------------------------------------------------

    def get(self, number: str) -> Optional[TicketRecord]:
        with self._read() as session:
            ticket = _by_number(session, number)
            return _record(ticket) if ticket is not None else None

    def status_view(self, number: str) -> Optional[PublicStatus]:
        """The status of any number, safe to show to someone who is not its owner."""
        with self._read() as session:
            t = _by_number(session, number)
            if t is None:
                return None
            return PublicStatus(t.number, t.category, t.department, t.status, t.updated_at, t.due_at)

    def recent_for_citizen(self, citizen_id: str, limit: int = 5) -> List[TicketRecord]:
        """The citizen's latest tickets, newest first."""
        with self._read() as session:
            rows = session.execute(
                select(Ticket).where(Ticket.citizen_id == citizen_id)
                .order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit)
            ).scalars().all()
            return [_record(t) for t in rows]

    def history(self, number: str) -> List[TicketEventRecord]:
        """The ticket's events, oldest first."""
        with self._read() as session:
            ticket = _by_number(session, number)
            if ticket is None:
                raise TicketNotFound(number)
            rows = session.execute(
                select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)
            ).scalars().all()
            return [TicketEventRecord(e.status, e.at, e.actor, e.remark, e.kind, e.assignee_id)
                    for e in rows]

    # -- internals ------------------------------------------------------------------------

    def _change(self, number, new_status, actor, remark, now, owner, on_change=None) -> TicketRecord:
        if new_status not in STATUSES:
            raise InvalidTicketData(f"unknown status {new_status!r}")
        now = _now(now)
        window = timedelta(days=self.city.reopen_window_days)
        try:
            with self._unit() as session:
                ticket = _load_for_update(session, number)
                if owner is not None and ticket.citizen_id != owner:
                    raise NotTicketOwner(f"{number} belongs to another citizen")
                current = ticket.status
                if new_status not in TRANSITIONS[current]:
                    raise TransitionNotAllowed(number, current, new_status, "not a next status")
                if new_status == REJECTED and not (remark or "").strip():
                    raise TransitionNotAllowed(number, current, new_status, "a reason is required")
                if new_status == REOPENED:
                    if ticket.resolved_at is None or now - ticket.resolved_at > window:
                        raise ReopenWindowExpired(number, current, new_status,
                                                  f"resolved more than {window.days} days ago")
                    other = _open_duplicate(session, ticket.citizen_id, ticket.category, ticket.ward)
                    if other is not None:
                        raise OpenTicketExists(number, current, other.number)
                ticket.status = new_status
                ticket.updated_at = now
                if new_status == RESOLVED:
                    ticket.resolved_at = now
                session.add(TicketEvent(ticket_id=ticket.id, status=new_status, at=now,
                                        actor=actor, remark=remark))
                session.flush()
                if on_change is not None:
                    on_change(session, ticket)
                return _record(ticket)
        except IntegrityError:
            # Only a reopen can collide (with a complaint registered in the same instant).
            with self._unit() as session:
                current = _by_number(session, number)
                other = (None if current is None
                         else _open_duplicate(session, current.citizen_id, current.category, current.ward))
            if current is None or other is None or other.number == number:
                raise
            raise OpenTicketExists(number, current.status, other.number) from None

    def _start_of_local_day(self, now: datetime) -> datetime:
        local = now.astimezone(ZoneInfo(self.city.timezone))
        return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(timezone.utc)


def _now(now: Optional[datetime]) -> datetime:
    if now is None:
        return datetime.now(timezone.utc)
    if now.tzinfo is None:
        raise InvalidTicketData("now must be timezone-aware")
    return now.astimezone(timezone.utc)


def _ward(ward: Union[int, str], city: City) -> int:
    try:
        number = int(str(ward).strip())
    except ValueError:
        raise InvalidTicketData(f"ward must be a number, not {ward!r}") from None
    if not city.valid_ward(number):
        raise InvalidTicketData(f"ward {number} is outside 1..{city.wards}")
    return number


def _check_coordinates(latitude, longitude) -> None:
    if (latitude is None) != (longitude is None):
        raise InvalidTicketData("give both latitude and longitude, or neither")
    if latitude is not None and not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise InvalidTicketData("latitude/longitude out of range")


def _overdue_clause(now: datetime):
    return and_(Ticket.status.in_(OPEN_STATUSES), Ticket.due_at < now)


def _by_number(session: Session, number: str) -> Optional[Ticket]:
    return session.execute(select(Ticket).where(Ticket.number == number)).scalar_one_or_none()


def _load_for_update(session: Session, number: str) -> Ticket:
    # FOR UPDATE serialises concurrent changes to one ticket on PostgreSQL; SQLite's
    # BEGIN IMMEDIATE already does, and SQLAlchemy leaves the clause out there.
    ticket = session.execute(
        select(Ticket).where(Ticket.number == number).with_for_update()
    ).scalar_one_or_none()
    if ticket is None:
        raise TicketNotFound(number)
    return ticket


def _open_duplicate(session: Session, citizen_id: str, category: str, ward: int) -> Optional[Ticket]:
    return session.execute(
        select(Ticket).where(
            Ticket.citizen_id == citizen_id, Ticket.category == category,
            Ticket.ward == ward, Ticket.status.in_(OPEN_STATUSES),
        )
    ).scalars().first()


def _record(t: Ticket) -> TicketRecord:
    return TicketRecord(
        number=t.number, category=t.category, department=t.department, ward=t.ward,
        location_text=t.location_text, latitude=t.latitude, longitude=t.longitude,
        description=t.description, photo_media_ids=tuple(t.photo_media_ids or ()),
        citizen_id=t.citizen_id, language=t.language, status=t.status,
        created_at=t.created_at, updated_at=t.updated_at, due_at=t.due_at,
        rating=t.rating, resolved_at=t.resolved_at, assignee_id=t.assignee_id,
        escalation_level=t.escalation_level or 0, escalated_at=t.escalated_at,
        resolution_media_id=t.resolution_media_id,
    )


# tickets.assignee_id refers to officers.id: the ORM resolves that table whenever it orders a
# flush, so it must be on `metadata` wherever tickets are written (defined last: it imports
# Base and UTCDateTime from here).
import civic.officers  # noqa: E402,F401
