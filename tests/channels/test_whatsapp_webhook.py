"""The WhatsApp webhook through Rasa's app: handshake, signatures, parsing, the inbox
(dedupe, order, retries, parking), the channel's own replies and their language."""

import asyncio
import json
import random
import threading

import pytest
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.exceptions import RasaException
from rasa.shared.nlu.training_data.message import Message

from channels import whatsapp
from channels.fake_graph import (
    encode,
    inbound_message,
    sign,
    signed_headers,
    text_message,
    webhook_payload,
)
from channels.inbox import DONE, PARKED, PROCESSING, RECEIVED, InboxMessage
from channels.replies import render
from channels.whatsapp import WhatsAppInput, parse_webhook, signature_is_valid
from civic.city import get_city

from tcp_proxy import TcpProxy
from whatsapp_support import (
    APP_SECRET,
    PHONE_NUMBER_ID,
    VERIFY_TOKEN,
    WhatsAppTestServer,
    random_delay,
)

CITIZEN = "919812345678"


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    db = tmp_path_factory.mktemp("inbox") / "inbox.db"
    server = WhatsAppTestServer(f"sqlite:///{db}").start()
    yield server
    server.stop()


@pytest.fixture
def server(running):
    running.reset()
    yield running
    running.settle()


def payload(*messages, **kwargs):
    return webhook_payload(list(messages), phone_number_id=PHONE_NUMBER_ID, **kwargs)


def post_and_settle(server, *messages):
    status = server.post_payload(payload(*messages))
    server.settle()
    return status


# --- routes and the verification handshake ------------------------------------------


def test_health_route(server):
    assert server.request("GET", server.base_url + "/webhooks/whatsapp/") == (
        200,
        b'{"status":"ok"}',
    )


def test_handshake_answers_the_challenge(server):
    url = (
        f"{server.webhook_url}?hub.mode=subscribe"
        f"&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1158201444"
    )
    assert server.request("GET", url) == (200, b"1158201444")


@pytest.mark.parametrize(
    "query",
    [
        "hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1",
        f"hub.mode=unsubscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1",
        "hub.challenge=1",
    ],
)
def test_handshake_with_wrong_token_is_forbidden(server, query):
    status, body = server.request("GET", f"{server.webhook_url}?{query}")
    assert status == 403
    assert b"1" not in body


# --- signatures -----------------------------------------------------------------------


def test_unsigned_post_is_forbidden_and_not_processed(server):
    body = encode(payload(text_message(CITIZEN, "hello")))
    assert server.post_raw(body, {"Content-Type": "application/json"}) == 403
    server.settle()
    assert server.agent.messages == []


@pytest.mark.parametrize(
    "header",
    ["sha256=" + "0" * 64, "sha1=abc", "abc", "sha256=", "sha256=ZZ", "sha256=é"],
)
def test_wrong_signature_is_forbidden(server, header):
    body = encode(payload(text_message(CITIZEN, "hello")))
    assert server.post_raw(body, {"X-Hub-Signature-256": header}) == 403
    server.settle()
    assert server.agent.messages == []


def test_signature_with_another_secret_or_other_body_is_forbidden(server):
    body = encode(payload(text_message(CITIZEN, "hello")))
    assert server.post_signed(body, secret="not-the-secret") == 403
    tampered = body.replace(b"hello", b"hellp")
    assert server.post_raw(tampered, signed_headers(body, APP_SECRET)) == 403
    server.settle()
    assert server.agent.messages == []


@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_devanagari_and_emoji_bodies_are_verified_over_raw_bytes(server, ensure_ascii):
    # Meta escapes non-ASCII (\u0936); raw UTF-8 must verify too.
    text = "मेरे वार्ड २३ में स्ट्रीट लाइट खराब है 😡🙏🏽"
    body = encode(payload(text_message(CITIZEN, text)), ensure_ascii=ensure_ascii)
    assert server.post_signed(body) == 200
    server.settle()
    assert server.texts() == [text]


def test_an_empty_app_secret_validates_nothing():
    body = b'{"entry": []}'
    assert not signature_is_valid("", body, sign(body, ""))
    assert not signature_is_valid("", b"", "sha256=" + "0" * 64)
    assert signature_is_valid("s", body, sign(body, "s"))


def test_signature_check_uses_the_raw_bytes():
    body = b'{"a": "\\u0915"}'
    reserialised = json.dumps(json.loads(body), ensure_ascii=False).encode()
    assert signature_is_valid(APP_SECRET, body, sign(body, APP_SECRET))
    assert not signature_is_valid(APP_SECRET, reserialised, sign(body, APP_SECRET))
    assert signature_is_valid(APP_SECRET, body, sign(body, APP_SECRET).upper().replace("SHA256", "sha256"))


# --- malformed but signed ---------------------------------------------------------------


@pytest.mark.parametrize("body", [b"", b"not json", b"\xff\xfe\x00", b"[1, 2]", b"42", b'"x"'])
def test_signed_garbage_is_a_client_error(server, body):
    assert server.post_signed(body) == 400
    server.settle()
    assert server.agent.messages == []


@pytest.mark.parametrize(
    "document",
    [{}, {"entry": None}, {"entry": [None, 1, {"changes": "x"}]},
     {"entry": [{"changes": [{"value": {"messages": "x"}}]}]}],
)
def test_documents_without_messages_are_acknowledged_and_store_nothing(server, document):
    before = server.inbox_rows()
    assert server.post_payload(document) == 200
    server.settle()
    assert server.agent.messages == []
    assert server.inbox_rows() == before


