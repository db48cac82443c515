"""The atomic Redis lock store: one turn at a time per conversation, across processes."""
import asyncio
import socket
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

REDIS = ("127.0.0.1", 6379)


def redis_reachable() -> bool:
    try:
        socket.create_connection(REDIS, timeout=1).close()
        return True
    except OSError:
        return False


needs_redis = pytest.mark.skipif(not redis_reachable(), reason=f"Redis not reachable at {REDIS[0]}:{REDIS[1]}")


def store(prefix: str, port: int = REDIS[1]):
    from rasa.core.lock_store import LockStore
    from rasa.utils.endpoints import EndpointConfig

    # Each caller its own store and Redis connection, as each Rasa replica has.
    return LockStore.create(EndpointConfig(
        url=REDIS[0], port=port, db=5, key_prefix=prefix,
        type="rasa_extensions.lock_store.AtomicRedisLockStore"))


def closed_port() -> int:
    with socket.socket() as probe:  # bound, then closed: nothing listens there
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_without_redis_turns_still_run_one_at_a_time_in_order(caplog):
    s = store("t" + uuid.uuid4().hex[:8], port=closed_port())
    inside, overlaps, order = [0], [], []
    # Arrival order without sleeps: turn n asks for the lock once turn n-1 holds a ticket
    # (of the in-process lock store that stands in while Redis is away).
    issue = s._local.issue_ticket
    issued = []

    def issue_and_tell(*args, **kwargs):
        ticket = issue(*args, **kwargs)
        ticketed[len(issued)].set()
        issued.append(ticket)
        return ticket

    s._local.issue_ticket = issue_and_tell

    async def turn(n: int) -> None:
        if n:
            await ticketed[n - 1].wait()
        async with s.lock("919800000003", wait_time_in_seconds=0.01):
            inside[0] += 1
            overlaps.extend([n] if inside[0] > 1 else [])
            await asyncio.sleep(0.02)
            order.append(n)
            inside[0] -= 1

    async def all_turns():
        ticketed[:] = [asyncio.Event() for _ in range(5)]  # in the loop that waits on them
        await asyncio.gather(*(turn(n) for n in reversed(range(5))))  # started last first

    ticketed = []
    asyncio.run(all_turns())
    assert order == list(range(5)) and overlaps == []
    assert "Redis unreachable" in caplog.text and "locked in this process only" in caplog.text


@needs_redis
def test_tickets_taken_at_the_same_moment_are_all_different():
    prefix, conversation = "t" + uuid.uuid4().hex[:8], "919800000001"
    stores = [store(prefix) for _ in range(16)]
    with ThreadPoolExecutor(16) as pool:
        tickets = list(pool.map(lambda s: s.issue_ticket(conversation), stores))
    assert sorted(tickets) == list(range(16))


@needs_redis
def test_turns_of_one_conversation_never_overlap_and_keep_their_order():
    prefix, conversation = "t" + uuid.uuid4().hex[:8], "919800000002"
    counter_key = f"{prefix}:counter"
    inside, overlaps, order = [0], [], []

    # Arrival order without sleeps: turn n asks for the lock only once turn n-1 holds a ticket.
    ticketed = [threading.Event() for _ in range(12)]

    def turn(n: int) -> None:
        s = store(prefix)
        issue = s.issue_ticket

        def issue_and_tell(*args, **kwargs):
            ticket = issue(*args, **kwargs)
            ticketed[n].set()
            return ticket

        s.issue_ticket = issue_and_tell
        if n:
            assert ticketed[n - 1].wait(30)

        async def run():
            async with s.lock(conversation, wait_time_in_seconds=0.01):
                inside[0] += 1
                if inside[0] > 1:
                    overlaps.append(n)
                value = int(s.red.get(counter_key) or 0)  # a read-modify-write, like a turn
                await asyncio.sleep(0.01)
                s.red.set(counter_key, value + 1)
                order.append(n)
                inside[0] -= 1

        asyncio.run(run())

    with ThreadPoolExecutor(12) as pool:
        list(pool.map(turn, range(12)))
    assert overlaps == []
    assert int(store(prefix).red.get(counter_key)) == 12
    assert order == list(range(12))
