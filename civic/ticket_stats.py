"""Figures for the officers' dashboard: complaints per category, ward and day, resolution times."""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Dict, List, Optional, Tuple
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from civic.city import City, get_city
from civic.db import get_session_factory, session_scope
from civic.tickets import Ticket, TicketRepository, _now


@dataclass(frozen=True)
class Dashboard:
    since: datetime
    total: int
    per_category: Dict[str, int]          # every configured category (of the department)
    per_ward: Dict[int, int]              # wards with at least one complaint
    per_day: List[Tuple[date, int]]       # every local day of the period, oldest first
    median_resolution_hours: Dict[str, Optional[float]]  # None: nothing resolved yet
    overdue: Dict[str, int]               # open and past due now, per department


def dashboard(
    session_factory: Optional[sessionmaker] = None, city: Optional[City] = None,
    department: Optional[str] = None, days: int = 30, now: Optional[datetime] = None,
) -> Dashboard:
    """Complaints registered in the last `days` days; department=None: the whole city."""
    city = city or get_city()
    now = _now(now)
    zone = ZoneInfo(city.timezone)
    first_day = (now.astimezone(zone) - timedelta(days=days - 1)).date()
    since = datetime.combine(first_day, datetime.min.time(), zone)
    departments = [department] if department else list(city.departments)
    in_scope = [Ticket.created_at >= since, Ticket.department.in_(departments)]

    with session_scope(session_factory or get_session_factory()) as session:
        by_category = dict(session.execute(
            select(Ticket.category, func.count(Ticket.id)).where(*in_scope).group_by(Ticket.category)
        ).all())
        by_ward = dict(session.execute(
            select(Ticket.ward, func.count(Ticket.id)).where(*in_scope).group_by(Ticket.ward)
        ).all())
        # Bucketed by the city's calendar day in Python: portable across SQLite and PostgreSQL.
        created = session.execute(select(Ticket.created_at).where(*in_scope)).scalars().all()
        resolved = session.execute(
            select(Ticket.department, Ticket.created_at, Ticket.resolved_at)
            .where(*in_scope, Ticket.resolved_at.is_not(None))
        ).all()

    per_day_counts: Dict[date, int] = {}
    for at in created:
        day = at.astimezone(zone).date()
        per_day_counts[day] = per_day_counts.get(day, 0) + 1
    per_day = [(first_day + timedelta(days=i), per_day_counts.get(first_day + timedelta(days=i), 0))
               for i in range(days)]

    hours: Dict[str, List[float]] = {d: [] for d in departments}
    for dept, created_at, resolved_at in resolved:
        hours[dept].append((resolved_at - created_at).total_seconds() / 3600)
    medians = {d: (round(statistics.median(h), 1) if h else None) for d, h in hours.items()}

    categories = [key for key, spec in city.categories.items() if spec.department in departments]
    overdue = TicketRepository(session_factory, city).overdue_counts(now)
    return Dashboard(
        since=since,
        total=len(created),
        per_category={key: by_category.get(key, 0) for key in categories},
        per_ward=dict(sorted(by_ward.items())),
        per_day=per_day,
        median_resolution_hours=medians,
        overdue={d: overdue.get(d, 0) for d in departments},
    )