@pytest.mark.parametrize(
    "message, reason",
    [
        ({"type": "text"}, "no sender or no message id"),
        ({"from": CITIZEN, "id": "w-text-not-object", "type": "text", "text": "x"}, "no content"),
        ({"from": [], "id": {}, "type": 5}, "no sender or no message id"),
        ({"from": CITIZEN, "id": "w" * 300, "type": "text", "text": {"body": "x"}}, "longer than"),
        ("just a string", "not a JSON object"),
        ({"from": CITIZEN, "id": "w-nul-only", "type": "text", "text": {"body": "\x00\x01"}},
         "no content"),
    ],
)
def test_an_unreadable_message_is_kept_raw_and_parked(server, message, reason):
    assert server.post_payload(payload(message)) == 200
    server.settle()
    assert server.agent.messages == []
    [kept] = [m for m in parse_webhook(payload(message), PHONE_NUMBER_ID)]
    stored = server.channel.inbox.get(kept.message_id)
    assert stored.status == PARKED and reason in stored.last_error
    assert stored.raw == message  # as it came, to look at later
    assert server.fake_graph.messages == []


def test_one_malformed_message_never_drops_the_others_of_its_batch(server):
    good = [text_message(f"9191000000{n}", f"batch {n}") for n in range(3)]
    broken = [{"from": CITIZEN, "type": "text"}, 7,
              {"id": "w-x", "from": {"a": 1}, "type": "text", "text": {"body": "x"}}]
    document = payload(good[0], broken[0], good[1], broken[1], broken[2], good[2])
    assert server.post_payload(document) == 200
    server.settle()
    assert sorted(server.texts()) == ["batch 0", "batch 1", "batch 2"]
    assert sum(m.status == PARKED for m in parse_webhook(document, PHONE_NUMBER_ID)) == 3


def test_a_message_the_parser_fails_on_is_kept_and_the_batch_goes_on(server, monkeypatch):
    # a shape nobody foresaw, standing in for any bug in reading one message
    real = whatsapp.message_text

    def fails_on_boom(message):
        if _body(message) == "boom":
            raise KeyError("unforeseen")
        return real(message)

    monkeypatch.setattr(whatsapp, "message_text", fails_on_boom)
    boom = text_message(CITIZEN, "boom")
    assert server.post_payload(payload(text_message("911", "before"), boom,
                                       text_message("912", "after"))) == 200
    server.settle()
    assert sorted(server.texts()) == ["after", "before"]
    [parked] = [m for m in parse_webhook(payload(boom), PHONE_NUMBER_ID)]
    stored = server.channel.inbox.get(parked.message_id)
    assert stored.status == PARKED and "KeyError" in stored.last_error and stored.raw == boom


def _body(message):
    return (message.get("text") or {}).get("body") if isinstance(message.get("text"), dict) else None


def test_an_unreadable_message_is_kept_under_a_key_of_its_content_alone():
    """Meta's redelivery may order the keys differently: still the same row. Words in any
    script are kept (the key is made of ASCII escapes)."""
    message = {"from": CITIZEN, "type": "text", "text": {"body": "बिना आईडी का संदेश"}}
    reordered = {"text": {"body": "बिना आईडी का संदेश"}, "type": "text", "from": CITIZEN}
    [kept] = parse_webhook(payload(message), PHONE_NUMBER_ID)
    [again] = parse_webhook(payload(reordered), PHONE_NUMBER_ID)
    other = parse_webhook(payload({**message, "text": {"body": "दूसरा"}}), PHONE_NUMBER_ID)[0]
    assert kept.message_id == again.message_id != other.message_id
    assert kept.message_id.startswith("unparseable:") and kept.message_id.isascii()
    assert (kept.status, kept.sender_id, kept.text, kept.raw) == (PARKED, "", "", message)
    assert kept.last_error == "unparseable: no sender or no message id"


def _with_contacts(message, contacts):
    document = payload(message)
    document["entry"][0]["changes"][0]["value"]["contacts"] = contacts
    return document


@pytest.mark.parametrize("contacts, name", [
    # the contact of the sender, wherever it stands
    ([{"wa_id": "911", "profile": {"name": "Other"}}, {"wa_id": CITIZEN, "profile": {"name": "Asha"}}],
     "Asha"),
    # citizens with a username come with a user id instead of a phone number
    ([{"wa_id": "911", "profile": {"name": "Other"}}, {"user_id": CITIZEN, "profile": {"name": "Ravi"}}],
     "Ravi"),
    # one contact only: it is the sender's, whatever id it gives
    ([{"profile": {"name": "Meena"}}], "Meena"),
    # several, none of them the sender's: no name rather than a stranger's
    ([{"wa_id": "911", "profile": {"name": "A"}}, {"wa_id": "912", "profile": {"name": "B"}}], None),
    ([], None),
])
def test_the_profile_name_is_the_senders_own(contacts, name):
    [message] = parse_webhook(_with_contacts(text_message(CITIZEN, "hi"), contacts), PHONE_NUMBER_ID)
    assert message.metadata["profile_name"] == name


def test_a_username_is_kept_in_the_metadata():
    with_name = text_message(CITIZEN, "hi", username="asha.k")
    [message] = parse_webhook(payload(with_name), PHONE_NUMBER_ID)
    assert message.metadata["username"] == "asha.k"
    [plain] = parse_webhook(payload(text_message(CITIZEN, "hi")), PHONE_NUMBER_ID)
    assert "username" not in plain.metadata


