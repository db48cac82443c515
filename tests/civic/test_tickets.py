"""The tickets core on SQLite and PostgreSQL: rules, history, concurrency, outages, migrations."""
from __future__ import annotations

import dataclasses
import itertools
import json
import re
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import event, inspect, select, text
from sqlalchemy.exc import DBAPIError

import civic.notifications  # noqa: F401  (its tables are on `metadata` too, as migrations have them)
import civic.officers  # noqa: F401
import civic.workflow  # noqa: F401
from civic.db import StorageUnavailable, create_engine_for, make_session_factory, migrate
from civic.tickets import (
    MAX_DESCRIPTION_CHARS,
    CreateOutcome,
    InvalidTicketData,
    NotTicketOwner,
    OpenTicketExists,
    PublicStatus,
    RatingNotAllowed,
    ReopenWindowExpired,
    TicketEventRecord,
    TicketNotFound,
    TicketRepository,
    TransitionNotAllowed,
    metadata,
    remark_for_status,
)

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2024, 6, 3, 6, 0, tzinfo=timezone.utc)  # 11:30 in Saharanpur
CITIZEN = "919876543210"


def new(repo, citizen=CITIZEN, category="street_light", ward=23, now=T0, **extra):
    values = dict(location_text="Near Ghanta Ghar", description="Light not working",
                  language="en", now=now)
    values.update(extra)
    return repo.create_ticket(citizen, category, ward, **values)


def walk(repo, number, *statuses, now=T0, remark=None):
    record = None
    for status in statuses:
        record = repo.change_status(number, status, "officer:verma", remark, now=now)
    return record


def count_rows(engine, table):
    with engine.connect() as connection:
        return connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()


# --- creating ------------------------------------------------------------------------------


# Saharanpur's complaint categories, their department and the hours the corporation promises
# (its citizen charter as the city gave it to us), written here by hand: a changed city.yml
# must fail this table, not agree with itself.
CHARTER = [
    ("street_light", "street_lighting", 72),
    ("drinking_water", "water_works", 24),
    ("water_leakage", "water_works", 48),
    ("sewer", "water_works", 48),
    ("sanitation", "sanitation", 24),
    ("construction", "construction", 168),
    ("house_tax", "tax", 120),
]


@pytest.mark.parametrize("category, department, sla_hours", CHARTER)
def test_create_routes_to_department_and_sets_due_time(repo, category, department, sla_hours):
    result = new(repo, category=category, ward="7", latitude=29.96, longitude=77.55,
                 photo_media_ids=["media-1", "media-2"])
    assert result.created and result.outcome is CreateOutcome.CREATED
    ticket = result.ticket
    assert re.fullmatch(r"SRN-\d{6}", ticket.number)
    assert (ticket.department, ticket.status, ticket.ward) == (department, "registered", 7)
    assert ticket.due_at == T0 + timedelta(hours=sla_hours)
    assert ticket.created_at == ticket.updated_at == T0
    assert ticket.created_at.tzinfo is not None
    assert repo.get(ticket.number) == ticket  # what is stored is what was returned
    assert ticket.photo_media_ids == ("media-1", "media-2")
    assert (ticket.latitude, ticket.longitude) == (29.96, 77.55)
    assert [e.status for e in repo.history(ticket.number)] == ["registered"]


@pytest.mark.parametrize("change, message", [
    ({"citizen": ""}, "citizen_id is required"),
    ({"citizen": 919876543210}, "citizen_id is required"),
    ({"category": "electricity_bill"}, "unknown category 'electricity_bill'"),
    ({"ward": "teis"}, "ward must be a number, not 'teis'"),
    ({"ward": 0}, "ward 0 is outside 1..70"),
    ({"ward": 71}, "ward 71 is outside 1..70"),
    ({"language": "fr"}, "language must be one of .*, not 'fr'"),
    ({"location_text": None}, "location_text and description must be text"),
    ({"description": 5}, "location_text and description must be text"),
    ({"latitude": 29.9}, "give both latitude and longitude, or neither"),
    ({"longitude": 77.5}, "give both latitude and longitude, or neither"),
    ({"latitude": 90.0001, "longitude": 0}, "latitude/longitude out of range"),
    ({"latitude": -90.0001, "longitude": 0}, "latitude/longitude out of range"),
    ({"latitude": 0, "longitude": 180.0001}, "latitude/longitude out of range"),
    ({"latitude": 0, "longitude": -180.0001}, "latitude/longitude out of range"),
    ({"latitude": 29.9, "longitude": 200}, "latitude/longitude out of range"),
])
def test_each_invalid_complaint_is_refused_with_its_reason(repo, change, message):
    with pytest.raises(InvalidTicketData, match=f"^{message}$"):
        new(repo, **change)
    assert repo.list_tickets().total == 0


@pytest.mark.parametrize("latitude, longitude", [(90, 180), (-90, -180), (0, 0)])
def test_coordinates_at_the_poles_and_the_date_line_are_accepted(repo, latitude, longitude):
    ticket = new(repo, latitude=latitude, longitude=longitude).ticket
    assert (ticket.latitude, ticket.longitude) == (latitude, longitude)


def test_the_record_of_a_new_ticket_carries_what_was_registered(repo):
    ticket = new(repo, category="sewer", ward=12, language="hinglish").ticket
    assert (ticket.category, ticket.department, ticket.language, ticket.citizen_id) == (
        "sewer", "water_works", "hinglish", CITIZEN)
    assert (ticket.escalation_level, ticket.escalated_at, ticket.assignee_id) == (0, None, None)
    assert (ticket.rating, ticket.resolved_at, ticket.resolution_media_id) == (None, None, None)


