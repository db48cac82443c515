"""The workflow worker: escalation steps and WhatsApp messages to staff.

One pass (`run_once`) takes every escalation step that is due (civic.workflow) and sends the
due rows of the staff outbox (new assignments, escalations) through channels/staff.py. It
runs inside `nagar-admin serve` beside the citizens' notification worker, or alone as
`nagar-admin escalate`. A restart repeats nothing: an escalation step is written once, with
its messages, in one transaction; a message is marked sent once WhatsApp accepted it (a
worker that dies between the two sends that message again: at least once).

Without WHATSAPP_ACCESS_TOKEN and WHATSAPP_PHONE_NUMBER_ID the worker still escalates (the
workspace shows it) and leaves staff messages waiting until WhatsApp is configured.
"""
from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Optional

from civic.officers import OfficerRepository
from civic.tickets import TicketRepository
from civic.workflow import StaffOutbox, Workflow

logger = logging.getLogger(__name__)


def staff_sender_from_env():
    """A channels.staff.StaffSender on the WhatsApp settings of the environment, or None."""
    token = os.environ.get("WHATSAPP_ACCESS_TOKEN", "").strip()
    phone_number_id = os.environ.get("WHATSAPP_PHONE_NUMBER_ID", "").strip()
    if not (token and phone_number_id):
        return None
    from channels.staff import StaffSender  # imports Rasa's response generator: only when used
    from channels.whatsapp_output import DEFAULT_API_BASE_URL, WhatsAppClient

    base = os.environ.get("WHATSAPP_API_BASE_URL", "").strip() or DEFAULT_API_BASE_URL
    return StaffSender(WhatsAppClient(token, phone_number_id, base))


@dataclass(frozen=True)
class WorkflowReport:
    escalated: int = 0
    delivered: int = 0
    failed: int = 0


class WorkflowWorker:
    def __init__(self, workflow: Workflow, outbox: StaffOutbox, officers: OfficerRepository,
                 tickets: TicketRepository, sender=None, poll_seconds: float = 30.0,
                 batch_size: int = 20,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.workflow, self.outbox, self.officers, self.tickets = workflow, outbox, officers, tickets
        self.sender = sender
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        self.clock = clock
        self._wake: Optional[asyncio.Event] = None

    async def run_once(self, now: Optional[datetime] = None) -> WorkflowReport:
        now = now or self.clock()
        steps = await asyncio.to_thread(self.workflow.escalate_due, now)
        for step in steps:
            logger.info("%s escalated to level %d; told: %s", step.ticket_number, step.level,
                        ", ".join(step.recipients) or "nobody has a WhatsApp number")
        if self.sender is None:
            return WorkflowReport(len(steps))
        delivered = failed = 0
        for message in await asyncio.to_thread(self.outbox.claim_due, self.batch_size, now):
            try:
                recipient = await asyncio.to_thread(self.officers.get, message.officer_id)
                ticket = await asyncio.to_thread(self.tickets.get, message.ticket_number)
                chat = await asyncio.to_thread(self.workflow.chat, message.officer_id)
                await self.sender.deliver(message, recipient, ticket, chat, now)
            except Exception as exc:  # noqa: BLE001 - any failure is retried with back-off
                failed += 1
                record = await asyncio.to_thread(self.outbox.mark_failed, message.id, str(exc), now)
                logger.warning("Staff message %s (%s of %s) failed (attempt %d%s): %s", message.id,
                               message.kind, message.ticket_number, record.attempts,
                               ", giving up" if record.failed_at else "", exc)
            else:
                delivered += 1
                await asyncio.to_thread(self.outbox.mark_delivered, message.id, now)
        return WorkflowReport(len(steps), delivered, failed)

    def wake(self) -> None:
        """Send now instead of at the next poll (after an assignment)."""
        if self._wake is not None:
            self._wake.set()

    async def run_forever(self) -> None:
        self._wake = asyncio.Event()
        if self.sender is None:
            logger.warning("WhatsApp is not configured (WHATSAPP_ACCESS_TOKEN, "
                           "WHATSAPP_PHONE_NUMBER_ID): staff messages wait; escalation runs.")
        while True:
            try:
                report = await self.run_once()
                if report.delivered + report.failed == self.batch_size:
                    continue  # more may be waiting
            except asyncio.CancelledError:
                raise
            except Exception:  # a database outage must not kill the worker
                logger.exception("Workflow worker pass failed; trying again later.")
            try:
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            except asyncio.TimeoutError:
                pass
            self._wake.clear()
