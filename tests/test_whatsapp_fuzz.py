"""Property-based fuzzing of the webhook: signed junk never yields a 5xx; unsigned is 403."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels.fake_graph import encode, inbound_message, webhook_payload

from whatsapp_support import PHONE_NUMBER_ID, WhatsAppTestServer

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=25,
)
keys = st.sampled_from(
    [
        "object",
        "entry",
        "changes",
        "value",
        "messages",
        "statuses",
        "contacts",
        "metadata",
        "from",
        "id",
        "type",
        "text",
        "body",
        "interactive",
        "button_reply",
        "list_reply",
        "location",
        "latitude",
        "longitude",
        "image",
        "caption",
        "context",
        "profile",
        "wa_id",
    ]
)
# documents whose keys look like Meta's, so the fuzzing reaches deep into the parser
webhook_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(keys, children, max_size=5),
    max_leaves=40,
)
# what an HTTP header can carry: printable Latin-1, including look-alikes of "sha256=..."
header_values = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, blacklist_characters="\x7f"), max_size=80
) | st.text("sha256=0123456789abcdef", max_size=72)
message_types = st.sampled_from(
    [
        "text",
        "image",
        "location",
        "interactive",
        "button",
        "audio",
        "sticker",
        "video",
        "document",
        "reaction",
        "unknown",
        "contacts",
        "order",
        "system",
    ]
)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    db = tmp_path_factory.mktemp("fuzz") / "dedupe.db"
    running = WhatsAppTestServer(f"sqlite:///{db}").start()
    yield running
    running.stop()


@FUZZ
@given(body=st.binary(max_size=300))
def test_signed_random_bytes_never_give_a_server_error(server, body):
    assert server.post_signed(body) in (200, 400)


@FUZZ
@given(document=json_values)
def test_signed_random_json_never_gives_a_server_error(server, document):
    assert server.post_payload(document) in (200, 400)


@FUZZ
@given(document=webhook_like)
def test_signed_webhook_like_json_never_gives_a_server_error(server, document):
    assert server.post_payload({"object": "whatsapp_business_account", "entry": document}) in (200, 400)
    assert server.post_payload(document) in (200, 400)


@FUZZ
@given(
    kind=message_types, content=webhook_like, sender=st.one_of(st.none(), st.text(max_size=15), st.integers())
)
def test_messages_of_any_shape_are_acknowledged(server, kind, content, sender):
    message = inbound_message("919800000000", kind, content)
    message["from"] = sender
    status = server.post_payload(
        webhook_payload([message], phone_number_id=PHONE_NUMBER_ID), ensure_ascii=False
    )
    assert status == 200


@FUZZ
@given(body=st.binary(max_size=200) | json_values.map(encode), header=st.one_of(st.none(), header_values))
def test_unsigned_or_badly_signed_posts_are_forbidden_and_not_processed(server, body, header):
    server.settle()  # turns of earlier tests finish first
    server.agent.messages.clear()
    headers = {} if header is None else {"X-Hub-Signature-256": header}
    assert server.post_raw(body, headers) == 403
    server.settle()
    assert server.agent.messages == []


def test_fuzzed_messages_reached_rasa_without_errors(server):
    """After the fuzzing, the channel still works end to end."""
    server.settle()
    server.reset()
    message = inbound_message("919800000001", "text", {"body": "still alive"})
    assert server.post_payload(webhook_payload([message], phone_number_id=PHONE_NUMBER_ID)) == 200
    server.settle()
    assert server.texts() == ["still alive"]