def test_a_ticket_made_at_local_midnight_counts_for_that_day(engine, city):
    repo = TicketRepository(make_session_factory(engine),
                            city=dataclasses.replace(city, max_tickets_per_citizen_per_day=1))
    midnight_in_india = datetime(2024, 6, 2, 18, 30, tzinfo=timezone.utc)  # 00:00 on 3 June, IST
    assert new(repo, ward=9, now=midnight_in_india - timedelta(microseconds=1)).created  # 2 June
    assert new(repo, ward=1, now=midnight_in_india).created
    assert new(repo, ward=2, now=T0).limit_reached  # 11:30 the same day


def test_numbers_follow_the_sequence(repo):
    numbers = [new(repo, ward=w).ticket.number for w in (1, 2, 3)]
    assert numbers == ["SRN-000001", "SRN-000002", "SRN-000003"]


def test_invalid_input_is_refused(repo):
    with pytest.raises(InvalidTicketData):
        new(repo, category="electricity_bill")
    with pytest.raises(InvalidTicketData):
        new(repo, ward=71)
    with pytest.raises(InvalidTicketData):
        new(repo, ward="teis")
    with pytest.raises(InvalidTicketData):
        new(repo, language="fr")
    with pytest.raises(InvalidTicketData):
        new(repo, latitude=29.9)
    with pytest.raises(InvalidTicketData):
        new(repo, now=datetime(2024, 6, 3, 6, 0))  # naive


def test_same_open_complaint_is_a_duplicate(repo):
    first = new(repo).ticket
    again = new(repo, description="still dark", now=T0 + timedelta(hours=5))
    assert again.duplicate and again.ticket.number == first.number
    assert again.ticket.description == "Light not working"  # the existing ticket, unchanged
    assert new(repo, ward=24).created  # another ward
    assert new(repo, category="sewer").created  # another category
    assert new(repo, citizen="919800000001").created  # another citizen
    walk(repo, first.number, "assigned", "in_progress", "resolved")
    assert new(repo).created  # the first is no longer open


def test_the_database_itself_refuses_a_second_open_ticket(repo, engine):
    ticket = new(repo).ticket
    with pytest.raises(DBAPIError):  # even a writer that skips the repository's check
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO tickets (number, category, department, ward, location_text, "
                     "description, photo_media_ids, citizen_id, language, status, created_at, "
                     "updated_at, due_at) SELECT 'SRN-999999', category, department, ward, "
                     "location_text, description, photo_media_ids, citizen_id, language, "
                     "'assigned', created_at, updated_at, due_at FROM tickets WHERE number = :n"),
                {"n": ticket.number},
            )


def test_daily_limit_counts_the_citizens_local_day(engine, city):
    repo = TicketRepository(make_session_factory(engine),
                            city=dataclasses.replace(city, max_tickets_per_citizen_per_day=3))
    # 18:00 UTC is 23:30 in India: the day before the three below.
    assert new(repo, ward=1, now=datetime(2024, 6, 2, 18, 0, tzinfo=timezone.utc)).created
    for ward in (2, 3, 4):
        assert new(repo, ward=ward).created
    refused = new(repo, ward=5)
    assert refused.limit_reached and refused.ticket is None
    assert new(repo, ward=2).duplicate  # a duplicate is still answered at the limit
    assert new(repo, ward=5, citizen="919800000001").created  # others are not limited
    assert new(repo, ward=5, now=T0 + timedelta(days=1)).created  # the next day


def test_long_description_is_cut_and_says_so(repo):
    result = new(repo, description="ड" * 1500)
    assert result.description_truncated
    assert result.ticket.description == "ड" * MAX_DESCRIPTION_CHARS
    exact = new(repo, ward=2, description="x" * MAX_DESCRIPTION_CHARS)
    assert not exact.description_truncated
    assert len(repo.get(exact.ticket.number).description) == MAX_DESCRIPTION_CHARS


def test_text_is_stored_exactly_as_typed(repo):
    location = "गली नं. ३, \"शिव मंदिर\" के पास 🙏 — O'Brien's shop\\n"
    description = "नाली बंद है 😡💩 पानी सड़क पर 👨‍👩‍👧 🇮🇳\n'; DROP TABLE tickets; --  \t"
    ticket = new(repo, location_text=location, description=description, language="hi",
                 photo_media_ids=["wamid.HBgM==", "फोटो"]).ticket
    stored = repo.get(ticket.number)
    assert stored.location_text == location
    assert stored.description == description
    assert stored.photo_media_ids == ("wamid.HBgM==", "फोटो")


# --- status changes and history ------------------------------------------------------------


def test_the_whole_lifecycle_is_allowed(repo):
    number = new(repo).ticket.number
    later = T0 + timedelta(hours=3)
    record = walk(repo, number, "assigned", "in_progress", "resolved", "closed", now=later)
    assert record.status == "closed"
    assert record.resolved_at == later and record.updated_at == later
    assert [e.status for e in repo.history(number)] == [
        "registered", "assigned", "in_progress", "resolved", "closed"]


# The ticket lifecycle as DESIGN.md states it, written by hand: every status change not listed
# here must be refused.
LIFECYCLE = {
    "registered": {"assigned", "rejected"},
    "assigned": {"in_progress", "rejected"},
    "in_progress": {"resolved", "rejected"},
    "resolved": {"closed", "reopened"},
    "reopened": {"assigned", "in_progress"},
    "closed": set(),
    "rejected": set(),
}
CITIZENS = itertools.count(1)
# How a new ticket gets to each status.
ROUTE = {
    "registered": (), "assigned": ("assigned",), "in_progress": ("assigned", "in_progress"),
    "resolved": ("assigned", "in_progress", "resolved"),
    "closed": ("assigned", "in_progress", "resolved", "closed"),
    "rejected": ("rejected",), "reopened": ("assigned", "in_progress", "resolved", "reopened"),
}


