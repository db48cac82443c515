"""scripts/export_misunderstood.py against a real SQL tracker store (a SQLite file written by
Rasa's SQLTrackerStore) and against tracker JSON dumps."""
import asyncio
import json

import pytest
import yaml

from scripts.export_misunderstood import main


def user(text, intent, confidence, ranking=None):
    from rasa.shared.core.events import UserUttered

    ranking = ranking or [{"name": intent, "confidence": confidence}]
    return UserUttered(text, intent={"name": intent, "confidence": confidence},
                       parse_data={"intent": {"name": intent, "confidence": confidence},
                                   "intent_ranking": ranking, "entities": [], "text": text})


def action(name):
    from rasa.shared.core.events import ActionExecuted

    return ActionExecuted(name)


def conversations():
    fallback = [{"name": "nlu_fallback", "confidence": 0.45},
                {"name": "complaint_street_light", "confidence": 0.41},
                {"name": "greet", "confidence": 0.2}]
    return {
        "citizen-1": [
            user("light  nahi jal rahi", "nlu_fallback", 0.45, fallback),
            action("action_default_ask_affirmation"),
            user("hello", "greet", 0.99), action("utter_greet"),
            user("/greet", "greet", 1.0),  # a button payload: never exported
            user("kya haal", "greet", 0.52), action("utter_greet"),
        ],
        "citizen-2": [
            user("Light nahi jal rahi", "nlu_fallback", 0.45, fallback),
            action("action_default_ask_affirmation"),
            user("meri bakri kho gayi", "out_of_scope", 0.93), action("action_default_fallback"),
            user("status", "complaint_status", 0.97), action("action_complaint_status"),
        ],
    }


@pytest.fixture
def tracker_store_url(tmp_path):
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    path = tmp_path / "rasa.db"
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(path))

    async def write():
        for sender, events in conversations().items():
            await store.save(DialogueStateTracker.from_events(sender, events))

    asyncio.run(write())
    store.engine.dispose()
    return f"sqlite:///{path}"


def read_export(path):
    text = path.read_text(encoding="utf-8")
    return text, yaml.safe_load(text)


def test_export_from_the_sql_tracker_store(tracker_store_url, tmp_path):
    out = tmp_path / "misunderstood.yml"
    assert main(["--url", tracker_store_url, "--out", str(out)]) == 0
    text, data = read_export(out)
    groups = {g["intent"]: g["examples"].split("\n- ") for g in data["nlu"]}
    examples = {intent: [e.strip("- \n") for e in items] for intent, items in groups.items()}
    assert examples == {
        "complaint_street_light": ["light nahi jal rahi"],  # twice, de-duplicated
        "greet": ["kya haal"],  # confidence 0.52 < 0.6
        "out_of_scope": ["meri bakri kho gayi"],  # followed by action_default_fallback
    }
    assert [g["intent"] for g in data["nlu"]][0] == "complaint_street_light"  # most frequent first
    assert "# 2x  confidence 0.41  action_default_ask_affirmation+nlu_fallback: light nahi jal rahi" in text
    assert "1x  confidence 0.93  action_default_fallback: meri bakri kho gayi" in text


def test_export_is_valid_rasa_training_data(tracker_store_url, tmp_path):
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    out = tmp_path / "misunderstood.yml"
    main(["--url", tracker_store_url, "--out", str(out)])
    training = RasaYAMLReader().reads(out.read_text(encoding="utf-8"))
    assert sorted(m.get("text") for m in training.intent_examples) == [
        "kya haal", "light nahi jal rahi", "meri bakri kho gayi"]


@pytest.mark.parametrize("threshold, expected", [
    # below 0.5: only the fallback and the message the bot answered with its fallback action
    ("0.5", ["light nahi jal rahi", "meri bakri kho gayi"]),
    # the default 0.6 adds "kya haal" (0.52)
    ("0.6", ["kya haal", "light nahi jal rahi", "meri bakri kho gayi"]),
    # 0.98 adds "status" (0.97); "hello" (0.99) stays understood
    ("0.98", ["kya haal", "light nahi jal rahi", "meri bakri kho gayi", "status"]),
])
def test_the_threshold_changes_what_counts_as_misunderstood(tracker_store_url, tmp_path,
                                                            threshold, expected):
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    out = tmp_path / "export.yml"
    main(["--url", tracker_store_url, "--out", str(out), "--threshold", threshold])
    training = RasaYAMLReader().reads(out.read_text(encoding="utf-8"))
    assert sorted(m.get("text") for m in training.intent_examples) == expected


def test_export_from_tracker_dumps(tmp_path):
    from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

    dumps = [DialogueStateTracker.from_events(sender, events).current_state(EventVerbosity.ALL)
             for sender, events in conversations().items()]
    lines = tmp_path / "trackers.jsonl"
    lines.write_text("\n".join(json.dumps(d) for d in dumps), encoding="utf-8")
    one = tmp_path / "one.json"
    one.write_text(json.dumps(dumps[1]), encoding="utf-8")
    out = tmp_path / "from-files.yml"
    assert main(["--trackers", str(lines), str(one), "--out", str(out)]) == 0
    text, data = read_export(out)
    assert "# 3x  confidence 0.41" in text  # two from the lines file, one from one.json
    assert {g["intent"] for g in data["nlu"]} == {"complaint_street_light", "greet", "out_of_scope"}


def test_nothing_misunderstood_gives_an_empty_valid_file(tmp_path):
    from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

    dump = DialogueStateTracker.from_events("c", [user("hello", "greet", 0.99)]).current_state(
        event_verbosity=EventVerbosity.ALL)
    path = tmp_path / "t.json"
    path.write_text(json.dumps(dump), encoding="utf-8")
    out = tmp_path / "none.yml"
    main(["--trackers", str(path), "--out", str(out)])
    assert read_export(out)[1]["nlu"] == []
