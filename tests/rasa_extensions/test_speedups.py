"""rasa_extensions.speedups gives the same answers as the Rasa 3.6 code it replaces."""
import copy

import jsonschema
import pytest
import rasa.shared.utils.common
from rasa.core.actions.action import RemoteAction
from rasa.shared.core import events as rasa_events
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered

from rasa_extensions import speedups

VALID = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "ward", "value": 23, "timestamp": None}],
     "responses": [{"response": "utter_ask_location", "ward": 23}]},
    {"events": [{"event": "followup", "name": "complaint_form", "timestamp": None},
                {"event": "active_loop", "name": None},
                {"event": "action", "name": "action_listen", "policy": None, "confidence": None},
                {"event": "user", "text": "पानी", "parse_data": {"intent": {"name": "x"}}},
                {"event": "bot", "text": "…", "data": {}, "metadata": {}}]},
    {},
]
INVALID = [
    {"events": "not a list"},
    {"events": [{"event": "slot"}]},                      # a slot event without a name
    {"events": [{"event": "no_such_event"}]},
    {"events": [{"name": "ward", "value": 1}]},           # no event type
    {"responses": [1, 2]},
    [],
]


def stock_validate(result):
    """What Rasa 3.6's RemoteAction._validate_action_result checks."""
    jsonschema.validate(result, RemoteAction.action_response_format_spec())


def stock_resolve(type_name, default=None):
    for cls in rasa.shared.utils.common.all_subclasses(Event):
        if cls.type_name == type_name:
            return cls
    if type_name == "topic":
        return None
    if default is not None:
        return default
    raise ValueError(f"Unknown event name '{type_name}'.")


@pytest.fixture
def action():
    return RemoteAction("action_submit_complaint", None)


@pytest.mark.parametrize("result", VALID)
def test_valid_replies_pass_both(action, result):
    stock_validate(copy.deepcopy(result))
    assert speedups.validate_action_result(action, copy.deepcopy(result)) is True


@pytest.mark.parametrize("result", INVALID)
def test_invalid_replies_fail_both_with_the_same_error(action, result):
    with pytest.raises(jsonschema.ValidationError) as stock:
        stock_validate(copy.deepcopy(result))
    with pytest.raises(jsonschema.ValidationError) as ours:
        speedups.validate_action_result(action, copy.deepcopy(result))
    assert ours.value.message.startswith(stock.value.message)
    assert "Failed to validate Action server response" in ours.value.message
    assert list(ours.value.path) == list(stock.value.path)


def test_every_event_type_resolves_to_the_same_class():
    names = {cls.type_name for cls in rasa.shared.utils.common.all_subclasses(Event)}
    assert {"user", "bot", "slot", "action", "active_loop", "session_started"} <= names
    for name in names:
        assert speedups.resolve_by_type(name) is stock_resolve(name)


def test_unknown_event_types_behave_as_in_rasa():
    assert speedups.resolve_by_type("topic") is None
    assert speedups.resolve_by_type("nonsense", default=SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name 'nonsense'"):
        speedups.resolve_by_type("nonsense")


def test_an_event_class_imported_later_is_found():
    class CitizenWaved(Event):  # defined after the table was first built
        type_name = "nagar_test_waved"

        def __eq__(self, other):
            return isinstance(other, CitizenWaved)

        def __hash__(self):
            return 1

        def as_story_string(self):
            return None

    speedups.resolve_by_type("user")
    assert speedups.resolve_by_type("nagar_test_waved") is CitizenWaved


def test_apply_installs_both_and_events_round_trip():
    speedups.apply()
    speedups.apply()  # idempotent
    assert Event.resolve_by_type is speedups.resolve_by_type
    assert RemoteAction._validate_action_result is speedups.validate_action_result
    original = [UserUttered("ward 23 में पानी", {"name": "complaint_drinking_water"}),
                SlotSet("ward", 23), ActionExecuted("complaint_form")]
    dicts = [event.as_dict() for event in original]
    assert rasa_events.deserialise_events(dicts) == original
