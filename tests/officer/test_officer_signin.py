"""civic/officers.py: sign-in limits, server-side sessions, phone masking and reveals, on SQLite
and PostgreSQL (the `workspace` fixture runs each test on both), with times the test gives."""
from __future__ import annotations

import hashlib
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import bcrypt
import pytest
from officer_support import PASSWORD
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from civic.db import create_engine_for
from civic.officers import LoginLimits, SignIn, mask_phone

T0 = datetime(2024, 6, 1, 10, 0, 0, tzinfo=timezone.utc)
WINDOW = timedelta(minutes=10)
LIMITS = LoginLimits(per_account=3, per_address=5, window=WINDOW)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def fail(repo, username="light", address="10.0.0.1", when=T0, limits=LIMITS) -> SignIn:
    result = repo.sign_in(username, "wrong password", address, limits, when)
    assert result.officer is None
    return result


# --- limits per account --------------------------------------------------------------------


def test_the_account_is_locked_after_the_limit_until_the_oldest_failure_leaves_the_window(workspace):
    repo = workspace.officers
    for second in (0, 1, 2):  # three failures: the limit
        assert fail(repo, when=at(second)).locked_until is None
    locked = repo.sign_in("light", PASSWORD, "10.0.0.1", LIMITS, at(3))
    assert locked == SignIn(None, at(0) + WINDOW)  # even the right password is not checked
    assert repo.sign_in("light", PASSWORD, "10.0.0.1", LIMITS, at(599)).locked_until == at(600)
    # At exactly window after the first failure it no longer counts: two remain.
    assert repo.sign_in("light", PASSWORD, "10.0.0.1", LIMITS, at(600)).officer.username == "light"


def test_one_failure_below_the_limit_still_signs_in(workspace):
    repo = workspace.officers
    fail(repo, when=at(0))
    fail(repo, when=at(1))
    assert repo.sign_in("light", PASSWORD, "10.0.0.1", LIMITS, at(2)).officer is not None


def test_the_lock_lifts_when_the_third_newest_failure_is_window_old(workspace):
    repo = workspace.officers
    fail(repo, when=at(0))
    fail(repo, when=at(100))
    fail(repo, when=at(200))
    assert repo.sign_in("light", PASSWORD, "x", LIMITS, at(599)).locked_until == at(600)
    fail(repo, when=at(600))  # counts: 100, 200, 600
    assert repo.sign_in("light", PASSWORD, "x", LIMITS, at(650)).locked_until == at(700)
    assert repo.sign_in("light", PASSWORD, "x", LIMITS, at(700)).officer is not None


def test_refused_attempts_do_not_count_or_extend_the_lock(workspace):
    repo = workspace.officers
    for second in (0, 1, 2):
        fail(repo, when=at(second))
    for second in range(10, 600, 60):  # an attacker keeps trying while locked
        assert fail(repo, when=at(second)).locked_until == at(600)
    assert repo.sign_in("light", PASSWORD, "10.0.0.1", LIMITS, at(600)).officer is not None


def test_a_successful_sign_in_clears_the_account_count(workspace):
    repo = workspace.officers
    fail(repo, when=at(0))
    fail(repo, when=at(1))
    assert repo.sign_in("light", PASSWORD, "10.0.0.1", LIMITS, at(2)).officer is not None
    fail(repo, when=at(3))
    fail(repo, when=at(4))
    assert fail(repo, when=at(5)).locked_until is None  # 3rd failure since the success
    assert fail(repo, when=at(6)).locked_until == at(3) + WINDOW


def test_accounts_are_counted_apart_and_unknown_names_like_known_ones(workspace):
    repo = workspace.officers
    for second in (0, 1, 2):
        fail(repo, "nobody", f"10.0.0.{second}", at(second))
    # An unknown name is locked exactly like a real one: the answer tells nothing.
    assert fail(repo, "nobody", "10.0.0.9", at(3)).locked_until == at(600)
    assert repo.sign_in("light", PASSWORD, "10.0.0.9", LIMITS, at(4)).officer is not None
    # The name is compared as the sign-in form normalises it.
    assert fail(repo, "  NoBody ", "10.0.0.8", at(5)).locked_until == at(600)


# --- limits per address --------------------------------------------------------------------


def test_the_address_is_locked_after_its_limit_across_accounts(workspace):
    repo = workspace.officers
    for second, name in enumerate(("a", "b", "c", "d", "e")):  # five names, one address
        assert fail(repo, name, "10.0.0.1", at(second)).locked_until is None
    locked = repo.sign_in("safai", PASSWORD, "10.0.0.1", LIMITS, at(10))
    assert locked == SignIn(None, at(0) + WINDOW)
    assert repo.sign_in("safai", PASSWORD, "10.0.0.2", LIMITS, at(11)).officer is not None
    assert repo.sign_in("safai", PASSWORD, "10.0.0.1", LIMITS, at(600)).officer is not None


