"""The WhatsApp inbox on SQLite and PostgreSQL (a fresh schema; skipped when unreachable):
atomic storing, claims in per-citizen order, leases, retries, parking, release, purge.

Several `Inbox` objects on one database stand for several replicas (each its own engine)."""
import asyncio
import os
import socket
import threading
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from channels.inbox import (
    DONE,
    PARKED,
    PROCESSING,
    RECEIVED,
    Inbox,
    InboxMessage,
    InboxWorker,
    default_inbox_url,
    inbox_messages,
)


def message(sender="919800000001", text="hello", raw=None):
    return InboxMessage(message_id=f"wamid.{uuid.uuid4().hex}", sender_id=sender, text=text,
                        metadata={"type": "text"}, raw=raw or {"text": {"body": text}})


@pytest.fixture
def inbox(db_url):
    box = Inbox(db_url, retry_seconds=0)
    yield box
    box.close()


def at_once(functions):
    """Runs the functions in threads released together; their results in order."""
    barrier = threading.Barrier(len(functions))
    results = [None] * len(functions)

    def run(n):
        barrier.wait()
        results[n] = functions[n]()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(functions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def rows(box):
    with box.engine.connect() as conn:
        return conn.execute(sa.select(inbox_messages).order_by(inbox_messages.c.seq)).all()


def test_a_message_is_stored_once_and_a_redelivery_changes_nothing(inbox):
    first = message(text="पानी नहीं आ रहा\ufffd", raw={"body": "पानी\ud800\x00"})
    inbox.add([first])
    [claimed], _ = inbox.claim("owner-a", set(), 10)
    assert inbox.finish(claimed.seq, "owner-a")
    inbox.add([first, message()])  # Meta delivers the first again, with a new one
    stored = inbox.get(first.message_id)
    assert (stored.status, stored.attempts, stored.text) == (DONE, 1, first.text)
    assert stored.raw == {"body": "पानी\ud800\x00"}  # kept exactly as it came
    assert len(rows(inbox)) == 2


def test_a_group_of_many_messages_is_stored_in_order_with_repeats_once(inbox):
    """The receiver's group commit: more rows than one statement takes (INSERT_CHUNK),
    an id repeated inside the group and one already stored."""
    stored = message(text="already there")
    inbox.add([stored])
    group = [message(sender=f"9198{n % 7:08d}", text=f"m{n}") for n in range(120)]
    inbox.add(group[:60] + [group[3], stored] + group[60:] + [group[119]])
    kept = rows(inbox)
    assert [r.text for r in kept] == ["already there"] + [f"m{n}" for n in range(120)]
    assert [r.message_id for r in kept[1:]] == [m.message_id for m in group]
    assert all(r.status == RECEIVED and r.attempts == 0 for r in kept)
    assert inbox.get(group[119].message_id).sender_id == "919800000000"


def test_simultaneous_deliveries_from_several_replicas_make_one_row(db_url):
    replicas = [Inbox(db_url) for _ in range(6)]
    replicas[0].add([message()])  # the table exists before the race
    same = message()
    at_once([lambda box=box: box.add([same]) for box in replicas])
    assert [r.message_id for r in rows(replicas[0])].count(same.message_id) == 1
    for box in replicas:
        box.close()


def test_each_citizen_gets_their_earliest_unfinished_message_only(inbox):
    a1, b1, a2, c1 = message("A", "a1"), message("B", "b1"), message("A", "a2"), message("C", "c1")
    inbox.add([a1, b1])
    inbox.add([a2, c1])
    claimed, _ = inbox.claim("owner", set(), 10)
    assert [m.text for m in claimed] == ["a1", "b1", "c1"]
    assert inbox.claim("owner", set(), 10) == ([], [])  # a2 waits for a1
    inbox.finish(claimed[0].seq, "owner")
    [next_one], _ = inbox.claim("owner", set(), 10)
    assert next_one.text == "a2" and next_one.attempts == 1


def test_busy_citizens_and_the_limit_are_respected(inbox):
    inbox.add([message("A", "a1"), message("B", "b1"), message("C", "c1")])
    claimed, _ = inbox.claim("owner", {"A"}, 1)
    assert [m.text for m in claimed] == ["b1"]


def test_replicas_claiming_at_once_take_each_message_once(db_url):
    replicas = [Inbox(db_url) for _ in range(4)]
    senders = [f"9190000{n:03d}" for n in range(12)]
    replicas[0].add([message(s, f"{s}-{k}") for k in range(3) for s in senders])
    taken = []
    for _ in range(3):  # three rounds: each citizen's next message, claimed by one replica
        results = at_once([lambda n=n, box=box: box.claim(f"replica-{n}", set(), 100)[0]
                           for n, box in enumerate(replicas)])
        this_round = [m for claimed in results for m in claimed]
        assert sorted(m.sender_id for m in this_round) == senders  # one per citizen, none twice
        taken += this_round
        for owner_n, claimed in enumerate(results):
            for m in claimed:
                assert replicas[owner_n].finish(m.seq, f"replica-{owner_n}")
    assert sorted(m.text for m in taken) == sorted(f"{s}-{k}" for k in range(3) for s in senders)
    assert all(r.status == DONE for r in rows(replicas[0]))
    for box in replicas:
        box.close()


def test_a_dead_replicas_claim_expires_and_is_taken_over(db_url):
    dead = Inbox(db_url, lease_seconds=0)  # its lease is over as soon as it is taken
    alive = Inbox(db_url, lease_seconds=60)
    first = message()
    alive.add([first])
    [claimed], _ = dead.claim("dead", set(), 10)
    [taken], _ = alive.claim("alive", set(), 10)
    assert taken.message_id == first.message_id and taken.attempts == 2
    assert not dead.finish(claimed.seq, "dead")  # the lease was lost
    assert dead.claim("dead", set(), 10) == ([], [])  # a live lease is not taken
    assert alive.finish(taken.seq, "alive")
    dead.close()
    alive.close()


def test_renewing_extends_only_the_owners_lease(inbox):
    inbox.add([message()])
    [claimed], _ = inbox.claim("owner", set(), 10)
    before = inbox_row(inbox, claimed.seq).lease_expires_at
    assert inbox.renew(claimed.seq, "owner")
    assert inbox_row(inbox, claimed.seq).lease_expires_at >= before
    assert not inbox.renew(claimed.seq, "someone-else")


def inbox_row(box, seq):
    with box.engine.connect() as conn:
        return conn.execute(sa.select(inbox_messages).where(inbox_messages.c.seq == seq)).one()


def test_a_failed_turn_is_retried_then_parked(inbox):
    inbox.add([message(text="boom"), message(text="next")])
    for attempt in (1, 2):
        [claimed], _ = inbox.claim("owner", set(), 10)
        assert (claimed.text, claimed.attempts) == ("boom", attempt)
        assert inbox.fail(claimed, "owner", "RuntimeError: boom") is False
        assert inbox.get(claimed.message_id).status == RECEIVED
    [claimed], _ = inbox.claim("owner", set(), 10)
    assert inbox.fail(claimed, "owner", "RuntimeError: boom") is True  # the third: parked
    stored = inbox.get(claimed.message_id)
    assert (stored.status, stored.attempts, stored.last_error) == (PARKED, 3, "RuntimeError: boom")
    [after], _ = inbox.claim("owner", set(), 10)
    assert after.text == "next"  # the citizen's next message goes on


def test_a_retry_waits_its_pause(db_url):
    box = Inbox(db_url, retry_seconds=3600)
    box.add([message(text="boom")])
    [claimed], _ = box.claim("owner", set(), 10)
    box.fail(claimed, "owner", "RuntimeError: boom")
    assert box.claim("owner", set(), 10) == ([], [])  # not before an hour
    box.close()


def test_a_message_that_outlived_every_lease_is_parked_not_tried_again(db_url):
    dying = Inbox(db_url, lease_seconds=0, max_attempts=2)
    dying.add([message(text="kills its process")])
    for _ in range(2):
        [claimed], _ = dying.claim("dying", set(), 10)  # ... and the process dies
    claimed_now, parked = dying.claim("next-process", set(), 10)
    assert claimed_now == [] and [m.text for m in parked] == ["kills its process"]
    stored = dying.get(parked[0].message_id)
    assert stored.status == PARKED and "no outcome after 2 attempts" in stored.last_error
    assert dying.claim("next-process", set(), 10) == ([], [])  # parked once, apologised once
    dying.close()


def test_released_claims_are_claimable_at_once_without_counting_an_attempt(inbox):
    inbox.add([message("A"), message("B")])
    claimed, _ = inbox.claim("stopping", set(), 10)
    inbox.release([m.seq for m in claimed], "stopping")
    again, _ = inbox.claim("next", set(), 10)
    assert sorted(m.message_id for m in again) == sorted(m.message_id for m in claimed)
    assert {m.attempts for m in again} == {1}


def test_retries_wait_2_4_8_times_the_pause_and_parking_clears_the_lease(db_url):
    box = Inbox(db_url, retry_seconds=10, max_attempts=4)
    box.add([message(text="boom")])
    waits = []
    for _ in range(3):
        with box.engine.begin() as conn:  # the pause is over: claimable now
            conn.execute(inbox_messages.update().values(lease_expires_at=None))
        [claimed], _ = box.claim("owner", set(), 10)
        assert box.fail(claimed, "owner", "E" * 2500) is False
        row = inbox_row(box, claimed.seq)
        waits.append(round((row.lease_expires_at - row.updated_at).total_seconds()))
        assert (row.status, row.lease_owner, len(row.last_error)) == (RECEIVED, None, 2000)
    assert waits == [10, 20, 40]
    with box.engine.begin() as conn:
        conn.execute(inbox_messages.update().values(lease_expires_at=None))
    [claimed], _ = box.claim("owner", set(), 10)
    assert box.fail(claimed, "owner", "last") is True
    row = inbox_row(box, claimed.seq)
    assert (row.status, row.lease_owner, row.lease_expires_at) == (PARKED, None, None)
    box.close()


def test_only_the_holder_of_a_claim_can_finish_fail_renew_or_release_it(inbox):
    inbox.add([message("A", "a"), message("B", "b")])
    claimed, _ = inbox.claim("owner", set(), 10)
    a, b = sorted(claimed, key=lambda m: m.seq)
    before = inbox_row(inbox, b.seq)
    assert not inbox.renew(b.seq, "thief") and not inbox.finish(b.seq, "thief")
    assert inbox.fail(b, "thief", "x") is False
    inbox.release([b.seq], "thief")
    assert inbox_row(inbox, b.seq) == before  # untouched by anyone else
    assert inbox.finish(a.seq, "owner")
    # a finished message is not the owner's to fail, renew or release any more
    assert inbox.fail(a, "owner", "late") is False and not inbox.renew(a.seq, "owner")
    inbox.release([a.seq], "owner")
    assert inbox.get(a.message_id).status == DONE
    # renewing one claim leaves the other's lease as it was; releasing one leaves the other
    with inbox.engine.begin() as conn:
        conn.execute(inbox_messages.update().values(lease_expires_at=before.lease_expires_at))
    assert inbox.renew(b.seq, "owner")
    renewed = inbox_row(inbox, b.seq)
    assert renewed.lease_expires_at > before.lease_expires_at and renewed.updated_at > before.updated_at
    inbox.add([message("C", "c")])
    [c], _ = inbox.claim("owner", {"A", "B"}, 10)
    inbox.release([c.seq], "owner")
    assert inbox.get(c.message_id).status == RECEIVED
    assert (inbox_row(inbox, c.seq).lease_owner, inbox_row(inbox, c.seq).attempts) == (None, 0)
    assert inbox_row(inbox, b.seq).status == PROCESSING and inbox_row(inbox, b.seq).lease_owner == "owner"


def test_purge_removes_finished_messages_past_the_retention(inbox):
    old_done, old_waiting, recent = message(text="old done"), message("B", "old waiting"), message()
    inbox.add([old_done, old_waiting, recent])
    claimed, _ = inbox.claim("owner", set(), 10)
    done = next(m for m in claimed if m.message_id == old_done.message_id)
    inbox.finish(done.seq, "owner")
    nine_days_ago = inbox_row(inbox, done.seq).received_at - timedelta(days=9)
    with inbox.engine.begin() as conn:
        conn.execute(sa.update(inbox_messages)
                     .where(inbox_messages.c.message_id.in_([old_done.message_id,
                                                             old_waiting.message_id]))
                     .values(received_at=nine_days_ago))
    assert inbox.purge() == 1
    assert inbox.get(old_done.message_id) is None
    assert inbox.get(old_waiting.message_id).status in (RECEIVED, PROCESSING)  # never lost
    inbox.add([old_done])  # purged: a new message again
    assert inbox.get(old_done.message_id).status == RECEIVED


def test_unfinished_counts_received_and_processing(inbox):
    inbox.add([message("A"), message("B"), message("A")])
    assert inbox.unfinished() == 3
    claimed, _ = inbox.claim("owner", set(), 10)
    inbox.finish(claimed[0].seq, "owner")
    assert inbox.unfinished() == 2


def test_the_inbox_needs_sql_and_finds_its_url(monkeypatch):
    for scheme in ("redis", "rediss"):
        with pytest.raises(ValueError) as refused:
            Inbox(f"{scheme}://127.0.0.1:6379/0")
        assert str(refused.value) == (
            "The WhatsApp inbox needs a SQL database (PostgreSQL or SQLite); "
            f"{scheme}:// is not one. See docs/scaling.md.")
    assert Inbox("sqlite:///inbox-test.db").url == "sqlite:///inbox-test.db"  # not opened
    for name in ("WHATSAPP_INBOX_URL", "WHATSAPP_DEDUPE_URL", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    assert default_inbox_url() == "sqlite:///whatsapp_inbox.db"
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/x")
    assert default_inbox_url() == "postgresql://db/x"
    monkeypatch.setenv("WHATSAPP_DEDUPE_URL", "postgresql://db/old")
    assert default_inbox_url() == "postgresql://db/old"
    monkeypatch.setenv("WHATSAPP_INBOX_URL", "postgresql://db/inbox")
    assert default_inbox_url() == "postgresql://db/inbox"


def test_a_message_that_shows_up_late_waits_while_another_of_its_citizen_runs(inbox):
    """PostgreSQL numbers rows before they commit, so a citizen's earlier message can become
    visible after a later one was claimed: it then waits, never runs alongside."""
    placeholder, later = message("X", "placeholder"), message("S", "later")
    inbox.add([placeholder])
    inbox.add([later])
    [running], _ = inbox.claim("replica-b", {"X"}, 10)
    assert running.text == "later"
    seq = inbox_row_by_id(inbox, placeholder.message_id).seq
    with inbox.engine.begin() as conn:  # frees the lower number for "earlier"
        conn.execute(sa.delete(inbox_messages).where(inbox_messages.c.seq == seq))
    late = message("S", "earlier")
    inbox.add([late])
    with inbox.engine.begin() as conn:
        conn.execute(sa.update(inbox_messages)
                     .where(inbox_messages.c.message_id == late.message_id).values(seq=seq))
    assert inbox.claim("replica-a", set(), 10) == ([], [])  # not while "later" runs
    inbox.finish(running.seq, "replica-b")
    [claimed], _ = inbox.claim("replica-a", set(), 10)
    assert claimed.text == "earlier"


def inbox_row_by_id(box, message_id):
    with box.engine.connect() as conn:
        return conn.execute(sa.select(inbox_messages)
                            .where(inbox_messages.c.message_id == message_id)).one()


def run(scenario, bound=5):
    """Runs a worker's scenario (each takes well under a second), bounded: a worker that stops
    claiming fails the test instead of hanging the suite, and `make mutate` pays 5 s, not
    mutmut's timeout, for each mutant that hangs it."""
    return asyncio.run(asyncio.wait_for(scenario(), bound))


def test_the_worker_runs_at_most_its_concurrency_and_every_message_once(db_url):
    box = Inbox(db_url)
    sent = [message(f"91{n}", f"m{n}-{k}") for k in range(2) for n in range(5)]
    box.add(sent)

    async def scenario():
        release = asyncio.Event()
        running, most, handled = set(), [0], []

        async def handle(m):
            running.add(m.sender_id)
            most[0] = max(most[0], len(running))
            await release.wait()
            handled.append(m.text)
            running.discard(m.sender_id)

        async def apologise(m):
            raise AssertionError("nothing fails here")

        worker = InboxWorker(box, handle, apologise, concurrency=2)
        worker.start()
        while len(running) < 2:  # the start's pass claims what it may
            await asyncio.sleep(0.01)
        assert await worker.pump() == 0  # full: nothing more is claimed
        release.set()
        await worker.join()
        await worker.stop(1)
        return most[0], handled

    most, handled = run(scenario)
    assert most == 2
    assert sorted(handled) == sorted(m.text for m in sent)
    for n in range(5):  # each citizen's in order
        assert [t for t in handled if t.startswith(f"m{n}-")] == [f"m{n}-0", f"m{n}-1"]
    box.close()


def test_stopping_right_after_a_wake_up_stops(db_url):
    """Python 3.10's asyncio.wait_for loses a cancellation that arrives as the awaited event
    is set (bpo-42130): the worker's loop must end on its own flag, or stop() waits forever."""
    box = Inbox(db_url)

    async def nothing(m):
        raise AssertionError("no message here")

    async def scenario():
        worker = InboxWorker(box, nothing, nothing, poll_seconds=60)
        worker.start()
        await asyncio.sleep(0.1)  # the loop now waits for a wake-up
        worker.wake()  # a turn just ended, say
        await worker.stop(1)

    run(scenario)
    box.close()


# --- the worker: turns, leases, stopping, the purge (no test waits on a clock) ---------------

async def no_apology(m):
    raise AssertionError(f"nothing is parked here: {m.text}")


def test_the_defaults_of_the_inbox_and_the_worker(sqlite_url):
    box = Inbox(sqlite_url)
    # leases of 30 s renewed every 10 s; 3 attempts 2 s, 4 s apart; kept 8 days (Meta: 7)
    assert (box.lease, box.max_attempts, box.retry_seconds, box.retention) == (
        timedelta(seconds=30), 3, 2.0, timedelta(days=8))
    worker = InboxWorker(box, no_apology, no_apology)
    assert (worker.poll_seconds, worker.concurrency, worker.renew_seconds) == (5.0, 8, 10.0)
    assert worker.ready() is True
    assert Inbox(sqlite_url, max_attempts=0).max_attempts == 1  # at least one try
    assert InboxWorker(Inbox(sqlite_url, lease_seconds=0.15), no_apology, no_apology
                       ).renew_seconds == 0.1  # never busier than ten renewals a second
    box.close()


def test_a_sqlite_inbox_keeps_its_connections_in_wal_mode(sqlite_url):
    box = Inbox(sqlite_url)
    engine = box.engine
    assert isinstance(engine.pool, sa.pool.QueuePool) and engine.pool.size() == 8
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000  # ms
    # a connection the pool kept is used from another thread (the webhook's store threads)
    other = threading.Thread(target=lambda: box.add([message()]))
    other.start()
    other.join()
    assert box.unfinished() == 1
    box.close()
    server = Inbox("postgresql://nagar@127.0.0.1:1/inbox").engine  # not connected yet
    assert server.pool._pre_ping is True and isinstance(server, sa.future.Engine)


def test_a_turn_that_raises_is_tried_again_then_parked_and_apologised_once(sqlite_url):
    box = Inbox(sqlite_url, retry_seconds=0, max_attempts=2)
    boom, fine = message("A", "boom"), message("B", "fine")
    box.add([boom, fine])

    async def scenario():
        tried, apologies = [], []

        async def handle(m):
            tried.append((m.text, m.attempts))
            if m.text == "boom":
                raise RuntimeError(f"turn {m.attempts} failed")

        async def apologise(m):
            apologies.append((m.text, m.attempts))

        worker = InboxWorker(box, handle, apologise)
        await worker.join()
        await worker.stop(1)
        return sorted(tried), apologies

    tried, apologies = run(scenario)
    assert tried == [("boom", 1), ("boom", 2), ("fine", 1)]
    assert apologies == [("boom", 2)]
    stored = box.get(boom.message_id)
    assert (stored.status, stored.attempts, stored.last_error) == (
        PARKED, 2, "RuntimeError: turn 2 failed")
    assert box.get(fine.message_id).status == DONE
    box.close()


def test_an_apology_that_fails_does_not_stop_the_worker(sqlite_url):
    box = Inbox(sqlite_url, retry_seconds=0, max_attempts=1)
    box.add([message("A", "boom"), message("A", "next")])

    async def scenario():
        handled = []

        async def handle(m):
            handled.append(m.text)
            if m.text == "boom":
                raise RuntimeError("boom")

        async def apologise(m):
            raise ConnectionError("Graph API down")

        worker = InboxWorker(box, handle, apologise)
        await worker.join()
        await worker.stop(1)
        return handled

    assert run(scenario) == ["boom", "next"]
    box.close()


def test_a_turn_keeps_renewing_its_lease_and_stops_when_it_ends(sqlite_url):
    box = Inbox(sqlite_url, lease_seconds=0.3)  # renewed every 0.1 s
    box.add([message()])

    async def scenario():
        async def handle(m):
            first = inbox_row(box, m.seq).lease_expires_at
            for _ in range(2):  # renewed twice while the turn runs
                while inbox_row(box, m.seq).lease_expires_at == first:
                    await asyncio.sleep(0.02)
                first = inbox_row(box, m.seq).lease_expires_at
            assert inbox_row(box, m.seq).lease_owner == worker.owner

        worker = InboxWorker(box, handle, no_apology)
        await worker.join()
        await worker.stop(1)
        await asyncio.sleep(0)
        # nothing left running: the lease keeper ended with its turn
        return [t for t in asyncio.all_tasks()
                if not t.done() and "_keep_lease" in t.get_coro().__qualname__]

    assert run(scenario) == []
    assert [r.status for r in rows(box)] == [DONE]
    box.close()


def test_a_turn_whose_lease_was_taken_over_stops_renewing_it(sqlite_url):
    box = Inbox(sqlite_url, lease_seconds=0.3)
    box.add([message()])
    renewals = []

    @sa.event.listens_for(box.engine, "before_cursor_execute")
    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("UPDATE") and "SET lease_expires_at" in statement:
            renewals.append(statement)

    async def scenario():
        async def handle(m):
            with box.engine.begin() as conn:  # another replica took the message over
                conn.execute(inbox_messages.update().values(lease_owner="another"))
            while not renewals:  # the keeper's renewal finds it lost ...
                await asyncio.sleep(0.02)
            await asyncio.sleep(4 * worker.renew_seconds)  # ... and tries no more

        worker = InboxWorker(box, handle, no_apology)
        await worker.pump()
        [(_, turn)] = worker._turns.values()
        await turn
        await worker.stop(1)

    run(scenario)
    assert len(renewals) == 1
    box.close()


def test_pump_claims_nothing_when_not_ready_or_full_and_counts_apologies(sqlite_url):
    box = Inbox(sqlite_url, lease_seconds=0, max_attempts=1)
    ready = [False]
    box.add([message("A", "kills its process")])
    box.claim("dead", set(), 10)  # claimed once by a process that died: now abandoned

    async def scenario():
        apologies = []

        async def apologise(m):
            apologies.append(m.text)

        worker = InboxWorker(box, no_apology, apologise, ready=lambda: ready[0])
        assert await worker.pump() == 0  # the model is not loaded yet
        assert [r.status for r in rows(box)] == [PROCESSING]
        ready[0] = True
        assert await worker.pump() == 1  # one parked, whose citizen is owed the apology
        await worker.stop(1)  # waits for the apology
        return apologies

    assert run(scenario) == ["kills its process"]
    assert [r.status for r in rows(box)] == [PARKED]
    box.close()


def test_a_citizens_next_message_starts_when_the_turn_before_ends_not_at_the_poll(sqlite_url):
    box = Inbox(sqlite_url)
    box.add([message("A", "first"), message("A", "second")])

    async def scenario():
        handled, both = [], asyncio.Event()

        async def handle(m):
            handled.append(m.text)
            if len(handled) == 2:
                both.set()

        worker = InboxWorker(box, handle, no_apology, poll_seconds=3600)
        worker.start()
        await both.wait()  # an hour's poll would fail this (run's bound)
        await worker.stop(1)
        return handled

    assert run(scenario) == ["first", "second"]
    box.close()


def test_stopping_waits_for_running_turns_within_the_grace(sqlite_url):
    box = Inbox(sqlite_url)
    box.add([message("A", "a")])

    async def scenario():
        started, release, finished = asyncio.Event(), asyncio.Event(), []

        async def handle(m):
            started.set()
            await release.wait()
            finished.append(m.text)

        worker = InboxWorker(box, handle, no_apology, poll_seconds=3600)
        worker.start()
        await started.wait()
        stopping = asyncio.create_task(worker.stop(30))
        await asyncio.sleep(0)
        box.add([message("B", "b")])
        worker.wake()  # stopping: nothing new is claimed
        assert await worker.pump() == 0
        release.set()
        await stopping
        return finished

    assert run(scenario) == ["a"]
    assert [(r.text, r.status) for r in rows(box)] == [("a", DONE), ("b", RECEIVED)]
    box.close()


def test_stopping_gives_unfinished_turns_back_to_the_inbox(sqlite_url):
    box = Inbox(sqlite_url)
    box.add([message("A", "a"), message("B", "b")])

    async def scenario():
        running, cancelled = set(), []

        async def handle(m):
            running.add(m.text)
            try:
                await asyncio.Event().wait()  # never ends by itself
            except asyncio.CancelledError:
                cancelled.append(m.text)
                raise

        worker = InboxWorker(box, handle, no_apology)
        await worker.pump()
        while len(running) < 2:
            await asyncio.sleep(0.01)
        await worker.stop(0)
        return sorted(cancelled)

    assert run(scenario) == ["a", "b"]
    assert [(r.status, r.lease_owner, r.attempts) for r in rows(box)] == [
        (RECEIVED, None, 0), (RECEIVED, None, 0)]  # claimable at once, no attempt counted
    box.close()


def test_the_worker_purges_at_its_first_pass_then_once_an_hour(sqlite_url):
    box = Inbox(sqlite_url)
    now = [1000.0]
    pass_started = asyncio.Event()

    def ready():
        pass_started.set()
        return True

    def finished_long_ago(text):
        m = message(text=text)
        box.add([m])
        with box.engine.begin() as conn:
            conn.execute(inbox_messages.update().where(inbox_messages.c.message_id == m.message_id)
                         .values(status=DONE, received_at=inbox_row_by_id(box, m.message_id)
                                 .received_at - timedelta(days=9)))
        return m.message_id

    async def scenario():
        worker = InboxWorker(box, no_apology, no_apology, poll_seconds=3600, ready=ready,
                             clock=lambda: now[0])

        async def passes(n):
            """Waits for n more passes to start: those before them have ended."""
            for _ in range(n):
                pass_started.clear()
                worker.wake()
                await pass_started.wait()

        first = finished_long_ago("first")
        worker.start()
        await pass_started.wait()
        await passes(1)
        found = [box.get(first) is None]
        second = finished_long_ago("second")
        now[0] += 3599  # within the hour: not again
        await passes(2)
        found.append(box.get(second) is None)
        now[0] += 1  # an hour after the last purge
        await passes(2)
        found.append(box.get(second) is None)
        await worker.stop(1)
        return found

    assert run(scenario) == [True, False, True]
    box.close()


def test_an_abandoned_message_is_parked_alone_with_its_lease_cleared(sqlite_url):
    box = Inbox(sqlite_url, lease_seconds=0, max_attempts=1)
    box.add([message("A", "kills its process"), message("B", "also abandoned")])
    claimed, _ = box.claim("dead", set(), 10)
    before = {m.seq: inbox_row(box, m.seq) for m in claimed}
    [], [parked] = box.claim("next", set(), 1)  # one at a time: the other is left as it is
    row = inbox_row(box, parked.seq)
    assert (row.status, row.lease_owner, row.lease_expires_at, row.last_error) == (
        PARKED, None, None, "no outcome after 1 attempts: the process handling it stopped "
                            "each time; last error: none")
    assert row.updated_at > before[parked.seq].updated_at
    [other] = [seq for seq in before if seq != parked.seq]
    assert inbox_row(box, other) == before[other]
    box.close()


def test_an_abandoned_message_is_parked_only_while_it_is_still_abandoned(sqlite_url):
    """Another replica may finish, park or renew it between the claim's read and its park."""
    box = Inbox(sqlite_url, lease_seconds=0, max_attempts=1)
    box.add([message("A", "a")])
    [claimed], _ = box.claim("slow", set(), 10)
    row = inbox_row(box, claimed.seq)
    expired_at = row.lease_expires_at
    assert box._park_abandoned(row, expired_at - timedelta(microseconds=1)) is None  # live yet
    assert box._park_abandoned(row, expired_at).status == PARKED  # over at its end
    assert box._park_abandoned(row, expired_at) is None  # parked once
    box.close()


def test_the_retention_is_counted_from_when_a_message_came(sqlite_url, monkeypatch):
    box = Inbox(sqlite_url, retention_days=8)
    old, edge, recent = message("A", "old"), message("B", "edge"), message("C", "recent")
    box.add([old, edge, recent])
    with box.engine.begin() as conn:
        conn.execute(inbox_messages.update().values(status=DONE))
    now = inbox_row_by_id(box, recent.message_id).received_at + timedelta(hours=1)
    for m, age in ((old, timedelta(days=8, seconds=1)), (edge, timedelta(days=8))):
        with box.engine.begin() as conn:
            conn.execute(inbox_messages.update()
                         .where(inbox_messages.c.message_id == m.message_id)
                         .values(received_at=now - age))
    monkeypatch.setattr("channels.inbox._utcnow", lambda: now)
    assert box.purge() == 1
    assert [r.text for r in rows(box)] == ["edge", "recent"]  # eight days exactly: kept
    box.close()


def test_a_released_claim_records_when(sqlite_url):
    box = Inbox(sqlite_url)
    box.add([message()])
    [claimed], _ = box.claim("stopping", set(), 10)
    before = inbox_row(box, claimed.seq).updated_at
    box.release([claimed.seq], "stopping")
    assert inbox_row(box, claimed.seq).updated_at > before
    box.close()


def test_the_poll_picks_up_a_retry_whose_pause_is_over(sqlite_url):
    box = Inbox(sqlite_url, retry_seconds=0.2)
    box.add([message("A", "flaky")])

    async def scenario():
        attempts, second = [], asyncio.Event()

        async def handle(m):
            attempts.append(m.attempts)
            if m.attempts == 1:
                raise ConnectionError("action server restarting")
            second.set()

        worker = InboxWorker(box, handle, no_apology, poll_seconds=0.05)
        worker.start()
        await second.wait()  # nothing wakes the worker when the pause is over: the poll
        await worker.stop(1)
        return attempts

    assert run(scenario) == [1, 2]
    box.close()


def test_each_start_takes_a_new_owner_of_this_process(sqlite_url):
    box = Inbox(sqlite_url)

    async def scenario():
        worker = InboxWorker(box, no_apology, no_apology, poll_seconds=3600)
        before = worker.owner
        worker.start()  # a server's start, after any fork
        owner = worker.owner
        await worker.stop(1)
        return before, owner

    before, owner = run(scenario)
    assert owner != before
    assert owner.startswith(f"{socket.gethostname()}:{os.getpid()}:")
    box.close()
