"""Caches for work Rasa 3.6 repeats on every message, and the NLU off the event loop, with
the same results.

Measured in docs/benchmarks.md (profile of the Rasa server under 20 concurrent citizens):

1. **Action-server replies are validated against a schema compiled once.**
   `RemoteAction._validate_action_result` calls `jsonschema.validate(result, schema)` for
   every reply from the action server. That builds a new validator and first re-checks the
   (constant) schema against JSON Schema's meta-schema, every time; the check costs more
   than validating the reply. Here the schema is checked once, when the validator is built,
   and each reply is validated with it. A reply that breaks the schema raises the same
   `ValidationError` with the same message as before.

2. **Event classes are looked up in a table.**
   `Event.resolve_by_type(name)` walks every subclass of `Event` (with an
   `inspect.isabstract` check each) to find the class for one serialised event. Rasa calls
   it for every event of a conversation each time it loads one from the tracker store, and
   for every event an action returns. Here the walk runs once and builds a name → class
   table; a name not in it (an event class imported later) walks again, and what is still
   unknown behaves exactly as in Rasa (`topic` → None, the default, or `ValueError`).

3. **The NLU graph runs in its own thread.**
   `MessageProcessor.parse_message` runs the NLU graph (tokenizer, n-grams, the e5 embedding,
   the classifier) synchronously inside the event loop: while one citizen's message is
   understood (tens of milliseconds), the server answers nothing else, not even WhatsApp's
   webhook posts, whose acknowledgement waits behind every turn in progress. Here Rasa's own
   `parse_message` runs unchanged in one dedicated thread (one, so parses stay one at a time
   as before and no component needs to be thread-safe); the event loop keeps acknowledging.
   Without an HTTP interpreter Rasa's coroutine never suspends, so it is driven to its end
   in that thread; with one (not used here) Rasa's own path runs. Only with
   `NAGAR_NLU_THREAD=1`: it shortens the acknowledgement's tail but did not raise (and may
   lower) messages per second, measured in docs/benchmarks.md (fourth round).

4. **A conversation's past states are built once per prediction.**
   `DialogueStateTracker.past_states` replays the whole conversation (every event since the
   session started, a tracker copy and a state per action) each time a policy asks. For one
   prediction RulePolicy asks twice (from the text, then from the intent) and
   MemoizationPolicy once, with the same events; each message needs several predictions.
   Here the states are kept on the tracker with the arguments and the events they were built
   from (the same event objects, in order); while those are unchanged the kept states are
   returned, as copies, because Rasa's featurizers edit the states they are given. Any new,
   removed or replaced event builds them again with Rasa's own code.

5. **Action calls reuse their connection and encode JSON with ujson.**
   `EndpointConfig.request` opens a new `aiohttp.ClientSession` (a new TCP connection) for
   every call to the action server and encodes the conversation it sends with the standard
   `json` module. Here `EndpointConfig.session()` gives one session per endpoint and event
   loop, kept open (its `async with` leaves it open), whose connections are kept alive for
   2 s (less than the 5 s after which Sanic, the action server, closes an idle one, so a
   call never lands on a connection the server is closing), and which encodes with ujson
   (already one of Rasa's dependencies; the same JSON values, non-ASCII text as UTF-8).
   Headers, authentication and the timeout are Rasa's own.

6. **Trackers are stored and loaded as JSON with ujson.** The in-memory and Redis tracker
   stores (`SerializedTrackerAsText`) encode the whole conversation with `json.dumps` after
   every message and decode it with `json.loads` before the next. Here ujson does both: the
   same JSON values (non-ASCII text as UTF-8, which `json` reads as well), so either code
   reads what the other wrote.

`apply()` installs them; it is idempotent and refuses a Rasa other than 3.6.x. `python -m rasa_extensions ...` is Rasa's own
command line with them applied (what `make run`, the Dockerfile and the tests start).
"""
from __future__ import annotations

import asyncio
import operator
import os
import weakref
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Optional, Text, Type

