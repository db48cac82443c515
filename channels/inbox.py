"""The WhatsApp channel's durable inbox: every acknowledged message is in SQL before the 200.

One row per WhatsApp message id (``wamid``), inserted with ``ON CONFLICT DO NOTHING`` on
its unique key, so a redelivery never makes a second row:

    received ──claim──▶ processing ──the Rasa turn returned──▶ done
        ▲                   │ the turn raised: again after a pause, up to max_attempts
        └───────────────────┘ then ▶ parked (with the error; the citizen gets the apology once)

A claim is a lease: the replica that holds it renews it while the turn runs; when a
replica dies its claims expire and another (or the restarted one) takes them over. A
citizen's next message is claimed only when no earlier message of theirs is unfinished
(received, or processing under anyone's lease), so one citizen's turns run in arrival
order (``seq``) across every replica. A message whose lease expired ``max_attempts``
times (it killed its process, say) is parked too: nothing loops.

What cannot be parsed is stored as it came, ``parked`` with the reason, under a key made
from its content (a redelivery is still one row).

SQLAlchemy 1.4 Core, blocking: ``Inbox`` runs in threads (``asyncio.to_thread``);
``InboxWorker`` is the asyncio side. Timestamps are naive UTC from the replicas' clocks
(leases are tens of seconds; clocks kept by NTP are far closer than that).
"""
from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

logger = logging.getLogger(__name__)

RECEIVED, PROCESSING, DONE, PARKED = "received", "processing", "done", "parked"
UNFINISHED = (RECEIVED, PROCESSING)

DEFAULT_SQLITE_URL = "sqlite:///whatsapp_inbox.db"
DEFAULT_LEASE_SECONDS = 30.0
DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_POLL_SECONDS = 5.0
DEFAULT_RETENTION_DAYS = 8.0  # longer than Meta's 7 days of redelivery
RETRY_SECONDS = 2.0  # pause before a failed turn is tried again (doubling per attempt)
# Turns one replica runs at once (different citizens). Every turn's NLU and policies run
# in the event loop, and a webhook's acknowledgement waits behind whatever turn work is
# ready: fewer turns at once, shorter waits (docs/benchmarks.md measured 4, 8 and 32).
# Enough to overlap the turns' waits on the action server and the Graph API.
CONCURRENT_TURNS = 8
PURGE_INTERVAL_SECONDS = 3600.0

_metadata = sa.MetaData()
inbox_messages = sa.Table(
    "whatsapp_inbox",
    _metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True,
              autoincrement=True),
    sa.Column("message_id", sa.String(255), nullable=False, unique=True),
    sa.Column("sender_id", sa.String(255), nullable=False),
    sa.Column("text", sa.Text, nullable=False),  # what Rasa reads
    sa.Column("message_metadata", sa.Text, nullable=False),  # JSON, the UserMessage metadata
    sa.Column("raw", sa.Text, nullable=False),  # JSON, the message as Meta sent it
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("lease_owner", sa.String(128)),
    # while processing: the lease's end; while received after a failure: not before
    sa.Column("lease_expires_at", sa.DateTime),
    sa.Column("received_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Index("ix_whatsapp_inbox_status_sender_seq", "status", "sender_id", "seq"),
    sa.Index("ix_whatsapp_inbox_received_at", "received_at"),
)
_t = inbox_messages

