"""What the assistant says before any action has run (the action server down, or a first
message) comes from the domain alone: the city's default language and the city's facts are
the slots' initial values (domain/city_facts.yml, generated from city.yml).

Round 2 found "helpline None" when the action server was down, and English replies to a
first emoji, "hlo" or voice note in a Hindi-speaking city."""
import asyncio
import re

import pytest
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from channels import replies
from civic.city import get_city

LANGUAGES = ("hi", "hinglish", "en")
FACTS = re.compile(r"\{(helpline|city_name_\w+|office_hours_\w+|covid_\w+|category_list_\w+|ward_count)\}")


def fresh_tracker(domain, *events):
    """A conversation as Rasa holds it when no action of ours has run yet."""
    return DialogueStateTracker.from_events("919800000001", list(events), slots=domain.slots)


def render(domain, tracker, response):
    message = asyncio.run(TemplatedNaturalLanguageGenerator(domain.responses).generate(
        response, tracker, "whatsapp"))
    return message["text"]


def responses_naming_only_city_facts(domain):
    """Responses whose every placeholder is a city fact (the fallbacks, help, handoff ...)."""
    names = []
    for name, variants in domain.responses.items():
        texts = [v.get("text") or "" for v in variants]
        placeholders = {p for t in texts for p in re.findall(r"\{(\w+)\}", t)}
        if placeholders and all(FACTS.fullmatch(f"{{{p}}}") for p in placeholders):
            names.append(name)
    return names


def test_a_new_conversation_is_in_the_citys_default_language(domain):
    assert get_city().default_language == "hi"
    assert fresh_tracker(domain).get_slot("language") == "hi"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_reply_naming_the_helpline_names_it_without_the_action_server(domain, language):
    names = responses_naming_only_city_facts(domain)
    assert {"utter_default", "utter_no_reply", "utter_action_failed", "utter_frustration",
            "utter_human_handoff", "utter_help", "utter_greet"} <= set(names)
    tracker = fresh_tracker(domain, SlotSet("language", language))
    for name in names:
        text = render(domain, tracker, name)
        assert "None" not in text, (name, text)
        if "{helpline}" in str(domain.responses[name]):
            assert get_city().helpline in text, (name, text)


def test_the_channels_own_replies_default_to_the_citys_language():
    # no tracker store, no words (a voice note as the first message)
    language = asyncio.run(replies.reply_language(object(), "919800000001", None))
    assert language == get_city().default_language
    assert asyncio.run(replies.reply_language(object(), "919800000001", "hello, any update?")) == "en"
