"""Officer accounts: who may work which department's tickets.

An officer belongs to one department (from city.yml) and sees only its tickets; an admin
sees every department and manages accounts. Passwords are stored as bcrypt hashes (cost
12, salted); there is no default account or password: the first admin is created from the
command line (`nagar-admin create-admin`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import List, Optional

import bcrypt
from sqlalchemy import Boolean, CheckConstraint, Column, Integer, String, select
from sqlalchemy.exc import IntegrityError

from civic.db import UnitOfWork
from civic.tickets import Base, UTCDateTime, _now

__all__ = [
    "OFFICER", "ADMIN", "ROLES", "MIN_PASSWORD_LENGTH", "Officer", "OfficerRecord",
    "OfficerRepository", "AccountError", "hash_password", "verify_password",
]

OFFICER = "officer"
ADMIN = "admin"
ROLES = (OFFICER, ADMIN)
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_BYTES = 72  # bcrypt reads no further; longer passwords are refused, not cut
BCRYPT_ROUNDS = 12


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
    # Sessions issued before this instant are void (password changed, account disabled).
    password_changed_at = Column(UTCDateTime(), nullable=False)

    __table_args__ = (
        CheckConstraint("role IN ('officer', 'admin')", name="role"),
        CheckConstraint("role = 'admin' OR department IS NOT NULL", name="department"),
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

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    def can_see(self, department: str) -> bool:
        """An admin sees every department; an officer only their own."""
        return self.is_admin or self.department == department

    @property
    def scope(self) -> Optional[str]:
        """The department filter for ticket queries (None: all)."""
        return None if self.is_admin else self.department


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


class OfficerRepository(UnitOfWork):
    """Officer accounts; each call is one transaction."""


    def create(self, username: str, password: str, role: str = OFFICER,
               department: Optional[str] = None, display_name: str = "",
               now: Optional[datetime] = None) -> OfficerRecord:
        username = (username or "").strip().lower()
        if not username or len(username) > 64 or not username.replace(".", "").replace("_", "").replace("-", "").isalnum():
            raise AccountError("a username is 1-64 letters, digits, '.', '_' or '-'")
        if role not in ROLES:
            raise AccountError(f"role must be one of {ROLES}")
        if role == OFFICER and department not in self.city.departments:
            raise AccountError(
                f"an officer needs a department, one of: {', '.join(self.city.departments)}")
        if role == ADMIN:
            department = None
        now = _now(now)
        row = Officer(username=username, display_name=(display_name or username).strip()[:128],
                      password_hash=hash_password(password), role=role, department=department,
                      active=True, created_at=now, password_changed_at=now)
        try:
            with self._unit() as session:
                session.add(row)
                session.flush()
                return _record(row)
        except IntegrityError:
            raise AccountError(f"the username {username!r} is taken") from None

    def authenticate(self, username: str, password: str) -> Optional[OfficerRecord]:
        """The active account with this username and password, else None."""
        with self._unit() as session:
            row = session.execute(
                select(Officer).where(Officer.username == (username or "").strip().lower())
            ).scalar_one_or_none()
            if row is None or not row.active:
                verify_password(password, _DUMMY_HASH)
                return None
            return _record(row) if verify_password(password, row.password_hash) else None

    def get(self, officer_id: int) -> Optional[OfficerRecord]:
        with self._unit() as session:
            row = session.get(Officer, officer_id)
            return _record(row) if row is not None else None

    def by_username(self, username: str) -> Optional[OfficerRecord]:
        with self._unit() as session:
            row = session.execute(
                select(Officer).where(Officer.username == (username or "").strip().lower())
            ).scalar_one_or_none()
            return _record(row) if row is not None else None

    def list(self) -> List[OfficerRecord]:
        with self._unit() as session:
            rows = session.execute(select(Officer).order_by(Officer.username)).scalars().all()
            return [_record(row) for row in rows]

    def set_password(self, username: str, password: str, now: Optional[datetime] = None) -> OfficerRecord:
        """Change the password; every session opened before now ends."""
        password_hash = hash_password(password)
        with self._unit() as session:
            row = self._load(session, username)
            row.password_hash = password_hash
            row.password_changed_at = _now(now)
            session.flush()
            return _record(row)

    def set_active(self, username: str, active: bool, now: Optional[datetime] = None) -> OfficerRecord:
        with self._unit() as session:
            row = self._load(session, username)
            row.active = bool(active)
            if not active:
                row.password_changed_at = _now(now)  # ends the account's open sessions
            session.flush()
            return _record(row)

    @staticmethod
    def _load(session, username: str) -> Officer:
        row = session.execute(
            select(Officer).where(Officer.username == (username or "").strip().lower())
        ).scalar_one_or_none()
        if row is None:
            raise AccountError(f"no officer {username!r}")
        return row


def _record(row: Officer) -> OfficerRecord:
    return OfficerRecord(row.id, row.username, row.display_name, row.role, row.department,
                         bool(row.active), row.created_at, row.password_changed_at)
