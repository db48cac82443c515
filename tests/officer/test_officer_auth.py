"""officer/auth.py: session cookies and CSRF tokens (itsdangerous), with a clock the test moves.

Boundaries are checked on both sides (valid at exactly max_age, refused one second later),
and every way a cookie or token can be wrong: empty, forged with another key, another salt,
tampered payload or signature, truncated, from the future, well signed but malformed.
"""
from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timezone

import pytest
from itsdangerous import URLSafeTimedSerializer
from officer_support import FakeClock

from officer import auth
from officer.auth import CSRF_SALT, SESSION_SALT, SessionCodec, secret_key_from_env

KEY = b"s" * 32
MAX_AGE = 3600
START = datetime(2024, 6, 1, 10, 0, 0, tzinfo=timezone.utc)


@pytest.fixture
def clock():
    return FakeClock(START)


@pytest.fixture
def codec(clock):
    return SessionCodec(KEY, MAX_AGE, clock)


def signed(payload, salt=SESSION_SALT, key=KEY, clock=None) -> str:
    """A value signed the way the codec signs (SHA-256), with any payload."""
    serializer = URLSafeTimedSerializer(key, salt=salt, signer=auth._ClockedSigner,
                                        signer_kwargs={"digest_method": hashlib.sha256,
                                                       "clock": clock or FakeClock(START)})
    return serializer.dumps(payload)


def flip(text: str, index: int) -> str:
    return text[:index] + ("A" if text[index] != "A" else "B") + text[index + 1:]


# --- sessions ------------------------------------------------------------------------------


def test_a_new_session_is_anonymous_with_a_fresh_csrf_value(codec):
    first, second = codec.new("hi"), codec.new("hi")
    assert first["sid"] is None and first["lang"] == "hi"
    assert len(first["csrf"]) >= 43 and first["csrf"] != second["csrf"]  # 32 random bytes


def test_a_cookie_round_trips(codec):
    session = {"sid": "token-1", "lang": "en", "csrf": "c" * 43}
    assert codec.loads(codec.dumps(session)) == session
    anonymous = codec.new("en")
    assert codec.loads(codec.dumps(anonymous)) == anonymous


def test_the_cookie_is_signed_with_hmac_sha256(codec):
    signature = codec.dumps(codec.new("en")).rsplit(".", 1)[1]
    assert len(signature) == 43  # 32 bytes in unpadded base64; SHA-1 would give 27


def test_a_cookie_is_valid_until_exactly_max_age_seconds(codec, clock):
    value = codec.dumps(codec.new("en"))
    clock.advance(seconds=MAX_AGE)
    assert codec.loads(value) is not None
    clock.advance(seconds=1)
    assert codec.loads(value) is None


def test_a_cookie_signed_in_the_future_is_refused(codec, clock):
    clock.advance(seconds=10)
    value = codec.dumps(codec.new("en"))
    clock.advance(seconds=-11)
    assert codec.loads(value) is None


def test_the_max_age_is_whole_seconds(clock):
    assert SessionCodec(KEY, 59.9, clock).max_age_seconds == 59


@pytest.mark.parametrize("value", [None, "", "not-a-cookie", ".", "..", "a.b.c"])
def test_missing_or_garbage_cookies_are_refused(codec, value):
    assert codec.loads(value) is None


def test_tampered_forged_or_truncated_cookies_are_refused(codec, clock):
    good = codec.dumps({"sid": "token-1", "lang": "en", "csrf": "c" * 43})
    payload, timestamp, signature = good.rsplit(".", 2)
    forged_key = SessionCodec(b"another key, also 32 bytes long!", MAX_AGE, clock)
    for bad in (
        flip(good, 0),                      # the compression mark changed
        flip(good, 5),                      # payload changed
        f"{payload}.{flip(timestamp, 2)}.{signature}",  # timestamp changed
        flip(good, len(good) - 2),          # signature changed
        good[:-1],                          # signature cut
        f".{timestamp}.{signature}",        # payload removed
        f"{payload}.{signature}",           # timestamp removed
        good + "A",                         # signature extended
        forged_key.dumps({"sid": "token-1", "lang": "en", "csrf": "c" * 43}),
        signed({"sid": "token-1", "lang": "en", "csrf": "c"}, salt=CSRF_SALT),  # a CSRF token
        signed({"sid": "token-1", "lang": "en", "csrf": "c"}, salt="another-salt"),
    ):
        assert codec.loads(bad) is None, bad
    assert codec.loads(good) is not None


@pytest.mark.parametrize("payload", [
    ["a", "list"],
    "a string",
    {"sid": None, "lang": "en"},                          # no csrf
    {"sid": None, "lang": "en", "csrf": ""},              # empty csrf
    {"sid": None, "lang": "en", "csrf": 12345},           # csrf not text
    {"sid": None, "csrf": "c" * 43},                      # no language
    {"sid": None, "lang": "", "csrf": "c" * 43},
    {"sid": None, "lang": ["en"], "csrf": "c" * 43},
    {"sid": 7, "lang": "en", "csrf": "c" * 43},           # session token not text
    {"sid": "", "lang": "en", "csrf": "c" * 43},
    {"lang": "en", "csrf": "c" * 43, "uid": 1},           # the old cookie format
])
def test_well_signed_but_malformed_cookies_are_refused(codec, payload):
    assert codec.loads(signed(payload)) is None


