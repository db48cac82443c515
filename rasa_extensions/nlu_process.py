"""The NLU graph in a process of its own, beside the Rasa server (Rasa 3.6).

Rasa 3.6 runs the NLU graph (tokenizer, n-grams, the e5 embedding, the classifiers) inside
`MessageProcessor.parse_message`, synchronously, on the server's event loop: while one
citizen's message is understood the server does nothing else, and on a machine of two cores
one core carries the whole server while the other waits. Here each MessageProcessor starts
one process, `python -m rasa_extensions.nlu_process MODEL` (a plain subprocess: Sanic's
workers are daemonic and may not start multiprocessing children, and OpenMP, which e5 uses,
does not survive a fork), that loads the same model's graph with Rasa's own loader and
parses with Rasa's own `_parse_message_with_graph`, one message at a time as before. The
server sends the message's text, metadata (a photo's id), sender and id to the process's
stdin and reads the parse from its stdout (pickled, length first: the same Python values as
the graph made, tuples and all; both ends are this code); meanwhile its event loop runs
other citizens' turns. Rasa's own `parse_message` then does the rest (retrieval intents,
logging, the unseen-feature check) on that answer. The graph gets an empty tracker, which no
component of this pipeline reads (the server's own parse passes the conversation's).

The process is started before the server loads its own copy of the model, so both load at
once, and the server starts answering once the process is ready. If the process cannot
start, dies, fails on a message or takes longer than PARSE_TIMEOUT_S, the message is parsed
in the server as Rasa does, and so are the messages of the next RESTART_AFTER_S; then a new
process is started: nothing is lost, only slower. With an HTTP interpreter (`nlu:` in
endpoints) Rasa's own path runs.

Installed by `rasa_extensions.speedups.apply()` (`nlu_process` in `NAGAR_SPEEDUPS`). Measured in
docs/benchmarks.md (seventh round); the same answers as the server's own parse:
tests/rasa_extensions/test_nlu_process.py.
"""
from __future__ import annotations

import asyncio
import itertools
import logging
import os
import pickle
import struct
import subprocess
import sys
import threading
import time
import weakref
from typing import Any, Dict, Optional, Text, Tuple

logger = logging.getLogger(__name__)
START_TIMEOUT_S = 300  # loading the model; the server parses itself if the process takes longer
PARSE_TIMEOUT_S = 30.0  # one message (a 4,096-character one takes about a second)
RESTART_AFTER_S = 30.0  # after a process failed, the server parses itself this long
READY = "ready"

_PROCESSES: Dict[int, NluProcess] = {}  # id(MessageProcessor) → its process
_RETRY_AT: Dict[int, float] = {}  # id(MessageProcessor) → when a failed process may be replaced
_STOCK_PARSE: Any = None
_STOCK_INIT: Any = None


def _frame(value: Any) -> bytes:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return struct.pack(">I", len(data)) + data


def _unframe(stream: Any) -> Any:
    """The next value on `stream`; EOFError when it has ended."""
    head = stream.read(4)
    if len(head) < 4:
        raise EOFError
    return pickle.loads(stream.read(struct.unpack(">I", head)[0]))


class NluProcess:
    """One process that holds the model's NLU graph and parses one message at a time."""

    def __init__(self, model_path: Any) -> None:
        self.ready = threading.Event()
        self.dead = False
        self._ids = itertools.count()
        self._waiting: Dict[int, Tuple[asyncio.AbstractEventLoop, asyncio.Future]] = {}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "rasa_extensions.nlu_process", str(model_path)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=os.environ.copy())
        threading.Thread(target=self._read, name="nlu-process-reader", daemon=True).start()

    def usable(self) -> bool:
        return self.ready.is_set() and not self.dead

    def _read(self) -> None:
        """Answers from the process, each to the coroutine that waits for it."""
        try:
            if _unframe(self.process.stdout) == READY:
                self.ready.set()
                while True:
                    answer = _unframe(self.process.stdout)
                    loop, future = self._waiting.pop(answer["id"], (None, None))
                    if future is not None:
                        loop.call_soon_threadsafe(_settle, future, answer)
        except Exception:  # noqa: BLE001 - EOFError when it ended; anything else ends it too
            pass
        finally:  # the process ended (or answered nonsense): every waiting message is parsed here
            self.dead = True
            self.ready.set()
            for loop, future in list(self._waiting.values()):
                loop.call_soon_threadsafe(_settle, future, {"error": "the NLU process ended"})

    async def parse(self, message: Any, only_output_properties: bool) -> Dict[Text, Any]:
        number = next(self._ids)
        future = asyncio.get_running_loop().create_future()
        self._waiting[number] = (asyncio.get_running_loop(), future)
        try:
            self.process.stdin.write(_frame({
                "id": number, "text": message.text, "metadata": message.metadata,
                "sender_id": message.sender_id, "message_id": message.message_id,
                "only_output_properties": only_output_properties}))
            self.process.stdin.flush()
            answer = await asyncio.wait_for(future, PARSE_TIMEOUT_S)
        finally:
            self._waiting.pop(number, None)
        if "error" in answer:
            raise RuntimeError(answer["error"])
        return answer["parse_data"]

    def stop(self) -> None:
        self.dead = True
        if self.process.poll() is None:
            self.process.kill()


def _settle(future: asyncio.Future, answer: Dict[Text, Any]) -> None:
    if not future.done():
        future.set_result(answer)