def at_status(repo, status):
    # a citizen of its own per ticket: a second open complaint would be the first one again
    number = new(repo, citizen=f"9198{next(CITIZENS):08d}").ticket.number
    walk(repo, number, *ROUTE[status], remark="on the way")
    assert repo.get(number).status == status
    return number


@pytest.mark.parametrize("current", sorted(LIFECYCLE))
def test_every_status_change_outside_the_lifecycle_is_refused(repo, current):
    """All seven next statuses tried from each status: the allowed ones happen, the others are
    refused and leave no history."""
    wrong, number = [], None
    for requested in sorted(LIFECYCLE):
        if number is None:  # a refused change leaves the ticket as it was: tried again
            number = at_status(repo, current)
        events = len(repo.history(number))
        try:
            repo.change_status(number, requested, "officer:verma", "trying", now=T0)
        except TransitionNotAllowed as refusal:
            assert (refusal.number, refusal.current, refusal.requested) == (number, current, requested)
            assert len(repo.history(number)) == events  # nothing recorded for a refusal
            assert repo.get(number).status == current
            if requested in LIFECYCLE[current]:
                wrong.append(f"{current} -> {requested} refused")
        else:
            assert repo.get(number).status == requested
            if requested not in LIFECYCLE[current]:
                wrong.append(f"{current} -> {requested} allowed")
            number = None  # it moved on: a new ticket for the next change
    assert wrong == []


def test_rejecting_needs_a_reason_and_is_final(repo):
    number = new(repo).ticket.number
    with pytest.raises(TransitionNotAllowed):
        repo.change_status(number, "rejected", "officer:verma")
    with pytest.raises(TransitionNotAllowed):
        repo.change_status(number, "rejected", "officer:verma", "   ")
    record = repo.change_status(number, "rejected", "officer:verma", "private property")
    assert record.status == "rejected" and not record.is_open
    assert repo.history(number)[-1].remark == "private property"
    with pytest.raises(TransitionNotAllowed):
        repo.change_status(number, "assigned", "officer:verma")


def test_unknown_numbers_and_statuses(repo):
    with pytest.raises(TicketNotFound):
        repo.change_status("SRN-123456", "assigned", "officer:verma")
    with pytest.raises(TicketNotFound):
        repo.history("SRN-123456")
    assert repo.get("SRN-123456") is None and repo.status_view("SRN-123456") is None
    number = new(repo).ticket.number
    with pytest.raises(InvalidTicketData):
        repo.change_status(number, "done", "officer:verma")


def test_history_is_append_only(repo, engine):
    number = new(repo).ticket.number
    walk(repo, number, "assigned", "in_progress", remark="team sent")
    events = repo.history(number)
    assert [(e.status, e.actor, e.remark) for e in events] == [
        ("registered", "citizen", None), ("assigned", "officer:verma", "team sent"),
        ("in_progress", "officer:verma", "team sent")]
    for statement in ("UPDATE ticket_events SET remark = 'edited'", "DELETE FROM ticket_events"):
        with pytest.raises(DBAPIError, match="append-only"):
            with engine.begin() as connection:
                connection.execute(text(statement))
    assert repo.history(number) == events


# --- citizens: rating and reopening --------------------------------------------------------


def test_rating(repo):
    number = new(repo).ticket.number
    with pytest.raises(RatingNotAllowed):
        repo.rate(number, CITIZEN, 5)
    walk(repo, number, "assigned", "in_progress", "resolved")
    for stars in (0, 6, True, 4.5):
        with pytest.raises(InvalidTicketData):
            repo.rate(number, CITIZEN, stars)
    with pytest.raises(NotTicketOwner):
        repo.rate(number, "919800000001", 5)
    assert repo.rate(number, CITIZEN, 4).rating == 4
    repo.change_status(number, "closed", "officer:verma")
    assert repo.rate(number, CITIZEN, 2).rating == 2
    assert [(e.status, e.remark) for e in repo.history(number)][-3:] == [
        ("resolved", "rating: 4"), ("closed", None), ("closed", "rating: 2")]


def test_reopen_within_the_window_only(repo):
    number = new(repo).ticket.number
    walk(repo, number, "assigned", "in_progress", "resolved", now=T0)
    with pytest.raises(NotTicketOwner):
        repo.reopen(number, "919800000001", "not fixed", now=T0 + timedelta(days=1))
    record = repo.reopen(number, CITIZEN, "अभी भी अंधेरा है", now=T0 + timedelta(days=6))
    assert record.status == "reopened" and record.is_open
    assert repo.history(number)[-1].actor == "citizen"
    assert new(repo, now=T0 + timedelta(days=6)).duplicate  # open again
    # back into the work cycle, resolved again, and the window restarts from then
    resolved_again = T0 + timedelta(days=7)
    walk(repo, number, "assigned", "in_progress", "resolved", now=resolved_again)
    with pytest.raises(ReopenWindowExpired):
        repo.reopen(number, CITIZEN, "still dark",
                    now=resolved_again + timedelta(days=7, seconds=1))
    assert repo.reopen(number, CITIZEN, None, now=resolved_again + timedelta(days=7)).status == "reopened"


def test_reopen_refused_when_a_newer_complaint_is_open(repo):
    first = new(repo).ticket.number
    walk(repo, first, "assigned", "in_progress", "resolved")
    second = new(repo, now=T0 + timedelta(hours=1)).ticket.number
    with pytest.raises(OpenTicketExists) as info:
        repo.reopen(first, CITIZEN, "not fixed", now=T0 + timedelta(hours=2))
    assert info.value.existing_number == second
    assert repo.get(first).status == "resolved"