def test_a_well_formed_signed_cookie_is_accepted(codec):
    """The counterpart of the malformed ones: only the shape made them fail."""
    assert codec.loads(signed({"sid": "t", "lang": "en", "csrf": "c"})) == {
        "sid": "t", "lang": "en", "csrf": "c"}
    assert codec.loads(signed({"sid": None, "lang": "hi", "csrf": "c"}))["lang"] == "hi"


# --- CSRF tokens ---------------------------------------------------------------------------


def test_a_form_token_is_valid_for_its_own_session_only(codec):
    mine, other = codec.new("en"), codec.new("en")
    token = codec.csrf_token(mine)
    assert codec.csrf_valid(mine, token)
    assert not codec.csrf_valid(other, token)
    assert not codec.csrf_valid(mine, codec.csrf_token(other))


def test_each_page_gets_a_new_token_and_all_stay_valid(codec, clock):
    session = codec.new("en")
    first = codec.csrf_token(session)
    clock.advance(seconds=1)
    second = codec.csrf_token(session)
    assert first != second
    assert codec.csrf_valid(session, first) and codec.csrf_valid(session, second)


def test_the_raw_csrf_value_is_not_a_token(codec):
    session = codec.new("en")
    assert not codec.csrf_valid(session, session["csrf"])


@pytest.mark.parametrize("submitted", [None, "", "forged", "a.b", "x" * 500])
def test_missing_or_forged_tokens_are_refused(codec, submitted):
    assert not codec.csrf_valid(codec.new("en"), submitted)


def test_tokens_signed_otherwise_are_refused(codec, clock):
    session = codec.new("en")
    token = codec.csrf_token(session)
    for bad in (
        flip(token, 1), flip(token, len(token) - 2), token[:-1],
        SessionCodec(b"another key, also 32 bytes long!", MAX_AGE, clock).csrf_token(session),
        signed(session["csrf"], salt=SESSION_SALT),  # the session serializer's signature
        codec.dumps(session),                         # the cookie itself
    ):
        assert not codec.csrf_valid(session, bad), bad


def test_a_token_needs_a_session_with_a_csrf_value(codec):
    session = codec.new("en")
    token = codec.csrf_token(session)
    assert not codec.csrf_valid(None, token)
    assert not codec.csrf_valid({}, token)
    assert not codec.csrf_valid({"csrf": ""}, token)
    assert not codec.csrf_valid({"csrf": None}, token)


def test_a_token_is_valid_until_exactly_max_age_seconds(codec, clock):
    session = codec.new("en")
    token = codec.csrf_token(session)
    clock.advance(seconds=MAX_AGE)
    assert codec.csrf_valid(session, token)
    clock.advance(seconds=1)
    assert not codec.csrf_valid(session, token)


def test_a_token_from_the_future_is_refused(codec, clock):
    session = codec.new("en")
    clock.advance(seconds=5)
    token = codec.csrf_token(session)
    clock.advance(seconds=-6)
    assert not codec.csrf_valid(session, token)


def test_a_token_carrying_something_else_than_text_is_refused(codec):
    session = {"sid": None, "lang": "en", "csrf": "12345"}
    assert not codec.csrf_valid(session, signed(12345, salt=CSRF_SALT))
    assert codec.csrf_valid(session, signed("12345", salt=CSRF_SALT))


# --- the key -------------------------------------------------------------------------------


def test_the_secret_key_comes_from_the_environment(monkeypatch, caplog):
    monkeypatch.setenv("OFFICER_SECRET_KEY", "  " + "k" * 40 + "  ")
    with caplog.at_level(logging.WARNING, logger="officer.auth"):
        assert secret_key_from_env() == b"k" * 40
    assert caplog.records == []
    monkeypatch.setenv("OFFICER_SECRET_KEY", "k" * 31)
    with caplog.at_level(logging.WARNING, logger="officer.auth"):
        assert secret_key_from_env() == b"k" * 31
    assert "shorter than 32" in caplog.text
    caplog.clear()
    monkeypatch.setenv("OFFICER_SECRET_KEY", "k" * 32)
    with caplog.at_level(logging.WARNING, logger="officer.auth"):
        secret_key_from_env()
    assert caplog.records == []


def test_without_a_key_each_process_gets_a_random_one(monkeypatch, caplog):
    monkeypatch.delenv("OFFICER_SECRET_KEY", raising=False)
    with caplog.at_level(logging.WARNING, logger="officer.auth"):
        first, second = secret_key_from_env(), secret_key_from_env()
    assert len(first) == 32 and first != second
    assert "not set" in caplog.text
    # Cookies signed under one random key are worthless under the next.
    clock = FakeClock(START)
    assert SessionCodec(second, MAX_AGE, clock).loads(
        SessionCodec(first, MAX_AGE, clock).dumps({"sid": None, "lang": "en", "csrf": "c"})) is None


def test_the_default_clock_is_utc_now():
    before = datetime.now(timezone.utc)
    now = auth.utc_now()
    assert now.tzinfo is not None and before <= now <= datetime.now(timezone.utc)
