"""The separate webhook receiver (channels/receiver.py) as a real server on loopback: the
handshake, bad input answered as the channel answers it, every message in the inbox before
the 200, the nudge that makes a Rasa server's worker claim at once (and the poll when the
nudge is lost), 503 with the inbox's database cut off, and SQLite shared with a writer."""
import socket
import sqlite3
import threading
import time
import urllib.error
import urllib.request

import pytest

from channels.fake_graph import encode, signed_headers, text_message, webhook_payload
from channels.inbox import DONE, RECEIVED, Inbox
from channels.receiver import Receiver, credentials_section, parse_args

from tcp_proxy import TcpProxy
from whatsapp_support import (
    APP_SECRET,
    PHONE_NUMBER_ID,
    VERIFY_TOKEN,
    LoopThread,
    WhatsAppTestServer,
)

CITIZEN = "919800000001"


class ReceiverServer:
    """The receiver's Sanic app served on a free loopback port, in its own event loop."""

    def __init__(self, inbox_url: str, wake_urls=(), **inbox_settings) -> None:
        self.loop_thread = LoopThread()
        self.receiver = Receiver(VERIFY_TOKEN, APP_SECRET, PHONE_NUMBER_ID,
                                 Inbox(inbox_url, **inbox_settings), wake_urls)
        self.inbox = self.receiver.inbox

    def start(self) -> "ReceiverServer":
        async def _start():
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
            self._server = await self.receiver.app.create_server(
                sock=sock, return_asyncio_server=True, access_log=False)
            await self._server.startup()
            await self._server.before_start()
            await self._server.after_start()

        self.loop_thread.run(_start())
        self.url = f"http://127.0.0.1:{self.port}/webhooks/whatsapp/webhook"
        return self

    def stop(self) -> None:
        async def _stop():
            await self._server.before_stop()
            self._server.close()
            await self._server.wait_closed()

        self.loop_thread.run(_stop())
        self.loop_thread.close()

    def request(self, method, url, body=None, headers=None):
        req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=40) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def post(self, body: bytes, headers=None) -> int:
        return self.request("POST", self.url, body, headers)[0]

    def post_messages(self, *messages) -> int:
        body = encode(webhook_payload(list(messages), phone_number_id=PHONE_NUMBER_ID))
        return self.post(body, signed_headers(body, APP_SECRET))


def wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


@pytest.fixture
def receiver(tmp_path):
    server = ReceiverServer(f"sqlite:///{tmp_path / 'inbox.db'}").start()
    yield server
    server.stop()


def test_health_and_handshake(receiver):
    base = f"http://127.0.0.1:{receiver.port}/webhooks/whatsapp"
    assert receiver.request("GET", base + "/") == (200, b'{"status":"ok"}')
    ok = f"{receiver.url}?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=7301"
    assert receiver.request("GET", ok) == (200, b"7301")
    wrong = f"{receiver.url}?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=7301"
    status, body = receiver.request("GET", wrong)
    assert status == 403 and b"7301" not in body


def test_a_message_is_in_the_inbox_when_the_200_arrives(receiver):
    message = text_message(CITIZEN, "वार्ड 12 में नाली बंद है")
    assert receiver.post_messages(message) == 200
    stored = receiver.inbox.get(message["id"])  # no waiting: stored before the answer
    assert stored is not None and stored.status == RECEIVED
    assert stored.sender_id == CITIZEN and stored.text == "वार्ड 12 में नाली बंद है"
    assert stored.metadata["type"] == "text" and stored.raw == message
    assert receiver.post_messages(message) == 200  # Meta's redelivery: still one row
    assert receiver.inbox.unfinished() == 1