def test_refusals_say_which_ticket_which_change_and_why(repo):
    number = new(repo).ticket.number
    with pytest.raises(TransitionNotAllowed) as info:
        repo.change_status(number, "closed", "officer:verma", "done", now=T0)
    assert (info.value.number, info.value.current, info.value.requested, info.value.reason) == (
        number, "registered", "closed", "not a next status")
    assert str(info.value) == f"{number}: registered -> closed not allowed: not a next status"
    with pytest.raises(TransitionNotAllowed) as info:
        repo.change_status(number, "rejected", "officer:verma", " ", now=T0)
    assert (info.value.number, info.value.current, info.value.requested, info.value.reason) == (
        number, "registered", "rejected", "a reason is required")
    with pytest.raises(InvalidTicketData, match="unknown status 'done'"):
        repo.change_status(number, "done", "officer:verma", now=T0)
    with pytest.raises(InvalidTicketData, match="actor"):
        repo.change_status(number, "assigned", "", now=T0)
    with pytest.raises(NotTicketOwner, match=number):
        repo.reopen(number, "919800000001", "mine", now=T0)
    assert [e.status for e in repo.history(number)] == ["registered"]


def test_the_reopen_window_counts_from_the_resolution(repo):
    number = new(repo).ticket.number
    walk(repo, number, "assigned", now=T0)
    walk(repo, number, "in_progress", now=T0 + timedelta(hours=1))
    resolved = walk(repo, number, "resolved", now=T0 + timedelta(days=2))
    assert resolved.resolved_at == T0 + timedelta(days=2)
    assert repo.get(number).resolved_at == T0 + timedelta(days=2)
    with pytest.raises(ReopenWindowExpired) as info:
        repo.reopen(number, CITIZEN, "late", now=T0 + timedelta(days=9, seconds=1))
    assert (info.value.number, info.value.current, info.value.requested, info.value.reason) == (
        number, "resolved", "reopened", "resolved more than 7 days ago")
    assert repo.reopen(number, CITIZEN, "still dark", now=T0 + timedelta(days=9)).status == "reopened"


def test_a_reopen_refused_for_an_open_duplicate_names_both_tickets(repo):
    first = new(repo).ticket.number
    walk(repo, first, "assigned", "in_progress", "resolved")
    other_ward = new(repo, ward=24, now=T0 + timedelta(minutes=30)).ticket.number
    other_category = new(repo, category="sewer", now=T0 + timedelta(minutes=40)).ticket.number
    other_citizen = new(repo, citizen="919800000001", now=T0 + timedelta(minutes=50)).ticket.number
    assert len({first, other_ward, other_category, other_citizen}) == 4
    second = new(repo, now=T0 + timedelta(hours=1)).ticket.number
    with pytest.raises(OpenTicketExists) as info:
        repo.reopen(first, CITIZEN, "not fixed", now=T0 + timedelta(hours=2))
    assert (info.value.number, info.value.current, info.value.requested, info.value.reason) == (
        first, "resolved", "reopened", f"open ticket {second} exists")
    walk(repo, second, "rejected", remark="the same as " + first)
    # open tickets of another ward, category or citizen are no reason to refuse
    assert repo.reopen(first, CITIZEN, "not fixed", now=T0 + timedelta(hours=3)).status == "reopened"


def test_on_change_runs_inside_the_change_with_the_changed_ticket(repo):
    number = new(repo).ticket.number
    seen = []

    def hook(session, ticket):
        seen.append((ticket.number, ticket.status, session.in_transaction()))

    repo.change_status(number, "assigned", "officer:verma", now=T0, on_change=hook)
    assert seen == [(number, "assigned", True)]

    def broken(session, ticket):
        raise RuntimeError("the notification could not be written")

    with pytest.raises(RuntimeError):
        repo.change_status(number, "in_progress", "officer:verma", now=T0, on_change=broken)
    assert repo.get(number).status == "assigned"  # rolled back with it
    assert [e.status for e in repo.history(number)] == ["registered", "assigned"]


def test_the_owner_adds_notes_and_photos_to_an_open_ticket_only(repo):
    number = new(repo, photo_media_ids=["m1"]).ticket.number
    record = repo.add_from_citizen(number, CITIZEN, "  ab to pole bhi gir gaya  ", ["m2", "m3"],
                                   now=T0 + timedelta(hours=3))
    assert record.photo_media_ids == ("m1", "m2", "m3") and record.status == "registered"
    assert record.updated_at == T0 + timedelta(hours=3)
    last = repo.history(number)[-1]
    assert (last.actor, last.status, last.remark) == ("citizen", "registered", "ab to pole bhi gir gaya · +2 photo")
    assert repo.add_from_citizen(number, CITIZEN, None, ["m4"]).photo_media_ids[-1] == "m4"
    with pytest.raises(InvalidTicketData):
        repo.add_from_citizen(number, CITIZEN, "   ", [])
    with pytest.raises(NotTicketOwner):
        repo.add_from_citizen(number, "919800000001", "mine now", [])
    walk(repo, number, "assigned", "in_progress", "resolved")
    with pytest.raises(TransitionNotAllowed):
        repo.add_from_citizen(number, CITIZEN, "one more", [])
    with pytest.raises(TicketNotFound):
        repo.add_from_citizen("SRN-999999", CITIZEN, "?", [])


def test_the_open_ticket_a_new_complaint_would_repeat(repo):
    number = new(repo, category="sewer", ward=31).ticket.number
    assert repo.open_ticket_for(CITIZEN, "sewer", "31").number == number
    assert repo.open_ticket_for(CITIZEN, "sewer", 30) is None
    assert repo.open_ticket_for(CITIZEN, "street_light", 31) is None
    assert repo.open_ticket_for("919800000001", "sewer", 31) is None
    walk(repo, number, "rejected", remark="not ours")
    assert repo.open_ticket_for(CITIZEN, "sewer", 31) is None


