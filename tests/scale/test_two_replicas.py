"""Two `rasa run` replicas behind a round-robin proxy, sharing Redis (lock store) and
PostgreSQL (tracker store in a fresh database; tickets and the WhatsApp inbox in a fresh
schema), one action server.

The same citizens' messages are spread over both replicas: every complaint ends in exactly
one ticket, every message is recorded and answered once, each conversation keeps its order,
and messages one citizen sends at the same moment are serialised by the Redis lock. On
WhatsApp the replicas share the inbox: each message is handled once, a citizen's in the
order sent, whichever replica acknowledged it, and duplicates to both replicas are one."""
import re
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from scale_support import (
    MODEL,
    POSTGRES_URL,
    REDIS_HOST,
    REDIS_PORT,
    REST,
    RoundRobinProxy,
    postgres_parts,
    reachable,
    say,
    start_actions,
    start_rasa,
    stop,
    wait_http,
)

from channels.fake_graph import FakeGraphAPI, encode, signed_headers, text_message, webhook_payload
from channels.inbox import DONE, inbox_messages

from whatsapp_support import LoopThread

TICKET = re.compile(r"SRN-\d{6}")
CITIZENS = 8
APP_SECRET = "replicas-secret"
PHONE_NUMBER_ID = "100000000000003"


@pytest.fixture(scope="module")
def services():
    if not MODEL.exists():
        pytest.skip(f"no trained model at {MODEL}: run `make train` first")
    if not reachable(REDIS_HOST, REDIS_PORT):
        pytest.skip(f"Redis not reachable at {REDIS_HOST}:{REDIS_PORT} (lock store)")
    pg = postgres_parts()
    if not reachable(pg["host"], pg["port"]):
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}")
    return pg


@pytest.fixture(scope="module")
def tracker_database(services):
    """A fresh PostgreSQL database for Rasa's SQL tracker store, its tables created once."""
    import psycopg2
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain

    pg = services
    name = "nagar_scale_" + uuid.uuid4().hex[:10]
    admin = psycopg2.connect(host=pg["host"], port=pg["port"], user=pg["user"],
                             password=pg["password"] or None, dbname=pg["db"])
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    config = {"type": "SQL", "dialect": "postgresql", "url": pg["host"], "port": pg["port"],
              "db": name, "username": pg["user"], "password": pg["password"] or None}
    # Create the tables before both replicas start, so they do not race to create them.
    store = SQLTrackerStore(Domain.empty(), dialect="postgresql", host=pg["host"], port=pg["port"],
                            db=name, username=pg["user"], password=pg["password"] or None)
    store.engine.dispose()
    yield config, store
    admin.cursor().execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture(scope="module")
def shared_schema(services):
    """A fresh PostgreSQL schema for the tickets and the WhatsApp inbox; its URL."""
    from conftest import postgres_url_with_schema

    schema = "t_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(POSTGRES_URL, future=True)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    yield postgres_url_with_schema(POSTGRES_URL, schema)
    with admin.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(scope="module")
def graph():
    loop = LoopThread()
    fake = FakeGraphAPI()
    loop.run(fake.start())
    yield fake
    loop.run(fake.stop())
    loop.close()


@pytest.fixture(scope="module")
def cluster(tracker_database, shared_schema, graph, tmp_path_factory):
    config, store = tracker_database
    folder = tmp_path_factory.mktemp("replicas")
    actions, action_port = start_actions(shared_schema, folder / "actions.log")
    endpoints = {
        "action_endpoint": {"url": f"http://127.0.0.1:{action_port}/webhook"},
        "tracker_store": config,
        "lock_store": {"type": "rasa_extensions.lock_store.AtomicRedisLockStore", "url": REDIS_HOST, "port": REDIS_PORT, "db": 0,
                       "key_prefix": "scale" + uuid.uuid4().hex[:8]},
    }
    credentials = {**REST, "channels.whatsapp.WhatsAppInput": {
        "verify_token": "replicas", "app_secret": APP_SECRET, "access_token": "replicas",
        "phone_number_id": PHONE_NUMBER_ID, "api_base_url": graph.base_url,
        "inbox_url": shared_schema, "mark_read": False}}
    # the inbox table exists before both replicas start (they could race to create it)
    from channels.inbox import Inbox

    creator = Inbox(shared_schema)
    creator.create_table()
    creator.close()
    replicas = [start_rasa(endpoints, folder, f"replica{n}", credentials) for n in (1, 2)]
    proxy = None
    try:
        wait_http(f"http://127.0.0.1:{action_port}/health", actions, folder / "actions.log")
        for process, port, log in replicas:
            wait_http(f"http://127.0.0.1:{port}/", process, log)
        proxy = RoundRobinProxy([port for _, port, _ in replicas])
        yield proxy, store, replicas
    finally:
        if proxy is not None:
            proxy.close()
        for process, _, _ in replicas:
            stop(process)
        stop(actions)


