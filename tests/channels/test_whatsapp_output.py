"""Outbound WhatsApp messages, posted to a fake Graph API on loopback."""

import logging

import pytest

from channels.fake_graph import FakeGraphAPI
from channels.text_limits import graphemes, measure
from channels.whatsapp_output import WhatsAppAPIError, WhatsAppClient, WhatsAppOutput

from whatsapp_support import ACCESS_TOKEN, PHONE_NUMBER_ID, LoopThread

CITIZEN = "919812345678"


class Outbound:
    """A fake Graph API and an output channel pointed at it, on a background loop."""

    def __init__(self) -> None:
        self.loop = LoopThread()
        self.graph = FakeGraphAPI()
        self.loop.run(self.graph.start())
        self.client = WhatsAppClient(
            ACCESS_TOKEN,
            PHONE_NUMBER_ID,
            self.graph.base_url,
            max_attempts=4,
            backoff_seconds=0.01,
            max_backoff_seconds=0.05,
        )
        self.output = WhatsAppOutput(self.client)

    def respond(self, message):
        self.loop.run(self.output.send_response(CITIZEN, dict(message)))
        return self.graph.messages

    def close(self) -> None:
        self.loop.run(self.client.close())
        self.loop.run(self.graph.stop())
        self.loop.close()


@pytest.fixture(scope="module")
def outbound_module():
    outbound = Outbound()
    yield outbound
    outbound.close()


@pytest.fixture
def outbound(outbound_module):
    outbound_module.graph.reset()
    return outbound_module


def buttons(count, title="Choice"):
    return [{"title": f"{title} {n}", "payload": f"/choice_{n}"} for n in range(1, count + 1)]


def test_text_message(outbound):
    [sent] = outbound.respond({"text": "आपकी शिकायत दर्ज हो गई: SRN-000145"})
    assert sent == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": CITIZEN,
        "type": "text",
        "text": {"body": "आपकी शिकायत दर्ज हो गई: SRN-000145"},
    }
    request = outbound.graph.requests[0]
    assert request["authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert request["path"] == f"/v21.0/{PHONE_NUMBER_ID}/messages"


def test_long_text_is_split_on_sentence_boundaries(outbound):
    sentence = "वार्ड २३ में सफाई का काम कल सुबह होगा। "
    text = sentence * 300  # about 11,700 characters
    sent = outbound.respond({"text": text})
    bodies = [m["text"]["body"] for m in sent]
    assert len(bodies) == 3
    assert all(measure(body) <= 4096 for body in bodies)
    assert all(body.endswith("होगा।") for body in bodies)
    assert " ".join(bodies) == text.strip()


@pytest.mark.parametrize("count", [1, 2, 3])
def test_one_to_three_buttons_are_reply_buttons(outbound, count):
    [sent] = outbound.respond({"text": "Choose", "buttons": buttons(count)})
    interactive = sent["interactive"]
    assert interactive["type"] == "button"
    assert interactive["body"] == {"text": "Choose"}
    assert interactive["action"]["buttons"] == [
        {"type": "reply", "reply": {"id": f"/choice_{n}", "title": f"Choice {n}"}}
        for n in range(1, count + 1)
    ]


def test_button_titles_are_cut_without_breaking_devanagari(outbound):
    title = "स्ट्रीट लाइट की शिकायत दर्ज करें"  # 32 code points
    [sent] = outbound.respond({"text": "?", "buttons": [{"title": title, "payload": "/x"}]})
    cut = sent["interactive"]["action"]["buttons"][0]["reply"]["title"]
    assert measure(cut) <= 20
    assert cut.endswith("…")
    assert title.startswith(cut[:-1])
    # the cut falls between whole syllables: no dangling virama or matra
    assert graphemes(title)[: len(graphemes(cut[:-1]))] == graphemes(cut[:-1])


@pytest.mark.parametrize("count", [4, 7, 10])
def test_four_to_ten_buttons_are_a_list(outbound, count):
    message = {
        "text": "शिकायत किस बारे में है?",
        "buttons": buttons(count, "बहुत लम्बा विकल्प शीर्षक यहाँ"),
        "metadata": {"list_button": "विकल्प चुनें"},
    }
    [sent] = outbound.respond(message)
    interactive = sent["interactive"]
    assert interactive["type"] == "list"
    assert interactive["action"]["button"] == "विकल्प चुनें"
    [section] = interactive["action"]["sections"]
    assert [row["id"] for row in section["rows"]] == [f"/choice_{n}" for n in range(1, count + 1)]
    for n, row in enumerate(section["rows"], 1):
        assert measure(row["title"]) <= 24
        assert row["description"] == f"बहुत लम्बा विकल्प शीर्षक यहाँ {n}"


def test_list_without_a_label_uses_a_neutral_symbol(outbound):
    [sent] = outbound.respond({"text": "?", "buttons": buttons(5)})
    assert sent["interactive"]["action"]["button"] == "☰"
    assert "description" not in sent["interactive"]["action"]["sections"][0]["rows"][0]


def test_more_than_ten_buttons_become_a_numbered_text(outbound):
    [sent] = outbound.respond({"text": "Ward?", "buttons": buttons(12, "Ward")})
    body = sent["text"]["body"]
    assert body.startswith("Ward?\n\n1. Ward 1\n2. Ward 2\n")
    assert body.endswith("12. Ward 12")


def test_buttons_with_long_ids_fall_back_to_numbered_text(outbound):
    [sent] = outbound.respond({"text": "?", "buttons": [{"title": "a", "payload": "/" + "x" * 300}]})
    assert sent["type"] == "text"


def test_long_body_with_buttons_sends_leading_text_first(outbound):
    text = ("पहला वाक्य। " * 200).strip()
    sent = outbound.respond({"text": text, "buttons": buttons(2)})
    assert [m["type"] for m in sent] == ["text", "text", "interactive"]
    assert measure(sent[-1]["interactive"]["body"]["text"]) <= 1024


def test_location_request_carries_the_response_text(outbound):
    [sent] = outbound.respond({"text": "कृपया अपनी लोकेशन भेजें", "custom": {"type": "location_request"}})
    assert sent["interactive"] == {
        "type": "location_request_message",
        "body": {"text": "कृपया अपनी लोकेशन भेजें"},
        "action": {"name": "send_location"},
    }


def test_location_request_without_text_is_not_sent(outbound, caplog):
    with caplog.at_level(logging.ERROR):
        assert outbound.respond({"custom": {"type": "location_request"}}) == []
    assert "location request without text" in caplog.text


def test_template_message(outbound):
    [sent] = outbound.respond(
        {
            "custom": {
                "template": {
                    "name": "complaint_status_update",
                    "language": "hi",
                    "parameters": ["SRN-000145", "resolved"],
                }
            }
        }
    )
    assert sent["type"] == "template"
    assert sent["template"] == {
        "name": "complaint_status_update",
        "language": {"code": "hi"},
        "components": [
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "text": "SRN-000145"},
                    {"type": "text", "text": "resolved"},
                ],
            }
        ],
    }