def test_a_success_does_not_clear_the_address_count(workspace):
    repo = workspace.officers
    for second, name in enumerate(("a", "b", "c", "d")):
        fail(repo, name, "10.0.0.1", at(second))
    assert repo.sign_in("light", PASSWORD, "10.0.0.1", LIMITS, at(5)).officer is not None
    fail(repo, "e", "10.0.0.1", at(6))
    assert repo.sign_in("light", PASSWORD, "10.0.0.1", LIMITS, at(7)).locked_until == at(600)


def test_the_later_of_two_locks_is_the_answer(workspace):
    repo = workspace.officers
    limits = LoginLimits(per_account=2, per_address=3, window=WINDOW)
    fail(repo, "x", "10.0.0.1", at(0), limits)
    fail(repo, "light", "10.0.0.1", at(50), limits)
    fail(repo, "light", "10.0.0.2", at(100), limits)
    fail(repo, "y", "10.0.0.1", at(200), limits)
    # account: 50, 100 -> until 650; address 10.0.0.1: 0, 50, 200 -> until 600
    assert fail(repo, "light", "10.0.0.1", at(300), limits).locked_until == at(650)
    # Without an address only the account counts.
    assert fail(repo, "y", "", at(300), limits).locked_until is None


def test_limits_must_be_sensible():
    for bad in (dict(per_account=0), dict(per_address=0), dict(window=timedelta(0))):
        with pytest.raises(ValueError):
            LoginLimits(**bad)
    assert LoginLimits() == LoginLimits(5, 20, timedelta(minutes=15))  # the documented defaults


def test_concurrent_attempts_never_pass_the_limit(workspace):
    repo = workspace.officers
    limits = LoginLimits(per_account=3, per_address=100, window=WINDOW)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(
            lambda i: repo.sign_in("light", "wrong password", f"10.0.1.{i}", limits, at(i / 100)),
            range(12)))
    # The first three (in whatever order they came) are checked, the other nine refused.
    assert sum(r.locked_until is None for r in results) == 3
    assert all(r.officer is None for r in results)
    outcomes = [f.outcome for f in repo.login_failures()]
    assert outcomes.count("failed") == 3 and outcomes.count("locked") == 9


def test_failed_and_refused_sign_ins_are_logged(workspace, caplog):
    repo = workspace.officers
    with caplog.at_level(logging.WARNING, logger="civic.officers"):
        for second in (0, 1, 2, 3):
            fail(repo, "Light", "10.0.0.7", at(second))
        repo.sign_in("admin", PASSWORD, "10.0.0.8", LIMITS, at(4))
    log = [(f.at, f.username, f.address, f.outcome) for f in repo.login_failures()]
    assert log == [(at(3), "light", "10.0.0.7", "locked"), (at(2), "light", "10.0.0.7", "failed"),
                   (at(1), "light", "10.0.0.7", "failed"), (at(0), "light", "10.0.0.7", "failed")]
    assert [f.outcome for f in repo.login_failures(limit=2)] == ["locked", "failed"]
    assert caplog.text.count("Failed sign-in for 'light' from 10.0.0.7") == 3
    assert "Sign-in refused (too many failures) for 'light' from 10.0.0.7" in caplog.text
    assert "admin" not in caplog.text  # a success is not a warning


def test_old_attempts_are_deleted_after_ninety_days(workspace):
    repo = workspace.officers
    fail(repo, when=at(0))
    fail(repo, when=T0 + timedelta(days=90))
    assert len(repo.login_failures()) == 2
    fail(repo, when=T0 + timedelta(days=90, seconds=1))
    assert [f.at for f in repo.login_failures()][-1] == T0 + timedelta(days=90)


def test_disabled_accounts_do_not_sign_in(workspace):
    repo = workspace.officers
    repo.set_active("light", False)
    assert repo.sign_in("light", PASSWORD, "10.0.0.1", LIMITS, at(0)) == SignIn(None)
    assert repo.login_failures()[0].outcome == "failed"


def test_bcrypt_runs_outside_any_transaction(sqlite_workspace, sqlite_url, monkeypatch):
    """While the password is checked, another process can write: no write lock is held
    (it was, and 40 parallel sign-ins made an officer's page wait 16 s)."""
    other = create_engine_for(sqlite_url, sqlite_busy_timeout_ms=0)
    real_checkpw = bcrypt.checkpw
    writes = []

    def checkpw(password, hashed):
        try:
            with other.begin() as connection:  # BEGIN IMMEDIATE: needs the write lock now
                connection.execute(text("SELECT 1"))
            writes.append("ok")
        except OperationalError as exc:
            writes.append(str(exc.orig))
        return real_checkpw(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", checkpw)
    try:
        assert sqlite_workspace.officers.sign_in("light", PASSWORD, "", LIMITS, at(0)).officer
        assert sqlite_workspace.officers.sign_in("nobody", PASSWORD, "", LIMITS, at(1)).officer is None
    finally:
        other.dispose()
    assert writes == ["ok", "ok"]


# --- sessions ------------------------------------------------------------------------------


def test_a_session_lives_until_it_expires(workspace):
    repo = workspace.officers
    light = repo.by_username("light")
    token = repo.open_session(light.id, timedelta(hours=8), "10.0.0.1", T0)
    assert repo.session_officer(token, T0 + timedelta(hours=8) - timedelta(seconds=1)) == light
    assert repo.session_officer(token, T0 + timedelta(hours=8)) is None
    assert repo.session_officer(token + "x", T0) is None
    assert repo.session_officer("", T0) is None and repo.session_officer(None, T0) is None


def test_only_a_hash_of_the_token_is_stored(workspace):
    repo = workspace.officers
    token = repo.open_session(repo.by_username("light").id, timedelta(hours=1), "", T0)
    with workspace.session_factory() as session:
        stored = session.execute(text("SELECT token_hash FROM officer_sessions")).scalars().all()
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]
    assert len(token) >= 43


