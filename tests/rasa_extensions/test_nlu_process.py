"""The NLU in a process of its own (rasa_extensions.nlu_process) understands every message as
Rasa's own parse in the server does, keeps the server's event loop free, and a dead NLU process
loses no message."""
import asyncio
import os
import signal
from pathlib import Path

import pytest

from rasa_extensions import nlu_process, speedups

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
    from rasa.core.processor import MessageProcessor

    speedups.apply()
    nlu_process.install(MessageProcessor)  # whatever NAGAR_SPEEDUPS says
    return Agent.load(str(MODEL)).processor


@pytest.fixture(scope="module")
def loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def user_message(text, metadata, n):
    from rasa.core.channels.channel import UserMessage

    return UserMessage(text, sender_id=f"citizen-{n}", metadata=metadata, message_id=f"wamid.{n}")


def test_the_server_starts_with_its_nlu_process_loaded(processor):
    nlu = nlu_process._PROCESSES[id(processor)]
    assert nlu.usable() and nlu.process.poll() is None and nlu.process.pid != os.getpid()


def test_the_nlu_process_understands_every_message_as_rasas_parse_in_the_server(processor, loop):
    nlu = nlu_process._PROCESSES[id(processor)]
    for n, (text, metadata) in enumerate(MESSAGES):
        message = user_message(text, metadata, n)
        elsewhere = loop.run_until_complete(processor.parse_message(message))
        here = loop.run_until_complete(nlu_process._STOCK_PARSE(processor, message))
        assert elsewhere == here
    assert nlu_process._PROCESSES[id(processor)] is nlu  # no failure on the way: all parsed there
    photo = loop.run_until_complete(processor.parse_message(user_message(*MESSAGES[3], 3)))
    assert photo["intent"]["name"] == "share_photo"  # the metadata reached the NLU process


def test_the_event_loop_runs_other_work_while_a_message_is_understood(processor, loop):
    """With Rasa's own parse the loop is held for the whole parse of a long message; here a
    coroutine ticking every millisecond keeps ticking meanwhile."""
    async def parse_and_tick():
        ticks = 0

        async def tick():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.001)
                ticks += 1

        ticker = asyncio.ensure_future(tick())
        await asyncio.sleep(0.01)
        before = ticks
        await processor.parse_message(user_message("पानी " * 300, None, 99))
        during = ticks - before
        ticker.cancel()
        return during

    assert loop.run_until_complete(parse_and_tick()) >= 5


def ready_process(processor):
    """The processor's NLU process, started (and waited for) if the last test left it none."""
    nlu_process._RETRY_AT.pop(id(processor), None)
    nlu = nlu_process._usable(processor) or nlu_process._PROCESSES[id(processor)]
    assert nlu.ready.wait(nlu_process.START_TIMEOUT_S) and nlu.usable()
    return nlu


def test_a_dead_nlu_process_loses_no_message_and_a_new_one_takes_over(processor, loop, monkeypatch):
    nlu = ready_process(processor)
    os.kill(nlu.process.pid, signal.SIGKILL)
    nlu.process.wait()
    message = user_message(*MESSAGES[0], 0)
    parsed = loop.run_until_complete(processor.parse_message(message))
    assert parsed == loop.run_until_complete(nlu_process._STOCK_PARSE(processor, message))  # parsed here
    assert nlu_process._PROCESSES.get(id(processor)) is None  # the dead one is given up
    monkeypatch.setattr(nlu_process, "RESTART_AFTER_S", 0.0)
    nlu_process._RETRY_AT[id(processor)] = 0.0  # its pause over
    assert loop.run_until_complete(processor.parse_message(message)) == parsed
    new = nlu_process._PROCESSES[id(processor)]
    assert new is not nlu and new.ready.wait(nlu_process.START_TIMEOUT_S) and new.usable()
    assert loop.run_until_complete(processor.parse_message(message)) == parsed  # parsed by the new one
    assert nlu_process._PROCESSES[id(processor)] is new


def test_a_hanging_nlu_process_is_given_up_after_its_timeout_and_the_server_parses(processor, loop, monkeypatch):
    nlu = ready_process(processor)
    monkeypatch.setattr(nlu_process, "PARSE_TIMEOUT_S", 1.0)
    os.kill(nlu.process.pid, signal.SIGSTOP)  # alive, answering nothing
    message = user_message(*MESSAGES[1], 1)
    parsed = loop.run_until_complete(processor.parse_message(message))
    assert parsed == loop.run_until_complete(nlu_process._STOCK_PARSE(processor, message))
    assert nlu.process.wait(timeout=10) == -signal.SIGKILL  # the hanging one was ended
    assert nlu_process._PROCESSES.get(id(processor)) is None


def test_a_process_that_keeps_dying_is_not_restarted_for_every_message(processor, loop, monkeypatch):
    """A model the NLU process cannot load: each message parsed in the server, and one process
    started per RESTART_AFTER_S, not one per message."""
    from rasa.core.processor import MessageProcessor

    broken = MessageProcessor.__new__(MessageProcessor)
    broken.__dict__.update(processor.__dict__)  # the same graph for the server's own parse
    broken.model_path = "/nonexistent/model.tar.gz"  # what the NLU process is given
    started, real = [], nlu_process.NluProcess
    monkeypatch.setattr(nlu_process, "NluProcess", lambda path: started.append(path) or real(path))
    for n in range(4):
        message = user_message(*MESSAGES[n % 3], n)
        assert loop.run_until_complete(broken.parse_message(message)) == \
            loop.run_until_complete(nlu_process._STOCK_PARSE(processor, message))
        nlu = nlu_process._PROCESSES.get(id(broken))
        if nlu is not None:
            nlu.process.wait(timeout=60)  # it dies, unable to load the model
            nlu.ready.wait(10)
    assert started == ["/nonexistent/model.tar.gz"]
    assert nlu_process._RETRY_AT[id(broken)] > 0


def test_a_processor_that_is_replaced_takes_its_nlu_process_with_it(processor):
    import gc

    from rasa.core.processor import MessageProcessor

    other = MessageProcessor.__new__(MessageProcessor)  # a processor of a model loaded later, say
    other.model_path = processor.model_path
    nlu = ready_process(other)
    key = id(other)
    del other
    gc.collect()
    assert nlu.process.wait(timeout=10) == -signal.SIGKILL and key not in nlu_process._PROCESSES
