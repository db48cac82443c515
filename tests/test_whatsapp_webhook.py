"""The WhatsApp webhook through Rasa's app: handshake, signatures, parsing, dedupe, order."""

import asyncio
import json
import random
import threading

import pytest
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.exceptions import RasaException
from rasa.shared.nlu.training_data.message import Message

from channels.fake_graph import (
    encode,
    inbound_message,
    sign,
    signed_headers,
    text_message,
    webhook_payload,
)
from channels.whatsapp import (
    WhatsAppInput,
    no_reply_text,
    parse_webhook,
    signature_is_valid,
)
from civic.city import get_city

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
    db = tmp_path_factory.mktemp("dedupe") / "dedupe.db"
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
    [
        {},
        {"entry": None},
        {"entry": [None, 1, {"changes": "x"}]},
        {"entry": [{"changes": [{"value": {"messages": [{"type": "text"}]}}]}]},
        {
            "entry": [
                {
                    "changes": [
                        {"value": {"messages": [{"from": CITIZEN, "id": "w1", "type": "text", "text": "x"}]}}
                    ]
                }
            ]
        },
        {"entry": [{"changes": [{"value": {"messages": [{"from": [], "id": {}, "type": 5}]}}]}]},
    ],
)
def test_unexpected_shapes_are_acknowledged_and_ignored(server, document):
    assert server.post_payload(document) == 200
    server.settle()
    assert server.agent.messages == []


def test_status_receipts_are_acknowledged_and_ignored(server):
    statuses = [
        {"id": "wamid.out.1", "status": status, "timestamp": "1", "recipient_id": CITIZEN}
        for status in ("sent", "delivered", "read", "failed")
    ]
    assert server.post_payload(payload(statuses=statuses)) == 200
    server.settle()
    assert server.agent.messages == []


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
    ],
)
def test_taps_become_their_payload(server, kind, content, expected_text, expected_title):
    post_and_settle(server, inbound_message(CITIZEN, kind, content))
    [received] = server.agent.messages
    assert received.text == expected_text
    assert received.metadata["reply_title"] == expected_title


def test_location_becomes_share_location_intent_with_entities(server):
    location = {"latitude": 29.9680, "longitude": 77.5510, "name": "घंटाघर", "address": "Saharanpur"}
    post_and_settle(server, inbound_message(CITIZEN, "location", location))
    [received] = server.agent.messages
    assert received.text == '/share_location{"latitude": 29.968, "longitude": 77.551}'
    assert received.metadata["location_name"] == "घंटाघर"
    assert received.metadata["location_address"] == "Saharanpur"
    parsed = YAMLStoryReader.unpack_regex_message(Message(data={"text": received.text}))
    assert parsed.get("intent")["name"] == "share_location"
    assert {e["entity"]: e["value"] for e in parsed.get("entities")} == {
        "latitude": 29.968,
        "longitude": 77.551,
    }


def test_image_becomes_share_photo_intent_with_caption_in_metadata(server):
    image = {"id": "1479537139650973", "mime_type": "image/jpeg", "sha256": "x", "caption": "कूड़ा 🗑️"}
    post_and_settle(server, inbound_message(CITIZEN, "image", image))
    [received] = server.agent.messages
    assert received.text == '/share_photo{"photo_id": "1479537139650973"}'
    assert received.metadata["caption"] == "कूड़ा 🗑️"
    assert received.metadata["mime_type"] == "image/jpeg"
    parsed = YAMLStoryReader.unpack_regex_message(Message(data={"text": received.text}))
    assert parsed.get("intent")["name"] == "share_photo"
    assert parsed.get("entities")[0]["value"] == "1479537139650973"


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
        ("location", {"latitude": "north"}),
        ("a_type_from_the_future", {"x": 1}),
    ],
)
def test_other_types_become_unsupported_message(server, kind, content):
    post_and_settle(server, inbound_message(CITIZEN, kind, content))
    assert server.texts() == ["/unsupported_message"]
    assert server.agent.messages[0].metadata["type"] == kind


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


# --- acknowledgement, dedupe, order ----------------------------------------------------


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


def test_a_failing_turn_does_not_stop_the_next(server):
    async def fail_on_boom(message):
        if message.text == "boom":
            raise RuntimeError("turn failed")

    server.agent.reply = fail_on_boom
    post_and_settle(server, text_message(CITIZEN, "boom"))
    post_and_settle(server, text_message(CITIZEN, "after"))
    assert server.texts() == ["boom", "after"]