def test_logout_revokes_one_session(workspace):
    repo = workspace.officers
    light = repo.by_username("light")
    phone, desk = (repo.open_session(light.id, timedelta(hours=8), "", T0) for _ in range(2))
    assert repo.revoke_session(phone, at(1)) is True
    assert repo.revoke_session(phone, at(2)) is False  # already revoked
    assert repo.revoke_session("no such token", at(2)) is False
    assert repo.revoke_session(None, at(2)) is False
    assert repo.session_officer(phone, at(3)) is None
    assert repo.session_officer(desk, at(3)) == light


def test_a_password_change_or_disabling_revokes_every_session_of_the_account(workspace):
    repo = workspace.officers
    light, safai = repo.by_username("light"), repo.by_username("safai")
    tokens = [repo.open_session(light.id, timedelta(hours=8), "", T0) for _ in range(2)]
    other = repo.open_session(safai.id, timedelta(hours=8), "", T0)
    repo.set_password("light", "another long password", at(1))
    assert [repo.session_officer(t, at(2)) for t in tokens] == [None, None]
    assert repo.session_officer(other, at(2)).username == "safai"
    # A session opened after the change works; disabling ends it, enabling does not revive it.
    fresh = repo.open_session(light.id, timedelta(hours=8), "", at(3))
    assert repo.session_officer(fresh, at(4)).username == "light"
    repo.set_active("light", False, at(5))
    assert repo.session_officer(fresh, at(6)) is None
    repo.set_active("light", True, at(7))
    assert repo.session_officer(fresh, at(8)) is None


def test_a_session_of_a_disabled_account_is_refused_even_unrevoked(workspace):
    repo = workspace.officers
    light = repo.by_username("light")
    token = repo.open_session(light.id, timedelta(hours=8), "", T0)
    with workspace.session_factory() as session, session.begin():
        session.execute(text("UPDATE officers SET active = false WHERE username = 'light'"))
    assert repo.session_officer(token, at(1)) is None


def test_long_expired_sessions_are_deleted(workspace):
    repo = workspace.officers
    light = repo.by_username("light").id
    repo.open_session(light, timedelta(hours=1), "", T0)
    repo.open_session(light, timedelta(hours=1), "", T0 + timedelta(days=7, hours=1))
    repo.open_session(light, timedelta(hours=1), "", T0 + timedelta(days=7, hours=1, seconds=1))
    with workspace.session_factory() as session:
        assert session.execute(text("SELECT count(*) FROM officer_sessions")).scalar() == 2


# --- phone numbers -------------------------------------------------------------------------


@pytest.mark.parametrize("citizen_id, masked", [
    ("919876543210", "91xxxxxx3210"),
    ("9876543210", "98xxxx3210"),     # ten: the first two stay
    ("876543210", "xxxxx3210"),       # nine: only the last four
    ("12345", "x2345"),
    ("1234", "xxxx"),
    ("123", "xxx"),
    ("", ""),
    (None, ""),
])
def test_phone_numbers_are_masked(citizen_id, masked):
    assert mask_phone(citizen_id) == masked


def test_phone_reveals_are_recorded(workspace):
    repo = workspace.officers
    light, admin = repo.by_username("light"), repo.by_username("admin")
    first, second = workspace.numbers["light_new"], workspace.numbers["light_old"]
    repo.record_phone_reveal(light.id, first, "10.0.0.1", at(0))
    repo.record_phone_reveal(admin.id, second, "10.0.0.2", at(1))
    repo.record_phone_reveal(light.id, first, "10.0.0.3", at(2))
    assert [(r.at, r.username, r.ticket_number, r.address) for r in repo.phone_reveals(first)] == [
        (at(2), "light", first, "10.0.0.3"), (at(0), "light", first, "10.0.0.1")]
    assert [r.ticket_number for r in repo.phone_reveals()] == [first, second, first]
    assert len(repo.phone_reveals(limit=1)) == 1
    assert repo.phone_reveals("SRN-999999") == []
