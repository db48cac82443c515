"""Property-based fuzzing of the webhook, with the outcomes checked: signed junk is a 400 or
a 200, never a 5xx; every message found in a document is stored once (readable ones become
exactly one Rasa turn, unreadable ones are kept parked); what reaches Rasa is clean text
within 4,096 characters and typed text is never an intent payload; unsigned is 403 and
nothing happens."""

import json
import unicodedata

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from channels.fake_graph import encode, inbound_message, webhook_payload
from channels.inbox import DONE, PARKED
from channels.whatsapp import parse_webhook

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
    db = tmp_path_factory.mktemp("fuzz") / "inbox.db"
    running = WhatsAppTestServer(f"sqlite:///{db}").start()
    yield running
    running.stop()


def is_clean(text):
    return (len(text) <= 4096 and unicodedata.is_normalized("NFC", text)
            and not any(unicodedata.category(c) in ("Cc", "Cs") and c not in "\n\t" for c in text))


def post_and_check(server, document, ensure_ascii=True):
    """Posts a signed document; checks what the inbox and Rasa got against what it holds."""
    server.settle()
    server.agent.messages.clear()
    rows_before = server.inbox_rows()
    status = server.post_payload(document, ensure_ascii=ensure_ascii)
    server.settle()
    if not isinstance(document, dict):
        assert status == 400 and server.inbox_rows() == rows_before
        assert server.agent.messages == []
        return []
    assert status == 200
    found = parse_webhook(json.loads(json.dumps(document)), PHONE_NUMBER_ID)
    stored = {m.message_id: server.channel.inbox.get(m.message_id) for m in found}
    assert all(row is not None for row in stored.values())  # every message kept
    readable = {i for i, row in stored.items() if row.text}
    assert all(stored[i].status == DONE for i in readable)
    assert all(row.status == PARKED for i, row in stored.items() if i not in readable)
    # a message already in the inbox is not a second turn; each new one is exactly one
    turns = [m.message_id for m in server.agent.messages]
    assert len(turns) == len(set(turns)) and set(turns) <= readable
    for message in server.agent.messages:
        assert is_clean(message.text)
        if message.metadata["type"] == "text":  # typed: never a payload
            assert not message.text.startswith("/") or set(message.text) <= {"/"}
    return server.agent.messages


@FUZZ
@given(body=st.binary(max_size=300))
def test_signed_random_bytes_are_a_400_or_a_200_and_reach_no_one(server, body):
    rows = server.inbox_rows()
    status = server.post_signed(body)
    server.settle()
    try:
        is_object = isinstance(json.loads(body), dict)
    except (ValueError, RecursionError):
        is_object = False
    assert status == (200 if is_object else 400)
    assert server.inbox_rows() == rows and server.agent.messages == []


@FUZZ
@given(document=json_values)
def test_signed_random_json_is_checked_like_any_document(server, document):
    post_and_check(server, document)


@FUZZ
@given(document=webhook_like)
def test_signed_webhook_like_json_stores_and_hands_over_what_it_holds(server, document):
    post_and_check(server, {"object": "whatsapp_business_account", "entry": document})
    post_and_check(server, document)


@FUZZ
@given(
    kind=message_types, content=webhook_like, sender=st.one_of(st.none(), st.text(max_size=15), st.integers())
)
def test_a_message_of_any_shape_is_stored_once_and_handled_or_parked(server, kind, content, sender):
    message = inbound_message("919800000000", kind, content)
    message["from"] = sender
    document = webhook_payload([message], phone_number_id=PHONE_NUMBER_ID)
    [found] = parse_webhook(json.loads(json.dumps(document)), PHONE_NUMBER_ID)
    handled = post_and_check(server, document, ensure_ascii=False)
    assert [m.message_id for m in handled] == ([found.message_id] if found.text else [])
    post_and_check(server, document)  # Meta delivers it again: nothing more happens
    assert server.agent.messages == []


@FUZZ
@given(body=st.text(max_size=200), caption=st.text(max_size=50))
def test_typed_text_and_captions_of_any_characters_reach_rasa_clean_and_never_as_payloads(
        server, body, caption):
    text = inbound_message("919800000002", "text", {"body": body})
    image = inbound_message("919800000002", "image", {"id": "123", "caption": caption})
    for message in post_and_check(server, webhook_payload([text, image], PHONE_NUMBER_ID), False):
        assert not message.text.startswith("/") or message.text.startswith("/share_photo{") \
            or set(message.text) <= {"/"}


@FUZZ
@given(body=st.binary(max_size=200) | json_values.map(encode), header=st.one_of(st.none(), header_values))
def test_unsigned_or_badly_signed_posts_are_forbidden_and_not_processed(server, body, header):
    server.settle()  # turns of earlier tests finish first
    server.agent.messages.clear()
    headers = {} if header is None else {"X-Hub-Signature-256": header}
    assert server.post_raw(body, headers) == 403
    server.settle()
    assert server.agent.messages == []


_batch_ids = iter(range(10**9))


@FUZZ
@example(kind="interactive", content={}, position=1, extra={}, bare=False)  # no "type" in it
@example(kind="text", content=None, position=3, extra={}, bare=True)  # null for a message
@example(kind="location", content={"latitude": "x"}, position=0, extra={"from": 9}, bare=False)
@given(kind=message_types, content=webhook_like, position=st.integers(0, 3),
       extra=st.dictionaries(keys, webhook_like, max_size=3), bare=st.booleans())
def test_every_valid_message_of_a_batch_with_a_malformed_one_reaches_rasa(
        server, kind, content, position, extra, bare):
    """Three well-formed texts from three citizens and one message of any shape among them:
    the three texts reach Rasa, word for word, whatever the fourth is."""
    server.settle()
    server.agent.messages.clear()
    batch = next(_batch_ids)
    texts = [f"valid {batch} {n}" for n in range(3)]
    valid = [inbound_message(f"91970000{n}", "text", {"body": body}, message_id=f"wamid.v{batch}.{n}")
             for n, body in enumerate(texts)]
    odd = {**extra, **inbound_message("919700009", kind, content, message_id=f"wamid.odd{batch}")}
    if bare:  # not even a message: any JSON value where one should be
        odd = content
    messages = valid[:position] + [odd] + valid[position:]
    assert server.post_payload(webhook_payload(messages, phone_number_id=PHONE_NUMBER_ID),
                               ensure_ascii=False) == 200
    server.settle()
    reached = [m.text for m in server.agent.messages if m.sender_id != "919700009"]
    assert sorted(reached) == texts


def test_fuzzed_messages_reached_rasa_without_errors(server):
    """After the fuzzing, the channel still works end to end."""
    server.settle()
    server.reset()
    message = inbound_message("919800000001", "text", {"body": "still alive"})
    assert server.post_payload(webhook_payload([message], phone_number_id=PHONE_NUMBER_ID)) == 200
    server.settle()
    assert server.texts() == ["still alive"]
