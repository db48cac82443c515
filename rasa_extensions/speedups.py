"""Caches for work Rasa 3.6 repeats on every message, and the NLU in a process of its own,
with the same results.

Measured in docs/benchmarks.md (profile of the Rasa server under 20 concurrent citizens):

1. `schema`: **Action-server replies are validated against a schema compiled once.**
   `RemoteAction._validate_action_result` calls `jsonschema.validate(result, schema)` for
   every reply from the action server. That builds a new validator and first re-checks the
   (constant) schema against JSON Schema's meta-schema, every time; the check costs more
   than validating the reply. Here the schema is checked once, when the validator is built,
   and each reply is validated with it. A reply that breaks the schema raises the same
   `ValidationError` with the same message as before. A valid reply is recognised without
   the schema's `oneOf` over the 23 event types: each event is checked against the one
   schema its `event` names (the only one it can match), 1.9 ms -> 0.2 ms a reply.

2. `events`: **Event classes are looked up in a table.**
   `Event.resolve_by_type(name)` walks every subclass of `Event` (with an
   `inspect.isabstract` check each) to find the class for one serialised event. Rasa calls
   it for every event of a conversation each time it loads one from the tracker store, and
   for every event an action returns. Here the walk runs once and builds a name → class
   table; a name not in it (an event class imported later) walks again, and what is still
   unknown behaves exactly as in Rasa (`topic` → None, the default, or `ValueError`).

3. `nlu_process`: **The NLU runs in a process of its own** (`rasa_extensions.nlu_process`): the server's
   event loop no longer waits for the NLU graph, and the graph uses the second core.

4. `sessions`: **Action calls reuse their connection and encode JSON with ujson.**
   `EndpointConfig.request` opens a new `aiohttp.ClientSession` (a new TCP connection) for
   every call to the action server and encodes the conversation it sends with the standard
   `json` module. Here `EndpointConfig.session()` gives one session per endpoint and event
   loop, kept open (its `async with` leaves it open), whose connections are kept alive for
   2 s (less than the 5 s after which Sanic, the action server, closes an idle one, so a
   call never lands on a connection the server is closing), and which encodes with ujson
   (already one of Rasa's dependencies; the same JSON values, non-ASCII text as UTF-8).
   Headers, authentication and the timeout are Rasa's own.

5. `tracker_json`: **Trackers are stored and loaded as JSON with ujson.** The in-memory and Redis tracker
   stores (`SerializedTrackerAsText`) encode the whole conversation with `json.dumps` after
   every message and decode it with `json.loads` before the next. Here ujson does both: the
   same JSON values (non-ASCII text as UTF-8, which `json` reads as well), so either code
   reads what the other wrote.

6. `applied_events`: **A tracker's applied events are worked out once per state of its events.**
   `DialogueStateTracker.applied_events()` walks the whole conversation (undoing reverted
   actions and a form's earlier executions); the policies' states and the processor's
   session checks call it several times for the same events in one prediction. Here the
   answer is kept on the tracker until an event is added.

`apply()` installs them (`NAGAR_SPEEDUPS` names which: all by default, "all,-nlu_process"
leaves one out, "none" is Rasa's own code); it is idempotent and refuses a Rasa other than 3.6.x. `python -m rasa_extensions ...` is Rasa's own
command line with them applied (what `make run`, the Dockerfile and the tests start).
"""
from __future__ import annotations

import asyncio
import os
import weakref
from typing import Any, Dict, List, Optional, Text, Type

_APPLIED = False
TARGET_RASA = "3.6."


def validate_action_result(self: Any, result: Dict[Text, Any]) -> bool:
    """`RemoteAction._validate_action_result` with validators built once per process, and a
    reply that is valid recognised without the `oneOf` over every event type.

    Rasa's schema checks each event against all 23 event schemas (`oneOf`), building an
    error for each of the 22 that do not match: ~1.9 ms for a form step's reply. Every one
    of those schemas fixes `event` to a constant of its own, so an event matches exactly
    one of them if and only if it matches the one its `event` names; that one is checked
    (0.2 ms). Anything that fails is checked again against Rasa's whole schema, and that
    check's error is raised, as Rasa raises it.
    """
    if _fast_check(type(self), result):
        return True
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


# Per action class: (the reply's schema without the events' oneOf, {event name: its
# schema's validator}), or None where the schema is not shaped as Rasa 3.6's is.
_DISPATCH: Dict[type, Any] = {}


def _fast_check(action_class: type, result: Any) -> bool:
    """True only if `result` satisfies Rasa's reply schema (False: not known here)."""
    if action_class not in _DISPATCH:
        _DISPATCH[action_class] = _dispatching_validators(action_class.action_response_format_spec())
    dispatch = _DISPATCH[action_class]
    if dispatch is None:
        return False
    outer, by_event = dispatch
    if not outer.is_valid(result):
        return False
    events = result.get("events") if isinstance(result, dict) else None
    for event in events or ():
        validator = by_event.get(event["event"])  # outer checked: an object with a string event
        if validator is None or not validator.is_valid(event):
            return False
    return True


def _dispatching_validators(schema: Dict[Text, Any]) -> Any:
    """Validators derived from Rasa's own reply schema: the schema with the events' `oneOf`
    taken out, and one validator per event schema keyed by the constant it fixes `event`
    to. None unless every branch fixes a different constant (then only one can match)."""
    import copy

    from jsonschema.validators import validator_for

    outer = copy.deepcopy(schema)
    try:
        item = outer["properties"]["events"]["items"]
        branches = item.pop("oneOf")
        names = [branch["properties"]["event"]["const"] for branch in branches]
    except (KeyError, TypeError):
        return None
    if len(set(names)) != len(names) or not all(isinstance(n, str) for n in names):
        return None
    cls = validator_for(schema)
    by_event = {name: cls(branch) for name, branch in zip(names, branches)}
    return cls(outer), by_event


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