@pytest.mark.parametrize("kind, content, cut", [
    ("image", {"id": "123", "caption": "ड" * 5000}, True),
    ("image", {"id": "123", "caption": "short"}, None),
    ("text", {"body": "x" * 5000}, True),
    ("text", {"body": "x" * 4096}, None),
    # only a text's body and a photo's caption are the citizen's words
    ("location", {"latitude": 29.9, "longitude": 77.5, "name": "n" * 5000}, None),
    ("interactive", {"type": "button_reply", "button_reply": {"id": "/affirm", "title": "y" * 5000}}, None),
])
def test_words_cut_at_4096_characters_are_flagged(kind, content, cut):
    [message] = parse_webhook(payload(inbound_message(CITIZEN, kind, content)), PHONE_NUMBER_ID)
    assert message.metadata.get("message_cut") is cut


def test_a_channel_marks_messages_read_unless_told_not_to():
    channel = WhatsAppInput("v", "s", "t", "1", inbox=None)
    try:
        assert channel.mark_read is True and channel.worker is None and channel.agent is None
    finally:
        channel._store_threads.shutdown()
        channel.inbox.close()


@pytest.mark.parametrize("change, sender", [
    ({"from": 919812345678}, "919812345678"),  # a number where a string was expected
    ({"from": None, "from_user_id": "IN.123"}, "IN.123"),
    ({"from": None, "username": "asha.k"}, "asha.k"),
    ({"from": "9" * 255}, "9" * 255),
])
def test_the_sender_is_whoever_the_message_names(change, sender):
    [message] = parse_webhook(payload({**text_message(CITIZEN, "hi"), **change}), PHONE_NUMBER_ID)
    assert (message.sender_id, message.text, message.status) == (sender, "hi", RECEIVED)


@pytest.mark.parametrize("change, reason", [
    ({"from": "9" * 256}, "sender or message id longer than 255 characters"),
    ({"id": "w" * 256}, "sender or message id longer than 255 characters"),
    ({"from": "   "}, "no sender or no message id"),
    ({"text": {"body": "   "}}, "no content in a message of type 'text'"),
])
def test_what_cannot_be_read_says_why(change, reason):
    [message] = parse_webhook(payload({**text_message(CITIZEN, "hi"), **change}), PHONE_NUMBER_ID)
    assert (message.status, message.last_error) == (PARKED, "unparseable: " + reason)
    assert message.sender_id == (CITIZEN if "content" in reason else "")
    [odd] = parse_webhook(payload("a string"), PHONE_NUMBER_ID)
    assert odd.last_error == "unparseable: not a JSON object"


def test_a_message_id_of_255_characters_is_read():
    [message] = parse_webhook(payload(text_message(CITIZEN, "hi", message_id="w" * 255)), PHONE_NUMBER_ID)
    assert (message.message_id, message.status) == ("w" * 255, RECEIVED)


def test_changes_for_another_number_are_skipped_and_the_rest_read():
    ours = payload(text_message(CITIZEN, "ours"))
    theirs = webhook_payload([text_message(CITIZEN, "theirs")], phone_number_id="999")
    ours["entry"][0]["changes"].insert(0, theirs["entry"][0]["changes"][0])
    assert [m.text for m in parse_webhook(ours, PHONE_NUMBER_ID)] == ["ours"]


@pytest.mark.parametrize("latitude, longitude", [(90.5, 77.5), (29.9, 180.5), ("x", 77.5), (True, 77.5)])
def test_a_location_off_the_earth_is_unsupported(latitude, longitude):
    content = {"latitude": latitude, "longitude": longitude}
    [message] = parse_webhook(payload(inbound_message(CITIZEN, "location", content)), PHONE_NUMBER_ID)
    assert message.text == "/unsupported_message"


def test_the_worker_waits_for_an_agent_that_is_ready():
    class Agent:
        def __init__(self, ready):
            self.ready = ready

        def is_ready(self):
            return self.ready

    assert whatsapp._agent_ready(None) is False
    assert whatsapp._agent_ready(Agent(False)) is False
    assert whatsapp._agent_ready(Agent(True)) is True
    assert whatsapp._agent_ready(object()) is True  # an agent without the question is taken as ready


def test_status_receipts_are_acknowledged_and_ignored(server):
    statuses = [
        {"id": "wamid.out.1", "status": status, "timestamp": "1", "recipient_id": CITIZEN}
        for status in ("sent", "delivered", "read", "failed")
    ]
    before = server.inbox_rows()
    assert server.post_payload(payload(statuses=statuses)) == 200
    server.settle()
    assert server.agent.messages == []
    assert server.inbox_rows() == before


# --- what each message type becomes ---------------------------------------------------


def test_text_message_and_metadata(server):
    message = text_message(CITIZEN, "meri gali me light nahi hai", context={"id": "wamid.bot.7"})
    assert post_and_settle(server, message) == 200
    [received] = server.agent.messages
    assert received.text == "meri gali me light nahi hai"
    assert received.sender_id == CITIZEN
    assert received.input_channel == "whatsapp"
    assert received.message_id == message["id"]
    assert received.output_channel.name() == "whatsapp"
    assert received.metadata == {
        "wa_id": CITIZEN,
        "profile_name": "Test Citizen",
        "message_id": message["id"],
        "timestamp": message["timestamp"],
        "type": "text",
        "context_id": "wamid.bot.7",
        "phone_number_id": PHONE_NUMBER_ID,
    }


