"""Officer accounts, their sessions and sign-in limits, and the record of revealed numbers.

An officer belongs to one department (from city.yml) and sees only its tickets; an admin
sees every department and manages accounts. Passwords are stored as bcrypt hashes (cost
12, salted); there is no default account or password: the first admin is created from the
command line (`nagar-admin create-admin`).

Sign-in (`sign_in`) is throttled in the database, so every web process sees the same
counts: at most `LoginLimits.per_account` failed attempts per account and
`per_address` per client address within `window`. An attempt past either is refused
without looking at the password, and the refusal lifts by itself once the oldest of those
failures is `window` old. A successful sign-in clears the account's count (not the
address's). Each attempt is a `login_attempts` row: the count, and the log of failed
sign-ins that admins read. Attempts are counted one at a time per account and per address
(an attempt whose password is still being checked counts), so parallel attempts cannot
pass a limit together. bcrypt runs outside every transaction: on SQLite a transaction holds
the write lock, and 40 parallel sign-ins used to hold it for seconds.

Sessions are rows of `officer_sessions` (the cookie carries a random token, the table its
SHA-256): logout revokes one, a password change or disabling revokes all of the account's,
so a copied cookie stops working at once.
"""
from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import List, Optional

import bcrypt
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    delete,
    func,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError

from civic.city import LANGUAGES  # also of a staff member's WhatsApp messages
from civic.db import UnitOfWork, advisory_lock_key
from civic.tickets import Base, UTCDateTime, _now

__all__ = [
    "FIELD_WORKER", "OFFICER", "DEPARTMENT_HEAD", "ADMIN", "ROLES", "ASSIGNABLE_ROLES",
    "DESK_ROLES", "normalise_whatsapp_number", "MIN_PASSWORD_LENGTH", "MAX_REMARK_CHARS", "Officer",
    "OfficerRecord", "OfficerRepository", "AccountError", "LoginLimits", "SignIn",
    "LoginAttemptRecord", "PhoneRevealRecord", "hash_password", "verify_password", "mask_phone",
]

logger = logging.getLogger(__name__)

FIELD_WORKER = "field_worker"  # linemen, sanitation supervisors, junior engineers: on WhatsApp
OFFICER = "officer"  # the department's desk
DEPARTMENT_HEAD = "department_head"
ADMIN = "admin"  # the commissioner's office: every department, accounts, last escalation step
ROLES = (FIELD_WORKER, OFFICER, DEPARTMENT_HEAD, ADMIN)
ASSIGNABLE_ROLES = (FIELD_WORKER, OFFICER, DEPARTMENT_HEAD)  # who a ticket may be assigned to
DESK_ROLES = (OFFICER, DEPARTMENT_HEAD, ADMIN)  # who assigns
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_BYTES = 72  # bcrypt reads no further; longer passwords are refused, not cut
BCRYPT_ROUNDS = 12
MAX_REMARK_CHARS = 1000  # an officer's remark on a status change (the citizen reads it)

# login_attempts.outcome
PENDING, FAILED, SUCCEEDED, LOCKED = "pending", "failed", "succeeded", "locked"
COUNTED = (PENDING, FAILED)  # a pending attempt counts until its password check is done
LOGIN_LOG_DAYS = 90  # attempts older than this are deleted
EXPIRED_SESSION_DAYS = 7  # expired sessions are deleted this long after they ended


class AccountError(ValueError):
    """A refused account change: unknown department, weak password, taken username …"""


class Officer(Base):
    __tablename__ = "officers"

    id = Column(Integer, primary_key=True)
    username = Column(String(64), nullable=False, unique=True)
    display_name = Column(String(128), nullable=False)
    password_hash = Column(String(128), nullable=False)
    role = Column(String(16), nullable=False)
    department = Column(String(64))  # None for admins
    active = Column(Boolean, nullable=False)
    created_at = Column(UTCDateTime(), nullable=False)
    password_changed_at = Column(UTCDateTime(), nullable=False)
    # Staff on WhatsApp: the number in international form, digits only (a wa_id), and the
    # language of the messages they get.
    whatsapp_number = Column(String(20))
    language = Column(String(16), nullable=False, default="hi", server_default="hi")

    __table_args__ = (
        CheckConstraint(
            "role IN ({})".format(", ".join(f"'{r}'" for r in ROLES)), name="role"),
        CheckConstraint("role = 'admin' OR department IS NOT NULL", name="department"),
        # One account per WhatsApp number: a message from it belongs to exactly one person.
        Index("uq_officers_whatsapp_number", "whatsapp_number", unique=True),
    )


