"""rasa_extensions.speedups gives the same answers as the Rasa 3.6 code it replaces."""
import asyncio
import copy

import jsonschema
import pytest
import rasa.shared.utils.common
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rasa.core.actions.action import RemoteAction
from rasa.shared.core import events as rasa_events
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered
from rasa.shared.utils.schemas.events import EVENT_SCHEMA

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


_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                    st.text(max_size=5))
_FIELDS = ["name", "value", "text", "entities", "timestamp", "metadata", "parse_data",
           "policy", "confidence", "data", "intent"]
_EVENT_NAMES = [b["properties"]["event"]["const"] for b in EVENT_SCHEMA["oneOf"]]
_EVENTS = st.one_of(
    st.fixed_dictionaries(
        {"event": st.sampled_from(_EVENT_NAMES + ["nonsense", ""])},
        optional={key: st.one_of(_SCALARS, st.lists(st.dictionaries(
            st.sampled_from(["entity", "value", "start", "end", "name"]), _SCALARS, max_size=3),
            max_size=2), st.dictionaries(st.sampled_from(["name", "x"]), _SCALARS, max_size=2))
            for key in _FIELDS}),
    _SCALARS,
    st.dictionaries(st.sampled_from(_FIELDS), _SCALARS, max_size=2),  # no event type
    st.fixed_dictionaries({"event": _SCALARS}),
)
_REPLIES = st.one_of(
    st.fixed_dictionaries({}, optional={
        "events": st.one_of(st.lists(_EVENTS, max_size=6), _SCALARS),
        "responses": st.one_of(st.lists(st.one_of(st.dictionaries(st.text(max_size=3), _SCALARS,
                                                                   max_size=2), _SCALARS), max_size=3),
                               _SCALARS)}),
    _SCALARS, st.lists(_SCALARS, max_size=2))


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(result=_REPLIES)
def test_any_reply_is_accepted_or_refused_as_rasa_does(result):
    """The fast check (one event schema per event) against Rasa's whole schema (oneOf)."""
    action = RemoteAction("action_submit_complaint", None)
    try:
        stock_validate(copy.deepcopy(result))
    except jsonschema.ValidationError as stock:
        with pytest.raises(jsonschema.ValidationError) as ours:
            speedups.validate_action_result(action, copy.deepcopy(result))
        assert ours.value.message.startswith(stock.message)
        assert list(ours.value.path) == list(stock.path)
    else:
        assert speedups.validate_action_result(action, copy.deepcopy(result)) is True


def test_a_schema_not_shaped_as_rasas_is_checked_whole():
    """Event schemas that do not each fix `event` to a constant of their own: no fast check."""
    twice = copy.deepcopy(RemoteAction.action_response_format_spec())
    branches = twice["properties"]["events"]["items"]["oneOf"]
    branches.append(copy.deepcopy(branches[0]))  # two schemas for one event type
    assert speedups._dispatching_validators(twice) is None
    loose = copy.deepcopy(RemoteAction.action_response_format_spec())
    loose["properties"]["events"]["items"]["oneOf"].append({"required": ["name"]})
    assert speedups._dispatching_validators(loose) is None
    assert speedups._dispatching_validators({"type": "object"}) is None
    assert speedups._dispatching_validators(RemoteAction.action_response_format_spec()) is not None


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


# --- trackers stored as JSON with ujson ------------------------------------------------------

STORIES = ["tests/stories/test_complaints.yml", "tests/stories/test_basics.yml"]


def story_event_lists(domain):
    """Every test story as Rasa's events: user turns, actions, forms, slots, rejections."""
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader

    lists = []
    for path in STORIES:
        for step in YAMLStoryReader(domain).read_from_file(path):
            lists.append(step.explicit_events(domain))
    return lists


def test_stored_trackers_are_the_same_json_values_and_either_code_reads_the_other(domain):
    import json

    from rasa.core.tracker_store import InMemoryTrackerStore
    from rasa.shared.core.conversation import Dialogue
    from rasa.shared.core.trackers import DialogueStateTracker

    speedups.apply()
    store = InMemoryTrackerStore(domain)
    for n, events in enumerate(story_event_lists(domain)):
        tracker = DialogueStateTracker.from_events(f"s{n}", events, slots=domain.slots)
        tracker.update(UserUttered("वार्ड 12 में लाइट / \"खराब\" 🙏", {"name": "complaint_street_light"}))
        ours = store.serialise_tracker(tracker)
        rasas = json.dumps(tracker.as_dialogue().as_dict())  # Rasa 3.6's serialise_tracker
        assert json.loads(ours) == json.loads(rasas)
        for text in (ours, rasas):
            loaded = store.deserialise_tracker(f"s{n}", text)
            rasa_loaded = store.init_tracker(f"s{n}")  # Rasa 3.6's deserialise_tracker:
            rasa_loaded.recreate_from_dialogue(Dialogue.from_parameters(json.loads(text)))
            assert loaded.current_state() == rasa_loaded.current_state() == tracker.current_state()
            assert list(loaded.events) == list(tracker.events)