def test_incoming_message_is_marked_read(server):
    message = text_message(CITIZEN, "hi")
    post_and_settle(server, message)
    assert server.fake_graph.read_receipts == [message["id"]]


@pytest.mark.parametrize(
    "kind, content, expected_text, expected_title",
    [
        (
            "interactive",
            {
                "type": "button_reply",
                "button_reply": {"id": "/complaint_street_light", "title": "स्ट्रीट लाइट"},
            },
            "/complaint_street_light",
            "स्ट्रीट लाइट",
        ),
        (
            "interactive",
            {"type": "list_reply", "list_reply": {"id": "1", "title": "Street light", "description": "x"}},
            "1",
            "Street light",
        ),
        ("button", {"payload": "/affirm", "text": "हाँ"}, "/affirm", "हाँ"),
        # a tap without an id falls back to its title, read as text (never a payload)
        ("interactive", {"type": "button_reply", "button_reply": {"title": "हाँ"}}, "हाँ", "हाँ"),
        ("interactive", {"type": "list_reply", "list_reply": {"id": "", "title": "/stop"}},
         "stop", "/stop"),
        ("button", {"text": "Yes"}, "Yes", "Yes"),
    ],
)
def test_taps_become_their_payload_or_title(server, kind, content, expected_text, expected_title):
    post_and_settle(server, inbound_message(CITIZEN, kind, content))
    [received] = server.agent.messages
    assert received.text == expected_text
    assert received.metadata["reply_title"] == expected_title
    assert received.metadata["type"] == kind


@pytest.mark.parametrize("content", [
    {},  # no "type" at all
    {"button_reply": {"id": "/affirm", "title": "हाँ"}},  # a reply, its type missing
    {"type": None}, {"type": 5}, {"type": ["button_reply"]},
    {"type": "nfm_reply", "nfm_reply": {"response_json": "{}"}},  # a WhatsApp Flow's answer
    {"type": "button_reply"},  # says a reply, carries none
])
def test_an_interactive_message_of_another_shape_is_answered_as_unsupported(server, content):
    """Never a parse error (which would park it and leave the citizen without a word)."""
    message = inbound_message(CITIZEN, "interactive", content)
    post_and_settle(server, message)
    [received] = server.agent.messages
    assert received.text == "/unsupported_message"
    assert received.message_id == message["id"]


def intent_of(text):
    """What Rasa's RegexMessageHandler makes of a text: (intent, entities), or None for words."""
    parsed = YAMLStoryReader.unpack_regex_message(Message(data={"text": text}))
    intent = parsed.get("intent")
    if not intent:
        return None
    return intent["name"], {e["entity"]: e["value"] for e in parsed.get("entities") or []}


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("/affirm", "affirm"),
        (' /share_photo{"photo_id":"../../etc/passwd"}', 'share_photo{"photo_id":"../../etc/passwd"}'),
        ('/share_location{"latitude":500,"longitude":77}', 'share_location{"latitude":500,"longitude":77}'),
        ("//stop", "stop"),
        ("/", "/"),
        ("a/b is fine", "a/b is fine"),
    ],
)
def test_typed_text_is_never_an_intent_payload(server, typed, expected):
    message = text_message(CITIZEN, typed)
    post_and_settle(server, message)
    [received] = server.agent.messages
    assert received.text == expected
    assert intent_of(received.text) is None  # Rasa reads it as words
    assert server.channel.inbox.get(message["id"]).raw["text"]["body"] == typed  # kept as typed


def test_location_becomes_share_location_intent_with_entities(server):
    location = {"latitude": 29.9680, "longitude": 77.5510, "name": "घंटाघर", "address": "Saharanpur"}
    post_and_settle(server, inbound_message(CITIZEN, "location", location))
    [received] = server.agent.messages
    assert received.text == '/share_location{"latitude": 29.968, "longitude": 77.551}'
    assert received.metadata["location_name"] == "घंटाघर"
    assert received.metadata["location_address"] == "Saharanpur"
    assert intent_of(received.text) == ("share_location", {"latitude": 29.968, "longitude": 77.551})


@pytest.mark.parametrize(
    "location",
    [
        {"latitude": 500, "longitude": 77.5},
        {"latitude": 29.9, "longitude": -180.5},
        {"latitude": "NaN", "longitude": 77.5},
        {"latitude": 29.9, "longitude": "Infinity"},
        {"latitude": True, "longitude": 77.5},
        {"latitude": "north"},
        {"latitude": "1e400", "longitude": 0},
    ],
)
def test_a_location_off_the_earth_is_answered_as_unsupported(server, location):
    post_and_settle(server, inbound_message(CITIZEN, "location", location))
    assert server.texts() == ["/unsupported_message"]


def test_the_edges_of_the_earth_are_locations(server):
    post_and_settle(server, inbound_message(CITIZEN, "location", {"latitude": -90, "longitude": 180}))
    assert intent_of(server.texts()[0]) == ("share_location", {"latitude": -90.0, "longitude": 180.0})