class OfficerSession(Base):
    """A signed-in session; valid while not revoked, not expired and the account active."""

    __tablename__ = "officer_sessions"

    id = Column(Integer, primary_key=True)
    token_hash = Column(String(64), nullable=False, unique=True)  # SHA-256 of the cookie's token
    officer_id = Column(Integer, ForeignKey("officers.id"), nullable=False)
    address = Column(String(64), nullable=False)
    created_at = Column(UTCDateTime(), nullable=False)
    expires_at = Column(UTCDateTime(), nullable=False)
    revoked_at = Column(UTCDateTime())

    __table_args__ = (
        Index("ix_officer_sessions_officer_id", "officer_id"),
        Index("ix_officer_sessions_expires_at", "expires_at"),
    )


class LoginAttempt(Base):
    __tablename__ = "login_attempts"

    id = Column(Integer, primary_key=True)
    at = Column(UTCDateTime(), nullable=False)
    username = Column(String(64), nullable=False)  # as typed (normalised), known or not
    address = Column(String(64), nullable=False)
    outcome = Column(String(16), nullable=False)

    __table_args__ = (
        CheckConstraint("outcome IN ('pending', 'failed', 'succeeded', 'locked')", name="outcome"),
        Index("ix_login_attempts_username_at", "username", "at"),
        Index("ix_login_attempts_address_at", "address", "at"),
        Index("ix_login_attempts_at", "at"),
    )


class PhoneReveal(Base):
    """Who was shown whose number (the ticket's citizen), when, from where."""

    __tablename__ = "phone_reveals"

    id = Column(Integer, primary_key=True)
    at = Column(UTCDateTime(), nullable=False)
    officer_id = Column(Integer, ForeignKey("officers.id"), nullable=False)
    ticket_number = Column(String(20), nullable=False)
    address = Column(String(64), nullable=False)

    __table_args__ = (
        Index("ix_phone_reveals_ticket_number", "ticket_number"),
        Index("ix_phone_reveals_at", "at"),
    )


@dataclass(frozen=True)
class OfficerRecord:
    id: int
    username: str
    display_name: str
    role: str
    department: Optional[str]
    active: bool
    created_at: datetime
    password_changed_at: datetime
    whatsapp_number: Optional[str] = None
    language: str = "hi"

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    @property
    def is_field_worker(self) -> bool:
        return self.role == FIELD_WORKER

    @property
    def can_assign(self) -> bool:
        return self.role in DESK_ROLES

    def can_see(self, department: str) -> bool:
        """An admin sees every department; the others only their own."""
        return self.is_admin or self.department == department

    def can_see_ticket(self, ticket) -> bool:
        """A field worker sees only the tickets assigned to them; the desk its department's."""
        if self.is_field_worker:
            return ticket.assignee_id == self.id
        return self.can_see(ticket.department)

    @property
    def scope(self) -> Optional[str]:
        """The department filter for ticket queries (None: all)."""
        return None if self.is_admin else self.department


@dataclass(frozen=True)
class LoginLimits:
    """Failed sign-ins allowed within `window`, per account and per client address."""

    per_account: int = 5
    per_address: int = 20
    window: timedelta = timedelta(minutes=15)

    def __post_init__(self) -> None:
        if self.per_account < 1 or self.per_address < 1 or self.window <= timedelta(0):
            raise ValueError("login limits must be at least 1 attempt in a positive window")


@dataclass(frozen=True)
class SignIn:
    """The officer on success; else None, with `locked_until` when the attempt was refused
    unchecked because of too many failures."""

    officer: Optional[OfficerRecord]
    locked_until: Optional[datetime] = None


@dataclass(frozen=True)
class LoginAttemptRecord:
    at: datetime
    username: str
    address: str
    outcome: str


@dataclass(frozen=True)
class PhoneRevealRecord:
    at: datetime
    username: str
    ticket_number: str
    address: str


def hash_password(password: str) -> str:
    _check_password(password)
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(BCRYPT_ROUNDS)).decode("ascii")


def verify_password(password: str, password_hash: str) -> bool:
    encoded = (password or "").encode("utf-8")
    if not encoded or len(encoded) > MAX_PASSWORD_BYTES:
        return False
    return bcrypt.checkpw(encoded, password_hash.encode("ascii"))


