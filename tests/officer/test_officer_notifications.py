"""The outbox: written with the status change in one transaction, delivered to a loopback
Rasa, retried with back-off after a failure, given up after MAX_ATTEMPTS (both backends)."""
from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from officer_support import RASA_TOKEN, FakeRasa

from civic.notifications import (
    CLAIM_LEASE,
    NotificationOutbox,
    backoff,
    change_status_and_notify,
)
from civic.tickets import ASSIGNED, CLOSED, IN_PROGRESS, REGISTERED, RESOLVED, TransitionNotAllowed
from officer.notifier import NotificationWorker, RasaNotifier


def worker_for(ws, rasa_url, token=RASA_TOKEN, max_attempts=None) -> NotificationWorker:
    outbox = NotificationOutbox(ws.session_factory, **({"max_attempts": max_attempts} if max_attempts else {}))
    return NotificationWorker(outbox, RasaNotifier(rasa_url, token, timeout_seconds=3))


def test_the_change_and_its_notification_commit_together(workspace):
    ws = workspace
    number = ws.numbers["light_new"]
    change_status_and_notify(ws.tickets, number, ASSIGNED, "officer:light", "sent a team")
    [row] = ws.outbox.for_ticket(number)
    assert (row.status, row.citizen_id, row.ticket_number, row.attempts) == (
        ASSIGNED, "919800000001", number, 0)
    assert row.state == "pending"


def test_a_refused_change_writes_no_notification(workspace):
    ws = workspace
    number = ws.numbers["light_new"]
    with pytest.raises(TransitionNotAllowed):
        change_status_and_notify(ws.tickets, number, RESOLVED, "officer:light")
    assert ws.outbox.for_ticket(number) == [] and ws.tickets.get(number).status == REGISTERED


def test_a_failing_outbox_write_rolls_back_the_status_change(workspace):
    ws = workspace
    number = ws.numbers["light_new"]

    def broken_hook(session, ticket):
        raise RuntimeError("outbox insert failed")

    with pytest.raises(RuntimeError):
        ws.tickets.change_status(number, ASSIGNED, "officer:light", on_change=broken_hook)
    assert ws.tickets.get(number).status == REGISTERED
    assert len(ws.tickets.history(number)) == 1


def test_only_the_statuses_the_citizen_hears_about_are_queued(workspace):
    ws = workspace
    number = ws.numbers["light_new"]
    for status in (ASSIGNED, IN_PROGRESS, RESOLVED, CLOSED):
        change_status_and_notify(ws.tickets, number, status, "officer:light")
    assert [n.status for n in ws.outbox.for_ticket(number)] == [ASSIGNED, IN_PROGRESS, RESOLVED]


def test_delivery_to_rasa_then_nothing_left(workspace, fake_rasa):
    ws = workspace
    number = ws.numbers["light_new"]
    change_status_and_notify(ws.tickets, number, ASSIGNED, "officer:light")
    worker = worker_for(ws, fake_rasa.url)
    report = asyncio.run(worker.run_once())
    assert (report.delivered, report.failed) == (1, 0)
    [trigger] = fake_rasa.triggers
    assert trigger["path"] == "/conversations/919800000001/trigger_intent"
    assert trigger["query"] == {"output_channel": ["whatsapp"], "token": [RASA_TOKEN]}
    assert trigger["json"] == {"name": "EXTERNAL_ticket_update",
                               "entities": {"complaint_id": number, "ticket_status": "assigned"}}
    [row] = ws.outbox.for_ticket(number)
    assert row.state == "delivered" and row.attempts == 1 and row.last_error is None
    assert asyncio.run(worker.run_once()) == type(report)(0, 0)
    assert len(fake_rasa.triggers) == 1


