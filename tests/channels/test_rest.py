"""Our REST channel (channels/rest.py) through Rasa's app: Rasa's RestInput with the text
cleaned first. The agent records what reaches Rasa and answers with one message."""
import json
import socket
import urllib.request

import pytest
from rasa.core.run import configure_app

from channels.replies import render
from channels.rest import CleanRestInput

from whatsapp_support import CollectingAgent, LoopThread


class RestServer:
    def __init__(self) -> None:
        self.loop = LoopThread()
        self.agent = CollectingAgent()
        self.loop.run(self._start())

    async def _start(self) -> None:
        async def echo(message):
            await message.output_channel.send_text_message(message.sender_id, "ok")

        self.agent.reply = echo
        app = configure_app(input_channels=[CleanRestInput()], enable_api=False)
        app.ctx.agent = self.agent
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}/webhooks/rest/webhook"
        self._server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
        await self._server.startup()
        await self._server.before_start()
        await self._server.after_start()

    def say(self, message, sender="919800000009", raw_body=None):
        body = raw_body or json.dumps({"sender": sender, "message": message}).encode()
        request = urllib.request.Request(self.url, data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=20) as response:
            return [m.get("text") for m in json.loads(response.read())]

    def close(self) -> None:
        async def stop():
            self._server.close()
            await self._server.wait_closed()

        self.loop.run(stop())
        self.loop.close()


@pytest.fixture(scope="module")
def rest():
    server = RestServer()
    yield server
    server.close()


@pytest.fixture
def server(rest):
    rest.agent.messages.clear()
    return rest


def test_the_route_and_answers_are_rasas(server):
    assert server.say("hello") == ["ok"]
    [received] = server.agent.messages
    assert (received.text, received.sender_id, received.input_channel) == (
        "hello", "919800000009", "rest")


def test_nul_and_control_characters_are_removed(server):
    assert server.say("ward 23 me light kharab\x00 hai\x07 Court Road") == ["ok"]
    assert server.agent.messages[0].text == "ward 23 me light kharab hai Court Road"


def test_a_lone_surrogate_is_answered(server):
    body = b'{"sender": "919800000009", "message": "paani \\ud800 nahi aa raha"}'
    assert server.say(None, raw_body=body) == ["ok"]
    assert server.agent.messages[0].text == "paani \ufffd nahi aa raha"


def test_a_long_message_is_cut_and_the_citizen_told_first(server):
    text = "street light kharab hai " * 5000  # 120,000 characters
    notice, answer = server.say(text)
    assert notice == render(server.agent.domain, "utter_message_cut", "hinglish", "rest")
    assert answer == "ok"
    assert len(server.agent.messages[0].text) == 4096


def test_button_payloads_stay_payloads(server):
    server.say('/inform{"ward": "23"}')
    assert server.agent.messages[0].text == '/inform{"ward": "23"}'


@pytest.mark.parametrize("payload", [  # within 4,096 characters: only the payload check acts
    '/affirm{"a":' + "[" * 2000 + "]" * 2000 + "}",
    "/affirm" + "{" * 4000,
    "/affirm" + json.dumps({"a": "x" * 3000}),
])
def test_an_absurd_payload_is_read_as_text_and_answered(server, payload):
    assert server.say(payload) == ["ok"]
    assert not server.agent.messages[0].text.startswith("/")


def test_a_message_that_is_not_a_string_is_read_as_its_text(server):
    assert server.say(23) == ["ok"]
    assert server.agent.messages[0].text == "23"