def test_without_a_ward_the_latest_open_ticket_of_that_category(repo):
    # registered later, stored first: the latest is by the time registered, not the row's id
    newer = new(repo, category="sewer", ward=12, now=T0 + timedelta(hours=2)).ticket.number
    older = new(repo, category="sewer", ward=31).ticket.number
    new(repo, category="street_light", ward=12, now=T0 + timedelta(hours=3))
    assert repo.open_ticket_for(CITIZEN, "sewer").number == newer
    walk(repo, newer, "assigned", "in_progress", "resolved", now=T0 + timedelta(hours=4))
    assert repo.open_ticket_for(CITIZEN, "sewer").number == older  # a resolved one is not open
    assert repo.open_ticket_for("919800000001", "sewer") is None
    assert repo.open_ticket_for(CITIZEN, "water_leakage") is None


def test_the_latest_resolved_ticket_of_a_citizen(repo):
    first = new(repo, ward=1).ticket.number
    second = new(repo, ward=2).ticket.number
    assert repo.latest_resolved_for(CITIZEN) is None
    walk(repo, second, "assigned", "in_progress", "resolved", now=T0 + timedelta(hours=1))
    walk(repo, first, "assigned", "in_progress", "resolved", now=T0 + timedelta(hours=2))
    assert repo.latest_resolved_for(CITIZEN).number == first
    repo.reopen(first, CITIZEN, "still dark", now=T0 + timedelta(hours=3))
    assert repo.latest_resolved_for(CITIZEN).number == second
    assert repo.latest_resolved_for("919800000001") is None


def test_the_latest_resolved_ticket_of_a_category_that_can_still_be_reopened(repo):
    light = new(repo, category="street_light", ward=1).ticket.number
    sewer = new(repo, category="sewer", ward=1).ticket.number
    walk(repo, light, "assigned", "in_progress", "resolved", now=T0 + timedelta(hours=1))
    walk(repo, sewer, "assigned", "in_progress", "resolved", now=T0 + timedelta(hours=2))
    assert repo.latest_resolved_for(CITIZEN, "street_light").number == light
    assert repo.latest_resolved_for(CITIZEN, "sanitation") is None
    window = timedelta(days=repo.city.reopen_window_days)
    assert repo.latest_resolved_for(CITIZEN, "street_light", reopenable=True,
                                    now=T0 + window).number == light
    assert repo.latest_resolved_for(CITIZEN, "street_light", reopenable=True,
                                    now=T0 + window + timedelta(hours=2)) is None


# --- reading -------------------------------------------------------------------------------


def test_status_view_has_no_personal_data(repo):
    ticket = new(repo, location_text="House 12, Gali 4", description="my neighbour's drain",
                 photo_media_ids=["m1"]).ticket
    view = repo.status_view(ticket.number)
    assert isinstance(view, PublicStatus)
    assert {f.name for f in dataclasses.fields(view)} == {
        "number", "category", "department", "status", "updated_at", "due_at"}
    assert (view.number, view.category, view.department, view.status) == (
        ticket.number, "street_light", "street_lighting", "registered")
    assert CITIZEN not in repr(view) and "Gali" not in repr(view)


def test_lookups_and_recent(repo):
    numbers = [new(repo, ward=w, now=T0 + timedelta(minutes=w)).ticket.number for w in range(1, 8)]
    assert repo.get(numbers[0]).number == numbers[0]
    assert repo.get("SRN-999999") is None
    recent = repo.recent_for_citizen(CITIZEN)
    assert [t.number for t in recent] == numbers[::-1][:5]
    assert repo.recent_for_citizen("919800000001") == []


def test_officer_lists_and_overdue_counts(repo):
    street = new(repo, ward=1).ticket.number  # due T0 + 72 h
    water = new(repo, category="drinking_water", ward=2).ticket.number  # due T0 + 24 h
    garbage = new(repo, category="sanitation", ward=1, now=T0 + timedelta(hours=1)).ticket.number
    walk(repo, garbage, "assigned", "in_progress", "resolved")  # done: never overdue
    now = T0 + timedelta(hours=30)

    assert [t.number for t in repo.list_tickets(now=now).items] == [garbage, water, street]
    overdue = repo.list_tickets(overdue=True, now=now)
    assert [t.number for t in overdue.items] == [water] and overdue.total == 1
    assert [t.number for t in repo.list_tickets(overdue=False, now=now).items] == [garbage, street]
    assert [t.number for t in repo.list_tickets(order="most_overdue", now=now).items] == [
        water, garbage, street]
    assert [t.number for t in repo.list_tickets(department="water_works").items] == [water]
    assert [t.number for t in repo.list_tickets(ward="1", status="registered").items] == [street]
    assert [t.number for t in repo.list_tickets(category="sanitation").items] == [garbage]

    page = repo.list_tickets(page=2, page_size=2)
    assert (page.total, page.pages, [t.number for t in page.items]) == (3, 2, [street])
    with pytest.raises(InvalidTicketData):
        repo.list_tickets(order="oldest")

    counts = repo.overdue_counts(now=T0 + timedelta(hours=80))
    assert counts == {"street_lighting": 1, "water_works": 1, "sanitation": 0,
                      "construction": 0, "tax": 0}


