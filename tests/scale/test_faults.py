"""Faults injected for real against a `rasa run` server, its action server, Redis and the
Graph API, and the ticket store under 50 concurrent citizens.

Elsewhere already: the ticket database down during submit
(tests/conversations/test_storage_faults.py), the COVID source down (tests/civic/test_covid.py),
single Graph API 429/5xx retries and their bound (tests/channels/test_whatsapp_output.py)."""
import dataclasses
import re
import signal
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from scale_support import (
    MODEL,
    REDIS_HOST,
    REDIS_PORT,
    REST,
    ROOT,
    free_port,
    reachable,
    say,
    start_actions,
    start_rasa,
    stop,
    wait_http,
)

from channels.fake_graph import FakeGraphAPI, encode, signed_headers, text_message, webhook_payload

from tcp_proxy import TcpProxy
from whatsapp_support import LoopThread

TICKET = re.compile(r"SRN-\d{6}")
APP_SECRET = "faults-secret"
PHONE_NUMBER_ID = "100000000000001"


class Stack:
    """One Rasa server (REST + WhatsApp), its action server on a fixed port, Redis as the
    lock store through a cuttable proxy, a fake Graph API."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.database_url = f"sqlite:///{folder / 'tickets.db'}"
        self.action_port = free_port()
        self.actions = None
        self.redis = TcpProxy(REDIS_HOST, REDIS_PORT)
        self.loop = LoopThread()
        self.graph = FakeGraphAPI()
        self.loop.run(self.graph.start())
        endpoints = {
            "action_endpoint": {"url": f"http://127.0.0.1:{self.action_port}/webhook"},
            "lock_store": {"type": "rasa_extensions.lock_store.AtomicRedisLockStore", "url": "127.0.0.1", "port": self.redis.port, "db": 0,
                           "key_prefix": "faults" + uuid.uuid4().hex[:8]},
        }
        credentials = {**REST, "channels.whatsapp.WhatsAppInput": {
            "verify_token": "faults", "app_secret": APP_SECRET, "access_token": "faults",
            "phone_number_id": PHONE_NUMBER_ID, "api_base_url": self.graph.base_url,
            "inbox_url": f"sqlite:///{folder / 'inbox.db'}", "mark_read": False}}
        self.start_actions()
        self.rasa, self.port, self.log = start_rasa(endpoints, folder, "rasa", credentials)
        wait_http(f"http://127.0.0.1:{self.action_port}/health", self.actions, self.actions_log)
        wait_http(f"http://127.0.0.1:{self.port}/", self.rasa, self.log)

    @property
    def actions_log(self) -> Path:
        return self.folder / "actions.log"

    def start_actions(self) -> None:
        with open(self.actions_log, "a"):
            pass
        self.actions, _ = start_actions(self.database_url, self.actions_log, self.action_port)

    def restart_actions(self) -> None:
        """Kill the action server outright and start a new one on the same port."""
        self.actions.send_signal(signal.SIGKILL)
        self.actions.wait()
        self.start_actions()
        wait_http(f"http://127.0.0.1:{self.action_port}/health", self.actions, self.actions_log)

    def whatsapp(self, wa_id: str, text: str) -> int:
        import urllib.request

        body = encode(webhook_payload([text_message(wa_id, text)], phone_number_id=PHONE_NUMBER_ID))
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/webhooks/whatsapp/webhook",
                                         data=body, headers=signed_headers(body, APP_SECRET))
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status

    def delivered(self, wa_id: str):
        return [m for m in self.graph.messages if m.get("to") == wa_id]

    def close(self) -> None:
        stop(self.rasa)
        stop(self.actions)
        self.redis.close()
        self.loop.run(self.graph.stop())
        self.loop.close()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    if not MODEL.exists():
        pytest.skip(f"no trained model at {MODEL}: run `make train` first")
    if not reachable(REDIS_HOST, REDIS_PORT):
        pytest.skip(f"Redis not reachable at {REDIS_HOST}:{REDIS_PORT} (lock store)")
    running = Stack(tmp_path_factory.mktemp("faults"))
    yield running
    running.close()


def tickets_of(database_url: str, citizen: str):
    from civic.db import create_engine_for, make_session_factory
    from civic.tickets import TicketRepository

    engine = create_engine_for(database_url)
    try:
        return TicketRepository(make_session_factory(engine)).recent_for_citizen(citizen)
    finally:
        engine.dispose()


def test_action_server_restarted_mid_form_the_form_continues(stack):
    citizen = "91800" + uuid.uuid4().hex[:7]
    status, first = say(stack.port, citizen, "ward 33 me sewer ka dhakkan toota hai Janakpuri me")
    assert status == 200 and "photo" in " ".join(first).lower()

    stack.restart_actions()  # the form's state lives in Rasa's tracker, not in the action server

    status, summary = say(stack.port, citizen, "photo nahi hai")
    assert status == 200 and "Janakpuri" in " ".join(summary) and "33" in " ".join(summary)
    status, done = say(stack.port, citizen, "haan")
    number = TICKET.search(" ".join(done)).group(0)
    [ticket] = tickets_of(stack.database_url, citizen)
    assert (ticket.number, ticket.category, ticket.ward) == (number, "sewer", 33)
    assert "Janakpuri" in ticket.location_text


def test_action_server_down_for_a_turn_then_back(stack):
    """While the action server is down a turn fails (Rasa answers what its policies can or
    an HTTP error; nothing is half-done); after the restart the same form goes on."""
    citizen = "91801" + uuid.uuid4().hex[:7]
    say(stack.port, citizen, "ward 44 me street light kharab hai Court Road pe")
    stack.actions.send_signal(signal.SIGKILL)
    stack.actions.wait()
    status, _ = say(stack.port, citizen, "skip", timeout=120)
    assert stack.rasa.poll() is None  # the Rasa server survives
    stack.start_actions()
    wait_http(f"http://127.0.0.1:{stack.action_port}/health", stack.actions, stack.actions_log)
    texts = []
    for text in ("skip", "haan", "haan"):  # re-answer whatever the form asks now
        status, texts = say(stack.port, citizen, text)
        assert status == 200
        if TICKET.search(" ".join(texts)):
            break
    assert [t.ward for t in tickets_of(stack.database_url, citizen)] == [44], texts


def test_redis_unreachable_turns_are_still_answered_and_it_recovers(stack):
    citizen = "91802" + uuid.uuid4().hex[:7]
    assert say(stack.port, citizen, "hello")[0] == 200

    stack.redis.cut()  # Redis keeps running; only the path to it is broken
    try:
        started = time.monotonic()
        # The lock store falls back to a lock inside this process (logged as an error):
        # the message is answered, not dropped.
        status, texts = say(stack.port, citizen, "thank you", timeout=60)
        assert status == 200 and texts, (status, texts)
        status, texts = say(stack.port, citizen, "what is the status of my complaints", timeout=60)
        assert status == 200 and texts, (status, texts)
        assert "locked in this process only" in stack.log.read_text()
        assert time.monotonic() - started < 30
        assert stack.rasa.poll() is None
    finally:
        stack.redis.restore()

    status, texts = say(stack.port, citizen, "hello")
    assert status == 200 and texts  # back on Redis with the next message, no restart needed
    assert stack.rasa.poll() is None


def wait_for(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("status,code,retry_after", [(429, 130429, 0.05), (500, 1, None)])
def test_graph_api_bursts_delay_replies_but_lose_or_double_none(stack, status, code, retry_after):
    control = "91803" + uuid.uuid4().hex[:7]
    assert stack.whatsapp(control, "hello") == 200
    assert wait_for(lambda: stack.delivered(control))
    time.sleep(0.5)
    per_greeting = len(stack.delivered(control))

    citizens = [f"91804{uuid.uuid4().hex[:5]}{n:02d}" for n in range(6)]
    # Fewer failures in a row than the client's 4 attempts, so no reply may be dropped.
    stack.graph.fail_next(status, code, times=3, retry_after=retry_after)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(citizens)) as pool:
        acks = list(pool.map(lambda c: stack.whatsapp(c, "hello"), citizens))
    assert acks == [200] * len(citizens)
    assert time.monotonic() - started < 5  # acknowledged at once, whatever Graph says
    assert wait_for(lambda: all(len(stack.delivered(c)) >= per_greeting for c in citizens))
    time.sleep(1.0)  # anything doubled would arrive now
    assert [len(stack.delivered(c)) for c in citizens] == [per_greeting] * len(citizens)
    failed = [r for r in stack.graph.requests if r["payload"].get("to") in citizens]
    assert len(failed) == len(citizens) * per_greeting + 3  # the burst was retried


# --- 1,000 complaints, 50 citizens at once -------------------------------------------------


def test_thousand_concurrent_complaints_get_unique_numbers(postgres_url):
    from civic.city import load_city
    from civic.db import create_engine_for, make_session_factory, migrate
    from civic.tickets import TicketRepository

    migrate(postgres_url)
    city = dataclasses.replace(load_city(ROOT / "city.yml"), max_tickets_per_citizen_per_day=50)
    categories = list(city.categories)
    engine = create_engine_for(postgres_url)
    repository = TicketRepository(make_session_factory(engine), city=city)
    numbers, lock = [], threading.Lock()

    def citizen(n: int) -> None:
        for k in range(20):  # 20 different complaints (category, ward) per citizen
            result = repository.create_ticket(
                f"9170000{n:05d}", categories[k % len(categories)], k + 1, "Court Road",
                f"complaint {k} of citizen {n}", "en")
            assert result.created, result.outcome
            with lock:
                numbers.append(result.ticket.number)

    started = time.monotonic()
    try:
        with ThreadPoolExecutor(max_workers=50) as pool:
            list(pool.map(citizen, range(50)))
        assert time.monotonic() - started < 120
        assert len(numbers) == 1000 and len(set(numbers)) == 1000
        assert repository.list_tickets(page_size=1).total == 1000
        prefix = city.complaint_prefix + "-"
        assert all(n.startswith(prefix) for n in numbers)
    finally:
        engine.dispose()
