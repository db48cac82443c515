"""Database plumbing for the tickets store: engine, one session per unit of work, migrations.

`DATABASE_URL` chooses the database. Unset, it is `sqlite:///tickets.db`: a file named
`tickets.db` in the current working directory (the repository root under `make run`).
Production uses PostgreSQL, e.g. `postgresql://user@db-host:5432/nagar_sahayak`.
The schema comes only from the Alembic migrations in `migrations/`; `migrate()` brings any
database (fresh or older) to the newest revision and is safe to call at every start.
"""
from __future__ import annotations

import functools
import hashlib
import os
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional, Union

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from civic.city import City, get_city

DEFAULT_DATABASE_URL = "sqlite:///tickets.db"
# How long a SQLite writer waits for another process's write to finish before giving up.
DEFAULT_SQLITE_BUSY_TIMEOUT_MS = 15_000
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


class StorageUnavailable(RuntimeError):
    """The ticket database cannot be reached or used right now; nothing was written."""


# The execution option of a unit of work that only reads (session_scope(read_only=True)).
READ_ONLY = "nagar_read_only"

# Down, unreachable, locked past the busy timeout, connection lost, or pool exhausted.
UNAVAILABLE_ERRORS = (OperationalError, InterfaceError, PoolTimeoutError)


def database_url() -> str:
    """`DATABASE_URL` from the environment, or the local SQLite default."""
    url = os.environ.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL
    # Some hosting platforms still hand out the scheme SQLAlchemy 1.4 no longer accepts.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    return url


def create_engine_for(
    url: Optional[str] = None, *, sqlite_busy_timeout_ms: int = DEFAULT_SQLITE_BUSY_TIMEOUT_MS
) -> Engine:
    """An engine for `url` (default `database_url()`), tuned for several writer processes.

    SQLite: WAL journal (readers do not block the writer), a busy timeout, foreign keys on,
    every transaction opened with BEGIN IMMEDIATE so that read-then-write units (the
    duplicate and daily-limit checks) are serialised instead of failing with "database is
    locked" when two workers upgrade their read locks at once (a read-only unit begins
    deferred: it takes no write lock), and connections kept in a pool.
    PostgreSQL: pool_pre_ping so connections dropped by a restart are replaced silently.
    """
    url = url or database_url()
    if url.startswith("sqlite"):
        # A file's connections are kept in a pool (SQLAlchemy 1.4 opens and closes one per
        # session for a file, and closing the last connection to a WAL file checkpoints it):
        # every action call that reads or writes a ticket would pay for the connection, its
        # PRAGMAs and the checkpoint. An in-memory database keeps SQLAlchemy's own pool (one
        # connection per thread; a pool of several would give each its own empty database).
        in_memory = make_url(url).database in (None, "", ":memory:")
        pool = {} if in_memory else {"poolclass": QueuePool, "pool_size": 8}
        engine = create_engine(
            url, future=True, **pool,
            connect_args={"timeout": sqlite_busy_timeout_ms / 1000, "check_same_thread": False},
        )

        @event.listens_for(engine, "connect")
        def _sqlite_on_connect(dbapi_connection, _record):
            # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout = {int(sqlite_busy_timeout_ms)}")
            cursor.execute("PRAGMA foreign_keys = ON")
            _use_wal(cursor, sqlite_busy_timeout_ms)
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection):
            # A unit that only reads takes no write lock: in WAL mode it reads a snapshot
            # while a writer goes on, instead of queueing behind it in the busy handler.
            read_only = connection.get_execution_options().get(READ_ONLY)
            connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    connect_args = {"client_encoding": "utf8"} if url.startswith("postgresql") else {}
    return create_engine(url, future=True, pool_pre_ping=True, connect_args=connect_args)


def _use_wal(cursor, busy_timeout_ms: int) -> None:
    """Switch a SQLite file to WAL once; the mode is stored in the file."""
    if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() in ("wal", "memory"):
        return
    # The switch ignores the busy handler, so workers starting together on a new file
    # retry it themselves for up to the busy timeout.
    deadline = time.monotonic() + busy_timeout_ms / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


