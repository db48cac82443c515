"""Session start sets the city's facts, and the replies that list the complaint categories
(help, out of scope) list exactly those of city.yml, in its order, in every language: rendered
by Rasa's own response generator from the real domain, with the slots the action sets."""
import asyncio
from pathlib import Path
from typing import Dict, List

import pytest
import yaml
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.session import ActionSessionStart
from civic.city import get_city

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = ("hi", "hinglish", "en")
# Where each reply puts the list: the words just before its opening bracket.
LIST_AFTER = {
    "utter_help": {"hi": "शिकायत दर्ज कर सकता हूँ (", "hinglish": "shikayat darj kar sakta hoon (",
                   "en": "register a complaint ("},
    "utter_out_of_scope": {"hi": "नगर निगम की शिकायतें (", "hinglish": "Nagar Nigam ki shikayatein (",
                           "en": "Nagar Nigam complaints ("},
}


@pytest.fixture
def city_file(tmp_path, monkeypatch):
    """write(categories) -> a copy of city.yml with these categories, in use until the test ends."""
    def write(categories: Dict[str, dict]) -> None:
        config = yaml.safe_load((ROOT / "city.yml").read_text(encoding="utf-8"))
        config["categories"] = categories
        # a service's "register a complaint" button names a category this city must have
        for service in (config.get("services") or {}).values():
            if service.get("complaint") not in categories:
                service.pop("complaint", None)
        path = tmp_path / "city.yml"
        path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
        monkeypatch.setenv("CITY_CONFIG", str(path))
        get_city.cache_clear()

    yield write
    monkeypatch.delenv("CITY_CONFIG", raising=False)
    get_city.cache_clear()


def session_events(language: str) -> List[dict]:
    tracker = Tracker.from_dict({"sender_id": "919800000001", "slots": {"language": language},
                                 "events": [], "latest_message": {}})
    return asyncio.run(ActionSessionStart().run(CollectingDispatcher(), tracker, {}))


def rendered(domain: Domain, response: str, language: str) -> str:
    events = [Event.from_parameters({"event": "slot", "name": "language", "value": language}),
              *(Event.from_parameters(e) for e in session_events(language))]
    tracker = DialogueStateTracker.from_events("919800000001", events, slots=domain.slots)
    message = asyncio.run(TemplatedNaturalLanguageGenerator(domain.responses).generate(
        response, tracker, "whatsapp"))
    return message["text"]


def listed(text: str, response: str, language: str) -> List[str]:
    opening = LIST_AFTER[response][language]
    assert opening in text, text
    return text.split(opening, 1)[1].split(")", 1)[0].split(", ")


def names_in_city_yml(language: str) -> List[str]:
    categories = yaml.safe_load((ROOT / "city.yml").read_text(encoding="utf-8"))["categories"]
    return [entry[language] for entry in categories.values()]


@pytest.mark.parametrize("response", sorted(LIST_AFTER))
@pytest.mark.parametrize("language", LANGUAGES)
def test_replies_list_the_categories_of_city_yml_in_its_order(domain, response, language):
    assert listed(rendered(domain, response, language), response, language) == names_in_city_yml(language)


@pytest.mark.parametrize("response", sorted(LIST_AFTER))
@pytest.mark.parametrize("language", LANGUAGES)
def test_another_citys_categories_are_listed_without_touching_the_domain(domain, city_file, response,
                                                                        language):
    city_file({
        "house_tax": {"department": "tax", "sla_hours": 120, "en": "House tax", "hi": "गृह कर",
                      "hinglish": "House tax"},
        "stray_animals": {"department": "sanitation", "sla_hours": 48, "en": "Stray animals",
                          "hi": "आवारा पशु", "hinglish": "Awara pashu"},
    })
    expected = {"hi": ["गृह कर", "आवारा पशु"], "hinglish": ["House tax", "Awara pashu"],
                "en": ["House tax", "Stray animals"]}[language]
    assert listed(rendered(domain, response, language), response, language) == expected


def test_session_start_keeps_the_language_and_sets_the_lists():
    events = session_events("hi")
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots["language"] == "hi"
    assert slots["category_list_hi"].split(", ") == names_in_city_yml("hi")
    assert events[0]["event"] == "session_started" and events[-1]["name"] == "action_listen"