def test_a_photo_without_caption_becomes_share_photo_with_its_id(server):
    image = {"id": "1479537139650973", "mime_type": "image/jpeg", "sha256": "x"}
    post_and_settle(server, inbound_message(CITIZEN, "image", image))
    [received] = server.agent.messages
    assert received.text == '/share_photo{"photo_id": "1479537139650973"}'
    assert received.metadata["type"] == "image"
    assert received.metadata["photo_id"] == "1479537139650973"
    assert received.metadata["mime_type"] == "image/jpeg"
    assert received.metadata["caption"] is None
    assert intent_of(received.text) == ("share_photo", {"photo_id": "1479537139650973"})


@pytest.mark.parametrize("caption, text", [
    ("कूड़ा 🗑️ नहीं उठा", "कूड़ा 🗑️ नहीं उठा"),
    ('/share_photo{"photo_id": "1"}', 'share_photo{"photo_id": "1"}'),
    ("gali me\x00 kooda", "gali me kooda"),
])
def test_a_photo_with_caption_reaches_rasa_as_the_caption(server, caption, text):
    image = {"id": "1479537139650973", "mime_type": "image/jpeg", "caption": caption}
    post_and_settle(server, inbound_message(CITIZEN, "image", image))
    [received] = server.agent.messages
    assert received.text == text and intent_of(received.text) is None
    assert received.metadata["type"] == "image"
    assert received.metadata["photo_id"] == "1479537139650973"
    assert received.metadata["caption"] == caption.replace("\x00", "")


@pytest.mark.parametrize("photo_id", ["../../etc/passwd", "a.jpg", "http://x/y", "", "1" * 129, 123, None])
def test_a_malformed_media_id_is_refused(server, photo_id):
    image = {"id": photo_id, "mime_type": "image/jpeg", "caption": "kooda"}
    post_and_settle(server, inbound_message(CITIZEN, "image", image))
    assert server.texts() == ["/unsupported_message"]
    assert server.agent.messages[0].metadata["photo_id"] is None


@pytest.mark.parametrize(
    "kind, content",
    [
        ("audio", {"id": "a1", "mime_type": "audio/ogg", "voice": True}),
        ("sticker", {"id": "s1", "mime_type": "image/webp"}),
        ("video", {"id": "v1"}),
        ("document", {"id": "d1", "filename": "bill.pdf"}),
        ("reaction", {"message_id": "wamid.bot.1", "emoji": "👍"}),
        ("unknown", {}),
        ("interactive", {"type": "nfm_reply", "nfm_reply": {}}),
        ("a_type_from_the_future", {"x": 1}),
    ],
)
def test_other_types_become_unsupported_message(server, kind, content):
    post_and_settle(server, inbound_message(CITIZEN, kind, content))
    assert server.texts() == ["/unsupported_message"]
    assert server.agent.messages[0].metadata["type"] == kind


# --- text cleaned at the edge -------------------------------------------------------------


def test_control_characters_and_lone_surrogates_are_cleaned(server):
    # "\ud800" is valid JSON and not valid UTF-8: PostgreSQL and e5 refuse it
    message = text_message(CITIZEN, "ward 23\x00 light\ud800 kharab\x07\r\nCourt Road")
    assert post_and_settle(server, message) == 200
    assert server.texts() == ["ward 23 light\ufffd kharab\nCourt Road"]
    assert server.channel.inbox.get(message["id"]).raw == message  # kept as it came


def test_a_message_over_4096_characters_is_cut_and_the_citizen_told_first(server):
    async def answer(message):
        await message.output_channel.send_response(message.sender_id, {"text": "ok"})

    server.agent.reply = answer
    long_text = "पानी नहीं आ रहा " * 400  # 6,400 characters
    post_and_settle(server, text_message(CITIZEN, long_text))
    [received] = server.agent.messages
    assert 4090 <= len(received.text) <= 4096 and long_text.startswith(received.text)
    assert received.metadata["message_cut"] is True
    notice, reply = [m["text"]["body"] for m in server.fake_graph.messages]
    assert notice == render(server.agent.domain, "utter_message_cut", "hi", "whatsapp")
    assert "4096" in notice and reply == "ok"


def test_a_message_of_4096_characters_is_whole(server):
    text = "x" * 4096
    post_and_settle(server, text_message(CITIZEN, text))
    assert server.texts() == [text]
    assert "message_cut" not in server.agent.messages[0].metadata


def test_username_only_user_is_keyed_on_user_id_and_no_sender_is_skipped(server):
    with_user_id = text_message(CITIZEN, "x")
    del with_user_id["from"]
    with_user_id["from_user_id"] = "IN.1234567890"
    nobody = text_message(CITIZEN, "y")
    del nobody["from"]
    ordinary = text_message(CITIZEN, "z")
    assert post_and_settle(server, with_user_id, nobody, ordinary) == 200
    assert sorted((m.sender_id, m.text) for m in server.agent.messages) == [
        ("919812345678", "z"),
        ("IN.1234567890", "x"),
    ]


def test_message_for_another_business_number_is_skipped(server):
    document = webhook_payload([text_message(CITIZEN, "x")], phone_number_id="999")
    assert server.post_payload(document) == 200
    server.settle()
    assert server.agent.messages == []


def test_every_message_of_a_batch_is_handled():
    first = payload(text_message("911", "a"), text_message("912", "b"))
    second = payload(text_message("911", "c"))
    document = {
        "object": "whatsapp_business_account",
        "entry": [
            {"id": "1", "changes": first["entry"][0]["changes"] + second["entry"][0]["changes"]},
            {"id": "2", "changes": payload(text_message("913", "d"))["entry"][0]["changes"]},
        ],
    }
    texts = [m.text for m in parse_webhook(document, PHONE_NUMBER_ID)]
    assert texts == ["a", "b", "c", "d"]