# --- applied events worked out once per state of the events ----------------------------------


def _stock_applied_events(tracker):
    return speedups._STOCK_APPLIED["function"](tracker)


def _loop_events():
    """Events that exercise every branch of Rasa's applied_events."""
    from rasa.shared.core.events import (
        ActionReverted,
        ActiveLoop,
        Restarted,
        SessionStarted,
        UserUtteranceReverted,
    )

    return st.sampled_from([
        UserUttered("ward 23", {"name": "inform"}), ActionExecuted("action_listen"),
        ActionExecuted("complaint_form"), ActionExecuted("utter_greet"),
        ActiveLoop("complaint_form"), ActiveLoop(None), SlotSet("ward", 23),
        ActionReverted(), UserUtteranceReverted(), Restarted(), SessionStarted(),
        ActionExecuted("status_form"), ActiveLoop("status_form"),
    ])


@settings(max_examples=300, deadline=None)
@given(events=st.lists(_loop_events(), max_size=40), max_history=st.sampled_from([None, 5]))
def test_applied_events_are_rasas_after_every_event(events, max_history):
    from rasa.shared.core.trackers import DialogueStateTracker

    speedups.apply()
    tracker = DialogueStateTracker.from_events("c", [], max_event_history=max_history)
    for event in events:
        tracker.update(event)
        first = tracker.applied_events()
        assert first == _stock_applied_events(tracker)
        first.append("changed by a caller")  # a caller's list is its own
        assert tracker.applied_events() == _stock_applied_events(tracker)


def test_applied_events_follow_a_tracker_rebuilt_from_stored_events_and_its_copies(domain):
    from rasa.shared.core.trackers import DialogueStateTracker

    speedups.apply()
    assert DialogueStateTracker.applied_events is speedups.applied_events
    for n, events in enumerate(story_event_lists(domain)):
        tracker = DialogueStateTracker.from_events(f"s{n}", events, slots=domain.slots)
        assert tracker.applied_events() == _stock_applied_events(tracker)
        half = DialogueStateTracker.from_events(f"s{n}", events[: len(events) // 2], slots=domain.slots)
        tracker.recreate_from_dialogue(half.as_dialogue())  # Rasa appends these to the events
        assert tracker.applied_events() == _stock_applied_events(tracker)
        copy_ = tracker.copy()
        copy_.update(ActionExecuted("utter_greet"))
        assert copy_.applied_events() == _stock_applied_events(copy_) != tracker.applied_events()


# --- action calls: one kept-alive session, JSON by ujson --------------------------------------


def test_action_calls_reuse_one_connection_and_send_the_same_json_headers_and_auth():
    import json

    from aiohttp import web
    from rasa.utils.endpoints import EndpointConfig

    speedups.apply()
    received = []

    async def webhook(request):
        received.append((request.transport.get_extra_info("peername")[1], request.headers.get("Content-Type"),
                         request.headers.get("X-Nagar"), request.headers.get("Authorization"),
                         await request.text()))
        return web.json_response({"events": [], "responses": []})

    payload = {"tracker": {"latest_message": {"text": "वार्ड 12 में / \"लाइट\" 🙏", "n": [0.1, 1e-7, 2**40]}}}

    async def calls():
        app = web.Application()
        app.router.add_post("/webhook", webhook)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook", headers={"X-Nagar": "1"},
                                  basic_auth={"username": "u", "password": "p"})
        answers = [await endpoint.request(json=payload, method="post") for _ in range(3)]
        await asyncio.sleep(speedups.KEEPALIVE_S + 0.5)  # an idle connection is given up first
        answers.append(await endpoint.request(json=payload, method="post"))
        await runner.cleanup()
        return answers

    for _ in range(2):  # the second event loop (a restarted server's) gets a session of its own
        received.clear()
        assert asyncio.run(calls()) == [{"events": [], "responses": []}] * 4
        ports = [r[0] for r in received]
        assert ports[0] == ports[1] == ports[2] != ports[3]  # kept alive, then renewed after idling
        for _, content_type, custom, auth, body in received:
            assert content_type == "application/json" and custom == "1" and auth.startswith("Basic ")
            assert json.loads(body) == payload


# --- which speed-ups: NAGAR_SPEEDUPS -----------------------------------------------------------


@pytest.mark.parametrize("setting, names", [
    (None, list(speedups.NAMES)), ("", list(speedups.NAMES)), ("all", list(speedups.NAMES)),
    ("none", []), ("sessions", ["sessions"]), ("tracker_json, sessions", ["sessions", "tracker_json"]),
    ("all,-nlu_process", [n for n in speedups.NAMES if n != "nlu_process"]), ("-sessions", []),
])
def test_nagar_speedups_names_which_are_installed(setting, names):
    assert speedups.chosen(setting) == names


def test_an_unknown_speedup_is_a_clear_error_not_a_silent_default():
    with pytest.raises(ValueError, match="unknown speed-up 'fast'.*nlu_process"):
        speedups.chosen("all,fast")