# The statements of every message's path (claim, then finish), built once with bound
# parameters: building them per call cost more CPU than running them (~2 ms a message,
# in the Rasa server's process, under its GIL).
_AT = sa.bindparam("at", type_=sa.DateTime)  # now
_earlier = _t.alias("earlier")
_HEADS = (  # each citizen's earliest unfinished message, if no live lease holds it
    sa.select(_t.c.seq, _t.c.message_id, _t.c.sender_id, _t.c.status, _t.c.attempts,
              _t.c.last_error)
    .where(_t.c.status.in_(UNFINISHED))
    .where(~sa.exists().where(_earlier.c.sender_id == _t.c.sender_id,
                              _earlier.c.seq < _t.c.seq,
                              _earlier.c.status.in_(UNFINISHED)))
    .where(sa.or_(_t.c.lease_expires_at.is_(None), _t.c.lease_expires_at <= _AT))
    .where(_t.c.sender_id.not_in(sa.bindparam("busy", expanding=True)))
    .order_by(_t.c.seq)
    .limit(sa.bindparam("heads", type_=sa.Integer))
)
_other = _t.alias("other")
_CLAIM = (
    _t.update()
    .where(_t.c.seq == sa.bindparam("claim_seq"))
    .where(_t.c.status.in_(UNFINISHED))
    .where(sa.or_(_t.c.lease_expires_at.is_(None), _t.c.lease_expires_at <= _AT))
    # nothing earlier of the citizen unfinished, nothing of theirs running elsewhere
    .where(~sa.exists().where(
        _other.c.sender_id == _t.c.sender_id,
        _other.c.seq != _t.c.seq,
        sa.or_(sa.and_(_other.c.seq < _t.c.seq, _other.c.status.in_(UNFINISHED)),
               sa.and_(_other.c.status == PROCESSING, _other.c.lease_expires_at > _AT))))
    .values(status=PROCESSING, lease_owner=sa.bindparam("claim_owner"),
            lease_expires_at=sa.bindparam("lease_until", type_=sa.DateTime),
            attempts=_t.c.attempts + 1, updated_at=_AT)
)
_BY_SEQ = sa.select(_t).where(_t.c.seq == sa.bindparam("by_seq"))
_FINISH = (
    _t.update()
    .where(_t.c.seq == sa.bindparam("finish_seq"), _t.c.status == PROCESSING,
           _t.c.lease_owner == sa.bindparam("finish_owner"))
    .values(status=DONE, lease_owner=None, lease_expires_at=None, updated_at=_AT)
)


@dataclass(frozen=True)
class InboxMessage:
    """One citizen message: what the webhook stores, and what a claim hands back."""

    message_id: str
    sender_id: str
    text: str
    metadata: Dict[str, Any] = field(default_factory=dict)
    raw: Any = None  # the message as it came, kept as JSON
    status: str = RECEIVED
    last_error: Optional[str] = None
    seq: int = 0
    attempts: int = 0


def default_inbox_url() -> str:
    """``WHATSAPP_INBOX_URL``, else ``DATABASE_URL``, else a local SQLite file."""
    return (os.environ.get("WHATSAPP_INBOX_URL") or os.environ.get("WHATSAPP_DEDUPE_URL")
            or os.environ.get("DATABASE_URL") or DEFAULT_SQLITE_URL)


