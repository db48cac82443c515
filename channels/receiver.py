"""The WhatsApp webhook receiver: a process that only acknowledges, apart from the Rasa server.

    python -m channels.receiver --port 5006 --wake-url http://rasa:5005/webhooks/whatsapp/wake

It answers Meta's webhook as the channel does (``channels/whatsapp.py``; the same code:
``verify_subscription`` and ``accept_webhook``): ``GET /webhooks/whatsapp/webhook`` the
verification handshake, ``POST /webhooks/whatsapp/webhook`` the signature check, JSON,
``parse_webhook`` and ``Inbox.add`` before the 200 (403 bad signature, 400 not JSON, 503
when the inbox cannot store). It runs no turns, so its acknowledgement never waits behind
the NLU and the dialogue of a Rasa server (docs/benchmarks.md, fifth round).

After storing, it nudges each ``--wake-url`` (``WHATSAPP_WAKE_URLS``, comma-separated): a
POST to the channel's ``/webhooks/whatsapp/wake``, signed with the app secret like Meta's
webhooks, and the Rasa server's inbox worker claims at once. Nudges are sent after the
answer, at most one at a time per URL (stores meanwhile make one more); a lost nudge
delays a message until the worker's next poll (``WHATSAPP_INBOX_POLL_SECONDS``), never
loses it: the message is in the inbox.

Settings as the channel's: ``--credentials FILE`` (the ``channels.whatsapp.WhatsAppInput``
section), each empty key from its ``WHATSAPP_*`` variable (``CREDENTIAL_ENV_VARS``); it
needs ``verify_token`` and ``app_secret``, and reads ``phone_number_id`` and the inbox's.
"""
from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import hashlib
import hmac
import logging
import os
import sys
from typing import Any, Dict, List, Optional, Sequence, Tuple

import aiohttp
import yaml
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.inbox import Inbox, InboxMessage
from channels.whatsapp import (
    CREDENTIAL_ENV_VARS,
    SIGNATURE_HEADER,
    SIGNATURE_PREFIX,
    WhatsAppInput,
    accept_webhook,
    channel_settings,
    inbox_from_settings,
    verify_subscription,
)

logger = logging.getLogger(__name__)

WAKE_URLS_ENV = "WHATSAPP_WAKE_URLS"
DEFAULT_PORT = 5006
WAKE_TIMEOUT_SECONDS = 2.0
WAKE_BODY = b'{"wake": true}'
REQUIRED = ("verify_token", "app_secret")


class Nudger:
    """POSTs a signed wake to each URL; one request in flight per URL, and one more after it
    when something was stored meanwhile (a burst of webhooks is a few nudges, not one each)."""

    def __init__(self, urls: Sequence[str], app_secret: str) -> None:
        self.urls = list(urls)
        signature = hmac.new(app_secret.encode("utf-8"), WAKE_BODY, hashlib.sha256).hexdigest()
        self.headers = {SIGNATURE_HEADER: SIGNATURE_PREFIX + signature,
                        "Content-Type": "application/json"}
        self.sent = 0  # nudges answered 200 (tests, logs)
        self._again: Dict[str, bool] = {}
        self._running: Dict[str, asyncio.Task] = {}
        self._session: Optional[aiohttp.ClientSession] = None

    def nudge(self) -> None:
        for url in self.urls:
            if url in self._running:
                self._again[url] = True
            else:
                self._running[url] = asyncio.create_task(self._send(url))

    async def _send(self, url: str) -> None:
        try:
            while True:
                self._again[url] = False
                await self._post(url)
                if not self._again[url]:
                    return
        finally:
            del self._running[url]

    async def _post(self, url: str) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=WAKE_TIMEOUT_SECONDS))
        try:
            async with self._session.post(url, data=WAKE_BODY, headers=self.headers) as answer:
                if answer.status == 200:
                    self.sent += 1
                else:
                    logger.warning("Wake %s answered %d; the worker's poll will claim instead.",
                                   url, answer.status)
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            # the Rasa server down or restarting: it claims everything when it is back
            logger.warning("Could not wake %s (%s); the worker's poll will claim instead.",
                           url, type(error).__name__)

    async def close(self) -> None:
        await asyncio.gather(*self._running.values(), return_exceptions=True)
        if self._session is not None:
            await self._session.close()