def recorded(store, sender):
    """(user texts, bot texts) of a conversation as the shared tracker store holds it."""
    import asyncio

    tracker = asyncio.run(store.retrieve_full_tracker(sender))
    users = [e.text for e in tracker.events if e.type_name == "user"]
    bots = [e.text for e in tracker.events if e.type_name == "bot"]
    return users, bots


def test_two_replicas_share_conversations_without_loss_or_duplicates(cluster, shared_schema):
    from civic.db import create_engine_for, make_session_factory
    from civic.tickets import TicketRepository

    proxy, store, replicas = cluster
    run = uuid.uuid4().hex[:6]
    citizens = [f"91900{run}{n:02d}" for n in range(CITIZENS)]
    flows = {c: [f"ward {10 + n} me street light kharab hai Court Road pe", "skip", "haan",
                 "meri shikayat ka kya hua"] for n, c in enumerate(citizens)}
    burst = ["hello", "thank you", "what is the status of my complaints"]
    answers = {c: [] for c in citizens}

    def converse(citizen):
        for text in flows[citizen]:  # one citizen's turns in order; citizens interleave
            answers[citizen].append((text, *say(proxy.port, citizen, text)))

    def at_once(citizen_text):
        citizen, text = citizen_text
        return citizen, text, *say(proxy.port, citizen, text)

    with ThreadPoolExecutor(max_workers=CITIZENS * len(burst)) as pool:
        list(pool.map(converse, citizens))
        # Each citizen's three messages at the same moment, on both replicas.
        burst_answers = list(pool.map(at_once, [(c, t) for c in citizens for t in burst]))

    assert all(n > 0 for n in proxy.sent.values()), proxy.sent
    assert all(process.poll() is None for process, _, _ in replicas)
    engine = create_engine_for(shared_schema)
    repository = TicketRepository(make_session_factory(engine))
    try:
        for citizen in citizens:
            turns = answers[citizen]
            assert [status for _, status, _ in turns] == [200] * 4
            assert all(texts for _, _, texts in turns), turns
            number = TICKET.search(" ".join(turns[2][2])).group(0)
            tickets = repository.recent_for_citizen(citizen)
            assert [t.number for t in tickets] == [number]  # exactly one ticket per complaint
            assert number in " ".join(turns[3][2])  # the status turn sees it, on either replica

            mine = [b for b in burst_answers if b[0] == citizen]
            assert all(status == 200 and texts for _, _, status, texts in mine), mine
            users, bots = recorded(store, citizen)
            assert users[:4] == flows[citizen]  # in order, each once
            assert sorted(users[4:]) == sorted(burst)  # serialised, none lost or doubled
            sent_back = [t for _, _, texts in turns for t in texts] + [
                t for _, _, _, texts in mine for t in texts]
            assert sorted(bots) == sorted(sent_back)  # every reply recorded once, nothing extra
    finally:
        engine.dispose()


def post_whatsapp(port: int, message: dict) -> int:
    body = encode(webhook_payload([message], phone_number_id=PHONE_NUMBER_ID))
    request = urllib.request.Request(f"http://127.0.0.1:{port}/webhooks/whatsapp/webhook",
                                     data=body, headers=signed_headers(body, APP_SECRET))
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def test_replicas_share_the_whatsapp_inbox_each_message_once_in_each_citizens_order(
        cluster, shared_schema, graph):
    """Each citizen's five messages go to the replicas in turn, each message to both at the
    same moment as well (Meta's duplicates): one turn per message, in the order sent."""
    _, store, replicas = cluster
    ports = [port for _, port, _ in replicas]
    run = uuid.uuid4().hex[:6]
    citizens = [f"91950{run}{n:02d}" for n in range(CITIZENS)]
    texts = ["hello", "help", "what is the status of my complaints", "thank you", "bye"]
    sent = {c: [text_message(c, t) for t in texts] for c in citizens}

    def citizen_writes(citizen):
        with ThreadPoolExecutor(max_workers=2) as both:
            for n, message in enumerate(sent[citizen]):  # one after another, as typed
                first, second = ports[n % 2], ports[(n + 1) % 2]
                acks = list(both.map(post_whatsapp, (first, second), (message, message)))
                assert acks == [200, 200]

    with ThreadPoolExecutor(max_workers=CITIZENS) as pool:
        list(pool.map(citizen_writes, citizens))

    engine = sa.create_engine(shared_schema, future=True)
    ids = [m["id"] for c in citizens for m in sent[c]]
    query = sa.select(inbox_messages.c.status).where(inbox_messages.c.message_id.in_(ids))

    def statuses():
        with engine.connect() as conn:
            return conn.execute(query).scalars().all()

    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and statuses() != [DONE] * len(ids):
        time.sleep(0.5)
    assert statuses() == [DONE] * len(ids)  # one row per message, every one done
    engine.dispose()
    assert all(process.poll() is None for process, _, _ in replicas)
    for citizen in citizens:
        users, bots = recorded(store, citizen)
        assert users == texts  # each message once, in the order sent
        replies = [m for m in graph.messages if m.get("to") == citizen]
        assert bots and len(replies) == len(bots)  # every reply sent once