def test_template_without_language_is_not_sent(outbound):
    assert outbound.respond({"custom": {"template": {"name": "x"}}}) == []


def test_raw_whatsapp_message_in_custom_is_sent_as_given(outbound):
    custom = {"type": "location", "location": {"latitude": 29.96, "longitude": 77.55}}
    [sent] = outbound.respond({"custom": custom})
    assert sent == {"messaging_product": "whatsapp", "to": CITIZEN, **custom}


def test_image_is_sent_by_link(outbound):
    [sent] = outbound.respond({"image": "https://example.org/map.png"})
    assert sent["image"] == {"link": "https://example.org/map.png"}


# --- retries -------------------------------------------------------------------------


def test_rate_limit_is_retried_until_success(outbound):
    outbound.graph.fail_next(429, 130429, times=2, retry_after=0.01)
    [sent] = outbound.respond({"text": "hello"})
    assert sent["text"] == {"body": "hello"}
    assert len(outbound.graph.requests) == 3


def test_server_errors_are_retried(outbound):
    outbound.graph.fail_next(503, 131016)
    outbound.graph.fail_next(500, 1)
    assert len(outbound.respond({"text": "hello"})) == 1
    assert len(outbound.graph.requests) == 3


def test_retries_are_bounded_and_the_failure_logged(outbound, caplog):
    outbound.graph.fail_next(503, 131016, times=10)
    with caplog.at_level(logging.ERROR):
        assert outbound.respond({"text": "hello"}) == []
    assert len(outbound.graph.requests) == 4
    assert "code=131016" in caplog.text


def test_permanent_error_is_not_retried(outbound, caplog):
    outbound.graph.fail_recipient(CITIZEN, status=400, code=131021)
    with caplog.at_level(logging.ERROR):
        assert outbound.respond({"text": "hello"}) == []
    assert len(outbound.graph.requests) == 1
    assert "code=131021" in caplog.text


def test_client_raises_the_graph_error(outbound):
    outbound.graph.fail_next(400, 131047)
    with pytest.raises(WhatsAppAPIError) as error:
        outbound.loop.run(outbound.client.send({"to": CITIZEN, "type": "text"}))
    assert (error.value.status, error.value.code, error.value.retriable) == (400, 131047, False)


def test_unreachable_api_is_retried_then_logged(caplog):
    loop = LoopThread()
    client = WhatsAppClient("t", "1", "http://127.0.0.1:9/v21.0", max_attempts=2, backoff_seconds=0.01)
    with caplog.at_level(logging.WARNING):
        loop.run(WhatsAppOutput(client).send_text_message(CITIZEN, "hello"))
        loop.run(client.close())
    loop.close()
    assert "retry 1/1" in caplog.text
    assert "not sent: status=None" in caplog.text


def test_mark_read(outbound):
    outbound.loop.run(outbound.client.mark_read("wamid.in.1"))
    assert outbound.graph.read_receipts == ["wamid.in.1"]
    assert outbound.graph.requests[0]["payload"] == {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": "wamid.in.1",
    }