def make_session_factory(engine: Engine) -> sessionmaker:
    """Sessions whose loaded objects stay readable after commit."""
    return sessionmaker(bind=engine, future=True, expire_on_commit=False)


@functools.cache
def get_engine() -> Engine:
    """The process-wide engine for `DATABASE_URL`."""
    return create_engine_for(database_url())


@functools.cache
def get_session_factory() -> sessionmaker:
    """The process-wide session factory for `DATABASE_URL`."""
    return make_session_factory(get_engine())


@contextmanager
def session_scope(session_factory: Optional[sessionmaker] = None, *,
                  read_only: bool = False) -> Iterator[Session]:
    """One session per unit of work: committed on success, rolled back on any error.

    An unreachable or unusable database surfaces as StorageUnavailable (the transaction is
    rolled back, so nothing is half-written); other errors propagate unchanged.
    read_only: the unit only reads; on SQLite it then takes no write lock (see
    create_engine_for), and a change made in it is refused, not written.
    """
    session = (session_factory or get_session_factory())()
    try:
        if read_only:
            session.connection(execution_options={READ_ONLY: True})
        yield session
        if read_only and (session.new or session.dirty or session.deleted):
            raise RuntimeError("a read-only unit of work changed something; nothing was written")
        session.commit()
    except UNAVAILABLE_ERRORS as exc:
        _safe_rollback(session)
        raise StorageUnavailable(_reason(exc)) from exc
    except BaseException:
        _safe_rollback(session)
        raise
    finally:
        session.close()


def _safe_rollback(session: Session) -> None:
    try:
        session.rollback()
    except UNAVAILABLE_ERRORS:
        pass  # the connection is already gone; the server discards the transaction


def _reason(exc: Exception) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]


def advisory_lock_key(name: str) -> int:
    """A stable signed 64-bit key for PostgreSQL advisory locks."""
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


MIGRATION_LOCK_KEY = advisory_lock_key("nagar_sahayak:migrations")


def lock_for_migration(connection) -> None:
    """Serialise schema upgrades across processes for the rest of this transaction."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    # SQLite: the transaction began with BEGIN IMMEDIATE, which already excludes other writers.


def alembic_config(connection=None):
    """An Alembic Config for `migrations/`, optionally bound to an open connection."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def migrate(url_or_engine: Union[str, Engine, None] = None, revision: str = "head") -> None:
    """Run `alembic upgrade <revision>` programmatically; idempotent, safe to run concurrently.

    The whole upgrade is one transaction (DDL is transactional on PostgreSQL and SQLite).
    Concurrent starts are serialised: on PostgreSQL by an advisory lock held for that
    transaction, on SQLite by BEGIN IMMEDIATE. The later starter then finds the schema
    at head and does nothing.
    """
    from alembic import command

    engine = url_or_engine if isinstance(url_or_engine, Engine) else create_engine_for(url_or_engine)
    try:
        with engine.begin() as connection:
            lock_for_migration(connection)
            command.upgrade(alembic_config(connection), revision)
    except UNAVAILABLE_ERRORS as exc:
        raise StorageUnavailable(_reason(exc)) from exc
    finally:
        if engine is not url_or_engine:
            engine.dispose()


class UnitOfWork:
    """Base of the repositories: each public call is one session, committed or rolled back;
    `city` is the given city configuration, else the configured one."""

    def __init__(self, session_factory: Optional[sessionmaker] = None, city: Optional[City] = None):
        self._session_factory = session_factory
        self._city = city

    @property
    def city(self) -> City:
        return self._city or get_city()

    def _unit(self):
        return session_scope(self._session_factory or get_session_factory())

    def _read(self):
        """A unit that only reads (no write lock on SQLite)."""
        return session_scope(self._session_factory or get_session_factory(), read_only=True)
