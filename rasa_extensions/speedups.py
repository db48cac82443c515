"""Two caches for work Rasa 3.6 repeats on every message, and the NLU off the event loop,
with the same results.

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
   in that thread; with one (not used here) Rasa's own path runs.

`apply()` installs all three; it is idempotent and refuses a Rasa other than 3.6.x. `python -m rasa_extensions ...` is Rasa's own
command line with them applied (what `make run`, the Dockerfile and the tests start).
"""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, Optional, Text, Type

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


def apply() -> None:
    """Install the speed-ups into Rasa's classes (once per process)."""
    global _APPLIED, _STOCK_PARSE
    if _APPLIED:
        return
    from rasa.core.actions.action import RemoteAction
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.events import Event
    from rasa.version import __version__

    if not __version__.startswith(TARGET_RASA):
        raise RuntimeError(f"rasa_extensions.speedups targets Rasa {TARGET_RASA}x, not {__version__}")
    RemoteAction._validate_action_result = validate_action_result
    Event.resolve_by_type = staticmethod(resolve_by_type)
    _STOCK_PARSE = MessageProcessor.parse_message
    MessageProcessor.parse_message = parse_message
    _APPLIED = True
