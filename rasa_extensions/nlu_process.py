"""The NLU graph in a process of its own, beside the Rasa server (Rasa 3.6).

Rasa 3.6 runs the NLU graph (tokenizer, n-grams, the e5 embedding, the classifiers) inside
`MessageProcessor.parse_message`, synchronously, on the server's event loop: while one
citizen's message is understood the server does nothing else, and on a machine of two cores
one core carries the whole server while the other waits. Here each MessageProcessor starts
one process (`spawn`: OpenMP, which e5 uses, and the server's threads do not survive a
fork) that loads the same model's graph with Rasa's own loader and parses with Rasa's own
`_parse_message_with_graph`, one message at a time as before. The server awaits the answer
and meanwhile runs other citizens' turns; Rasa's own `parse_message` then does the rest
(retrieval intents, logging, the unseen-feature check) on that answer. The message's text,
metadata (a photo's id), sender and id go to the process; the graph gets an empty tracker,
which no component of this pipeline reads (the server's parse passes the conversation's).

The server starts answering once the process has loaded the model (waited for when the
processor is built). If the process cannot start, dies or fails on a message, the message
is parsed in the server as Rasa does and the next one starts a new process: nothing is
lost, only slower. With an HTTP interpreter (`nlu:` in endpoints) Rasa's own path runs.

Installed by `rasa_extensions.speedups.apply()` unless `NAGAR_NLU_PROCESS=0`. Measured in
docs/benchmarks.md (seventh round); the same answers as the server's own parse:
tests/rasa_extensions/test_nlu_process.py.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, Text

logger = logging.getLogger(__name__)
START_TIMEOUT_S = 300  # loading the model; the server parses itself if the process takes longer

_CHILD: Any = None  # in the NLU process: what MessageProcessor._parse_message_with_graph reads
_PROCESSES: Dict[int, NluProcess] = {}  # in the server: id(MessageProcessor) → its process
_STOCK_PARSE: Any = None
_STOCK_INIT: Any = None


def _child_load(model_path: str) -> None:
    """In the NLU process: load the model's graph, as MessageProcessor does."""
    global _CHILD
    from types import SimpleNamespace

    from rasa.core.processor import MessageProcessor

    _, metadata, runner = MessageProcessor._load_model(model_path)
    _CHILD = SimpleNamespace(graph_runner=runner, model_metadata=metadata)


def _child_ready() -> bool:
    return _CHILD is not None


def _child_parse(text: Any, metadata: Any, sender_id: Text, message_id: Any,
                 only_output_properties: bool) -> Dict[Text, Any]:
    """In the NLU process: Rasa's own `_parse_message_with_graph` on the loaded graph."""
    from rasa.core.channels.channel import UserMessage
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.trackers import DialogueStateTracker

    message = UserMessage(text, sender_id=sender_id, metadata=metadata, message_id=message_id)
    return MessageProcessor._parse_message_with_graph(
        _CHILD, message, DialogueStateTracker.from_events(sender_id, []), only_output_properties)


class NluProcess:
    """One process that holds the model's NLU graph and parses one message at a time."""

    def __init__(self, model_path: Any) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_child_load, initargs=(str(model_path),))
        self.ready = self.pool.submit(_child_ready)

    def usable(self) -> bool:
        return self.ready.done() and self.ready.exception() is None

    async def parse(self, message: Any, only_output_properties: bool) -> Dict[Text, Any]:
        return await asyncio.wrap_future(self.pool.submit(
            _child_parse, message.text, message.metadata, message.sender_id, message.message_id,
            only_output_properties))


class _Parsed:
    """The processor, as Rasa's parse_message sees it, with the graph's answer already known."""

    def __init__(self, processor: Any, parse_data: Dict[Text, Any]) -> None:
        self._processor, self._parse_data = processor, parse_data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._processor, name)

    def _parse_message_with_graph(self, *_: Any, **__: Any) -> Dict[Text, Any]:
        return self._parse_data


def processor_init(self: Any, *args: Any, **kwargs: Any) -> None:
    """`MessageProcessor.__init__`, then its NLU process started and waited for."""
    _STOCK_INIT(self, *args, **kwargs)
    if self.http_interpreter:
        return
    nlu = _PROCESSES[id(self)] = NluProcess(self.model_path)
    try:
        nlu.ready.result(timeout=START_TIMEOUT_S)
    except Exception:  # noqa: BLE001 - logged; parse_message parses here meanwhile
        logger.exception("The NLU process did not start; messages are parsed in the server")


async def parse_message(self: Any, message: Any, tracker: Any = None,
                        only_output_properties: bool = True) -> Dict[Text, Any]:
    """`MessageProcessor.parse_message` with the graph run in the NLU process."""
    if self.http_interpreter:
        return await _STOCK_PARSE(self, message, tracker, only_output_properties)
    nlu = _PROCESSES.get(id(self))
    if nlu is None:
        nlu = _PROCESSES[id(self)] = NluProcess(self.model_path)
    if nlu.usable():
        try:
            parse_data = await nlu.parse(message, only_output_properties)
        except Exception:  # noqa: BLE001 - the process died or failed: parsed here instead
            logger.exception("The NLU process failed; this message is parsed in the server")
            _PROCESSES.pop(id(self), None)
            nlu.pool.shutdown(wait=False)  # the next message starts a new one
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
