"""The tester's simulator: typed lines become webhook messages, menus can be tapped."""

import importlib.util
from pathlib import Path

import pytest
import yaml

from channels.fake_graph import webhook_payload

from whatsapp_support import PHONE_NUMBER_ID, WhatsAppTestServer

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "whatsapp_simulator.py"
spec = importlib.util.spec_from_file_location("whatsapp_simulator", SCRIPT)
whatsapp_simulator = importlib.util.module_from_spec(spec)
spec.loader.exec_module(whatsapp_simulator)

WA_ID = "919876543210"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    db = tmp_path_factory.mktemp("sim") / "inbox.db"
    running = WhatsAppTestServer(f"sqlite:///{db}").start()
    yield running
    running.stop()


def send(server, simulator, line):
    message = simulator.message_for(line)
    assert server.post_payload(webhook_payload([message], PHONE_NUMBER_ID)) == 200
    server.settle()
    return server.agent.messages[-1]


def test_a_menu_is_shown_numbered_and_tapped(server):
    server.reset()
    simulator = whatsapp_simulator.Simulator(WA_ID)
    categories = ["स्ट्रीट लाइट", "पीने का पानी", "पानी का रिसाव", "सीवर", "सफ़ाई"]

    async def menu(message):
        await message.output_channel.send_response(
            message.sender_id,
            {
                "text": "किस बारे में शिकायत है?",
                "buttons": [{"title": t, "payload": f"{n}"} for n, t in enumerate(categories, 1)],
                "metadata": {"list_button": "विकल्प"},
            },
        )

    server.agent.reply = menu
    assert send(server, simulator, "शिकायत करनी है").text == "शिकायत करनी है"
    shown = simulator.render(server.fake_graph.messages[-1])
    assert "☰ विकल्प" in shown
    assert "[2] पीने का पानी" in shown

    server.agent.reply = None
    tapped = send(server, simulator, "/tap 2")
    assert tapped.text == "2"
    assert tapped.metadata["reply_title"] == "पीने का पानी"


def test_location_image_and_voice_commands(server):
    server.reset()
    simulator = whatsapp_simulator.Simulator(WA_ID)
    assert send(server, simulator, "/location 29.968 77.551 घंटाघर").text == (
        '/share_location{"latitude": 29.968, "longitude": 77.551}'
    )
    photo = send(server, simulator, "/image कूड़े का ढेर")
    assert photo.text == "कूड़े का ढेर"  # a caption reaches Rasa as the citizen's words
    assert photo.metadata["caption"] == "कूड़े का ढेर" and photo.metadata["photo_id"].isdigit()
    bare = send(server, simulator, "/image")
    assert bare.text == '/share_photo{"photo_id": "' + bare.metadata["photo_id"] + '"}'
    assert send(server, simulator, "/voice").text == "/unsupported_message"


def test_bad_commands_are_refused():
    simulator = whatsapp_simulator.Simulator(WA_ID)
    assert simulator.message_for("/tap 1") is None  # no menu yet
    assert simulator.message_for("/location north") is None


def test_location_request_and_template_are_rendered():
    simulator = whatsapp_simulator.Simulator(WA_ID)
    request = {
        "type": "interactive",
        "interactive": {"type": "location_request_message", "body": {"text": "लोकेशन भेजें"}},
    }
    assert "/location LAT LON" in simulator.render(request)
    template = {
        "type": "template",
        "template": {
            "name": "status_update",
            "language": {"code": "hi"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "SRN-000001"}]}],
        },
    }
    assert simulator.render(template) == "[template status_update (hi)] ['SRN-000001']"


def test_endpoints_point_at_the_action_server_started_for_the_simulator(tmp_path):
    shipped = tmp_path / "endpoints.yml"
    shipped.write_text("action_endpoint:\n  url: http://localhost:5055/webhook\n"
                       "  enable_selective_domain: true\n", encoding="utf-8")
    assert whatsapp_simulator.endpoints_for(str(shipped), None) == str(shipped)
    copy = whatsapp_simulator.endpoints_for(str(shipped), "http://127.0.0.1:6055/webhook")
    assert copy != str(shipped)
    assert yaml.safe_load(Path(copy).read_text(encoding="utf-8")) == {
        "action_endpoint": {"url": "http://127.0.0.1:6055/webhook", "enable_selective_domain": True}}
    assert "5055" in shipped.read_text(encoding="utf-8")  # the shipped file is left as it is
