"""Smaller parts: accounts and password hashing, the i18n catalogue, charts, migrations."""
from __future__ import annotations

import pytest
from markupsafe import Markup
from officer_support import PASSWORD
from sqlalchemy import inspect, text

from civic.db import create_engine_for, migrate
from civic.officers import (
    ADMIN,
    OFFICER,
    AccountError,
    OfficerRepository,
    SignIn,
    hash_password,
    verify_password,
)
from officer.charts import horizontal_bars, vertical_bars
from officer.i18n import catalogue, translator


def test_passwords_are_hashed_with_bcrypt_and_checked():
    stored = hash_password(PASSWORD)
    assert stored.startswith("$2b$") and PASSWORD not in stored
    assert verify_password(PASSWORD, stored) and not verify_password(PASSWORD + "x", stored)
    assert not verify_password("", stored)
    for bad in ("short", "x" * 73):
        with pytest.raises(AccountError):
            hash_password(bad)


def test_accounts(workspace):
    repo: OfficerRepository = workspace.officers
    assert repo.sign_in("LIGHT ", PASSWORD).officer.department == "street_lighting"
    assert repo.sign_in("light", "wrong password") == SignIn(None)
    assert repo.sign_in("nobody", PASSWORD) == SignIn(None)
    admin = repo.by_username("admin")
    assert admin.is_admin and admin.department is None and admin.scope is None
    assert admin.can_see("tax") and not repo.by_username("light").can_see("tax")
    with pytest.raises(AccountError, match="taken"):
        repo.create("light", PASSWORD, OFFICER, "sanitation")
    with pytest.raises(AccountError, match="needs a department"):
        repo.create("nodept", PASSWORD, OFFICER, None)
    with pytest.raises(AccountError, match="needs a department"):
        repo.create("police", PASSWORD, OFFICER, "police")
    with pytest.raises(AccountError, match="username"):
        repo.create("bad name!", PASSWORD, ADMIN)
    changed = repo.set_password("light", "another long password")
    assert changed.password_changed_at > repo.by_username("admin").password_changed_at
    assert repo.sign_in("light", PASSWORD).officer is None


def test_both_languages_have_every_string():
    strings = catalogue()
    assert set(strings) == {"en", "hi"}
    assert set(strings["en"]) == set(strings["hi"])
    assert all(value.strip() for lang in strings.values() for value in lang.values())
    t = translator("hi")
    assert t("ticket.title", number="SRN-000001") == "शिकायत SRN-000001"
    assert translator("xx")("nav.tickets") == "Tickets"  # unknown language: English


def test_charts_are_svg_with_escaped_labels():
    chart = horizontal_bars([("<b>ward</b>", 3), ("two", None)], "Title & co")
    assert isinstance(chart, Markup) and chart.startswith("<svg")
    assert "&lt;b&gt;ward&lt;/b&gt;" in chart and "<b>" not in chart and "Title &amp; co" in chart
    assert chart.count("<rect") == 1  # None draws no bar
    columns = vertical_bars([("01-06", 0), ("02-06", 4)], "Per day")
    assert columns.count("<rect") == 2


def test_migration_0002_upgrades_and_downgrades(db_url):
    migrate(db_url, "0001")
    migrate(db_url)
    engine = create_engine_for(db_url)
    try:
        assert {"officers", "notification_outbox"} <= set(inspect(engine).get_table_names())
        from alembic import command

        from civic.db import alembic_config
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection), "0001")
        assert not {"officers", "notification_outbox"} & set(inspect(engine).get_table_names())
        with engine.connect() as connection:
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0001"
    finally:
        engine.dispose()


def test_settings_from_the_environment(monkeypatch):
    from datetime import timedelta

    from civic.officers import LoginLimits
    from officer.app import OfficerSettings

    for name in ("OFFICER_SESSION_HOURS", "OFFICER_LOGIN_MAX_FAILURES",
                 "OFFICER_LOGIN_ADDRESS_MAX_FAILURES", "OFFICER_LOGIN_WINDOW_MINUTES",
                 "OFFICER_COOKIE_SECURE", "OFFICER_NOTIFY_POLL_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OFFICER_SECRET_KEY", "k" * 32)
    defaults = OfficerSettings.from_env()
    assert (defaults.session_hours, defaults.login_limits, defaults.cookie_secure) == (
        8.0, LoginLimits(5, 20, timedelta(minutes=15)), False)
    assert defaults.session_lifetime == timedelta(hours=8)
    monkeypatch.setenv("OFFICER_SESSION_HOURS", "1.5")
    monkeypatch.setenv("OFFICER_LOGIN_MAX_FAILURES", "3")
    monkeypatch.setenv("OFFICER_LOGIN_ADDRESS_MAX_FAILURES", " 50 ")
    monkeypatch.setenv("OFFICER_LOGIN_WINDOW_MINUTES", "0.5")
    monkeypatch.setenv("OFFICER_COOKIE_SECURE", "1")
    settings = OfficerSettings.from_env()
    assert settings.session_lifetime == timedelta(minutes=90) and settings.cookie_secure
    assert settings.login_limits == LoginLimits(3, 50, timedelta(seconds=30))
    for name, bad in (("OFFICER_LOGIN_MAX_FAILURES", "2.5"), ("OFFICER_LOGIN_MAX_FAILURES", "0"),
                      ("OFFICER_LOGIN_WINDOW_MINUTES", "-1"), ("OFFICER_SESSION_HOURS", "nan"),
                      ("OFFICER_SESSION_HOURS", "inf"), ("OFFICER_SESSION_HOURS", "eight")):
        monkeypatch.setenv(name, bad)
        with pytest.raises(ValueError, match=f"{name} must be a positive"):
            OfficerSettings.from_env()
        monkeypatch.delenv(name)