def test_list_filters_at_their_edges(repo):
    first = new(repo, ward=1, now=T0).ticket.number
    second = new(repo, ward=2, now=T0 + timedelta(hours=1)).ticket.number
    due = repo.get(first).due_at  # T0 + 72 h

    def numbers(**filters):
        return sorted(t.number for t in repo.list_tickets(**filters).items)

    assert numbers(created_after=T0 + timedelta(hours=1)) == [second]  # inclusive
    assert numbers(created_before=T0 + timedelta(hours=1)) == [first]  # exclusive
    assert numbers(created_after=T0, created_before=T0 + timedelta(hours=2)) == [first, second]
    assert numbers(overdue=True, now=due) == []  # due now is not yet overdue
    assert numbers(overdue=True, now=due + timedelta(seconds=1)) == [first]
    assert numbers(status="assigned") == [] and numbers(ward=2) == [second]
    assert numbers(unassigned=True) == [first, second] and numbers(escalated=True) == []
    with pytest.raises(InvalidTicketData, match="unknown status 'done'"):
        repo.list_tickets(status="done")
    for page, size in ((0, 20), (1, 0), (1, 201)):
        with pytest.raises(InvalidTicketData, match="page starts at 1 and page_size is 1..200"):
            repo.list_tickets(page=page, page_size=size)
    assert repo.list_tickets(page=1, page_size=200).page_size == 200
    assert repo.list_tickets(page=1, page_size=1).pages == 2
    assert [c for c in repo.ward_counts(now=due + timedelta(seconds=1))] == [(1, 1, 1), (2, 1, 0)]
    assert repo.overdue_counts(now=due)["street_lighting"] == 0


def test_the_map_and_the_escalation_counts(repo, engine):
    light = new(repo, ward=1, latitude=29.96, longitude=77.55).ticket.number  # due T0 + 72 h
    water = new(repo, category="drinking_water", ward=2, latitude=29.9, longitude=77.5).ticket.number
    new(repo, category="sewer", ward=3)  # no pin: not on the map
    done = new(repo, category="sewer", ward=4, latitude=29.8, longitude=77.4).ticket.number
    walk(repo, done, "assigned", "in_progress", "resolved")  # not open: not on the map
    second_light = new(repo, ward=5).ticket.number
    now = T0 + timedelta(hours=30)

    def points(**filters):
        return [(p.number, p.latitude, p.longitude, p.category, p.status, p.ward, p.overdue,
                 p.escalation_level) for p in repo.map_points(now=now, **filters)]

    assert points() == [(water, 29.9, 77.5, "drinking_water", "registered", 2, True, 0),
                        (light, 29.96, 77.55, "street_light", "registered", 1, False, 0)]
    assert [p[0] for p in points(ward=1)] == [light]
    assert [p.number for p in repo.map_points(limit=1, now=now)] == [water]

    with engine.begin() as connection:  # as the escalation worker leaves them
        for number, level in ((light, 1), (second_light, 1), (water, 2), (done, 1)):
            connection.execute(text("UPDATE tickets SET escalation_level = :level WHERE number = :n"),
                               {"level": level, "n": number})
    assert repo.escalated_counts() == {"street_lighting": (2, 0), "water_works": (0, 1),
                                       "sanitation": (0, 0), "construction": (0, 0), "tax": (0, 0)}
    assert repo.escalated_counts(department="water_works") == {"water_works": (0, 1)}
    assert repo.escalated_counts(department="tax") == {"tax": (0, 0)}
    assert [p[-1] for p in points()] == [2, 1]
    assert sorted(t.number for t in repo.list_tickets(escalated=True).items) == sorted(
        [light, second_light, water])


def test_ratings_notes_and_history_in_detail(repo):
    number = new(repo).ticket.number
    walk(repo, number, "assigned", now=T0 + timedelta(hours=1))
    walk(repo, number, "in_progress", "resolved", now=T0 + timedelta(hours=2))
    for stars in (0, 6, True, 2.5):
        with pytest.raises(InvalidTicketData, match=f"^stars must be a whole number from 1 to 5, not {stars!r}$"):
            repo.rate(number, CITIZEN, stars, now=T0 + timedelta(hours=3))
    assert repo.rate(number, CITIZEN, 1, now=T0 + timedelta(hours=3)).rating == 1
    assert repo.rate(number, CITIZEN, 5, now=T0 + timedelta(hours=3)).rating == 5
    with pytest.raises(NotTicketOwner, match=f"^{number} belongs to another citizen$"):
        repo.rate(number, "919800000001", 3, now=T0 + timedelta(hours=3))
    with pytest.raises(NotTicketOwner, match=f"^{number} belongs to another citizen$"):
        repo.add_from_citizen(number, "919800000001", "mine", [])
    with pytest.raises(InvalidTicketData, match="^nothing to add$"):
        repo.add_from_citizen(number, CITIZEN, "  ", [])
    with pytest.raises(TransitionNotAllowed) as info:
        repo.add_from_citizen(number, CITIZEN, "one more", [])
    assert (info.value.number, info.value.current, info.value.requested, info.value.reason) == (
        number, "resolved", "resolved", "the ticket is not open")
    with pytest.raises(TicketNotFound, match="SRN-999999"):
        repo.history("SRN-999999")
    events = repo.history(number)
    assert [(e.status, e.at, e.actor, e.kind, e.assignee_id) for e in events][:4] == [
        ("registered", T0, "citizen", "status", None),
        ("assigned", T0 + timedelta(hours=1), "officer:verma", "status", None),
        ("in_progress", T0 + timedelta(hours=2), "officer:verma", "status", None),
        ("resolved", T0 + timedelta(hours=2), "officer:verma", "status", None)]
    fresh = new(repo, ward=9).ticket
    assert repo.add_from_citizen(fresh.number, CITIZEN, None, ["m1"]).photo_media_ids == ("m1",)
    assert repo.history(fresh.number)[-1].remark == "+1 photo"
    assert repo.add_from_citizen(fresh.number, CITIZEN, "  पोल गिर गया ", []).photo_media_ids == ("m1",)
    assert repo.history(fresh.number)[-1].remark == "पोल गिर गया"


