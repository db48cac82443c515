"""The WhatsApp inbox on SQLite and PostgreSQL (a fresh schema; skipped when unreachable):
atomic storing, claims in per-citizen order, leases, retries, parking, release, purge.

Several `Inbox` objects on one database stand for several replicas (each its own engine)."""
import asyncio
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
    with pytest.raises(ValueError, match="needs a SQL database"):
        Inbox("redis://127.0.0.1:6379/0")
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


def test_the_worker_runs_at_most_its_concurrency_and_every_message_once(db_url):
    from channels.inbox import InboxWorker

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

    # bounded: a worker that stops claiming fails the test instead of hanging the suite
    most, handled = asyncio.run(asyncio.wait_for(scenario(), 120))
    assert most == 2
    assert sorted(handled) == sorted(m.text for m in sent)
    for n in range(5):  # each citizen's in order
        assert [t for t in handled if t.startswith(f"m{n}-")] == [f"m{n}-0", f"m{n}-1"]
    box.close()


def test_stopping_right_after_a_wake_up_stops(db_url):
    """Python 3.10's asyncio.wait_for loses a cancellation that arrives as the awaited event
    is set (bpo-42130): the worker's loop must end on its own flag, or stop() waits forever."""
    from channels.inbox import InboxWorker

    box = Inbox(db_url)

    async def nothing(m):
        raise AssertionError("no message here")

    async def scenario():
        worker = InboxWorker(box, nothing, nothing, poll_seconds=60)
        worker.start()
        await asyncio.sleep(0.1)  # the loop now waits for a wake-up
        worker.wake()  # a turn just ended, say
        await asyncio.wait_for(worker.stop(1), 10)

    asyncio.run(scenario())
    box.close()
