"""A Redis lock store whose ticket bookkeeping is atomic across Rasa processes.

Rasa Open Source 3.6's `RedisLockStore` keeps each conversation's ticket lock as one JSON
value and changes it by read-modify-write (`get_lock` → change → `save_lock`). Two replicas
that take a ticket for the same citizen at the same moment can both read the old value; the
later write wins, both believe they are being served, both run a turn on the same tracker,
and the SQL tracker store keeps only one of the two turns (tests/scale/test_two_replicas.py
caught it: a burst of three messages lost one about one run in four). Rasa's fix
(`ConcurrentRedisLockStore`) is only in its commercial edition.

This subclass keeps Rasa's tickets, order and expiry unchanged and makes every
read-modify-write of a conversation's lock a critical section, guarded by a short Redis
mutex (SET NX PX with a token, released by compare-and-delete).

When Redis cannot be reached, Rasa's store raises `LockError` and the citizen's message is
dropped unanswered. This one logs an error and takes a lock inside this process instead
(Rasa's `InMemoryLockStore`): the message is answered, and one process still handles one
citizen's messages in order. What the outage costs is the guarantee across processes:
two replicas could serve the same citizen at the same moment until Redis is back, which
needs two of that citizen's messages to arrive at once on different replicas. Configure it
in endpoints.yml:

    lock_store:
      type: rasa_extensions.lock_store.AtomicRedisLockStore
      url: localhost
      port: 6379
      db: 1
"""
import logging
import time
import uuid
from contextlib import asynccontextmanager, contextmanager
from typing import Any, AsyncIterator, Iterator, Optional, Text

from rasa.core.lock_store import (
    LOCK_LIFETIME,
    InMemoryLockStore,
    LockError,
    RedisLockStore,
    TicketLock,
)
from rasa.utils.endpoints import EndpointConfig
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# A critical section is a few Redis round trips; these bound a holder that died inside one.
MUTEX_LEASE_MS = 5_000
MUTEX_WAIT_SECONDS = 10.0
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


class RedisUnreachable(LockError):
    """Redis did not answer (as opposed to a conversation that stayed locked too long)."""


class AtomicRedisLockStore(RedisLockStore):
    """`RedisLockStore` with atomic ticket issue, update and clean-up."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **kwargs: Any) -> None:
        if endpoint_config is not None:  # built from endpoints.yml by module path
            kwargs = {"host": endpoint_config.url or "localhost", **endpoint_config.kwargs, **kwargs}
        super().__init__(**kwargs)
        self._release = self.red.register_script(_RELEASE)
        self._local = InMemoryLockStore()  # while Redis cannot be reached

    @asynccontextmanager
    async def lock(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME,
                   wait_time_in_seconds: float = 1) -> AsyncIterator[TicketLock]:
        """Rasa's ticket lock in Redis; a lock in this process while Redis is unreachable."""
        try:
            ticket = self.issue_ticket(conversation_id, lock_lifetime)
        except RedisUnreachable as error:
            logger.error("Redis unreachable (%s): conversation %s is locked in this process "
                         "only until it is back.", error.__cause__, conversation_id)
            async with self._local.lock(conversation_id, lock_lifetime,
                                        wait_time_in_seconds) as local:
                yield local
            return
        try:
            yield await self._acquire_lock(conversation_id, ticket, wait_time_in_seconds)
        finally:
            try:
                self.cleanup(conversation_id, ticket)
            except RedisUnreachable as error:  # the turn is done; the ticket expires by itself
                logger.error("Redis unreachable after a turn of %s: %s", conversation_id,
                             error.__cause__)

    @contextmanager
    def _critical(self, conversation_id: Text) -> Iterator[None]:
        key = f"{self.key_prefix}{conversation_id}:mutex"
        token = uuid.uuid4().hex
        deadline = time.monotonic() + MUTEX_WAIT_SECONDS
        try:
            while not self.red.set(key, token, nx=True, px=MUTEX_LEASE_MS):
                if time.monotonic() > deadline:
                    raise LockError(f"Could not update the lock of conversation '{conversation_id}'.")
                time.sleep(0.002)
        except RedisError as error:
            raise RedisUnreachable(f"Error while acquiring lock. Error:\n{error}") from error
        try:
            yield
        finally:
            try:
                self._release(keys=[key], args=[token])
            except RedisError as error:  # the lease expires by itself
                logger.warning("could not release the lock mutex of %s: %s", conversation_id, error)

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        with self._critical(conversation_id):
            return super().issue_ticket(conversation_id, lock_lifetime)

    def update_lock(self, conversation_id: Text) -> None:
        with self._critical(conversation_id):
            super().update_lock(conversation_id)

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        with self._critical(conversation_id):
            super().cleanup(conversation_id, ticket_number)