_APPLIED = False
TARGET_RASA = "3.6."


def validate_action_result(self: Any, result: Dict[Text, Any]) -> bool:
    """`RemoteAction._validate_action_result` with a validator built once per process."""
    from jsonschema.exceptions import best_match

    error = best_match(_action_response_validator(type(self)).iter_errors(result))
    if error is None:
        return True
    # the same message Rasa adds (rasa.core.actions.action.RemoteAction)
    from rasa.shared.constants import DOCS_BASE_URL

    error.message += (
        f". Failed to validate Action server response from API, "
        f"make sure your response from the Action endpoint is valid. "
        f"For more information about the format visit "
        f"{DOCS_BASE_URL}/custom-actions"
    )
    raise error


_VALIDATORS: Dict[type, Any] = {}


def _action_response_validator(action_class: type) -> Any:
    validator = _VALIDATORS.get(action_class)
    if validator is None:
        from jsonschema.validators import validator_for

        schema = action_class.action_response_format_spec()
        cls = validator_for(schema)
        cls.check_schema(schema)  # what jsonschema.validate does on every call
        validator = _VALIDATORS[action_class] = cls(schema)
    return validator


_EVENT_TYPES: Dict[Text, type] = {}


def _event_table() -> Dict[Text, type]:
    import rasa.shared.utils.common
    from rasa.shared.core.events import Event

    table: Dict[Text, type] = {}
    for cls in rasa.shared.utils.common.all_subclasses(Event):
        table.setdefault(cls.type_name, cls)  # the first match wins, as in Rasa's loop
    return table


def resolve_by_type(type_name: Text, default: Optional[Type] = None) -> Optional[Type]:
    """`Event.resolve_by_type` through a name → class table."""
    global _EVENT_TYPES
    cls = _EVENT_TYPES.get(type_name)
    if cls is None:
        _EVENT_TYPES = _event_table()
        cls = _EVENT_TYPES.get(type_name)
    if cls is not None:
        return cls
    if type_name == "topic":
        return None  # Rasa: backwards compatibility with old TopicSet events
    if default is not None:
        return default
    raise ValueError(f"Unknown event name '{type_name}'.")


_NLU_THREAD: Optional[ThreadPoolExecutor] = None
_STOCK_PARSE: Any = None


def _nlu_thread() -> ThreadPoolExecutor:
    global _NLU_THREAD
    if _NLU_THREAD is None:
        _NLU_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nlu")
    return _NLU_THREAD


def _run_to_end(coroutine: Any) -> Any:
    """The value of a coroutine that never suspends (Rasa's parse without an HTTP
    interpreter); one that does suspend is closed and reported."""
    try:
        coroutine.send(None)
    except StopIteration as finished:
        return finished.value
    coroutine.close()
    raise RuntimeError("MessageProcessor.parse_message waited on I/O; cannot run it in a thread")


async def parse_message(self: Any, message: Any, tracker: Any = None,
                        only_output_properties: bool = True) -> Dict[Text, Any]:
    """`MessageProcessor.parse_message`, Rasa's own, run in the NLU thread."""
    if self.http_interpreter:
        return await _STOCK_PARSE(self, message, tracker, only_output_properties)
    return await asyncio.get_running_loop().run_in_executor(
        _nlu_thread(), lambda: _run_to_end(_STOCK_PARSE(self, message, tracker, only_output_properties)))


_STOCK_PAST_STATES: Any = None


