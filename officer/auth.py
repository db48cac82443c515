"""Session cookies and CSRF tokens for the officers' workspace, signed with itsdangerous.

The cookie is an itsdangerous `URLSafeTimedSerializer` value (HMAC-SHA256, timestamped)
over `{"sid", "lang", "csrf"}`; it is refused when its signature is wrong or it is older
than the session lifetime. `sid` is the token of a server-side session
(civic.officers: `officer_sessions`), None for a visitor who has not signed in, so logout
and password changes end a session on the server and a copied cookie stops working.

Every visitor, signed in or not, has a random `csrf` value in the cookie. Forms carry it
signed and timestamped by a second serializer (another salt, the Flask-WTF scheme); every
unsafe request (POST …) must send such a token, no older than the session lifetime, whose
value equals this cookie's (synchroniser-token pattern). The cookie is HttpOnly and
SameSite=Lax as a second layer.

Time comes from an injected clock (`clock()` -> aware datetime), so tests move it.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Optional

from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer

logger = logging.getLogger(__name__)

SESSION_COOKIE = "nagar_officer_session"
CSRF_FIELD = "csrf_token"
DEFAULT_SESSION_HOURS = 8.0
SESSION_SALT = "nagar-officer-session"
CSRF_SALT = "nagar-officer-csrf"
SESSION_KEYS = {"sid", "lang", "csrf"}

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def secret_key_from_env() -> bytes:
    """OFFICER_SECRET_KEY, or a random key for this process only (logged as such)."""
    key = os.environ.get("OFFICER_SECRET_KEY", "").strip()
    if key:
        if len(key) < 32:
            logger.warning("OFFICER_SECRET_KEY is shorter than 32 characters; use a longer one.")
        return key.encode("utf-8")
    logger.warning(
        "OFFICER_SECRET_KEY is not set: generated a random key for this process. Sessions end "
        "when it restarts and several processes cannot share them. Fine for local use only."
    )
    return secrets.token_bytes(32)


class _ClockedSigner(TimestampSigner):
    """itsdangerous' timestamp signer reading the injected clock instead of time.time()."""

    def __init__(self, *args, clock: Clock, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clock = clock

    def get_timestamp(self) -> int:
        return int(self._clock().timestamp())


class SessionCodec:
    """Signs and checks session cookies and CSRF tokens.

    A cookie or token is valid up to and including `max_age_seconds` after it was signed
    (itsdangerous refuses `age > max_age`, and any age below zero).
    """

    def __init__(self, secret: bytes, max_age_seconds: float = DEFAULT_SESSION_HOURS * 3600,
                 clock: Clock = utc_now) -> None:
        self.max_age_seconds = int(max_age_seconds)
        signer_kwargs = {"digest_method": hashlib.sha256, "clock": clock}
        self._cookies = URLSafeTimedSerializer(secret, salt=SESSION_SALT, signer=_ClockedSigner,
                                               signer_kwargs=signer_kwargs)
        self._csrf = URLSafeTimedSerializer(secret, salt=CSRF_SALT, signer=_ClockedSigner,
                                            signer_kwargs=signer_kwargs)

    @staticmethod
    def new(language: str) -> Dict[str, Any]:
        """A fresh anonymous session with a new CSRF value."""
        return {"sid": None, "lang": language, "csrf": secrets.token_urlsafe(32)}

    def dumps(self, session: Dict[str, Any]) -> str:
        return self._cookies.dumps(session)

    def loads(self, value: Optional[str]) -> Optional[Dict[str, Any]]:
        """The session in a cookie; None when missing, forged, tampered, expired or malformed."""
        if not value:
            return None
        try:
            session = self._cookies.loads(value, max_age=self.max_age_seconds)
        except BadData:
            return None
        if not isinstance(session, dict) or set(session) != SESSION_KEYS:
            return None
        if _text(session["csrf"]) and _text(session["lang"]) and (
                session["sid"] is None or _text(session["sid"])):
            return session
        return None

    def csrf_token(self, session: Dict[str, Any]) -> str:
        """The token a form carries for this session (a new signature each time)."""
        return self._csrf.dumps(session["csrf"])

    def csrf_valid(self, session: Optional[Dict[str, Any]], submitted: Optional[str]) -> bool:
        expected = (session or {}).get("csrf")
        if not _text(expected) or not submitted:
            return False
        try:
            value = self._csrf.loads(submitted, max_age=self.max_age_seconds)
        except BadData:
            return False
        return _text(value) and hmac.compare_digest(value.encode("utf-8"), expected.encode("utf-8"))


def _text(value: Any) -> bool:
    return isinstance(value, str) and value != ""
