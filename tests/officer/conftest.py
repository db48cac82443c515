"""Fixtures for the officers' workspace: seeded ticket databases, accounts, loopback servers."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Dict

import pytest
from officer_support import (
    MEDIA_TOKEN,
    PASSWORD,
    RASA_TOKEN,
    SECRET_KEY,
    AppServer,
    FakeClock,
    FakeRasa,
    FakeWhatsAppMedia,
)

import civic.officers
from civic.db import make_session_factory
from civic.notifications import NotificationOutbox
from civic.officers import ADMIN, OFFICER, OfficerRepository
from civic.tickets import TicketRepository
from officer.app import OfficerSettings, create_app
from officer.media import WhatsAppMedia
from officer.notifier import RasaNotifier


@pytest.fixture(autouse=True)
def fast_bcrypt(monkeypatch):
    """Cost 4 instead of 12: the same code, fast enough for many accounts in tests."""
    monkeypatch.setattr(civic.officers, "BCRYPT_ROUNDS", 4)
    monkeypatch.setattr(civic.officers, "_DUMMY_HASH", civic.officers.hash_password("x" * 10))


@dataclass
class Workspace:
    """A migrated database with accounts and tickets of three departments."""

    session_factory: object
    city: object
    tickets: TicketRepository
    officers: OfficerRepository
    outbox: NotificationOutbox
    numbers: Dict[str, str]  # label -> ticket number
    now: datetime


def seed(session_factory, city) -> Workspace:
    tickets = TicketRepository(session_factory, city)
    officers = OfficerRepository(session_factory, city)
    officers.create("admin", PASSWORD, ADMIN, display_name="City Admin")
    officers.create("light", PASSWORD, OFFICER, "street_lighting", "Lighting Officer")
    officers.create("safai", PASSWORD, OFFICER, "sanitation", "Sanitation Officer")
    now = datetime.now(timezone.utc)
    numbers = {}

    def make(label, citizen, category, ward, days_ago, **extra):
        result = tickets.create_ticket(
            citizen, category, ward, extra.pop("location", "Court Road, near the temple"),
            extra.pop("description", f"{category} complaint {label}"), extra.pop("language", "hi"),
            now=now - timedelta(days=days_ago), **extra)
        numbers[label] = result.ticket.number

    make("light_new", "919800000001", "street_light", 12, 0.2,
         description='<script>alert("x")</script> बत्ती खराब है & "quotes"',
         latitude=29.9680, longitude=77.5510, photo_media_ids=["mediaA1", "expired"])
    make("light_old", "919800000002", "street_light", 23, 10)  # due after 3 days: overdue
    make("light_w5", "919800000003", "street_light", 5, 2)
    make("safai_new", "919800000004", "sanitation", 12, 0.5)
    make("water", "919800000005", "drinking_water", 40, 1)
    return Workspace(session_factory, city, tickets, officers, NotificationOutbox(session_factory),
                     numbers, now)


@pytest.fixture
def workspace(engine, city) -> Workspace:
    """Seeded workspace on SQLite and on PostgreSQL (each test runs on both)."""
    return seed(make_session_factory(engine), city)


@pytest.fixture
def sqlite_workspace(sqlite_url, city) -> Workspace:
    """Seeded workspace on SQLite only (for the slower web and browser tests)."""
    from civic.db import create_engine_for, migrate

    migrate(sqlite_url)
    engine = create_engine_for(sqlite_url)
    yield seed(make_session_factory(engine), city)
    engine.dispose()


@pytest.fixture
def fake_rasa():
    server = FakeRasa(token=RASA_TOKEN).start()
    yield server
    server.stop()


@pytest.fixture
def fake_media():
    server = FakeWhatsAppMedia(MEDIA_TOKEN).start()
    yield server
    server.stop()


@pytest.fixture
def web(sqlite_workspace, fake_rasa, fake_media):
    """The workspace app on loopback with the default settings; the notification worker is
    driven by the tests, and so is the clock of sessions and sign-in limits (web.clock)."""
    clock = FakeClock()
    app = create_app(
        OfficerSettings(secret_key=SECRET_KEY, run_notifier=False, clock=clock),
        session_factory=sqlite_workspace.session_factory, city=sqlite_workspace.city,
        notifier=RasaNotifier(fake_rasa.url, RASA_TOKEN),
        media=WhatsAppMedia(MEDIA_TOKEN, f"{fake_media.url}/v21.0"),
    )
    server = AppServer(app).start()
    server.workspace, server.clock = sqlite_workspace, clock
    yield server
    server.stop()
