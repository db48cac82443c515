"""Retention: forget old conversations and the personal details of old, finished tickets.

    python scripts/retention.py                 # RETENTION_DAYS (default 365)
    python scripts/retention.py --days 180 --dry-run

Conversations: events of Rasa's SQL tracker store (TRACKER_STORE_URL, or --tracker-url)
older than N days are deleted. A conversation whose newest event is older goes whole;
otherwise only events before its latest session start go, so a session in progress is
never cut. (Redis or in-memory tracker stores expire by themselves or on restart.)

Tickets (DATABASE_URL, or --database-url): a ticket closed or rejected more than N days
ago (its last change, `updated_at`, is older than N days) keeps its statistics — number,
category, department, ward, status, timestamps, rating — while the personal fields are
blanked: citizen_id becomes a one-way hash ("anon:" + SHA-256, salted with
RETENTION_HASH_SALT when set, so one citizen's tickets still count together),
description and location_text become "[removed]", photo ids become ["[removed]"] (or []),
latitude/longitude are cleared. The notification outbox rows of those tickets get the same
hash. Running it again changes nothing more. The append-only ticket history (ticket_events)
holds only statuses, officers' remarks and the citizen's reopen remark, and is kept.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import List, Optional

from sqlalchemy import and_, create_engine, or_, select, text, update
from sqlalchemy.engine import Engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from civic.db import create_engine_for  # noqa: E402 - after the path set-up above
from civic.tickets import CLOSED, REJECTED, Ticket  # noqa: E402

DEFAULT_DAYS = 365
REMOVED = "[removed]"
HASH_PREFIX = "anon:"
FINISHED = (CLOSED, REJECTED)


@dataclass
class Report:
    conversations_deleted: int = 0
    events_deleted: int = 0
    tickets_anonymised: int = 0

    def __str__(self) -> str:
        return (f"{self.events_deleted} tracker events deleted ({self.conversations_deleted} whole "
                f"conversations); {self.tickets_anonymised} tickets anonymised")


def citizen_hash(citizen_id: str, salt: Optional[str] = None) -> str:
    """A stable, one-way stand-in for a citizen id (fits the 64-character column)."""
    if citizen_id.startswith(HASH_PREFIX):
        return citizen_id
    salt = os.environ.get("RETENTION_HASH_SALT", "") if salt is None else salt
    return HASH_PREFIX + hashlib.sha256((salt + citizen_id).encode("utf-8")).hexdigest()[:48]


def purge_conversations(engine: Engine, cutoff: datetime, dry_run: bool = False) -> Report:
    """Delete tracker-store events older than cutoff (see the module docstring)."""
    report = Report()
    stamp = cutoff.timestamp()
    old_conversation = ("sender_id IN (SELECT sender_id FROM (SELECT sender_id FROM events"
                        " GROUP BY sender_id HAVING max(timestamp) < :cutoff) o)")
    before_latest_session = (
        "timestamp < :cutoff AND id < (SELECT coalesce(max(s.id), 0) FROM events s"
        " WHERE s.sender_id = events.sender_id AND s.type_name = 'session_started')")
    condition = f"({old_conversation}) OR ({before_latest_session})"
    with engine.begin() as connection:
        report.conversations_deleted = connection.execute(text(
            "SELECT count(*) FROM (SELECT sender_id FROM events GROUP BY sender_id"
            " HAVING max(timestamp) < :cutoff) o"), {"cutoff": stamp}).scalar_one()
        report.events_deleted = connection.execute(
            text(f"SELECT count(*) FROM events WHERE {condition}"), {"cutoff": stamp}).scalar_one()
        if not dry_run:
            connection.execute(text(f"DELETE FROM events WHERE {condition}"), {"cutoff": stamp})
    return report


def anonymise_tickets(engine: Engine, cutoff: datetime, dry_run: bool = False,
                      salt: Optional[str] = None) -> Report:
    """Blank the personal fields of tickets finished before cutoff (see the module docstring)."""
    report = Report()
    tickets = Ticket.__table__
    with engine.begin() as connection:
        rows = connection.execute(
            select(tickets.c.id, tickets.c.citizen_id, tickets.c.photo_media_ids).where(
                tickets.c.status.in_(FINISHED),
                tickets.c.updated_at < cutoff,  # UTCDateTime converts per backend
                or_(~tickets.c.citizen_id.startswith(HASH_PREFIX),
                    tickets.c.description != REMOVED),
            )).all()
        report.tickets_anonymised = len(rows)
        if dry_run:
            return report
        outbox = _outbox_table(connection)
        for ticket_id, citizen_id, photos in rows:
            hashed = citizen_hash(citizen_id, salt)
            connection.execute(update(tickets).where(tickets.c.id == ticket_id).values(
                citizen_id=hashed, description=REMOVED, location_text=REMOVED,
                photo_media_ids=[REMOVED] if photos else [], latitude=None, longitude=None))
            if outbox is not None:
                connection.execute(update(outbox).where(and_(
                    outbox.c.ticket_id == ticket_id)).values(citizen_id=hashed))
    return report


def _outbox_table(connection):
    from sqlalchemy import MetaData, Table, inspect

    if not inspect(connection).has_table("notification_outbox"):
        return None
    return Table("notification_outbox", MetaData(), autoload_with=connection)


def run(days: int, tracker_url: Optional[str], database_url: Optional[str],
        dry_run: bool = False, now: Optional[datetime] = None) -> Report:
    cutoff = (now or datetime.now(timezone.utc)) - timedelta(days=days)
    report = Report()
    if tracker_url:
        engine = create_engine(tracker_url, future=True)
        try:
            found = purge_conversations(engine, cutoff, dry_run)
        finally:
            engine.dispose()
        report.conversations_deleted, report.events_deleted = found.conversations_deleted, found.events_deleted
    if database_url:
        engine = create_engine_for(database_url)
        try:
            report.tickets_anonymised = anonymise_tickets(engine, cutoff, dry_run).tickets_anonymised
        finally:
            engine.dispose()
    return report


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int,
                        default=int(os.environ.get("RETENTION_DAYS") or DEFAULT_DAYS))
    parser.add_argument("--tracker-url", default=os.environ.get("TRACKER_STORE_URL"),
                        help="SQL tracker store URL (default env TRACKER_STORE_URL; none: skipped)")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or "sqlite:///tickets.db",
                        help="tickets database (default env DATABASE_URL)")
    parser.add_argument("--dry-run", action="store_true", help="count, change nothing")
    args = parser.parse_args(argv)
    if args.days < 1:
        parser.error("--days must be at least 1")
    started = time.monotonic()
    report = run(args.days, args.tracker_url, args.database_url, args.dry_run)
    prefix = "dry run: would have " if args.dry_run else ""
    print(f"{prefix}{report} (older than {args.days} days, {time.monotonic() - started:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