# Compared against when the username is unknown, so the answer takes as long either way.
_DUMMY_HASH = bcrypt.hashpw(b"no such officer", bcrypt.gensalt(BCRYPT_ROUNDS)).decode("ascii")


def _check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise AccountError(f"the password may have at most {MAX_PASSWORD_BYTES} bytes")


def mask_phone(citizen_id: str) -> str:
    """919876543210 -> 91xxxxxx3210: the last four characters, and the first two (the
    country code) when there are at least ten; the rest as x."""
    value = citizen_id or ""
    if len(value) <= 4:
        return "x" * len(value)
    head = value[:2] if len(value) >= 10 else ""
    return head + "x" * (len(value) - len(head) - 4) + value[-4:]


def normalise_whatsapp_number(number: str) -> str:
    """"+91 98765-43210" -> "919876543210" (a WhatsApp id: country code and number, digits
    only); AccountError for anything else, a number without its country code included."""
    digits = re.sub(r"[\s\-()]", "", str(number or "")).removeprefix("+")
    if not (digits.isascii() and digits.isdigit()) or not 11 <= len(digits) <= 15 or digits[0] == "0":
        raise AccountError(
            f"a WhatsApp number is written with its country code, 11-15 digits (91 98765 43210), not {number!r}")
    return digits


