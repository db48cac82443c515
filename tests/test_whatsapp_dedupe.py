"""Message-id deduplication on SQLite, PostgreSQL and Redis (the latter two skip when unreachable)."""

import asyncio
import os
import socket
import threading
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from channels.dedupe import (
    RedisDedupeStore,
    SQLDedupeStore,
    create_dedupe_store,
    default_dedupe_url,
    processed_messages,
)

REDIS_URL = os.environ.get("WHATSAPP_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def claims_at_once(stores, message_id):
    """Claim one id from several stores (each its own engine, like processes) at once."""
    barrier = threading.Barrier(len(stores))
    results = []

    def claim(store):
        barrier.wait()
        results.append(store.claim_sync(message_id))

    threads = [threading.Thread(target=claim, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.fixture
def sql_url(db_url):
    """An empty SQLite file, then a fresh PostgreSQL schema (conftest's ``db_url``)."""
    return db_url


def test_first_claim_wins_and_later_ones_fail(sql_url):
    store = SQLDedupeStore(sql_url)
    message_id = f"wamid.{uuid.uuid4().hex}"
    assert asyncio.run(store.claim(message_id)) is True
    assert asyncio.run(store.claim(message_id)) is False
    assert asyncio.run(store.claim(message_id + "x")) is True


def test_claims_survive_a_restart(sql_url):
    message_id = f"wamid.{uuid.uuid4().hex}"
    first = SQLDedupeStore(sql_url)
    assert first.claim_sync(message_id)
    first.engine.dispose()
    assert not SQLDedupeStore(sql_url).claim_sync(message_id)


def test_concurrent_claims_from_several_processes_give_one_winner(sql_url):
    stores = [SQLDedupeStore(sql_url) for _ in range(6)]
    stores[0].claim_sync("warm-up-" + uuid.uuid4().hex)  # table exists before the race
    for _ in range(5):
        results = claims_at_once(stores, f"wamid.{uuid.uuid4().hex}")
        assert sorted(results) == [False] * 5 + [True]


def test_purge_removes_ids_older_than_the_retention(sql_url):
    store = SQLDedupeStore(sql_url, ttl_days=8)
    old, recent = f"old.{uuid.uuid4().hex}", f"new.{uuid.uuid4().hex}"
    store.claim_sync(old)
    store.claim_sync(recent)
    with store.engine.begin() as conn:
        conn.execute(
            processed_messages.update()
            .where(processed_messages.c.message_id == old)
            .values(received_at=processed_messages.c.received_at - timedelta(days=9))
        )
    assert store.purge() >= 1
    with store.engine.connect() as conn:
        left = (
            conn.execute(
                sa.select(processed_messages.c.message_id).where(
                    processed_messages.c.message_id.in_([old, recent])
                )
            )
            .scalars()
            .all()
        )
    assert left == [recent]
    assert store.claim_sync(old) is True  # a purged id is new again


def test_store_is_chosen_by_url(monkeypatch, tmp_path):
    assert isinstance(create_dedupe_store("redis://127.0.0.1:6379/0"), RedisDedupeStore)
    assert isinstance(create_dedupe_store(f"sqlite:///{tmp_path}/x.db"), SQLDedupeStore)
    monkeypatch.delenv("WHATSAPP_DEDUPE_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert default_dedupe_url() == "sqlite:///whatsapp_dedupe.db"
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/x")
    assert default_dedupe_url() == "postgresql://db/x"
    monkeypatch.setenv("WHATSAPP_DEDUPE_URL", "redis://r:6379/1")
    assert default_dedupe_url() == "redis://r:6379/1"


@pytest.mark.skipif(not reachable("127.0.0.1", 6379), reason="Redis not reachable on 127.0.0.1:6379")
def test_redis_claims_are_atomic_and_expire():
    async def scenario():
        stores = [RedisDedupeStore(REDIS_URL, ttl_days=8) for _ in range(4)]
        message_id = f"wamid.{uuid.uuid4().hex}"
        results = await asyncio.gather(*(s.claim(message_id) for s in stores for _ in range(3)))
        ttl = await stores[0].redis.ttl(stores[0].key_prefix + message_id)
        await stores[0].redis.delete(stores[0].key_prefix + message_id)
        for store in stores:
            await store.close()
        return results, ttl

    results, ttl = asyncio.run(scenario())
    assert sorted(results) == [False] * 11 + [True]
    assert 8 * 86400 - 60 < ttl <= 8 * 86400