def past_states(self: Any, domain: Any, omit_unset_slots: bool = False,
                ignore_rule_only_turns: bool = False,
                rule_only_data: Optional[Dict[Text, Any]] = None) -> List[Dict[Text, Any]]:
    """`DialogueStateTracker.past_states`, built once for the same events and arguments."""
    try:
        arguments = (id(domain), omit_unset_slots, ignore_rule_only_turns,
                     None if rule_only_data is None else
                     tuple(sorted((key, tuple(value)) for key, value in rule_only_data.items())))
    except TypeError:  # not a mapping of lists of names: never kept
        return _STOCK_PAST_STATES(self, domain, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
    kept = self.__dict__.get("_nagar_past_states")
    events = self.events
    if kept is None or kept[0] is not domain or len(kept[1]) != len(events) \
            or not all(map(operator.is_, kept[1], events)):
        kept = self.__dict__["_nagar_past_states"] = (domain, tuple(events), {})
    states = kept[2].get(arguments)
    if states is None:
        states = kept[2][arguments] = _STOCK_PAST_STATES(
            self, domain, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
    # a state is {sub-state: {key: str, tuple or number}}: two levels hold everything mutable
    return [{name: dict(sub) for name, sub in state.items()} for state in states]


def serialise_tracker(tracker: Any) -> Text:
    """`SerializedTrackerAsText.serialise_tracker` with ujson."""
    return _dumps(tracker.as_dialogue().as_dict())


def deserialise_tracker(self: Any, sender_id: Text, serialised_tracker: Any) -> Any:
    """`TrackerStore.deserialise_tracker` (Rasa 3.6) with ujson."""
    import ujson
    from rasa.core.tracker_store import TrackerDeserialisationException
    from rasa.shared.core.conversation import Dialogue

    tracker = self.init_tracker(sender_id)
    try:
        dialogue = Dialogue.from_parameters(ujson.loads(serialised_tracker))
    except UnicodeDecodeError as e:
        raise TrackerDeserialisationException(
            "Tracker cannot be deserialised. Trackers must be serialised as json. "
            "Support for deserialising pickled trackers has been removed.") from e
    tracker.recreate_from_dialogue(dialogue)
    return tracker


_STOCK_SESSION: Any = None
KEEPALIVE_S = 2.0
_SESSIONS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Dict[int, Any]] = weakref.WeakKeyDictionary()


def _dumps(value: Any) -> str:
    import ujson

    return ujson.dumps(value, ensure_ascii=False, escape_forward_slashes=False)


class _KeptOpen:
    """`async with` on a kept session: enters it and leaves it open."""

    def __init__(self, session: Any) -> None:
        self.session = session

    async def __aenter__(self) -> Any:
        return self.session

    async def __aexit__(self, *_: Any) -> None:
        return None


def endpoint_session(self: Any) -> Any:
    """`EndpointConfig.session`: one kept-alive session per endpoint and event loop."""
    import aiohttp

    kept = _SESSIONS.setdefault(asyncio.get_running_loop(), {})
    endpoint_and_session = kept.get(id(self))
    if endpoint_and_session is None or endpoint_and_session[1].closed:
        stock = _STOCK_SESSION(self)  # Rasa's headers, authentication and timeout
        session = aiohttp.ClientSession(
            headers=stock.headers, auth=stock.auth, timeout=stock.timeout, json_serialize=_dumps,
            connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_S))
        asyncio.get_running_loop().create_task(stock.close())  # opened no connection
        endpoint_and_session = kept[id(self)] = (self, session)  # the endpoint kept: its id stays its own
    return _KeptOpen(endpoint_and_session[1])


# --- the NLU in a process of its own --------------------------------------------------------

_CHILD: Any = None  # in the NLU process: what MessageProcessor._parse_message_with_graph reads


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


class _Parsed:
    """The processor, as Rasa's parse_message sees it, with the graph's answer already known."""

    def __init__(self, processor: Any, parse_data: Dict[Text, Any]) -> None:
        self._processor, self._parse_data = processor, parse_data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._processor, name)

    def _parse_message_with_graph(self, *_: Any, **__: Any) -> Dict[Text, Any]:
        return self._parse_data


class NluProcess:
    """One process that holds the model's NLU graph and parses one message at a time."""

    def __init__(self, model_path: Any) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # spawn, not fork: OpenMP (e5) and the server's threads do not survive a fork
        self.pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_child_load, initargs=(str(model_path),))
        self.ready = self.pool.submit(_child_ready)

    async def parse(self, message: Any, only_output_properties: bool) -> Dict[Text, Any]:
        return await asyncio.wrap_future(self.pool.submit(
            _child_parse, message.text, message.metadata, message.sender_id, message.message_id,
            only_output_properties))