def test_failure_then_retry_after_the_back_off(workspace, fake_rasa):
    ws = workspace
    number = ws.numbers["light_new"]
    change_status_and_notify(ws.tickets, number, ASSIGNED, "officer:light", now=ws.now)
    fake_rasa.failures = [503]
    worker = worker_for(ws, fake_rasa.url)
    assert asyncio.run(worker.run_once(ws.now)).failed == 1
    [row] = ws.outbox.for_ticket(number)
    assert row.state == "pending" and row.attempts == 1 and "Rasa answered 503" in row.last_error
    assert row.next_attempt_at == ws.now + backoff(1)
    # Not due yet: nothing is sent.
    assert asyncio.run(worker.run_once(ws.now + backoff(1) - timedelta(seconds=1))).delivered == 0
    assert len(fake_rasa.triggers) == 1
    report = asyncio.run(worker.run_once(ws.now + backoff(1)))
    assert report.delivered == 1 and len(fake_rasa.triggers) == 2
    [row] = ws.outbox.for_ticket(number)
    assert row.state == "delivered" and row.attempts == 2


def test_unreachable_rasa_and_a_wrong_token_are_failures_too(workspace, fake_rasa):
    ws = workspace
    number = ws.numbers["light_new"]
    change_status_and_notify(ws.tickets, number, ASSIGNED, "officer:light", now=ws.now)
    stopped = FakeRasa().start()
    stopped.stop()  # a port where nothing listens
    assert asyncio.run(worker_for(ws, stopped.url).run_once(ws.now)).failed == 1
    assert "ClientConnectorError" in ws.outbox.for_ticket(number)[0].last_error
    later = ws.now + timedelta(hours=2)
    assert asyncio.run(worker_for(ws, fake_rasa.url, token="wrong").run_once(later)).failed == 1
    assert "Rasa answered 401" in ws.outbox.for_ticket(number)[0].last_error


def test_gives_up_after_max_attempts_and_can_be_retried(workspace, fake_rasa):
    ws = workspace
    number = ws.numbers["light_new"]
    change_status_and_notify(ws.tickets, number, ASSIGNED, "officer:light", now=ws.now)
    fake_rasa.failures = [500, 500, 500]
    worker = worker_for(ws, fake_rasa.url, max_attempts=3)
    at = ws.now
    for _ in range(3):
        assert asyncio.run(worker.run_once(at)).failed == 1
        at += timedelta(hours=2)
    [row] = ws.outbox.for_ticket(number)
    assert row.state == "failed" and row.attempts == 3
    assert asyncio.run(worker.run_once(at + timedelta(days=1))).failed == 0  # no longer tried
    worker.outbox.retry(row.id, now=at)
    assert asyncio.run(worker.run_once(at)).delivered == 1
    assert ws.outbox.for_ticket(number)[0].state == "delivered"


def test_a_claimed_row_is_not_claimed_twice_during_its_lease(workspace):
    ws = workspace
    change_status_and_notify(ws.tickets, ws.numbers["light_new"], ASSIGNED, "officer:light", now=ws.now)
    first = ws.outbox.claim_due(now=ws.now)
    assert len(first) == 1
    assert ws.outbox.claim_due(now=ws.now + CLAIM_LEASE - timedelta(seconds=1)) == []
    # A worker that died mid-send: the row comes back after the lease.
    assert len(ws.outbox.claim_due(now=ws.now + CLAIM_LEASE)) == 1


def test_backoff_grows_and_is_capped():
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff(50) == timedelta(hours=1)


def test_the_worker_loop_delivers_after_a_wake(workspace, fake_rasa):
    ws = workspace
    worker = worker_for(ws, fake_rasa.url)
    worker.poll_seconds = 30  # only the wake-up can make it deliver within the test

    async def scenario():
        task = asyncio.ensure_future(worker.run_forever())
        await asyncio.sleep(0.3)
        await asyncio.to_thread(change_status_and_notify, ws.tickets, ws.numbers["light_new"],
                                ASSIGNED, "officer:light")
        worker.wake()
        for _ in range(100):
            if fake_rasa.triggers:
                break
            await asyncio.sleep(0.05)
        task.cancel()

    asyncio.run(scenario())
    assert len(fake_rasa.triggers) == 1