def test_posts_at_once_are_stored_in_fewer_transactions_each_before_its_200(receiver):
    messages = [text_message(f"9198000003{n:02d}", f"at once {n}") for n in range(40)]
    statuses = {}
    # The first transaction is held until the other 39 posts wait for theirs, so the grouping
    # does not depend on how fast this machine starts threads (under load it did not group:
    # 40 writes). The inbox's own `add` does the writing.
    store = receiver.receiver.store
    real_add, release, first = store.inbox.add, threading.Event(), []

    def held_add(batch):
        first.append(len(batch))
        release.wait(30)
        return real_add(batch)

    store.inbox.add = held_add

    def post(message):
        statuses[message["id"]] = receiver.post_messages(message)
        statuses[message["id"]] = (statuses[message["id"]],
                                   receiver.inbox.get(message["id"]) is not None)

    threads = [threading.Thread(target=post, args=(m,)) for m in messages]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (  # the first group held, every other post waiting
            first and first[0] + sum(len(batch) for batch, _ in list(store._waiting)) == 40):
        time.sleep(0.01)
    assert not statuses  # no 200 before its message is stored
    release.set()
    for thread in threads:
        thread.join(40)
    assert list(statuses.values()) == [(200, True)] * 40  # each stored when its 200 came
    assert receiver.inbox.unfinished() == 40
    assert store.writes == 2  # the first group's transaction, then all the others in one


@pytest.mark.parametrize("headers", [
    {},  # unsigned
    {"X-Hub-Signature-256": "sha256=" + "0" * 64},
    "another secret",
])
def test_a_bad_signature_is_403_and_stores_nothing(receiver, headers):
    body = encode(webhook_payload([text_message(CITIZEN, "forged")],
                                  phone_number_id=PHONE_NUMBER_ID))
    if headers == "another secret":
        headers = signed_headers(body, "not-the-secret")
    assert receiver.post(body, headers) == 403
    assert receiver.inbox.unfinished() == 0


@pytest.mark.parametrize("body, status", [
    (b"not json", 400), (b"[1, 2]", 400), (b"", 400),
    (b'{"entry": []}', 200),  # a document without messages: acknowledged, nothing stored
])
def test_signed_bodies_that_carry_no_message(receiver, body, status):
    assert receiver.post(body, signed_headers(body, APP_SECRET)) == status
    assert receiver.inbox.unfinished() == 0


def test_settings_come_from_the_channels_credentials_and_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("WHATSAPP_VERIFY_TOKEN", "from-env")
    monkeypatch.setenv("WHATSAPP_APP_SECRET", "secret-from-env")
    monkeypatch.setenv("WHATSAPP_INBOX_URL", f"sqlite:///{tmp_path / 'env.db'}")
    monkeypatch.setenv("WHATSAPP_WAKE_URLS", "http://a:5005/webhooks/whatsapp/wake, http://b:5005/x")
    credentials = tmp_path / "credentials.yml"
    credentials.write_text("channels.whatsapp.WhatsAppInput:\n  verify_token: from-file\n"
                           "  app_secret: ''\n  phone_number_id: '123'\n")
    receiver = Receiver.from_settings(credentials_section(str(credentials)))
    assert receiver.verify_token == "from-file"  # the file first, empty keys from the env
    assert receiver.app_secret == "secret-from-env"
    assert receiver.phone_number_id == "123"
    assert receiver.inbox.url == f"sqlite:///{tmp_path / 'env.db'}"
    assert receiver.nudger.urls == ["http://a:5005/webhooks/whatsapp/wake", "http://b:5005/x"]
    assert parse_args(["--port", "6150", "--wake-url", "http://r/w"]).wake_urls == ["http://r/w"]
    monkeypatch.delenv("WHATSAPP_APP_SECRET")
    with pytest.raises(SystemExit, match="app_secret"):
        Receiver.from_settings({})


# --- the receiver and a Rasa server's channel, sharing the inbox ---------------------------


@pytest.fixture
def channel(tmp_path):
    """The channel in Rasa's app (collecting agent), polling only every 60 s: a message it
    handles within seconds was claimed because of a nudge."""
    server = WhatsAppTestServer(f"sqlite:///{tmp_path / 'inbox.db'}")
    server.start()
    server.channel.worker.poll_seconds = 60.0
    server.channel.worker.wake()  # its loop waits the 60 s from now on
    yield server
    server.stop()