def test_batch_through_the_webhook(server):
    document = payload(*(text_message(f"9190000000{i}", f"m{i}") for i in range(5)))
    document["entry"].append(payload(text_message(CITIZEN, "last"))["entry"][0])
    assert server.post_payload(document) == 200
    server.settle()
    assert sorted(server.texts()) == ["last", "m0", "m1", "m2", "m3", "m4"]


# --- acknowledgement, the inbox, order ----------------------------------------------------


def test_acknowledged_before_the_turn_runs(server):
    release = asyncio.Event()

    async def turn_waiting_for_release(message):
        await release.wait()
        await message.output_channel.send_text_message(message.sender_id, "done")

    server.agent.reply = turn_waiting_for_release
    # were the webhook waiting for the turn, this post would never be answered
    assert server.post_payload(payload(text_message(CITIZEN, "hi"))) == 200
    assert server.fake_graph.messages == []
    server.run(_set(release))
    server.settle()
    assert server.fake_graph.messages[0]["text"] == {"body": "done"}


async def _set(event):
    event.set()


def test_duplicate_delivery_is_handled_once(server):
    message = text_message(CITIZEN, "once")
    for _ in range(3):
        assert server.post_payload(payload(message)) == 200
        server.settle()
    assert server.texts() == ["once"]
    assert server.channel.inbox.get(message["id"]).status == DONE