class _Parsed:
    """The processor, as Rasa's parse_message sees it, with the graph's answer already known."""

    def __init__(self, processor: Any, parse_data: Dict[Text, Any]) -> None:
        self._processor, self._parse_data = processor, parse_data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._processor, name)

    def _parse_message_with_graph(self, *_: Any, **__: Any) -> Dict[Text, Any]:
        return self._parse_data


def _spawn(model_path: Any) -> Optional[NluProcess]:
    try:
        return NluProcess(model_path)
    except Exception:  # noqa: BLE001 - logged; the server parses itself
        logger.exception("The NLU process could not be started; messages are parsed in the server")
        return None


def _keep(processor: Any, nlu: NluProcess) -> None:
    _PROCESSES[id(processor)] = nlu
    # a processor replaced (a new model loaded) takes its process with it
    weakref.finalize(processor, _forget, id(processor), nlu)


def _forget(key: int, nlu: NluProcess) -> None:
    if _PROCESSES.get(key) is nlu:
        del _PROCESSES[key]
        _RETRY_AT.pop(key, None)
    nlu.stop()


def _give_up(processor: Any, nlu: NluProcess) -> None:
    """A process that died, failed or hangs: stopped, and no new one for RESTART_AFTER_S (a
    model that kills every new process must not cost a process start per message)."""
    if _PROCESSES.get(id(processor)) is nlu:
        del _PROCESSES[id(processor)]
    nlu.stop()
    _RETRY_AT[id(processor)] = time.monotonic() + RESTART_AFTER_S


def _usable(processor: Any) -> Optional[NluProcess]:
    """The processor's NLU process when it can parse; a new one started when it has none (and
    none failed lately)."""
    nlu = _PROCESSES.get(id(processor))
    if nlu is not None and nlu.dead:
        _give_up(processor, nlu)
        nlu = None
    if nlu is None and time.monotonic() >= _RETRY_AT.get(id(processor), 0.0):
        nlu = _spawn(processor.model_path)
        if nlu is None:
            _RETRY_AT[id(processor)] = time.monotonic() + RESTART_AFTER_S
        else:
            _keep(processor, nlu)
    return nlu if nlu is not None and nlu.usable() else None


def processor_init(self: Any, model_path: Any, *args: Any, **kwargs: Any) -> None:
    """`MessageProcessor.__init__` with its NLU process: started first, so that it loads the
    model while the server loads its own, then waited for."""
    http_interpreter = kwargs.get("http_interpreter", args[6] if len(args) > 6 else None)
    nlu = None if http_interpreter else _spawn(model_path)
    try:
        _STOCK_INIT(self, model_path, *args, **kwargs)
    except BaseException:
        if nlu is not None:
            nlu.stop()
        raise
    if nlu is None:
        return
    _keep(self, nlu)
    if not (nlu.ready.wait(START_TIMEOUT_S) and nlu.usable()):
        logger.error("The NLU process did not start; messages are parsed in the server")


async def parse_message(self: Any, message: Any, tracker: Any = None,
                        only_output_properties: bool = True) -> Dict[Text, Any]:
    """`MessageProcessor.parse_message` with the graph run in the NLU process."""
    nlu = None if self.http_interpreter else _usable(self)
    if nlu is not None:
        try:
            parse_data = await nlu.parse(message, only_output_properties)
        except Exception:  # noqa: BLE001 - the process died, failed or hangs: parsed here instead
            logger.exception("The NLU process failed; this message is parsed in the server")
            _give_up(self, nlu)
        else:
            return await _STOCK_PARSE(_Parsed(self, parse_data), message, tracker, only_output_properties)
    return await _STOCK_PARSE(self, message, tracker, only_output_properties)


def install(processor_class: Any) -> None:
    """Route `processor_class`'s parsing through an NLU process (once)."""
    global _STOCK_PARSE, _STOCK_INIT
    if _STOCK_PARSE is not None:
        return
    _STOCK_PARSE, _STOCK_INIT = processor_class.parse_message, processor_class.__init__
    processor_class.parse_message = parse_message
    processor_class.__init__ = processor_init


# --- the NLU process itself ------------------------------------------------------------------


def main(model_path: str) -> None:
    """Load the model's graph as MessageProcessor does, say "ready", then answer each message."""
    from types import SimpleNamespace

    from rasa.core.channels.channel import UserMessage
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.trackers import DialogueStateTracker

    answers = os.fdopen(os.dup(1), "wb")  # stdout is the answers only; anything printed goes
    os.dup2(2, 1)                         # to stderr, the server's log
    _, metadata, runner = MessageProcessor._load_model(model_path)
    graph = SimpleNamespace(graph_runner=runner, model_metadata=metadata)
    answers.write(_frame(READY))
    answers.flush()
    while True:
        try:
            request = _unframe(sys.stdin.buffer)
        except EOFError:  # the server closed stdin: it ended
            return
        try:
            message = UserMessage(request["text"], sender_id=request["sender_id"],
                                  metadata=request["metadata"], message_id=request["message_id"])
            parse_data = MessageProcessor._parse_message_with_graph(
                graph, message, DialogueStateTracker.from_events(request["sender_id"], []),
                request["only_output_properties"])
            answer = {"id": request["id"], "parse_data": parse_data}
        except Exception as error:  # noqa: BLE001 - told to the server, which parses itself
            logger.exception("NLU process: a message failed")
            answer = {"id": request["id"], "error": repr(error)}
        answers.write(_frame(answer))
        answers.flush()


if __name__ == "__main__":
    main(sys.argv[1])