def _dumps(value: Any) -> str:
    import ujson

    return ujson.dumps(value, ensure_ascii=False, escape_forward_slashes=False)


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


# Rasa's own DialogueStateTracker.applied_events, once replaced.
_STOCK_APPLIED: Dict[str, Any] = {}


def applied_events(self: Any) -> List[Any]:
    """`DialogueStateTracker.applied_events` (Rasa 3.6), remembered until the events change.

    Every policy's states and several of the processor's checks call it for the same
    tracker within one prediction; each call walks the whole conversation. The answer is
    kept on the tracker with the events it came from: Rasa only ever appends to a
    tracker's event deque (`update`, `recreate_from_dialogue`), so the same deque with the
    same length (and the same last event) holds the same events. Not so for a deque with a
    maximum length (`max_event_history`), which drops its first event as it appends: such
    a tracker is left to Rasa's code. Each caller gets a list of its own, as from Rasa.
    """
    events = self.events
    if events.maxlen is not None:
        return _STOCK_APPLIED["function"](self)
    count = len(events)
    last = events[-1] if count else None
    kept = self.__dict__.get("_nagar_applied_events")
    if kept is not None and kept[0] is events and kept[1] == count and kept[2] is last:
        return list(kept[3])
    applied = _STOCK_APPLIED["function"](self)
    self.__dict__["_nagar_applied_events"] = (events, count, last, applied)
    return list(applied)


_STOCK_SESSION: Any = None
KEEPALIVE_S = 2.0
_SESSIONS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Dict[int, Any]] = weakref.WeakKeyDictionary()


class _KeptOpen:
    """`async with` on a kept session: enters it and leaves it open."""

    def __init__(self, session: Any) -> None:
        self.session = session

    async def __aenter__(self) -> Any:
        return self.session

    async def __aexit__(self, *_: Any) -> None:
        return None


def _close_sessions(kept: Dict[int, Any]) -> None:
    """Close the kept sessions' connections (no loop is left to await their close)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # "close() is a coroutine": no loop
        for _, session in kept.values():
            if session.connector is not None:
                session.connector.close()


def endpoint_session(self: Any) -> Any:
    """`EndpointConfig.session`: one kept-alive session per endpoint and event loop."""
    import aiohttp

    loop = asyncio.get_running_loop()
    kept = _SESSIONS.get(loop)
    if kept is None:
        kept = _SESSIONS[loop] = {}
        weakref.finalize(loop, _close_sessions, kept)  # when the loop goes, or at exit
    endpoint_and_session = kept.get(id(self))
    if endpoint_and_session is None or endpoint_and_session[1].closed:
        stock = _STOCK_SESSION(self)  # Rasa's headers, authentication and timeout
        session = aiohttp.ClientSession(
            headers=stock.headers, auth=stock.auth, timeout=stock.timeout, json_serialize=_dumps,
            connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_S))
        loop.create_task(stock.close())  # opened no connection
        endpoint_and_session = kept[id(self)] = (self, session)  # the endpoint kept: its id stays its own
    return _KeptOpen(endpoint_and_session[1])


NAMES = ("schema", "events", "sessions", "tracker_json", "nlu_process", "applied_events")  # 1, 2, 4, 5, 3, 6


def chosen(setting: Optional[str]) -> List[str]:
    """The speed-ups NAGAR_SPEEDUPS names: "all" (the default, also when empty), "none", names separated by
    commas, and "-name" to leave one out ("all,-nlu_process")."""
    names = set()
    for token in (setting or "all").replace(" ", "").split(","):
        if token in ("", "none"):
            continue
        name = token.lstrip("-")
        if name != "all" and name not in NAMES:
            raise ValueError(f"NAGAR_SPEEDUPS: unknown speed-up {name!r}; known: all, none, {', '.join(NAMES)}")
        group = set(NAMES) if name == "all" else {name}
        names = names - group if token.startswith("-") else names | group
    return [name for name in NAMES if name in names]


def apply() -> None:
    """Install the speed-ups NAGAR_SPEEDUPS names (all by default) into Rasa's classes, once
    per process. One can be switched off (measured alone in docs/benchmarks.md)."""
    global _APPLIED, _STOCK_SESSION
    if _APPLIED:
        return
    from rasa.core.actions.action import RemoteAction
    from rasa.core.processor import MessageProcessor
    from rasa.core.tracker_store import SerializedTrackerAsText, TrackerStore
    from rasa.shared.core.events import Event
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig
    from rasa.version import __version__

    from rasa_extensions import nlu_process

    if not __version__.startswith(TARGET_RASA):
        raise RuntimeError(f"rasa_extensions.speedups targets Rasa {TARGET_RASA}x, not {__version__}")
    names = chosen(os.environ.get("NAGAR_SPEEDUPS"))
    if "schema" in names:
        RemoteAction._validate_action_result = validate_action_result
    if "events" in names:
        Event.resolve_by_type = staticmethod(resolve_by_type)
    if "tracker_json" in names:
        SerializedTrackerAsText.serialise_tracker = staticmethod(serialise_tracker)
        TrackerStore.deserialise_tracker = deserialise_tracker
    if "sessions" in names:
        _STOCK_SESSION = EndpointConfig.session
        EndpointConfig.session = endpoint_session
    if "nlu_process" in names:
        nlu_process.install(MessageProcessor)
    if "applied_events" in names:
        _STOCK_APPLIED["function"] = DialogueStateTracker.applied_events
        DialogueStateTracker.applied_events = applied_events
    _APPLIED = True