def test_simultaneous_duplicates_make_one_turn(server):
    body = encode(payload(text_message(CITIZEN, "simultaneous")))
    server.agent.delay = random_delay()
    statuses = []
    threads = [threading.Thread(target=lambda: statuses.append(server.post_signed(body))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    server.settle()
    assert statuses == [200] * 8
    assert server.texts() == ["simultaneous"]


def test_a_citizens_messages_are_handled_in_the_order_sent(server):
    server.agent.delay = random_delay(0.0, 0.01)
    senders = ["911111", "922222", "933333"]
    sent = {sender: [f"{sender}-{n}" for n in range(6)] for sender in senders}
    for n in range(6):
        for sender in random.sample(senders, len(senders)):
            assert server.post_payload(payload(text_message(sender, sent[sender][n]))) == 200
    server.settle()
    for sender in senders:
        got = [m.text for m in server.agent.messages if m.sender_id == sender]
        assert got == sent[sender]


def store_as_left_by_a_dead_replica(server, message, attempts=1, lease_left=1.0):
    """The inbox row a replica leaves when it dies mid-turn: processing, its lease running."""
    from datetime import datetime, timedelta

    import sqlalchemy as sa

    from channels.inbox import inbox_messages

    server.channel.inbox.add([InboxMessage(message["id"], message["from"], _body(message),
                                           {"type": "text"}, message)])
    expires = datetime.utcnow() + timedelta(seconds=lease_left)
    with server.channel.inbox.engine.begin() as conn:
        conn.execute(sa.update(inbox_messages)
                     .where(inbox_messages.c.message_id == message["id"])
                     .values(status=PROCESSING, lease_owner="dead-replica:1:x", attempts=attempts,
                             lease_expires_at=expires))


def test_a_redelivered_message_that_is_not_done_is_handled_once(server):
    message = text_message(CITIZEN, "cut short")
    store_as_left_by_a_dead_replica(server, message, lease_left=1.0)
    assert server.post_payload(payload(message)) == 200  # Meta delivers it again
    server.settle()  # the dead replica's lease expires, this replica takes it over
    assert server.texts() == ["cut short"]
    stored = server.channel.inbox.get(message["id"])
    assert (stored.status, stored.attempts) == (DONE, 2)
    assert server.post_payload(payload(message)) == 200  # done now: dropped
    server.settle()
    assert server.texts() == ["cut short"]


def test_the_next_message_of_a_citizen_waits_for_the_unfinished_one(server):
    first, second = text_message(CITIZEN, "first"), text_message(CITIZEN, "second")
    store_as_left_by_a_dead_replica(server, first, lease_left=1.0)
    assert server.post_payload(payload(second)) == 200
    server.agent.reply = None
    server.run(server.channel.worker.pump())
    assert server.channel.inbox.get(second["id"]).status == RECEIVED  # not before "first"
    server.settle()
    assert server.texts() == ["first", "second"]


def test_a_failing_turn_is_retried_then_parked_with_one_apology_and_the_next_goes_on(server):
    async def fail_on_boom(message):
        if message.text == "the pump is broken":
            raise RuntimeError("turn failed")
        await message.output_channel.send_response(message.sender_id, {"text": "ok"})

    server.agent.reply = fail_on_boom
    boom, after = text_message(CITIZEN, "the pump is broken"), text_message(CITIZEN, "after")
    assert server.post_payload(payload(boom, after)) == 200
    server.settle()
    assert server.texts() == ["the pump is broken", "the pump is broken", "the pump is broken", "after"]  # 3 attempts, in order
    stored = server.channel.inbox.get(boom["id"])
    assert (stored.status, stored.attempts) == (PARKED, 3)
    assert stored.last_error == "RuntimeError: turn failed"
    bodies = [m["text"]["body"] for m in server.fake_graph.messages]
    assert bodies == [render(server.agent.domain, "utter_no_reply", "en", "whatsapp"), "ok"]
    assert server.post_payload(payload(boom)) == 200  # redelivered: parked is finished
    server.settle()
    assert server.texts().count("the pump is broken") == 3


def test_a_message_whose_process_died_every_time_is_parked_with_one_apology(server):
    message = text_message(CITIZEN, "the light is not working and this kills the process")
    store_as_left_by_a_dead_replica(server, message, attempts=3, lease_left=0.2)
    server.settle()
    assert server.agent.messages == []  # not tried a fourth time
    stored = server.channel.inbox.get(message["id"])
    assert stored.status == PARKED and "no outcome after 3 attempts" in stored.last_error
    [apology] = server.fake_graph.messages
    assert apology["text"]["body"] == render(server.agent.domain, "utter_no_reply", "en", "whatsapp")


def save_conversation(server, language, pinned=False):
    events = [SlotSet("language", language), SlotSet("language_pinned", pinned)]
    tracker = DialogueStateTracker.from_events(CITIZEN, events, slots=server.agent.domain.slots)
    server.run(server.agent.tracker_store.save(tracker))


async def _fail(message):
    raise RuntimeError("action server unreachable")


@pytest.mark.parametrize("text, language", [
    ("पानी नहीं आ रहा", "hi"),
    ("paani nahi aa raha", "hinglish"),
    ("no water since morning", "en"),
    ("23", "hi"),  # no language in the message, no conversation: Hindi, the city's
])
def test_a_turn_that_fails_gets_utter_no_reply_in_the_citizens_language(server, text, language):
    server.agent.reply = _fail
    post_and_settle(server, text_message(CITIZEN, text))
    [sent] = server.fake_graph.messages
    body = sent["text"]["body"]
    assert sent["to"] == CITIZEN
    assert body == render(server.agent.domain, "utter_no_reply", language, "whatsapp")
    assert get_city().helpline in body and "{" not in body


@pytest.mark.parametrize("message, conversation, language", [
    # taps, pins, photos without caption, numbers: the conversation's language
    (inbound_message(CITIZEN, "interactive",
                     {"type": "button_reply", "button_reply": {"id": "/affirm", "title": "हाँ"}}),
     ("en", False), "en"),
    (inbound_message(CITIZEN, "location", {"latitude": 29.9, "longitude": 77.5}), ("hinglish", False),
     "hinglish"),
    (inbound_message(CITIZEN, "image", {"id": "123"}), ("en", False), "en"),
    (text_message(CITIZEN, "23"), ("en", False), "en"),
    (inbound_message(CITIZEN, "interactive",
                     {"type": "button_reply", "button_reply": {"id": "/affirm", "title": "Yes"}}),
     None, "hi"),
    # typed words decide, unless the citizen pinned a language
    (text_message(CITIZEN, "no water since morning"), ("hi", False), "en"),
    (text_message(CITIZEN, "पानी नहीं आ रहा"), ("en", True), "en"),
    (inbound_message(CITIZEN, "image", {"id": "123", "caption": "kachra pada hai"}), ("en", False),
     "hinglish"),
])
def test_the_apology_keeps_the_conversations_language_unless_words_say_otherwise(
        server, message, conversation, language):
    if conversation:
        save_conversation(server, *conversation)
    server.agent.reply = _fail
    post_and_settle(server, message)
    [sent] = server.fake_graph.messages
    assert sent["text"]["body"] == render(server.agent.domain, "utter_no_reply", language, "whatsapp")


def test_a_turn_that_says_nothing_gets_utter_no_reply_and_one_that_answers_does_not(server):
    async def silent(message):
        return None

    server.agent.reply = silent
    post_and_settle(server, text_message(CITIZEN, "what is the status"))
    [sent] = server.fake_graph.messages
    assert sent["text"]["body"].startswith("Sorry, we could not answer")
    assert server.texts() == ["what is the status"]  # answered, not retried

    async def answer(message):
        await message.output_channel.send_response(message.sender_id, {"text": "नमस्ते"})

    server.fake_graph.reset()
    server.agent.reply = answer
    post_and_settle(server, text_message(CITIZEN, "hello"))
    assert [m["text"]["body"] for m in server.fake_graph.messages] == ["नमस्ते"]


def test_without_the_response_in_the_domain_nothing_is_invented():
    from rasa.shared.core.domain import Domain

    assert render(Domain.empty(), "utter_no_reply", "hi", "whatsapp") is None
    assert render(None, "utter_message_cut", "hi", "whatsapp") is None


def test_bot_reply_reaches_the_graph_api(server):
    async def answer(message):
        await message.output_channel.send_response(
            message.sender_id,
            {
                "text": "किस बारे में शिकायत है?",
                "buttons": [
                    {"title": "स्ट्रीट लाइट", "payload": "/complaint_street_light"},
                    {"title": "पानी", "payload": "/complaint_drinking_water"},
                ],
            },
        )

    server.agent.reply = answer
    post_and_settle(server, text_message(CITIZEN, "शिकायत"))
    [sent] = server.fake_graph.messages
    assert sent["to"] == CITIZEN
    assert sent["interactive"]["type"] == "button"
    request = server.fake_graph.requests[-1]
    assert request["path"] == f"/v21.0/{PHONE_NUMBER_ID}/messages"
    assert request["authorization"] == "Bearer test-access-token"


# --- the inbox's database down ---------------------------------------------------------------


def test_without_its_database_the_webhook_answers_503_and_meta_delivers_again(postgres_url):
    """PostgreSQL behind a proxy that is cut: never a 200 for a message not stored."""
    proxy = TcpProxy("127.0.0.1", 5432)
    url = postgres_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    assert url != postgres_url
    server = WhatsAppTestServer(url, lease_seconds=5).start()
    try:
        message = text_message(CITIZEN, "stored or refused")
        assert server.post_payload(payload(text_message(CITIZEN, "before"))) == 200
        server.settle()
        proxy.cut()
        assert server.post_payload(payload(message)) == 503
        assert server.post_payload(payload(message)) == 503
        proxy.restore()
        assert server.post_payload(payload(message)) == 200  # Meta's retry
        server.settle()
        assert server.texts() == ["before", "stored or refused"]
        assert server.channel.inbox.get(message["id"]).status == DONE
    finally:
        server.stop()
        proxy.close()


# --- credentials -----------------------------------------------------------------------

ENV_VARS = [
    "WHATSAPP_VERIFY_TOKEN",
    "WHATSAPP_APP_SECRET",
    "WHATSAPP_ACCESS_TOKEN",
    "WHATSAPP_PHONE_NUMBER_ID",
    "WHATSAPP_API_BASE_URL",
    "WHATSAPP_INBOX_URL",
    "WHATSAPP_DEDUPE_URL",
    "WHATSAPP_INBOX_MAX_ATTEMPTS",
    "WHATSAPP_INBOX_LEASE_SECONDS",
    "WHATSAPP_INBOX_POLL_SECONDS",
    "WHATSAPP_INBOX_CONCURRENT_TURNS",
]


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/db.sqlite")
    return monkeypatch


def test_from_credentials_reads_yaml_values(clean_env, tmp_path):
    channel = WhatsAppInput.from_credentials(
        {
            "verify_token": "v",
            "app_secret": "s",
            "access_token": "t",
            "phone_number_id": "123",
            "api_base_url": "http://127.0.0.1:9/v21.0",
            "inbox_url": f"sqlite:///{tmp_path}/inbox.db",
            "max_attempts": 5,
            "lease_seconds": "12",
            "poll_seconds": "",
            "concurrent_turns": "3",
        }
    )
    assert channel.name() == "whatsapp"
    assert channel.client.messages_url == "http://127.0.0.1:9/v21.0/123/messages"
    assert channel.inbox.url == f"sqlite:///{tmp_path}/inbox.db"
    assert (channel.inbox.max_attempts, channel.inbox.lease.total_seconds()) == (5, 12)
    assert channel.poll_seconds == 5.0 and channel.concurrent_turns == 3
    assert (channel.verify_token, channel.app_secret, channel.phone_number_id) == ("v", "s", "123")
    assert (channel.client.access_token, channel.client.phone_number_id) == ("t", "123")
    assert channel.mark_read is True and channel.staff.sender.client is channel.client
    quiet = WhatsAppInput.from_credentials({"verify_token": "v", "app_secret": "s",
                                            "access_token": "t", "phone_number_id": "1",
                                            "mark_read": False, "poll_seconds": "2.5"})
    assert quiet.mark_read is False and quiet.poll_seconds == 2.5


def test_from_credentials_falls_back_to_env_for_empty_values(clean_env, tmp_path):
    clean_env.setenv("WHATSAPP_VERIFY_TOKEN", "v")
    clean_env.setenv("WHATSAPP_APP_SECRET", "s")
    clean_env.setenv("WHATSAPP_ACCESS_TOKEN", "t")
    clean_env.setenv("WHATSAPP_PHONE_NUMBER_ID", "456")
    clean_env.setenv("WHATSAPP_INBOX_MAX_ATTEMPTS", "2")
    channel = WhatsAppInput.from_credentials({"verify_token": "", "app_secret": None})
    assert channel.app_secret == "s"
    assert channel.client.messages_url == "https://graph.facebook.com/v21.0/456/messages"
    assert channel.inbox.url == f"sqlite:///{tmp_path}/db.sqlite"  # DATABASE_URL
    assert channel.inbox.max_attempts == 2
    clean_env.setenv("WHATSAPP_DEDUPE_URL", f"sqlite:///{tmp_path}/old-name.db")  # former name
    assert WhatsAppInput.from_credentials({}).inbox.url == f"sqlite:///{tmp_path}/old-name.db"
    clean_env.setenv("WHATSAPP_INBOX_URL", f"sqlite:///{tmp_path}/inbox.db")
    assert WhatsAppInput.from_credentials({}).inbox.url == f"sqlite:///{tmp_path}/inbox.db"


def test_a_redis_inbox_is_refused_clearly(clean_env):
    with pytest.raises(RasaException, match="needs a SQL database"):
        WhatsAppInput.from_credentials({"verify_token": "v", "app_secret": "s", "access_token": "t",
                                        "phone_number_id": "1", "inbox_url": "redis://r:6379/2"})


def test_from_credentials_names_what_is_missing(clean_env):
    with pytest.raises(RasaException) as error:
        WhatsAppInput.from_credentials({"verify_token": "v", "access_token": "t"})
    assert str(error.value) == (
        "The whatsapp channel needs 'app_secret' (or env WHATSAPP_APP_SECRET), 'phone_number_id' "
        "(or env WHATSAPP_PHONE_NUMBER_ID) under 'channels.whatsapp.WhatsAppInput' in credentials.yml.")
    with pytest.raises(RasaException):
        WhatsAppInput.from_credentials(None)
