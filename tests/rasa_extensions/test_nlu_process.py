"""The NLU in a process of its own (rasa_extensions.speedups, NAGAR_NLU_PROCESS) understands every
message as Rasa's own parse in the server does, and a dead NLU process loses no message."""
import asyncio
import os
from pathlib import Path

import pytest

from rasa_extensions import speedups

ROOT = Path(__file__).resolve().parents[2]
MODEL = Path(os.environ.get("NAGAR_MODEL", ROOT / "models" / "nagar-sahayak.tar.gz"))
MESSAGES = [
    ("ward 12 me street light kharab hai Court Road pe", None),
    ("वार्ड 23 में तीन दिन से पानी नहीं आया", None),
    ("sewer overflowing near Gill Colony, ward 31!!", None),
    ("", {"type": "image", "photo_id": "wamid.PHOTO1"}),        # a photo without a caption
    ("kooda pada hai yaha", {"type": "image", "photo_id": "wamid.PHOTO2"}),
    ("/affirm", None),
    ("🙏🙏", None),
    ("x" * 4096, None),
    ("how many corona cases in lucknow", None),
]


@pytest.fixture(scope="module")
def processor():
    if not MODEL.exists():
        pytest.skip(f"no trained model at {MODEL}: run `make train` first")
    from rasa.core.agent import Agent

    speedups.apply()
    return Agent.load(str(MODEL)).processor


@pytest.fixture(scope="module")
def loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def user_message(text, metadata, n):
    from rasa.core.channels.channel import UserMessage

    return UserMessage(text, sender_id=f"citizen-{n}", metadata=metadata, message_id=f"wamid.{n}")


def test_the_nlu_process_understands_every_message_as_rasas_parse_in_the_server(processor, loop):
    nlu = speedups._NLU_PROCESSES[id(processor)] = speedups.NluProcess(processor.model_path)
    assert nlu.ready.result(timeout=speedups.NLU_PROCESS_START_S)
    for n, (text, metadata) in enumerate(MESSAGES):
        message = user_message(text, metadata, n)
        elsewhere = loop.run_until_complete(speedups.parse_message_elsewhere(processor, message))
        here = loop.run_until_complete(speedups._STOCK_PARSE(processor, message))
        assert elsewhere == here
        assert nlu.pool._processes and os.getpid() not in nlu.pool._processes  # parsed there
    photo = loop.run_until_complete(speedups.parse_message_elsewhere(processor, user_message(*MESSAGES[3], 3)))
    assert photo["intent"]["name"] == "share_photo"  # the metadata reached the NLU process


def test_a_dead_nlu_process_loses_no_message_and_a_new_one_takes_over(processor, loop):
    nlu = speedups._NLU_PROCESSES.get(id(processor))
    if nlu is None:
        nlu = speedups._NLU_PROCESSES[id(processor)] = speedups.NluProcess(processor.model_path)
    nlu.ready.result(timeout=speedups.NLU_PROCESS_START_S)
    for pid in list(nlu.pool._processes):
        os.kill(pid, 9)
    message = user_message(*MESSAGES[0], 0)
    parsed = loop.run_until_complete(speedups.parse_message_elsewhere(processor, message))
    assert parsed == loop.run_until_complete(speedups._STOCK_PARSE(processor, message))  # parsed here
    again = loop.run_until_complete(speedups.parse_message_elsewhere(processor, message))
    assert again == parsed
    assert speedups._NLU_PROCESSES[id(processor)] is not nlu  # a new process was started
