"""Delivers the notification outbox to Rasa, which tells the citizen on WhatsApp.

Contract with the Rasa side (domain intent EXTERNAL_ticket_update and its action):

    POST {RASA_URL}/conversations/{citizen_id}/trigger_intent?output_channel=whatsapp&token={RASA_TOKEN}
    {"name": "EXTERNAL_ticket_update", "entities": {"complaint_id": "SRN-000012", "ticket_status": "resolved"}}

Rasa 3.6's `--auth-token` is checked only as the `token` query parameter (rasa/server.py,
requires_auth), so that is how RASA_TOKEN travels. The action reads the ticket's status,
remark and language from the database itself. Any answer but 2xx, or no answer, is a failed
attempt: the row is retried with back-off (civic.notifications) and the error is kept.
"""
from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from datetime import datetime
from typing import Optional
from urllib.parse import quote

import aiohttp

from civic.notifications import NotificationOutbox, NotificationRecord

logger = logging.getLogger(__name__)

DEFAULT_RASA_URL = "http://localhost:5005"
TRIGGER_INTENT = "EXTERNAL_ticket_update"


class DeliveryError(Exception):
    """Rasa did not accept the trigger."""


class RasaNotifier:
    """Posts one trigger_intent per notification."""

    def __init__(self, rasa_url: Optional[str] = None, token: Optional[str] = None,
                 timeout_seconds: float = 10.0):
        self.rasa_url = (rasa_url or os.environ.get("RASA_URL") or DEFAULT_RASA_URL).rstrip("/")
        self.token = token if token is not None else os.environ.get("RASA_TOKEN", "")
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)

    def url_for(self, citizen_id: str) -> str:
        return f"{self.rasa_url}/conversations/{quote(citizen_id, safe='')}/trigger_intent"

    async def deliver(self, notification: NotificationRecord) -> None:
        params = {"output_channel": "whatsapp"}
        if self.token:
            params["token"] = self.token
        body = {"name": TRIGGER_INTENT, "entities": {"complaint_id": notification.ticket_number,
                                                     "ticket_status": notification.status}}
        try:
            async with aiohttp.ClientSession(timeout=self.timeout) as http:
                async with http.post(self.url_for(notification.citizen_id), params=params,
                                     json=body) as response:
                    if not 200 <= response.status < 300:
                        text = (await response.text())[:300]
                        raise DeliveryError(f"Rasa answered {response.status}: {text}")
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc or 'no answer'}") from exc


@dataclass(frozen=True)
class DeliveryReport:
    delivered: int = 0
    failed: int = 0


class NotificationWorker:
    """Sends due outbox rows; `run_forever` is the web app's background task."""

    def __init__(self, outbox: NotificationOutbox, notifier: RasaNotifier,
                 poll_seconds: float = 10.0, batch_size: int = 20):
        self.outbox = outbox
        self.notifier = notifier
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        self._wake: Optional[asyncio.Event] = None

    async def run_once(self, now: Optional[datetime] = None) -> DeliveryReport:
        """One pass over the rows due now (database work off the event loop)."""
        due = await asyncio.to_thread(self.outbox.claim_due, self.batch_size, now)
        delivered = failed = 0
        for notification in due:
            try:
                await self.notifier.deliver(notification)
            except DeliveryError as exc:
                failed += 1
                record = await asyncio.to_thread(self.outbox.mark_failed, notification.id, str(exc), now)
                logger.warning("Notification %s for %s failed (attempt %d%s): %s",
                               notification.id, notification.ticket_number, record.attempts,
                               ", giving up" if record.failed_at else "", exc)
            else:
                delivered += 1
                await asyncio.to_thread(self.outbox.mark_delivered, notification.id, now)
        return DeliveryReport(delivered, failed)

    def wake(self) -> None:
        """Deliver now instead of at the next poll (after a status change)."""
        if self._wake is not None:
            self._wake.set()

    async def run_forever(self) -> None:
        self._wake = asyncio.Event()
        logger.info("Notification worker started: Rasa at %s", self.notifier.rasa_url)
        while True:
            try:
                report = await self.run_once()
                if report.delivered + report.failed == self.batch_size:
                    continue  # more may be waiting
            except asyncio.CancelledError:
                raise
            except Exception:  # a database outage must not kill the worker
                logger.exception("Notification worker pass failed; trying again later.")
            try:
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            except asyncio.TimeoutError:
                pass
            self._wake.clear()