def test_overdue_is_strictly_after_the_due_time(repo):
    ticket = new(repo, ward=1).ticket  # due T0 + 72 h
    assert not ticket.is_overdue(now=ticket.due_at)
    assert ticket.is_overdue(now=ticket.due_at + timedelta(seconds=1))
    assert ticket.is_overdue(now=datetime.now(timezone.utc))  # 2024's ticket, long overdue
    closed = walk(repo, ticket.number, "rejected", remark="duplicate")
    assert not closed.is_overdue(now=ticket.due_at + timedelta(days=1))
    new(repo, ward=3)
    new(repo, category="drinking_water", ward=2)  # due T0 + 24 h
    assert repo.ward_counts(now=T0 + timedelta(hours=24)) == [(2, 1, 0), (3, 1, 0)]
    assert repo.ward_counts(now=T0 + timedelta(hours=25)) == [(2, 1, 1), (3, 1, 0)]
    assert repo.ward_counts(now=T0 + timedelta(hours=25), ward=3) == [(3, 1, 0)]
    assert repo.ward_counts(now=T0 + timedelta(hours=25), overdue=True) == [(2, 1, 1)]


def test_a_citizens_recent_tickets_newest_first(repo):
    first = new(repo, ward=1, now=T0 + timedelta(hours=2)).ticket.number
    earlier = new(repo, ward=2, now=T0 + timedelta(hours=1)).ticket.number  # made at an earlier time
    third = new(repo, ward=3, now=T0 + timedelta(hours=2)).ticket.number  # as late as the first
    assert [t.number for t in repo.recent_for_citizen(CITIZEN)] == [third, first, earlier]


# --- concurrency ---------------------------------------------------------------------------


def test_concurrent_creations_get_distinct_numbers(migrated_url, city):
    engines = [create_engine_for(migrated_url) for _ in range(5)]
    repos = [TicketRepository(make_session_factory(e), city=city) for e in engines]
    start = threading.Barrier(50)

    def create(i):
        start.wait()
        return new(repos[i % 5], citizen=f"91980000{i:04d}").ticket.number

    try:
        with ThreadPoolExecutor(max_workers=50) as pool:
            numbers = list(pool.map(create, range(50)))
        assert len(set(numbers)) == 50
        assert count_rows(engines[0], "tickets") == 50
        assert count_rows(engines[0], "ticket_events") == 50
    finally:
        for engine in engines:
            engine.dispose()


def test_concurrent_identical_complaints_make_one_ticket(migrated_url, city):
    engines = [create_engine_for(migrated_url) for _ in range(4)]
    repos = [TicketRepository(make_session_factory(e), city=city) for e in engines]
    start = threading.Barrier(20)

    def create(i):
        start.wait()
        return new(repos[i % 4])

    try:
        with ThreadPoolExecutor(max_workers=20) as pool:
            results = list(pool.map(create, range(20)))
        assert sorted(r.outcome.value for r in results) == ["created"] + ["duplicate"] * 19
        assert len({r.ticket.number for r in results}) == 1
        assert count_rows(engines[0], "tickets") == 1
    finally:
        for engine in engines:
            engine.dispose()


WORKER = """
import json, sys
sys.path.insert(0, sys.argv[1])
from civic.db import create_engine_for, make_session_factory
from civic.tickets import TicketRepository
repo = TicketRepository(make_session_factory(create_engine_for(sys.argv[2])))
numbers = [repo.create_ticket(f"{sys.argv[3]}-{i}", "sewer", 5, "x", "y", "en").ticket.number
           for i in range(10)]
print(json.dumps(numbers))
"""