def new_owner() -> str:
    """A lease owner id for one process (host, pid and a random part, never reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Inbox:
    """The inbox table: store, claim in order, renew, finish, fail, park, purge."""

    def __init__(
        self,
        url: Optional[str] = None,
        *,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        retry_seconds: float = RETRY_SECONDS,
        retention_days: float = DEFAULT_RETENTION_DAYS,
    ) -> None:
        url = url or default_inbox_url()
        if url.startswith(("redis://", "rediss://")):
            raise ValueError("The WhatsApp inbox needs a SQL database (PostgreSQL or SQLite); "
                             f"{url.split('://')[0]}:// is not one. See docs/scaling.md.")
        self.url = url
        self.lease = timedelta(seconds=lease_seconds)
        self.max_attempts = max(1, int(max_attempts))
        self.retry_seconds = retry_seconds
        self.retention = timedelta(days=retention_days)
        self.engine = _create_engine(url)
        self._table_ready = False
        self._table_lock = threading.Lock()

    # --- the webhook's side ----------------------------------------------------------------

    def add(self, messages: Sequence[InboxMessage]) -> None:
        """Store messages not stored yet, in one transaction; an id already there is left
        as it is (received, processing, done or parked). Raises when the database does."""
        if not messages:
            return
        self.create_table()
        now = _utcnow()
        rows = [
            {
                "message_id": m.message_id,
                "sender_id": m.sender_id,
                "text": m.text,
                "message_metadata": _json(m.metadata),
                "raw": _json(m.raw),
                "status": m.status,
                "attempts": 0,
                "last_error": m.last_error,
                "received_at": now,
                "updated_at": now,
            }
            for m in messages
        ]
        with self.engine.begin() as conn:
            _insert_new(conn, rows)

    # --- the worker's side ------------------------------------------------------------------

    def claim(self, owner: str, busy: Set[str], limit: int
              ) -> Tuple[List[InboxMessage], List[InboxMessage]]:
        """Claims up to limit messages, each the earliest unfinished one of its citizen and
        not held by a live lease, skipping citizens in busy (being handled here).

        Returns (claimed, parked): parked are abandoned messages (their lease expired
        max_attempts times) parked by this call, whose citizens are owed the apology.
        """
        self.create_table()
        now = _utcnow()
        with self.engine.connect() as conn:
            rows = conn.execute(_HEADS, {"at": now, "busy": sorted(busy), "heads": limit}).all()
        claimed: List[InboxMessage] = []
        parked: List[InboxMessage] = []
        for row in rows:
            if row.status == PROCESSING and row.attempts >= self.max_attempts:
                message = self._park_abandoned(row, now)
                if message is not None:
                    parked.append(message)
                continue
            message = self._claim_one(row.seq, owner, now)
            if message is not None:
                claimed.append(message)
        return claimed, parked

    def _claim_one(self, seq: int, owner: str, now: datetime) -> Optional[InboxMessage]:
        with self.engine.begin() as conn:
            claimed = conn.execute(_CLAIM, {"claim_seq": seq, "at": now, "claim_owner": owner,
                                            "lease_until": now + self.lease})
            if claimed.rowcount != 1:
                return None  # another replica was faster, or an earlier message appeared
            return _message(conn.execute(_BY_SEQ, {"by_seq": seq}).one())

    def _park_abandoned(self, row: Any, now: datetime) -> Optional[InboxMessage]:
        error = (f"no outcome after {row.attempts} attempts: the process handling it "
                 f"stopped each time; last error: {row.last_error or 'none'}")
        with self.engine.begin() as conn:
            parked = conn.execute(
                _t.update()
                .where(_t.c.seq == row.seq, _t.c.status == PROCESSING,
                       _t.c.lease_expires_at <= now)
                .values(status=PARKED, lease_owner=None, lease_expires_at=None,
                        last_error=error, updated_at=now)
            ).rowcount
            if parked != 1:
                return None  # another replica parked it first
            message = _message(conn.execute(sa.select(_t).where(_t.c.seq == row.seq)).one())
        logger.error("WhatsApp message %s from %s parked: %s", row.message_id, row.sender_id,
                     error)
        return message

    def renew(self, seq: int, owner: str) -> bool:
        """Extends owner's lease on seq; False if it no longer holds it."""
        now = _utcnow()
        with self.engine.begin() as conn:
            return conn.execute(
                _t.update()
                .where(_t.c.seq == seq, _t.c.status == PROCESSING, _t.c.lease_owner == owner)
                .values(lease_expires_at=now + self.lease, updated_at=now)
            ).rowcount == 1

    def finish(self, seq: int, owner: str) -> bool:
        """Marks seq done (its turn returned); False if owner had lost the lease."""
        with self.engine.begin() as conn:
            return conn.execute(_FINISH, {"finish_seq": seq, "finish_owner": owner,
                                          "at": _utcnow()}).rowcount == 1

    def fail(self, message: InboxMessage, owner: str, error: str) -> bool:
        """Records a failed turn: parked after max_attempts (returns True: the citizen is
        owed the apology), else received again after a pause."""
        now = _utcnow()
        park = message.attempts >= self.max_attempts
        values: Dict[str, Any] = {"lease_owner": None, "last_error": error[:2000],
                                  "updated_at": now}
        if park:
            values.update(status=PARKED, lease_expires_at=None)
        else:
            pause = self.retry_seconds * 2 ** (message.attempts - 1)
            values.update(status=RECEIVED, lease_expires_at=now + timedelta(seconds=pause))
        with self.engine.begin() as conn:
            changed = conn.execute(
                _t.update()
                .where(_t.c.seq == message.seq, _t.c.status == PROCESSING,
                       _t.c.lease_owner == owner)
                .values(**values)
            ).rowcount == 1
        if park and changed:
            logger.error("WhatsApp message %s from %s parked after %d attempts: %s",
                         message.message_id, message.sender_id, message.attempts, error)
        return park and changed

    def release(self, seqs: Iterable[int], owner: str) -> None:
        """Gives claims back unfinished (a stopping process): received, claimable at once,
        the attempt not counted."""
        seqs = list(seqs)
        if not seqs:
            return
        with self.engine.begin() as conn:
            conn.execute(
                _t.update()
                .where(_t.c.seq.in_(seqs), _t.c.status == PROCESSING, _t.c.lease_owner == owner)
                .values(status=RECEIVED, lease_owner=None, lease_expires_at=None,
                        attempts=_t.c.attempts - 1, updated_at=_utcnow())
            )

    # --- housekeeping and inspection ---------------------------------------------------------

    def purge(self) -> int:
        """Deletes finished messages received longer ago than the retention; how many."""
        self.create_table()
        cutoff = _utcnow() - self.retention
        with self.engine.begin() as conn:
            deleted = conn.execute(
                _t.delete().where(_t.c.status.in_((DONE, PARKED)), _t.c.received_at < cutoff)
            ).rowcount
        if deleted:
            logger.info("Purged %d old WhatsApp inbox messages.", deleted)
        return deleted

    def unfinished(self) -> int:
        """How many messages are received or processing."""
        self.create_table()
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(sa.func.count()).where(_t.c.status.in_(UNFINISHED))
            ).scalar_one()

    def get(self, message_id: str) -> Optional[InboxMessage]:
        self.create_table()
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(_t).where(_t.c.message_id == message_id)).first()
        return _message(row) if row is not None else None

    def close(self) -> None:
        self.engine.dispose()

    def create_table(self) -> None:
        """Creates the table when missing (every method does so first; idempotent)."""
        # The channel's own table, used by nothing else: created when missing, as Rasa's
        # SQL tracker store creates its own. A changed schema would need a migration.
        if self._table_ready:
            return
        with self._table_lock:
            try:
                _metadata.create_all(self.engine, checkfirst=True)
            except DBAPIError:
                # another process created it between the check and the create
                if not sa.inspect(self.engine).has_table(_t.name):
                    raise
            self._table_ready = True