_NLU_PROCESSES: Dict[int, NluProcess] = {}


async def parse_message_elsewhere(self: Any, message: Any, tracker: Any = None,
                                  only_output_properties: bool = True) -> Dict[Text, Any]:
    """`MessageProcessor.parse_message` with the graph run in the NLU process once it has
    loaded the model (until then, and if it fails, here, as Rasa does)."""
    if self.http_interpreter:
        return await _STOCK_PARSE(self, message, tracker, only_output_properties)
    nlu = _NLU_PROCESSES.get(id(self))
    if nlu is None:
        nlu = _NLU_PROCESSES[id(self)] = NluProcess(self.model_path)
    if nlu.ready.done() and nlu.ready.exception() is None:
        try:
            parse_data = await nlu.parse(message, only_output_properties)
            return await _STOCK_PARSE(_Parsed(self, parse_data), message, tracker, only_output_properties)
        except Exception:  # noqa: BLE001 - the process died or failed: parsed here instead
            import logging

            logging.getLogger(__name__).exception("NLU process failed; parsing in the server")
            _NLU_PROCESSES.pop(id(self), None)
            nlu.pool.shutdown(wait=False)  # the next message starts a new one
    return await _STOCK_PARSE(self, message, tracker, only_output_properties)


_STOCK_PROCESSOR_INIT: Any = None


def processor_init(self: Any, *args: Any, **kwargs: Any) -> None:
    """`MessageProcessor.__init__`, then the NLU process started and waited for (so the server
    answers its first message with it; a process that cannot start is logged and the server
    parses as Rasa does)."""
    _STOCK_PROCESSOR_INIT(self, *args, **kwargs)
    nlu = _NLU_PROCESSES[id(self)] = NluProcess(self.model_path)
    try:
        nlu.ready.result(timeout=NLU_PROCESS_START_S)
    except Exception:  # noqa: BLE001 - logged; parse_message_elsewhere parses here meanwhile
        import logging

        logging.getLogger(__name__).exception("NLU process not ready; parsing in the server")


NLU_PROCESS_START_S = 300


def apply() -> None:
    """Install the speed-ups into Rasa's classes (once per process)."""
    global _APPLIED, _STOCK_PARSE, _STOCK_PAST_STATES, _STOCK_SESSION, _STOCK_PROCESSOR_INIT
    if _APPLIED:
        return
    from rasa.core.actions.action import RemoteAction
    from rasa.core.processor import MessageProcessor
    from rasa.core.tracker_store import SerializedTrackerAsText, TrackerStore
    from rasa.shared.core.events import Event
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig
    from rasa.version import __version__

    if not __version__.startswith(TARGET_RASA):
        raise RuntimeError(f"rasa_extensions.speedups targets Rasa {TARGET_RASA}x, not {__version__}")
    RemoteAction._validate_action_result = validate_action_result
    Event.resolve_by_type = staticmethod(resolve_by_type)
    _STOCK_PARSE = MessageProcessor.parse_message
    _STOCK_PAST_STATES = DialogueStateTracker.past_states
    DialogueStateTracker.past_states = past_states
    SerializedTrackerAsText.serialise_tracker = staticmethod(serialise_tracker)
    TrackerStore.deserialise_tracker = deserialise_tracker
    _STOCK_SESSION = EndpointConfig.session
    EndpointConfig.session = endpoint_session
    if os.environ.get("NAGAR_NLU_THREAD", "0") == "1":  # off by default: docs/benchmarks.md
        MessageProcessor.parse_message = parse_message
    if os.environ.get("NAGAR_NLU_PROCESS", "0") == "1":
        _STOCK_PROCESSOR_INIT = MessageProcessor.__init__
        MessageProcessor.__init__ = processor_init
        MessageProcessor.parse_message = parse_message_elsewhere
    _APPLIED = True