class GroupStore:
    """Stores the messages of every post that arrived while a write was under way in one
    transaction (group commit): one commit for many posts, each answered only once its own
    messages are in; one transaction at a time (two measured no better: docs/benchmarks.md).
    If a write fails, every post of its group gets the error (a 503)."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self.executor = concurrent.futures.ThreadPoolExecutor(
            1, thread_name_prefix="receiver-store")
        self.writes = 0  # transactions (tests, logs)
        self._waiting: List[Tuple[List[InboxMessage], asyncio.Future]] = []
        self._writer: Optional[asyncio.Task] = None

    async def add(self, messages: List[InboxMessage]) -> None:
        done = asyncio.get_running_loop().create_future()
        self._waiting.append((messages, done))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write())
        await done

    async def _write(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._waiting:
                group, self._waiting = self._waiting, []
                error: Optional[BaseException] = None
                try:
                    await loop.run_in_executor(self.executor, self.inbox.add,
                                               [m for messages, _ in group for m in messages])
                    self.writes += 1
                except Exception as failure:
                    error = failure
                for _, done in group:
                    if done.done():  # the post's connection went away meanwhile
                        continue
                    if error is None:
                        done.set_result(None)
                    else:
                        done.set_exception(error)
        finally:
            self._writer = None

    def close(self) -> None:
        self.executor.shutdown(wait=True)


class Receiver:
    """The receiver's Sanic app: the webhook's routes, an inbox, the nudges."""

    def __init__(self, verify_token: str, app_secret: str, phone_number_id: Optional[str],
                 inbox: Inbox, wake_urls: Sequence[str] = (), name: str = "whatsapp_receiver"
                 ) -> None:
        self.verify_token = verify_token
        self.app_secret = app_secret
        self.phone_number_id = phone_number_id
        self.inbox = inbox
        self.nudger = Nudger(wake_urls, app_secret)
        self.store = GroupStore(inbox)
        self.app = self._build(name)

    @classmethod
    def from_settings(cls, credentials: Optional[Dict[str, Any]] = None,
                      wake_urls: Optional[Sequence[str]] = None) -> Receiver:
        settings = channel_settings(credentials)
        missing = [key for key in REQUIRED if not settings[key]]
        if missing:
            raise SystemExit("The WhatsApp receiver needs " + ", ".join(
                f"'{key}' (or env {CREDENTIAL_ENV_VARS[key]})" for key in missing) + ".")
        if wake_urls is None:
            wake_urls = [u.strip() for u in os.environ.get(WAKE_URLS_ENV, "").split(",")
                         if u.strip()]
        return cls(str(settings["verify_token"]), str(settings["app_secret"]),
                   settings["phone_number_id"] and str(settings["phone_number_id"]),
                   inbox_from_settings(settings), wake_urls)

    def _build(self, name: str) -> Sanic:
        app = Sanic(name, configure_logging=False)
        app.config.KEEP_ALIVE_TIMEOUT = 75  # Meta (and the proxy) keep connections open

        async def create_table(*_: Any) -> None:
            try:  # before the first post, not on its path; a database down now is a 503 later
                await asyncio.get_running_loop().run_in_executor(
                    self.store.executor, self.inbox.create_table)
            except Exception:
                logger.exception("The inbox's table could not be checked at start.")

        async def close(*_: Any) -> None:
            await self.nudger.close()
            self.store.close()
            self.inbox.close()

        app.register_listener(create_table, "after_server_start")
        app.register_listener(close, "before_server_stop")

        @app.route("/webhooks/whatsapp/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @app.route("/webhooks/whatsapp/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            return verify_subscription(request, self.verify_token)

        @app.route("/webhooks/whatsapp/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            answer, stored = await accept_webhook(
                request, self.app_secret, self.phone_number_id, self.store.add)
            if stored:
                self.nudger.nudge()  # a task: runs after this answer is on its way
            return answer

        return app


def credentials_section(path: Optional[str]) -> Dict[str, Any]:
    """The WhatsApp channel's section of a credentials file (empty without one)."""
    if not path:
        return {}
    with open(path, encoding="utf-8") as handle:
        document = yaml.safe_load(handle) or {}
    return document.get(f"{WhatsAppInput.__module__}.{WhatsAppInput.__name__}") or {}


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("WHATSAPP_RECEIVER_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int,
                        default=int(os.environ.get("WHATSAPP_RECEIVER_PORT", DEFAULT_PORT)))
    parser.add_argument("--credentials", help="a credentials.yml with the WhatsApp channel "
                        "(its empty keys, or none at all: the WHATSAPP_* environment)")
    parser.add_argument("--wake-url", action="append", dest="wake_urls",
                        help=f"the Rasa servers' /webhooks/whatsapp/wake (repeat for several; "
                             f"default env {WAKE_URLS_ENV}, comma-separated)")
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    receiver = Receiver.from_settings(credentials_section(args.credentials), args.wake_urls)
    logger.info("WhatsApp receiver on %s:%d, inbox %s, waking %s", args.host, args.port,
                receiver.inbox.engine.url.render_as_string(hide_password=True),
                receiver.nudger.urls or "nobody (the workers' poll only)")
    receiver.app.run(host=args.host, port=args.port, workers=1, access_log=False,
                     motd=False)


if __name__ == "__main__":
    main(sys.argv[1:])