def _username(username: Optional[str]) -> str:
    return (username or "").strip().lower()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class OfficerRepository(UnitOfWork):
    """Officer accounts, sessions, sign-in attempts and phone reveals; each call is one
    transaction (sign_in is two, with the password check between them)."""

    # --- accounts ------------------------------------------------------------------------

    def create(self, username: str, password: str, role: str = OFFICER,
               department: Optional[str] = None, display_name: str = "",
               now: Optional[datetime] = None, whatsapp_number: Optional[str] = None,
               language: str = "hi") -> OfficerRecord:
        username = _username(username)
        if not username or len(username) > 64 or not username.replace(".", "").replace("_", "").replace("-", "").isalnum():
            raise AccountError("a username is 1-64 letters, digits, '.', '_' or '-'")
        if role not in ROLES:
            raise AccountError(f"role must be one of {ROLES}")
        if role != ADMIN and department not in self.city.departments:
            raise AccountError(
                f"a {role} needs a department, one of: {', '.join(self.city.departments)}")
        if role == ADMIN:
            department = None
        if language not in LANGUAGES:
            raise AccountError(f"language must be one of {LANGUAGES}")
        number = normalise_whatsapp_number(whatsapp_number) if whatsapp_number else None
        now = _now(now)
        row = Officer(username=username, display_name=(display_name or username).strip()[:128],
                      password_hash=hash_password(password), role=role, department=department,
                      active=True, created_at=now, password_changed_at=now,
                      whatsapp_number=number, language=language)
        try:
            with self._unit() as session:
                if number:
                    self._number_free(session, number, None)
                session.add(row)
                session.flush()
                return _record(row)
        except IntegrityError:
            raise AccountError(f"the username {username!r} is taken") from None

    def get(self, officer_id: int) -> Optional[OfficerRecord]:
        with self._read() as session:
            row = session.get(Officer, officer_id)
            return _record(row) if row is not None else None

    def by_username(self, username: str) -> Optional[OfficerRecord]:
        with self._read() as session:
            row = self._find(session, username)
            return _record(row) if row is not None else None

    def list(self) -> List[OfficerRecord]:
        with self._read() as session:
            rows = session.execute(select(Officer).order_by(Officer.username)).scalars().all()
            return [_record(row) for row in rows]

    def set_password(self, username: str, password: str, now: Optional[datetime] = None) -> OfficerRecord:
        """Change the password and revoke every open session of the account."""
        password_hash = hash_password(password)  # before the transaction: bcrypt is slow
        now = _now(now)
        with self._unit() as session:
            row = self._load(session, username)
            row.password_hash = password_hash
            row.password_changed_at = now
            _revoke_all(session, row.id, now)
            session.flush()
            return _record(row)

    def set_whatsapp(self, username: str, number: Optional[str],
                     language: Optional[str] = None) -> OfficerRecord:
        """Store (or with None/"" remove) the account's WhatsApp number, and its language."""
        number = normalise_whatsapp_number(number) if number else None
        if language is not None and language not in LANGUAGES:
            raise AccountError(f"language must be one of {LANGUAGES}")
        try:
            with self._unit() as session:
                row = self._load(session, username)
                if number:
                    self._number_free(session, number, row.id)
                row.whatsapp_number = number
                if language is not None:
                    row.language = language
                session.flush()
                return _record(row)
        except IntegrityError:  # the same number stored for another account meanwhile
            raise AccountError(f"the WhatsApp number {number} belongs to another account") from None

    def set_active(self, username: str, active: bool, now: Optional[datetime] = None) -> OfficerRecord:
        """Enable or disable; disabling revokes the account's open sessions."""
        with self._unit() as session:
            row = self._load(session, username)
            row.active = bool(active)
            if not active:
                _revoke_all(session, row.id, _now(now))
            session.flush()
            return _record(row)

    # --- sign-in -------------------------------------------------------------------------

    def sign_in(self, username: str, password: str, address: str = "",
                limits: LoginLimits = LoginLimits(), now: Optional[datetime] = None) -> SignIn:
        """Check a password under the sign-in limits (see the module docstring)."""
        name, address, now = _username(username)[:64], (address or "")[:64], _now(now)
        # 1. Count and record the attempt, one at a time per account and per address (a
        #    pending attempt counts, so concurrent ones cannot pass the limit together).
        with self._unit() as session:
            _one_at_a_time(session, f"sign-in account:{name}", f"sign-in address:{address}")
            session.execute(delete(LoginAttempt).where(
                LoginAttempt.at < now - timedelta(days=LOGIN_LOG_DAYS)))
            locked_until = _locked_until(session, name, address, limits, now)
            attempt = LoginAttempt(at=now, username=name, address=address,
                                   outcome=PENDING if locked_until is None else LOCKED)
            session.add(attempt)
            session.flush()
            attempt_id = attempt.id
            if locked_until is None:
                row = self._find(session, name)
                account = row if row is not None and row.active else None
                record = _record(account) if account is not None else None
                stored_hash = account.password_hash if account is not None else _DUMMY_HASH
        if locked_until is not None:
            logger.warning("Sign-in refused (too many failures) for %r from %s until %s",
                           name, address, locked_until.isoformat())
            return SignIn(None, locked_until)
        # 2. bcrypt, outside any transaction; then the outcome.
        ok = verify_password(password, stored_hash) and record is not None
        with self._unit() as session:
            session.get(LoginAttempt, attempt_id).outcome = SUCCEEDED if ok else FAILED
        if not ok:
            logger.warning("Failed sign-in for %r from %s", name, address)
        return SignIn(record if ok else None)

    def login_failures(self, limit: int = 100) -> List[LoginAttemptRecord]:
        """The latest failed and refused sign-ins, newest first."""
        with self._read() as session:
            rows = session.execute(
                select(LoginAttempt).where(LoginAttempt.outcome.in_((FAILED, LOCKED)))
                .order_by(LoginAttempt.at.desc(), LoginAttempt.id.desc()).limit(limit)
            ).scalars().all()
            return [LoginAttemptRecord(r.at, r.username, r.address, r.outcome) for r in rows]

    # --- sessions ------------------------------------------------------------------------

    def open_session(self, officer_id: int, lifetime: timedelta, address: str = "",
                     now: Optional[datetime] = None) -> str:
        """A new session for the officer; the token goes into the cookie, only its hash here."""
        now = _now(now)
        token = secrets.token_urlsafe(32)
        with self._unit() as session:
            session.execute(delete(OfficerSession).where(
                OfficerSession.expires_at < now - timedelta(days=EXPIRED_SESSION_DAYS)))
            session.add(OfficerSession(token_hash=_token_hash(token), officer_id=officer_id,
                                       address=(address or "")[:64], created_at=now,
                                       expires_at=now + lifetime))
        return token

    def session_officer(self, token: Optional[str], now: Optional[datetime] = None) -> Optional[OfficerRecord]:
        """The officer of a live session: not revoked, not expired, account active."""
        if not token:
            return None
        now = _now(now)
        with self._unit() as session:
            found = session.execute(
                select(OfficerSession, Officer).join(Officer, Officer.id == OfficerSession.officer_id)
                .where(OfficerSession.token_hash == _token_hash(token))
            ).one_or_none()
            if found is None:
                return None
            row, officer = found
            if row.revoked_at is not None or row.expires_at <= now or not officer.active:
                return None
            return _record(officer)

    def revoke_session(self, token: Optional[str], now: Optional[datetime] = None) -> bool:
        """End one session (logout); True when a live one was revoked."""
        if not token:
            return False
        with self._unit() as session:
            result = session.execute(
                update(OfficerSession)
                .where(OfficerSession.token_hash == _token_hash(token),
                       OfficerSession.revoked_at.is_(None))
                .values(revoked_at=_now(now)))
            return result.rowcount == 1

    # --- phone numbers -------------------------------------------------------------------

    def record_phone_reveal(self, officer_id: int, ticket_number: str, address: str = "",
                            now: Optional[datetime] = None) -> None:
        with self._unit() as session:
            session.add(PhoneReveal(at=_now(now), officer_id=officer_id,
                                    ticket_number=ticket_number, address=(address or "")[:64]))

    def phone_reveals(self, ticket_number: Optional[str] = None,
                      limit: int = 100) -> List[PhoneRevealRecord]:
        """Newest first; of one ticket, or of all."""
        query = (select(PhoneReveal, Officer.username)
                 .join(Officer, Officer.id == PhoneReveal.officer_id)
                 .order_by(PhoneReveal.at.desc(), PhoneReveal.id.desc()).limit(limit))
        if ticket_number is not None:
            query = query.where(PhoneReveal.ticket_number == ticket_number)
        with self._read() as session:
            return [PhoneRevealRecord(r.at, username, r.ticket_number, r.address)
                    for r, username in session.execute(query).all()]

    # --- helpers -------------------------------------------------------------------------

    @staticmethod
    def _number_free(session, number: str, own_id: Optional[int]) -> None:
        other = session.execute(
            select(Officer.username).where(Officer.whatsapp_number == number, Officer.id != own_id)
        ).scalar()
        if other is not None:
            raise AccountError(f"the WhatsApp number {number} belongs to the account {other!r}")

    @staticmethod
    def _find(session, username: str) -> Optional[Officer]:
        return session.execute(
            select(Officer).where(Officer.username == _username(username))
        ).scalar_one_or_none()

    @classmethod
    def _load(cls, session, username: str) -> Officer:
        row = cls._find(session, username)
        if row is None:
            raise AccountError(f"no officer {username!r}")
        return row