def wake_url(channel) -> str:
    return channel.base_url + "/webhooks/whatsapp/wake"


def test_the_nudge_makes_the_rasa_worker_claim_at_once(channel, tmp_path):
    receiver = ReceiverServer(channel.inbox_url, [wake_url(channel)]).start()
    try:
        messages = [text_message(f"9198000001{n:02d}", f"message {n}") for n in range(5)]
        started = time.monotonic()
        for message in messages:
            assert receiver.post_messages(message) == 200
        assert wait_for(lambda: len(channel.agent.messages) == 5, 10), channel.texts()
        assert time.monotonic() - started < 10  # far less than the 60 s poll
        assert sorted(channel.texts()) == [f"message {n}" for n in range(5)]
        assert wait_for(lambda: all(channel.channel.inbox.get(m["id"]).status == DONE
                                    for m in messages), 10)
        assert receiver.receiver.nudger.sent >= 1
    finally:
        receiver.stop()


def test_the_wake_route_wants_the_app_secrets_signature(channel):
    body = b'{"wake": true}'
    assert channel.request("POST", wake_url(channel), body, {})[0] == 403
    assert channel.request("POST", wake_url(channel), body,
                           signed_headers(body, "not-the-secret"))[0] == 403
    assert channel.request("POST", wake_url(channel), body,
                           signed_headers(body, APP_SECRET)) == (200, b'{"status":"ok"}')


def test_a_lost_nudge_delays_a_message_until_the_poll_never_loses_it(channel):
    channel.channel.worker.poll_seconds = 0.5
    channel.channel.worker.wake()  # the loop takes the shorter poll from now on
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{closed.getsockname()[1]}/webhooks/whatsapp/wake"
    receiver = ReceiverServer(channel.inbox_url, [nowhere]).start()
    try:
        assert receiver.post_messages(text_message(CITIZEN, "nudge lost")) == 200
        assert wait_for(lambda: channel.texts() == ["nudge lost"], 10)
        assert receiver.receiver.nudger.sent == 0
    finally:
        receiver.stop()


# --- the inbox's database ------------------------------------------------------------------


def test_without_its_database_the_receiver_answers_503_then_200_when_it_is_back(postgres_url):
    proxy = TcpProxy("127.0.0.1", 5432)
    url = postgres_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    assert url != postgres_url
    receiver = ReceiverServer(url).start()
    try:
        message = text_message(CITIZEN, "stored or refused")
        assert receiver.post_messages(text_message(CITIZEN, "before")) == 200
        proxy.cut()
        assert receiver.post_messages(message) == 503
        proxy.restore()
        assert receiver.post_messages(message) == 200  # Meta's retry
        assert receiver.inbox.get(message["id"]).status == RECEIVED
        assert receiver.inbox.unfinished() == 2
    finally:
        receiver.stop()
        proxy.close()


def test_sqlite_write_lock_held_by_another_process_delays_the_200_never_fails_it(receiver):
    """The Rasa server's worker writes the same SQLite file (claims, leases): while it holds
    the write lock the receiver waits for it (busy timeout) and then stores and answers 200."""
    receiver.inbox.create_table()
    path = receiver.inbox.engine.url.database
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # the write lock, as a claim's UPDATE takes it
    other.execute("UPDATE whatsapp_inbox SET status = status")
    release = threading.Timer(1.0, lambda: other.execute("COMMIT"))
    release.start()
    try:
        started = time.monotonic()
        statuses = []
        threads = [threading.Thread(target=lambda n=n: statuses.append(receiver.post_messages(
            text_message(f"9198000002{n:02d}", f"while locked {n}")))) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(40)
        took = time.monotonic() - started
    finally:
        release.join()
        other.close()
    assert statuses == [200] * 8
    assert took >= 0.9  # they did wait for the lock
    assert receiver.inbox.unfinished() == 8