def test_several_processes_get_distinct_numbers(migrated_url):
    workers = [
        subprocess.Popen([sys.executable, "-c", WORKER, str(ROOT), migrated_url, f"p{n}"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for n in range(3)
    ]
    numbers = []
    for worker in workers:
        out, err = worker.communicate(timeout=60)
        assert worker.returncode == 0, err
        numbers += json.loads(out)
    assert len(numbers) == 30 == len(set(numbers))


def test_numbers_of_deleted_rows_are_not_reused(repo, engine):
    new(repo, ward=1)
    with engine.begin() as connection:  # a ticket with no history, then gone
        connection.execute(text(
            "INSERT INTO tickets (category, department, ward, location_text, description, "
            "photo_media_ids, citizen_id, language, status, created_at, updated_at, due_at) "
            "SELECT category, department, 2, location_text, description, photo_media_ids, "
            "citizen_id, language, status, created_at, updated_at, due_at FROM tickets"))
        connection.execute(text("DELETE FROM tickets WHERE ward = 2"))
    assert new(repo, ward=3).ticket.number == "SRN-000003"


# --- a database that is down ---------------------------------------------------------------


def down_urls(tmp_path):
    (tmp_path / "a-file").write_text("not a directory")
    return [f"sqlite:///{tmp_path / 'a-file' / 'tickets.db'}",
            "postgresql://postgres@127.0.0.1:1/test?connect_timeout=2"]


def test_unreachable_database_raises_storage_unavailable(tmp_path, city):
    for url in down_urls(tmp_path):
        engine = create_engine_for(url)
        repo = TicketRepository(make_session_factory(engine), city=city)
        with pytest.raises(StorageUnavailable):
            new(repo)
        with pytest.raises(StorageUnavailable):
            repo.get("SRN-000001")
        with pytest.raises(StorageUnavailable):
            migrate(url)
        engine.dispose()


def test_locked_sqlite_database_raises_and_writes_nothing(sqlite_url, city):
    migrate(sqlite_url)
    holder = create_engine_for(sqlite_url)
    impatient = create_engine_for(sqlite_url, sqlite_busy_timeout_ms=100)
    repo = TicketRepository(make_session_factory(impatient), city=city)
    try:
        with holder.begin():  # another worker is in the middle of a write
            with pytest.raises(StorageUnavailable):
                new(repo)
        assert count_rows(holder, "tickets") == 0
        assert new(repo).created  # and it works again once the lock is gone
    finally:
        holder.dispose()
        impatient.dispose()


def test_a_sqlite_engine_keeps_its_connections_for_the_next_unit_of_work(sqlite_url, city):
    """One connection serves unit after unit, from any thread (the action server's), still
    with WAL, foreign keys and the busy timeout; a pool per engine, not a connection per session."""
    migrate(sqlite_url)
    engine = create_engine_for(sqlite_url, sqlite_busy_timeout_ms=1234)
    opened = []
    event.listen(engine, "connect", lambda dbapi_connection, _: opened.append(dbapi_connection))
    repo = TicketRepository(make_session_factory(engine), city=city)
    try:
        number = new(repo).ticket.number
        with ThreadPoolExecutor(max_workers=1) as other_thread:
            assert other_thread.submit(repo.get, number).result().number == number
        assert repo.get(number).status == "registered"
        assert len(opened) == 1
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 1234
    finally:
        engine.dispose()
    memory = create_engine_for("sqlite://")  # one database, not one per pooled connection
    try:
        migrate(memory)
        repo = TicketRepository(make_session_factory(memory), city=city)
        with memory.connect():  # a unit of work holding a connection meanwhile
            assert repo.get(new(repo).ticket.number).ward == 23
    finally:
        memory.dispose()


def test_reads_do_not_wait_for_a_writer_on_sqlite(sqlite_url, city):
    """A status check reads the last committed state while another process writes; a
    write still waits for the writer (and gives up after the busy timeout)."""
    migrate(sqlite_url)
    holder = create_engine_for(sqlite_url)
    impatient = create_engine_for(sqlite_url, sqlite_busy_timeout_ms=100)
    repo = TicketRepository(make_session_factory(impatient), city=city)
    number = new(repo).ticket.number
    try:
        with holder.begin() as connection:  # a write in progress, not committed
            connection.execute(text("UPDATE tickets SET description = 'half' WHERE number = :n"),
                               {"n": number})
            assert repo.get(number).description != "half"
            assert [t.number for t in repo.recent_for_citizen(CITIZEN)] == [number]
            assert repo.status_view(number) is not None
            with pytest.raises(StorageUnavailable):
                walk(repo, number, "assigned")
        assert repo.get(number).description == "half"
    finally:
        holder.dispose()
        impatient.dispose()


def test_a_read_only_unit_of_work_writes_nothing(sqlite_url, city):
    from civic.db import session_scope
    from civic.tickets import Ticket

    migrate(sqlite_url)
    engine = create_engine_for(sqlite_url)
    factory = make_session_factory(engine)
    number = new(TicketRepository(factory, city=city)).ticket.number
    try:
        with pytest.raises(RuntimeError, match="read-only"):
            with session_scope(factory, read_only=True) as session:
                session.execute(select(Ticket).where(Ticket.number == number)).scalar_one().ward = 9
        with session_scope(factory, read_only=True) as session:
            assert session.execute(select(Ticket.ward).where(Ticket.number == number)).scalar_one() == 23
    finally:
        engine.dispose()


def test_failure_midway_leaves_nothing_half_written(postgres_url_factory, city):
    url = postgres_url_factory()
    migrate(url)
    impatient = create_engine_for(postgres_url_factory("-clock_timeout=300"))
    holder = create_engine_for(url)
    repo = TicketRepository(make_session_factory(impatient), city=city)
    try:
        with holder.begin() as connection:
            # The ticket row goes in; its history row then waits for this lock and times out.
            connection.execute(text("LOCK TABLE ticket_events IN EXCLUSIVE MODE"))
            with pytest.raises(StorageUnavailable):
                new(repo)
        assert count_rows(holder, "tickets") == 0
        # The lost ticket had been inserted (its number is used up), then rolled back.
        assert new(repo).ticket.number == "SRN-000002"
    finally:
        holder.dispose()
        impatient.dispose()


# --- migrations ----------------------------------------------------------------------------


def test_migrate_fresh_twice_and_concurrently(db_url):
    with ThreadPoolExecutor(max_workers=3) as pool:  # three workers starting at once
        list(pool.map(lambda _: migrate(db_url), range(3)))
    migrate(db_url)  # and again: nothing to do
    engine = create_engine_for(db_url)
    try:
        names = set(inspect(engine).get_table_names())
        assert {"tickets", "ticket_events", "alembic_version"} <= names
        with engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
            assert versions == [("0004",)]  # the newest revision (0004: the officers' workflow)
            from alembic.autogenerate import compare_metadata
            from alembic.migration import MigrationContext

            context = MigrationContext.configure(connection, opts={
                "include_name": lambda name, type_, _: name != "sqlite_sequence"})
            assert compare_metadata(context, metadata) == []  # models and migration agree
    finally:
        engine.dispose()


def test_the_remark_shown_is_the_one_given_with_the_present_status():
    def event(status, remark=None, actor="officer:verma", kind="status"):
        return TicketEventRecord(status=status, at=T0, actor=actor, remark=remark, kind=kind)

    resolved = [event("registered"), event("assigned", "JE ko bheja"), event("resolved", "kooda utha liya")]
    assert remark_for_status(resolved) == "kooda utha liya"
    assert remark_for_status(resolved + [event("reopened", "abhi bhi pada hai", actor="citizen")]) is None
    assert remark_for_status([event("registered"), event("assigned", "JE ko bheja"), event("in_progress")]) is None
    # a remark given after the status change, still in that status, counts; a citizen's never does
    assert remark_for_status([event("resolved"), event("resolved", "photo dekhiye", kind="status")]) == "photo dekhiye"
    assert remark_for_status([event("resolved", "mera note", actor="citizen")]) is None
    assert remark_for_status([event("resolved", "galat jagah", kind="returned")]) is None  # a field worker's
    assert remark_for_status([]) is None