class InboxWorker:
    """Runs inbox messages as turns: several citizens at once, one citizen's one at a time.

    ``handle(message)`` runs the turn (raising means it failed); ``apologise(message)``
    tells the citizen of a parked message. A pass claims what it may at start, when woken
    (a webhook stored something, a turn ended) and every ``poll_seconds`` (expired leases,
    retries after a pause, other replicas' leftovers).
    """

    def __init__(
        self,
        inbox: Inbox,
        handle: Callable[[InboxMessage], Awaitable[None]],
        apologise: Callable[[InboxMessage], Awaitable[None]],
        *,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
        concurrency: int = CONCURRENT_TURNS,
        ready: Callable[[], bool] = lambda: True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.inbox = inbox
        self._handle = handle
        self._apologise = apologise
        self.poll_seconds = poll_seconds
        self.concurrency = concurrency
        self.ready = ready
        self.clock = clock  # seconds, for the purge interval (tests give their own)
        self.owner = new_owner()
        self._turns: Dict[str, Tuple[InboxMessage, asyncio.Task]] = {}  # by sender
        self._apologies: Set[asyncio.Task] = set()
        self._wake: Optional[asyncio.Event] = None
        self._pass_lock: Optional[asyncio.Lock] = None
        self._runner: Optional[asyncio.Task] = None
        self._stopping = False
        self._last_purge: Optional[float] = None  # the first pass purges

    def start(self) -> None:
        """Starts the loop in the running event loop (a server's start)."""
        self.owner = new_owner()  # after any fork: one owner per process
        wake = self._wake = asyncio.Event()
        self._pass_lock = asyncio.Lock()
        self._runner = asyncio.create_task(self._run(wake))

    def wake(self) -> None:
        if self._wake is not None:
            self._wake.set()

    async def _run(self, wake: asyncio.Event) -> None:
        # Ends on the flag, not only on cancellation: Python 3.10's asyncio.wait_for loses a
        # cancel that arrives as wake is set (bpo-42130), and stop() would wait forever.
        while not self._stopping:
            wake.clear()
            try:
                await self.pump()
                now = self.clock()
                if self._last_purge is None or now - self._last_purge >= PURGE_INTERVAL_SECONDS:
                    self._last_purge = now
                    await asyncio.to_thread(self.inbox.purge)
            except Exception:  # the database down, say: try again at the next poll
                logger.exception("WhatsApp inbox pass failed; retrying in %.0fs.",
                                 self.poll_seconds)
            try:
                await asyncio.wait_for(wake.wait(), self.poll_seconds)
            except asyncio.TimeoutError:
                pass

    async def pump(self) -> int:
        """One pass: claims and starts what it may; returns how many it started."""
        if self._stopping or not self.ready():
            return 0
        if self._pass_lock is None:  # a pass before start() (a one-off pass, a test)
            self._pass_lock = asyncio.Lock()
        async with self._pass_lock:
            free = self.concurrency - len(self._turns)
            if free <= 0:
                return 0
            claimed, parked = await asyncio.to_thread(
                self.inbox.claim, self.owner, set(self._turns), free)
            for message in claimed:
                task = asyncio.create_task(self._turn(message))
                self._turns[message.sender_id] = (message, task)
            for message in parked:
                task = asyncio.create_task(self._apologise_safely(message))
                self._apologies.add(task)
                task.add_done_callback(self._apologies.discard)
            return len(claimed) + len(parked)

    async def _turn(self, message: InboxMessage) -> None:
        keeper = asyncio.create_task(self._keep_lease(message.seq))
        try:
            try:
                await self._handle(message)
            except Exception as error:
                logger.exception("WhatsApp message %s from %s failed (attempt %d).",
                                 message.message_id, message.sender_id, message.attempts)
                if await asyncio.to_thread(self.inbox.fail, message, self.owner,
                                           f"{type(error).__name__}: {error}"):
                    await self._apologise_safely(message)
            else:
                if not await asyncio.to_thread(self.inbox.finish, message.seq, self.owner):
                    logger.warning("WhatsApp message %s: lease lost before it was done; "
                                   "it may be handled twice.", message.message_id)
        except Exception:  # the outcome could not be written: the lease expires, retried
            logger.exception("Could not record the outcome of WhatsApp message %s.",
                             message.message_id)
        finally:
            keeper.cancel()
            self._turns.pop(message.sender_id, None)
            self.wake()

    @property
    def renew_seconds(self) -> float:
        """How often a running turn's lease is renewed: every third of a lease (0.1 s at least)."""
        return max(self.inbox.lease.total_seconds() / 3, 0.1)

    async def _keep_lease(self, seq: int) -> None:
        while True:
            await asyncio.sleep(self.renew_seconds)
            try:
                if not await asyncio.to_thread(self.inbox.renew, seq, self.owner):
                    logger.warning("WhatsApp inbox: lease on %d lost.", seq)
                    return
            except Exception:
                logger.exception("WhatsApp inbox: could not renew the lease on %d.", seq)

    async def _apologise_safely(self, message: InboxMessage) -> None:
        try:
            await self._apologise(message)
        except Exception:
            logger.exception("Could not send the apology for WhatsApp message %s.",
                             message.message_id)

    async def join(self) -> None:
        """Waits until nothing is unfinished in the inbox (tests, benchmarks)."""
        while True:
            await self.pump()
            running = [task for _, task in self._turns.values()] + list(self._apologies)
            if running:
                await asyncio.gather(*running, return_exceptions=True)
            elif await asyncio.to_thread(self.inbox.unfinished) == 0:
                return
            else:
                await asyncio.sleep(0.02)

    async def stop(self, grace_seconds: float) -> None:
        """Stops claiming; waits up to grace_seconds for running turns, then gives the
        rest back to the inbox (received again, for this or another replica)."""
        self._stopping = True
        if self._pass_lock is not None:
            async with self._pass_lock:  # a claim under way is started, not abandoned
                pass
        if self._runner is not None:
            self._runner.cancel()
            await asyncio.gather(self._runner, return_exceptions=True)
            self._runner = None
        running = {task: message for message, task in self._turns.values()}
        if running:
            _, pending = await asyncio.wait(list(running), timeout=grace_seconds)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            if pending:
                logger.warning("Stopping with %d WhatsApp turns unfinished: back to the inbox.",
                               len(pending))
                try:
                    await asyncio.to_thread(self.inbox.release,
                                            [running[t].seq for t in pending], self.owner)
                except Exception:
                    logger.exception("Could not release claims; their leases will expire.")
        await asyncio.gather(*self._apologies, return_exceptions=True)


def _create_engine(url: str) -> sa.engine.Engine:
    if not url.startswith("sqlite"):
        # pre-ping: a connection broken while the database was away is replaced, not used
        return sa.create_engine(url, future=True, pool_pre_ping=True)
    # Connections are kept (SQLAlchemy 1.4 would open one per use for a file): closing the
    # last connection of a WAL database checkpoints it, which cost ~25 ms per message.
    engine = sa.create_engine(url, future=True, poolclass=sa.pool.QueuePool, pool_size=8,
                              connect_args={"timeout": 30, "check_same_thread": False})

    @sa.event.listens_for(engine, "connect")
    def _write_ahead_log(dbapi_connection: Any, _: Any) -> None:
        # WAL: the webhook's insert does not wait for readers. synchronous=NORMAL: a
        # committed row survives a killed process (it is in the OS's files); only a power
        # cut may lose the last commits. PostgreSQL (production) commits durably.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


# The same statement on PostgreSQL (9.5+) and SQLite (3.24+). Written out because
# SQLAlchemy 1.4 compiles its dialect-specific ON CONFLICT construct anew for every call,
# about a millisecond of CPU on the webhook's path. Several rows go in one statement (one
# round trip: a list of rows would be one statement each with psycopg2), up to
# INSERT_CHUNK rows (10 parameters a row, under SQLite's oldest limit of 999).
_COLUMNS = ("message_id", "sender_id", "text", "message_metadata", "raw", "status", "attempts",
            "last_error", "received_at", "updated_at")
INSERT_CHUNK = 50


@functools.lru_cache(maxsize=INSERT_CHUNK)
def _insert_new_statement(count: int) -> sa.sql.elements.TextClause:
    """INSERT of count rows, leaving those whose message id is there; parameters
    <column>_<row>."""
    values = ", ".join("(" + ", ".join(f":{c}_{i}" for c in _COLUMNS) + ")" for i in range(count))
    return sa.text(
        f"INSERT INTO {_t.name} ({', '.join(_COLUMNS)}) "
        f"VALUES {values} ON CONFLICT (message_id) DO NOTHING"
    ).bindparams(*(sa.bindparam(f"{c}_{i}", type_=sa.DateTime)
                   for i in range(count) for c in ("received_at", "updated_at")))


def _insert_new(conn: sa.engine.Connection, rows: List[Dict[str, Any]]) -> None:
    """INSERT, leaving rows whose message id is already there untouched (atomic per row)."""
    if conn.dialect.name in ("postgresql", "sqlite"):
        for start in range(0, len(rows), INSERT_CHUNK):
            chunk = rows[start:start + INSERT_CHUNK]
            conn.execute(_insert_new_statement(len(chunk)),
                         {f"{c}_{i}": row[c] for i, row in enumerate(chunk) for c in _COLUMNS})
        return
    for row in rows:  # other databases: a savepoint per row, the unique key decides
        try:
            with conn.begin_nested():
                conn.execute(_t.insert(), row)
        except sa.exc.IntegrityError:
            pass


def _message(row: Any) -> InboxMessage:
    return InboxMessage(
        message_id=row.message_id,
        sender_id=row.sender_id,
        text=row.text,
        metadata=json.loads(row.message_metadata),
        raw=json.loads(row.raw),
        status=row.status,
        last_error=row.last_error,
        seq=row.seq,
        attempts=row.attempts,
    )


def _json(value: Any) -> str:
    # ASCII: NUL and lone surrogates become \u escapes, which any database stores
    return json.dumps(value, ensure_ascii=True, default=str)


def _utcnow() -> datetime:
    # naive UTC: portable across SQLite and PostgreSQL DateTime columns
    return datetime.now(timezone.utc).replace(tzinfo=None)