@pytest.mark.parametrize("text, words", [
    ("पानी नहीं आ रहा", "माफ़ कीजिए"),
    ("paani nahi aa raha", "Maaf kijiye"),
    ("no water since morning", "Sorry"),
    ("23", "माफ़ कीजिए"),  # no language in the message: Hindi, the city's
])
def test_a_turn_that_fails_gets_utter_no_reply_in_the_citizens_language(server, text, words):
    async def fail(message):
        raise RuntimeError("action server unreachable")

    server.agent.reply = fail
    post_and_settle(server, text_message(CITIZEN, text))
    [sent] = server.fake_graph.messages
    body = sent["text"]["body"]
    assert sent["to"] == CITIZEN and body.startswith(words)
    assert get_city().helplines["nagar_nigam"] in body and "{" not in body
    assert body == no_reply_text(server.agent.domain, text)


def test_a_turn_that_says_nothing_gets_utter_no_reply_and_one_that_answers_does_not(server):
    async def silent(message):
        return None

    server.agent.reply = silent
    post_and_settle(server, text_message(CITIZEN, "what is the status"))
    [sent] = server.fake_graph.messages
    assert sent["text"]["body"].startswith("Sorry, we could not answer")

    async def answer(message):
        await message.output_channel.send_response(message.sender_id, {"text": "नमस्ते"})

    server.fake_graph.reset()
    server.agent.reply = answer
    post_and_settle(server, text_message(CITIZEN, "hello"))
    assert [m["text"]["body"] for m in server.fake_graph.messages] == ["नमस्ते"]


def test_without_utter_no_reply_in_the_domain_nothing_is_invented():
    from rasa.shared.core.domain import Domain

    assert no_reply_text(Domain.empty(), "hello") is None
    assert no_reply_text(None, "hello") is None


def test_messages_are_handled_when_the_dedupe_store_is_down():
    down = WhatsAppTestServer("postgresql://postgres@127.0.0.1:1/unreachable").start()
    try:
        assert down.post_payload(payload(text_message(CITIZEN, "still handled"))) == 200
        down.settle()
        assert down.texts() == ["still handled"]
    finally:
        down.stop()


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


# --- credentials -----------------------------------------------------------------------

ENV_VARS = [
    "WHATSAPP_VERIFY_TOKEN",
    "WHATSAPP_APP_SECRET",
    "WHATSAPP_ACCESS_TOKEN",
    "WHATSAPP_PHONE_NUMBER_ID",
    "WHATSAPP_API_BASE_URL",
    "WHATSAPP_DEDUPE_URL",
]


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/db.sqlite")
    return monkeypatch


def test_from_credentials_reads_yaml_values(clean_env):
    channel = WhatsAppInput.from_credentials(
        {
            "verify_token": "v",
            "app_secret": "s",
            "access_token": "t",
            "phone_number_id": "123",
            "api_base_url": "http://127.0.0.1:9/v21.0",
        }
    )
    assert channel.name() == "whatsapp"
    assert channel.client.messages_url == "http://127.0.0.1:9/v21.0/123/messages"
    assert type(channel.dedupe_store).__name__ == "SQLDedupeStore"


def test_from_credentials_falls_back_to_env_for_empty_values(clean_env):
    clean_env.setenv("WHATSAPP_VERIFY_TOKEN", "v")
    clean_env.setenv("WHATSAPP_APP_SECRET", "s")
    clean_env.setenv("WHATSAPP_ACCESS_TOKEN", "t")
    clean_env.setenv("WHATSAPP_PHONE_NUMBER_ID", "456")
    clean_env.setenv("WHATSAPP_DEDUPE_URL", "redis://127.0.0.1:6379/0")
    channel = WhatsAppInput.from_credentials({"verify_token": "", "app_secret": None})
    assert channel.app_secret == "s"
    assert channel.client.messages_url == "https://graph.facebook.com/v21.0/456/messages"
    assert type(channel.dedupe_store).__name__ == "RedisDedupeStore"


def test_from_credentials_names_what_is_missing(clean_env):
    with pytest.raises(RasaException) as error:
        WhatsAppInput.from_credentials({"verify_token": "v", "access_token": "t"})
    assert "app_secret" in str(error.value)
    assert "WHATSAPP_PHONE_NUMBER_ID" in str(error.value)
    assert "verify_token" not in str(error.value)
    with pytest.raises(RasaException):
        WhatsAppInput.from_credentials(None)
