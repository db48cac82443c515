"""Test harness for the WhatsApp channel: Rasa's app and a fake Graph API on loopback.

The channel under test is registered on the app built by ``rasa.core.run.configure_app``,
as ``rasa run`` does; the app's agent is replaced by ``CollectingAgent``, a real async
handler that records each ``UserMessage`` (and can answer through its output channel).
Everything runs in one event loop on a background thread so tests (including hypothesis
ones) stay synchronous and post real HTTP requests.
"""

import asyncio
import random
import socket
import threading
import urllib.error
import urllib.request
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple

from domain_support import rasa_domain
from rasa.core.channels.channel import UserMessage
from rasa.core.run import configure_app
from sanic import Sanic

from channels.fake_graph import FakeGraphAPI, encode, signed_headers
from channels.inbox import Inbox
from channels.whatsapp import WhatsAppInput
from channels.whatsapp_output import WhatsAppClient

APP_SECRET = "test-app-secret"
VERIFY_TOKEN = "test-verify-token"
ACCESS_TOKEN = "test-access-token"
PHONE_NUMBER_ID = "100000000000001"

Sanic.test_mode = True  # several apps of the same name in one test process


class CollectingAgent:
    """Stands in for Rasa's Agent: records messages; optional work and reply per message.

    Its tracker store is Rasa's in-memory one, empty unless a test saves a conversation
    (the language the channel's own replies read)."""

    def __init__(self) -> None:
        from rasa.core.tracker_store import InMemoryTrackerStore

        self.domain = rasa_domain()
        self.tracker_store = InMemoryTrackerStore(self.domain)
        self.messages: List[UserMessage] = []
        self.delay: Optional[Callable[[UserMessage], float]] = None
        self.reply: Optional[Callable[[UserMessage], Awaitable[None]]] = None

    def is_ready(self) -> bool:
        return True

    async def handle_message(self, message: UserMessage) -> None:
        if self.delay is not None:
            await asyncio.sleep(self.delay(message))
        self.messages.append(message)
        if self.reply is not None:
            await self.reply(message)


class LoopThread:
    """An asyncio loop on a daemon thread; ``run`` executes a coroutine there."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coroutine: Awaitable, timeout: float = 20.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()


class WhatsAppTestServer:
    """Rasa app with the WhatsApp channel (its inbox at inbox_url), a collecting agent and a
    fake Graph API. Inbox settings (lease_seconds, max_attempts, retry_seconds) as given."""

    def __init__(self, inbox_url: str, **inbox_settings: Any) -> None:
        self.loop_thread = LoopThread()
        self.inbox_url = inbox_url
        self.inbox_settings = {"retry_seconds": 0.0, **inbox_settings}
        self.agent = CollectingAgent()
        self.fake_graph = FakeGraphAPI()
        self.channel: Optional[WhatsAppInput] = None
        self.webhook_url = ""
        self._server = None

    def start(self) -> "WhatsAppTestServer":
        self.loop_thread.run(self._start())
        return self

    async def _start(self) -> None:
        await self.fake_graph.start()
        client = WhatsAppClient(
            ACCESS_TOKEN,
            PHONE_NUMBER_ID,
            self.fake_graph.base_url,
            backoff_seconds=0.01,
            max_backoff_seconds=0.05,
        )
        self.channel = WhatsAppInput(
            verify_token=VERIFY_TOKEN,
            app_secret=APP_SECRET,
            access_token=ACCESS_TOKEN,
            phone_number_id=PHONE_NUMBER_ID,
            inbox=Inbox(self.inbox_url, **self.inbox_settings),
            client=client,
        )
        app = configure_app(input_channels=[self.channel], enable_api=False)
        app.ctx.agent = self.agent
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        self._server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
        await self._server.startup()
        await self._server.before_start()
        await self._server.after_start()
        self.base_url = f"http://127.0.0.1:{port}"
        self.webhook_url = f"{self.base_url}/webhooks/whatsapp/webhook"

    def stop(self) -> None:
        async def _stop() -> None:
            await self._server.before_stop()
            self._server.close()
            await self._server.wait_closed()
            await self.fake_graph.stop()

        self.loop_thread.run(_stop())
        self.loop_thread.close()

    def reset(self) -> None:
        self.agent.messages.clear()
        self.agent.delay = None
        self.agent.reply = None
        self.agent.tracker_store.store.clear()
        self.fake_graph.reset()

    # -- requests -------------------------------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        body: Optional[bytes] = None,
        headers: Optional[Dict[str, str]] = None,
    ) -> Tuple[int, bytes]:
        req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def post_raw(self, body: bytes, headers: Optional[Dict[str, str]] = None) -> int:
        return self.request("POST", self.webhook_url, body, headers)[0]

    def post_signed(self, body: bytes, secret: str = APP_SECRET) -> int:
        return self.post_raw(body, signed_headers(body, secret))

    def post_payload(self, payload: Any, ensure_ascii: bool = True) -> int:
        return self.post_signed(encode(payload, ensure_ascii))

    def settle(self) -> None:
        """Wait until every acknowledged message has been handled (done or parked)."""
        self.loop_thread.run(self.channel.worker.join())

    def run(self, coroutine: Awaitable, timeout: float = 20.0) -> Any:
        return self.loop_thread.run(coroutine, timeout)

    def inbox_rows(self) -> int:
        """How many messages the inbox holds, whatever their status."""
        import sqlalchemy as sa

        from channels.inbox import inbox_messages

        self.channel.inbox.create_table()
        with self.channel.inbox.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(inbox_messages)).scalar_one()

    def texts(self) -> List[str]:
        return [m.text for m in self.agent.messages]


def random_delay(low: float = 0.0, high: float = 0.02) -> Callable[[UserMessage], float]:
    return lambda _: random.uniform(low, high)
