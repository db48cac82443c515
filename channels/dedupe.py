"""Remember which WhatsApp message ids were already handled.

Meta delivers each webhook at least once and retries for up to 7 days, so an id is kept
8 days. The claim is atomic in the store itself (a unique key, or Redis ``SET NX``), which
makes it correct across restarts and across several Rasa processes.
"""

import asyncio
import logging
import os
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError

logger = logging.getLogger(__name__)

DEFAULT_TTL_DAYS = 8.0
DEFAULT_SQLITE_URL = "sqlite:///whatsapp_dedupe.db"
PURGE_INTERVAL_SECONDS = 3600.0

_metadata = sa.MetaData()
processed_messages = sa.Table(
    "whatsapp_processed_message",
    _metadata,
    sa.Column("message_id", sa.String(255), primary_key=True),
    sa.Column("received_at", sa.DateTime, nullable=False, index=True),
)


def default_dedupe_url() -> str:
    """``WHATSAPP_DEDUPE_URL``, else ``DATABASE_URL``, else a local SQLite file."""
    return os.environ.get("WHATSAPP_DEDUPE_URL") or os.environ.get("DATABASE_URL") or DEFAULT_SQLITE_URL


class DedupeStore:
    """Interface: ``claim`` returns True the first time an id is seen, False after."""

    async def claim(self, message_id: str) -> bool:
        raise NotImplementedError

    async def close(self) -> None:
        """Release connections."""


class SQLDedupeStore(DedupeStore):
    """Message ids in a SQL table; the primary key makes the insert the atomic claim."""

    def __init__(self, url: str, ttl_days: float = DEFAULT_TTL_DAYS) -> None:
        connect_args = {"timeout": 30} if url.startswith("sqlite") else {}
        self.engine = sa.create_engine(url, connect_args=connect_args, future=True)
        self.ttl = timedelta(days=ttl_days)
        self._table_ready = False
        self._table_lock = threading.Lock()
        self._last_purge = 0.0

    async def claim(self, message_id: str) -> bool:
        # SQLAlchemy 1.4 here is synchronous: keep it off the event loop.
        return await asyncio.to_thread(self.claim_sync, message_id)

    def claim_sync(self, message_id: str) -> bool:
        self._ensure_table()
        now = _utcnow()
        try:
            with self.engine.begin() as conn:
                conn.execute(processed_messages.insert().values(message_id=message_id, received_at=now))
        except IntegrityError:
            return False
        if time.monotonic() - self._last_purge > PURGE_INTERVAL_SECONDS:
            self.purge()
        return True

    def purge(self) -> int:
        """Delete ids older than the retention period; returns how many."""
        self._ensure_table()
        self._last_purge = time.monotonic()
        cutoff = _utcnow() - self.ttl
        with self.engine.begin() as conn:
            result = conn.execute(
                processed_messages.delete().where(processed_messages.c.received_at < cutoff)
            )
        if result.rowcount:
            logger.info("Purged %d old WhatsApp message ids.", result.rowcount)
        return result.rowcount

    def _ensure_table(self) -> None:
        # A single self-contained table that only this channel uses: creating it
        # when missing is safe and needs no migration.
        if self._table_ready:
            return
        with self._table_lock:
            try:
                _metadata.create_all(self.engine, checkfirst=True)
            except DBAPIError:
                # another process created it between the check and the create
                if not sa.inspect(self.engine).has_table(processed_messages.name):
                    raise
            self._table_ready = True

    async def close(self) -> None:
        self.engine.dispose()


class RedisDedupeStore(DedupeStore):
    """Message ids as Redis keys with an expiry; ``SET NX EX`` is the atomic claim."""

    def __init__(
        self,
        url: str,
        ttl_days: float = DEFAULT_TTL_DAYS,
        key_prefix: str = "whatsapp:message:",
    ) -> None:
        import redis.asyncio as redis_asyncio

        self.redis = redis_asyncio.from_url(url)
        self.ttl_seconds = int(ttl_days * 86400)
        self.key_prefix = key_prefix

    async def claim(self, message_id: str) -> bool:
        created = await self.redis.set(self.key_prefix + message_id, 1, nx=True, ex=self.ttl_seconds)
        return bool(created)

    async def close(self) -> None:
        await self.redis.close()


def create_dedupe_store(url: Optional[str] = None, ttl_days: float = DEFAULT_TTL_DAYS) -> DedupeStore:
    """A Redis store for ``redis://``/``rediss://`` URLs, else a SQL store."""
    url = url or default_dedupe_url()
    if url.startswith(("redis://", "rediss://")):
        return RedisDedupeStore(url, ttl_days)
    return SQLDedupeStore(url, ttl_days)


def _utcnow() -> datetime:
    # naive UTC: portable across SQLite and PostgreSQL DateTime columns
    return datetime.now(timezone.utc).replace(tzinfo=None)