def _one_at_a_time(session, *names: str) -> None:
    """Serialise transactions per name until they end. SQLite needs nothing: every
    transaction begins IMMEDIATE (civic.db), which already excludes other writers.
    PostgreSQL: transaction-level advisory locks, always taken in the given order."""
    if session.get_bind().dialect.name == "postgresql":
        for name in names:
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                            {"key": advisory_lock_key(name)})


def _locked_until(session, username: str, address: str, limits: LoginLimits,
                  now: datetime) -> Optional[datetime]:
    """When a new attempt would be allowed, if it is over a limit now; else None.

    An attempt counts while it is younger than the window (`at > now - window`); the
    account's count restarts at its last successful sign-in.
    """
    start = now - limits.window
    last_success = session.execute(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.username == username, LoginAttempt.outcome == SUCCEEDED,
            LoginAttempt.at > start)
    ).scalar()
    checks = [(LoginAttempt.username == username, max(start, last_success or start),
               limits.per_account)]
    if address:
        checks.append((LoginAttempt.address == address, start, limits.per_address))
    until = None
    for condition, since, limit in checks:
        times = session.execute(
            select(LoginAttempt.at).where(
                condition, LoginAttempt.at > since, LoginAttempt.outcome.in_(COUNTED))
            .order_by(LoginAttempt.at.desc()).limit(limit)
        ).scalars().all()
        if len(times) >= limit:
            # Allowed again once the oldest of the `limit` latest failures leaves the window.
            lifted = times[limit - 1] + limits.window
            until = lifted if until is None else max(until, lifted)
    return until


def _revoke_all(session, officer_id: int, now: datetime) -> None:
    session.execute(
        update(OfficerSession)
        .where(OfficerSession.officer_id == officer_id, OfficerSession.revoked_at.is_(None))
        .values(revoked_at=now))


def _record(row: Officer) -> OfficerRecord:
    return OfficerRecord(row.id, row.username, row.display_name, row.role, row.department,
                         bool(row.active), row.created_at, row.password_changed_at,
                         row.whatsapp_number, row.language or "hi")
