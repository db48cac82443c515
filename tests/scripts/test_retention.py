"""scripts/retention.py: old conversations deleted from a real SQL tracker store, personal
fields of old finished tickets blanked while their statistics stay (SQLite and PostgreSQL)."""
import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, text

from scripts.retention import REMOVED, anonymise_tickets, citizen_hash, main, run

NOW = datetime.now(timezone.utc)
OLD = NOW - timedelta(days=400)
RECENT = NOW - timedelta(days=10)


def finish(repo, number, status, at):
    path = {"rejected": ["rejected"],
            "closed": ["assigned", "in_progress", "resolved", "closed"]}[status]
    for step in path:
        repo.change_status(number, step, "officer:1", remark="done", now=at)


@pytest.fixture
def tickets(repo):
    def make(citizen, ward, created, status=None, photo=()):
        ticket = repo.create_ticket(
            citizen, "street_light", ward, "Court Road, house 12", "my phone 98xxxx, light broken",
            "en", latitude=29.96, longitude=77.54, photo_media_ids=photo, now=created).ticket
        if status:
            finish(repo, ticket.number, status, created + timedelta(hours=5))
        return ticket.number

    return {
        "old_rejected": make("919800000001", 1, OLD, "rejected", photo=["media-1"]),
        "old_closed": make("919800000001", 2, OLD, "closed"),
        "recent_closed": make("919800000001", 3, RECENT, "closed"),
        "old_open": make("919800000002", 4, OLD),
    }


def test_old_finished_tickets_lose_personal_fields_and_keep_statistics(repo, engine, tickets):
    repo.rate(tickets["old_closed"], "919800000001", 4, now=OLD + timedelta(hours=6))
    before = {name: repo.get(number) for name, number in tickets.items()}

    report = anonymise_tickets(engine, NOW - timedelta(days=365))
    assert report.tickets_anonymised == 2

    after = {name: repo.get(number) for name, number in tickets.items()}
    for name in ("old_rejected", "old_closed"):
        t, b = after[name], before[name]
        assert t.citizen_id == citizen_hash("919800000001") != b.citizen_id
        assert (t.description, t.location_text) == (REMOVED, REMOVED)
        assert (t.latitude, t.longitude) == (None, None)
        kept = ("number", "category", "department", "ward", "status", "created_at", "due_at",
                "rating", "resolved_at", "language")
        assert [getattr(t, f) for f in kept] == [getattr(b, f) for f in kept]
    assert after["old_rejected"].photo_media_ids == (REMOVED,)
    assert after["old_closed"].photo_media_ids == () and after["old_closed"].rating == 4
    assert after["recent_closed"] == before["recent_closed"]  # finished, but not long ago
    assert after["old_open"] == before["old_open"]  # old, but the corporation still owes action
    # Statuses and history stay countable; a second run has nothing left to do.
    assert [e.status for e in repo.history(tickets["old_rejected"])] == ["registered", "rejected"]
    assert anonymise_tickets(engine, NOW - timedelta(days=365)).tickets_anonymised == 0


def test_dry_run_changes_nothing(repo, engine, tickets):
    assert anonymise_tickets(engine, NOW - timedelta(days=365), dry_run=True).tickets_anonymised == 2
    assert repo.get(tickets["old_closed"]).description != REMOVED


def test_days_decide_what_is_old(repo, migrated_url, tickets):
    assert run(5, None, migrated_url).tickets_anonymised == 3  # recent_closed is 10 days old
    assert repo.get(tickets["recent_closed"]).location_text == REMOVED


def test_hash_is_one_way_stable_and_salted():
    assert citizen_hash("919800000001", salt="") == citizen_hash("919800000001", salt="")
    assert citizen_hash("919800000001", salt="a") != citizen_hash("919800000001", salt="b")
    assert "919800000001" not in citizen_hash("919800000001", salt="")
    assert citizen_hash(citizen_hash("x", salt=""), salt="y") == citizen_hash("x", salt="")
    assert len(citizen_hash("x")) <= 64


# --- conversations in the tracker store -----------------------------------------------------


def session(start: datetime, text_: str):
    from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered

    stamp = start.timestamp()
    return [
        ActionExecuted("action_session_start", timestamp=stamp),
        SessionStarted(timestamp=stamp),
        ActionExecuted("action_listen", timestamp=stamp),
        UserUttered(text_, intent={"name": "greet", "confidence": 1.0}, timestamp=stamp + 1),
        ActionExecuted("utter_greet", timestamp=stamp + 2),
    ]


@pytest.fixture
def tracker_store(tmp_path):
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    path = tmp_path / "rasa.db"
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(path))
    conversations = {
        "gone": session(OLD, "old hello"),
        "returning": session(OLD, "old hello") + session(NOW - timedelta(days=1), "new hello"),
        "recent": session(RECENT, "hello"),
    }

    async def write():
        for sender, events in conversations.items():
            await store.save(DialogueStateTracker.from_events(sender, events))

    asyncio.run(write())
    yield store, f"sqlite:///{path}"
    store.engine.dispose()


def event_counts(url):
    engine = create_engine(url, future=True)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT sender_id, count(*) FROM events GROUP BY sender_id"))
        counts = dict(rows.all())
    engine.dispose()
    return counts


def test_old_conversations_are_deleted_and_current_sessions_kept(tracker_store, sqlite_url):
    store, url = tracker_store
    assert event_counts(url) == {"gone": 5, "returning": 10, "recent": 5}

    report = run(365, url, None)
    assert (report.conversations_deleted, report.events_deleted) == (1, 10)
    assert event_counts(url) == {"returning": 5, "recent": 5}

    tracker = asyncio.run(store.retrieve("returning"))
    assert [e.text for e in tracker.events if getattr(e, "text", None)] == ["new hello"]
    assert run(365, url, None).events_deleted == 0


def test_command_line(tracker_store, sqlite_url, capsys, monkeypatch):
    _, url = tracker_store
    from civic.db import migrate

    migrate(sqlite_url)
    monkeypatch.setenv("RETENTION_DAYS", "365")
    assert main(["--tracker-url", url, "--database-url", sqlite_url, "--dry-run"]) == 0
    assert "would have 10 tracker events deleted (1 whole conversations)" in capsys.readouterr().out
    assert event_counts(url)["gone"] == 5
