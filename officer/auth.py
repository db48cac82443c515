"""Sessions and CSRF protection for the officers' workspace.

The session is a signed cookie (HMAC-SHA256 over a JSON payload) rather than a table: it
holds only the officer id, the UI language, a CSRF token and its issue and expiry times,
so nothing has to be cleaned up. A session ends when it expires (OFFICER_SESSION_HOURS,
default 8), on logout, or when the account's password changes or it is disabled (sessions
issued before `password_changed_at` are refused).

Every visitor, signed in or not, gets a session with a random CSRF token; every unsafe
request (POST …) must send it back in the `csrf_token` form field, compared in constant time
(synchroniser-token pattern). The cookie is HttpOnly and SameSite=Lax as a second layer.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
import time
from typing import Any, Dict, Optional

logger = logging.getLogger(__name__)

SESSION_COOKIE = "nagar_officer_session"
CSRF_FIELD = "csrf_token"
DEFAULT_SESSION_HOURS = 8.0


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


class SessionCodec:
    """Signs and checks session cookies; a cookie past its expiry or with a bad signature is None."""

    def __init__(self, secret: bytes, max_age_seconds: float = DEFAULT_SESSION_HOURS * 3600):
        # A derived key: the raw secret is never used for anything but this derivation.
        self._key = hashlib.sha256(b"nagar-officer-session:" + secret).digest()
        self.max_age_seconds = max_age_seconds

    def new(self, language: str, now: Optional[float] = None) -> Dict[str, Any]:
        """A fresh anonymous session with a new CSRF token."""
        now = time.time() if now is None else now
        return {"uid": None, "lang": language, "csrf": secrets.token_urlsafe(32),
                "iat": now, "exp": now + self.max_age_seconds}

    def dumps(self, session: Dict[str, Any]) -> str:
        payload = _b64(json.dumps(session, separators=(",", ":"), sort_keys=True).encode("utf-8"))
        return f"{payload}.{_b64(self._sign(payload))}"

    def loads(self, value: Optional[str], now: Optional[float] = None) -> Optional[Dict[str, Any]]:
        if not value or value.count(".") != 1:
            return None
        payload, signature = value.split(".")
        try:
            if not hmac.compare_digest(_unb64(signature), self._sign(payload)):
                return None
            session = json.loads(_unb64(payload))
        except (ValueError, TypeError):
            return None
        now = time.time() if now is None else now
        if not isinstance(session, dict) or not isinstance(session.get("exp"), int | float):
            return None
        return session if session["exp"] > now else None

    def _sign(self, payload: str) -> bytes:
        return hmac.new(self._key, payload.encode("ascii"), hashlib.sha256).digest()


def csrf_valid(session: Optional[Dict[str, Any]], submitted: Optional[str]) -> bool:
    expected = (session or {}).get("csrf")
    if not expected or not submitted:
        return False
    return hmac.compare_digest(str(expected).encode("utf-8"), str(submitted).encode("utf-8"))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
