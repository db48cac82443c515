"""Other agencies and municipal services: answered from city.yml in three languages, never a
ticket; the street light (the corporation's) told apart from the power at home."""
import asyncio
import re
from pathlib import Path

import pytest
import yaml
from domain_support import DOMAIN
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.services import ActionMunicipalService, ActionOtherAgency
from civic.city import get_city, load_city
from civic.knowledge import find_agency, find_service, power_kind, service_of_the_complaint_named
from nlu_components.message_rules import MessageRules

ROOT = Path(__file__).resolve().parent.parent
CITY_YML = ROOT / "city.yml"
RESPONSES = DOMAIN["responses"]
LANGUAGES = ("hi", "hinglish", "en")


def tracker(text, intent, entities=(), language="en"):
    return Tracker.from_dict({
        "sender_id": "919876543210",
        "slots": {"language": language},
        "latest_message": {"text": text, "intent": {"name": intent}, "entities": list(entities)},
        "events": [],
    })


def run(action, state):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, state, {}))
    return dispatcher.messages, events


def render(message, language):
    """The text the citizen reads: the response's variation for `language`, filled in."""
    for variation in RESPONSES[message["response"]]:
        condition = (variation.get("condition") or [{}])[0].get("value", "en")
        if condition == language:
            return variation["text"].format(**message)
    return next(v for v in RESPONSES[message["response"]] if "condition" not in v)["text"].format(**message)


# -- city.yml ----------------------------------------------------------------------------------

def test_every_agency_number_names_its_source():
    lines = CITY_YML.read_text(encoding="utf-8").splitlines()
    agencies = yaml.safe_load(CITY_YML.read_text(encoding="utf-8"))["agencies"]
    assert set(agencies) >= {"electricity", "police", "ambulance", "fire", "women_helpline",
                             "ration_card", "aadhaar", "public_grievance"}
    numbers_lines = [i for i, line in enumerate(lines) if line.strip().startswith("numbers:")]
    assert len(numbers_lines) == len(agencies)
    for i in numbers_lines:
        # a comment on the line, or a comment just above it
        assert "#" in lines[i] or lines[i - 1].strip().startswith("#"), lines[i]


def test_required_numbers():
    city = get_city()
    assert "1912" in city.agencies["electricity"].numbers
    assert city.agencies["police"].numbers[0] == "112"
    assert city.agencies["ambulance"].numbers[0] == "108"
    assert city.agencies["fire"].numbers[0] == "101"
    assert {"1090", "181"} <= set(city.agencies["women_helpline"].numbers)
    assert city.agencies["aadhaar"].numbers == ("1947",)
    assert city.agencies["public_grievance"].numbers == ("1076",)


def test_the_control_room_is_not_the_assistants_whatsapp_number(tmp_path):
    city = get_city()
    assert city.control_room and city.control_room != city.whatsapp_number
    assert city.helpline == city.control_room
    text = CITY_YML.read_text(encoding="utf-8")
    # without a control room, replies fall back to the WhatsApp number
    other = tmp_path / "city.yml"
    other.write_text(re.sub(r'\n  control_room: "\d+"', "", text), encoding="utf-8")
    assert load_city(other).helpline == city.whatsapp_number


def test_an_agency_without_its_languages_is_refused(tmp_path):
    text = CITY_YML.read_text(encoding="utf-8").replace(
        'name: {en: Police, hi: पुलिस, hinglish: Police}', 'name: {en: Police}')
    bad = tmp_path / "city.yml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="agencies.police.name"):
        load_city(bad)


# -- street light or power at home --------------------------------------------------------------

@pytest.mark.parametrize("text, kind", [
    ("street light kharab hai", "street"), ("स्ट्रीट लाइट खराब है", "street"),
    ("the street light is not working", "street"), ("gali ki light nahi jal rahi", "street"),
    ("khambe ki light band hai", "street"), ("गली की लाइट बंद है", "street"),
    ("mere ghar ke bahar wali light toot gayi", "street"),
    ("ghar ki bijli nahi aa rahi", "home"), ("घर की बिजली नहीं आ रही", "home"),
    ("no power at home since morning", "home"), ("10 ghante se bijli nahi hai", "home"),
    ("bijli ka meter jal gaya", "home"), ("transformer phat gaya", None),
    ("light nahi aa rahi", "ambiguous"), ("लाइट नहीं आ रही", "ambiguous"),
    ("no light since morning", "ambiguous"), ("light chali gayi", "ambiguous"),
    ("the light is not working", "street"), ("light kharab hai ward 9 me", "street"),
    ("light nhi jal rhi", "street"), ("light", None),
    ("paani nahi aa raha", None), ("hello", None),
])
def test_power_kind(text, kind):
    assert power_kind(text) == kind


def rules_message(text, intent, entities=()):
    message = Message(data={TEXT: text, INTENT: {"name": intent, "confidence": 0.6},
                            INTENT_RANKING_KEY: [{"name": intent, "confidence": 0.6}],
                            ENTITIES: list(entities)})
    MessageRules({}).process([message])
    return message


@pytest.mark.parametrize("text, classified, intent", [
    # the classifier's mistakes are put right by the words
    ("ghar ki bijli nahi aa rahi", "complaint_street_light", "other_agency"),
    ("घर की बिजली नहीं आ रही", "complaint_street_light", "other_agency"),
    ("no power at home since morning", "out_of_scope", "other_agency"),
    ("street light kharab hai", "other_agency", "complaint_street_light"),
    ("स्ट्रीट लाइट खराब है", "other_agency", "complaint_street_light"),
    # asked about
    ("light nahi aa rahi", "complaint_street_light", "other_agency"),
    ("light nahi aa rahi", "nlu_fallback", "other_agency"),  # unsure between the two
    ("लाइट नहीं आ रही", "nlu_fallback", "other_agency"),
    ("कल रात से लाइट नहीं आ रही", "complaint_street_light", "other_agency"),  # round 4 (24): when is not which
    ("2 din se light nahi aa rahi", "complaint_street_light", "other_agency"),
    # right already
    ("street light kharab hai", "complaint_street_light", "complaint_street_light"),
    ("ghar ki bijli nahi aa rahi", "other_agency", "other_agency"),
    ("paani nahi aa raha", "complaint_drinking_water", "complaint_drinking_water"),
])
def test_message_rules_tell_street_light_from_power(text, classified, intent):
    assert rules_message(text, classified).get(INTENT)["name"] == intent


@pytest.mark.parametrize("language", LANGUAGES)
def test_ambiguous_light_asks_which_with_two_buttons(language):
    messages, events = run(ActionOtherAgency(), tracker("light nahi aa rahi", "other_agency",
                                                        language=language))
    assert [m["response"] for m in messages] == ["utter_ask_light_which"]
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert payloads == ["/complaint_street_light", '/other_agency{"agency":"electricity"}']
    assert "1912" in render(messages[0], language)
    assert events == []


@pytest.mark.parametrize("text, language", [
    ("ghar ki bijli nahi aa rahi", "hinglish"), ("घर की बिजली नहीं आ रही", "hi"),
    ("no power at home since morning", "en"), ('/other_agency{"agency":"electricity"}', "en"),
])
def test_power_at_home_is_the_power_company(text, language):
    entities = [{"entity": "agency", "value": "electricity"}] if text.startswith("/") else []
    messages, events = run(ActionOtherAgency(), tracker(text, "other_agency", entities, language))
    assert messages[0]["response"] == "utter_other_agency"
    shown = render(messages[0], language)
    assert "1912" in shown and "PVVNL" in shown
    assert events == []  # no ticket, no form


# -- each agency in three scripts ----------------------------------------------------------------

AGENCY_MESSAGES = {
    "electricity": ("घर में बिजली नहीं है, ट्रांसफार्मर खराब", "ghar me power cut 10 ghante se", "power cut at home for ten hours"),
    "police": ("मेरे घर में चोरी हो गई", "ghar me chori ho gayi police ko batana hai", "my phone was stolen, I want to tell the police"),
    "ambulance": ("एम्बुलेंस चाहिए", "ambulance bhejo jaldi", "need an ambulance"),
    "fire": ("दुकान में आग लग गई", "aag lag gayi hai", "there is a fire in our building"),
    "women_helpline": ("महिला हेल्पलाइन नंबर", "mahila helpline ka number", "women helpline number"),
    "ration_card": ("राशन कार्ड बनवाना है", "ration card kaise banega", "how to get a ration card"),
    "aadhaar": ("आधार कार्ड में पता बदलना है", "aadhar card me naam galat hai", "update my aadhaar address"),
    "public_grievance": ("मुख्यमंत्री हेल्पलाइन पर शिकायत", "cm helpline ka number", "jansunwai portal complaint"),
}


@pytest.mark.parametrize("agency", sorted(AGENCY_MESSAGES))
def test_each_agency_is_named_in_three_scripts_and_answered_in_that_language(agency):
    city = get_city()
    for text, language in zip(AGENCY_MESSAGES[agency], LANGUAGES):
        assert find_agency(text, city) == agency, text
        messages, events = run(ActionOtherAgency(), tracker(text, "other_agency", (), language))
        assert messages[0]["response"] in ("utter_other_agency", "utter_other_agency_emergency")
        shown = render(messages[0], language)
        assert city.agencies[agency].numbers[0] in shown
        assert city.agencies[agency].text(language) in shown
        script = sum("\u0900" <= c <= "\u097f" for c in shown)
        assert (script > 0) == (language == "hi"), (agency, language, shown)
        assert events == []


def test_an_agency_not_named_gets_the_list_of_numbers():
    messages, _ = run(ActionOtherAgency(), tracker("kisi aur vibhag ka number", "other_agency"))
    assert messages[0]["response"] == "utter_agency_list"
    for number in ("1912", "112", "108", "101", "1947", "1076"):
        assert number in messages[0]["agency_list"]


# -- municipal services ---------------------------------------------------------------------------

SERVICE_MESSAGES = {
    "birth_certificate": ("जन्म प्रमाण पत्र कैसे बनेगा", "janm praman patra banwana hai", "how do I get a birth certificate"),
    "death_certificate": ("मृत्यु प्रमाण पत्र चाहिए", "mrityu praman patra kaise milega", "death certificate for my father"),
    "house_tax_payment": ("हाउस टैक्स कैसे जमा करें", "house tax online kaise bhare", "how do I pay house tax"),
    "water_connection": ("नया पानी का कनेक्शन लेना है", "naya pani ka connection chahiye", "new water connection"),
    "sewer_connection": ("सीवर कनेक्शन कैसे लें", "sewer connection lena hai", "how to get a sewer connection"),
    "trade_licence": ("दुकान का लाइसेंस बनवाना है", "trade license kaise banega", "apply for a trade licence"),
    "property_mutation": ("मकान का नामांतरण कराना है", "dakhil kharij karwana hai", "property mutation after my father died"),
}


@pytest.mark.parametrize("service", sorted(SERVICE_MESSAGES))
def test_each_service_in_three_scripts_with_a_complaint_button(service):
    city = get_city()
    for text, language in zip(SERVICE_MESSAGES[service], LANGUAGES):
        assert find_service(text, city) == service, text
        messages, events = run(ActionMunicipalService(),
                               tracker(text, "municipal_service", (), language))
        assert [m["response"] for m in messages] == ["utter_municipal_service",
                                                      "utter_municipal_service_online"]
        shown = render(messages[0], language)
        assert city.services[service].field("office", language) in shown
        assert city.services[service].field("documents", language) in shown
        assert city.services[service].website in render(messages[1], language)
        assert city.helpline in render(messages[1], language)
        button = messages[1]["buttons"][0]["payload"]
        category = city.services[service].complaint
        assert button == (f"/complaint_{category}" if category else "/report_complaint")
        assert events == []


def test_paying_house_tax_is_a_service_a_wrong_bill_is_a_complaint():
    city = get_city()
    assert find_service("How do I pay house tax", city) == "house_tax_payment"
    assert find_service("हाउस टैक्स कैसे जमा करें", city) == "house_tax_payment"
    assert find_service("my house tax bill is wrong", city) is None
    assert find_service("house tax ka bill galat aaya hai", city) is None


@pytest.mark.parametrize("text, expected", [
    ("accha ye btao office kaha h house tax wala aur kya kya kagaz lekr jau", "house_tax_payment"),  # round 4 (09)
    ("सीवर वाला काम कहाँ होता है, कौन से कागज़ चाहिए", "sewer_connection"),
    ("which office and what documents", None),  # no complaint named: the list of services
    ("house tax aur sewer dono ka office", None),  # two: the list
])
def test_a_service_question_naming_only_a_complaint_gets_that_complaints_service(text, expected):
    assert service_of_the_complaint_named(text, get_city()) == expected


def test_a_theft_in_own_words_is_for_the_police():
    """Round 4 (07): "someone stole my bike ..." got the list of every agency."""
    assert find_agency("someone stole my bike from outside the market, who do i report to", get_city()) == "police"
    assert find_agency("mera phone kisi ne chura liya", get_city()) == "police"


@pytest.mark.parametrize("text, entity, value", [
    ("ghar ki bijli nahi aa rahi", "agency", "electricity"),
    ("पुलिस का नंबर दो", "agency", "police"),
    ("how do I pay house tax", "service", "house_tax_payment"),
    ("dakhil kharij karwana hai", "service", "property_mutation"),
])
def test_the_entity_extractor_adds_agency_and_service(text, entity, value):
    from nlu_components.civic_entities import CivicEntityExtractor

    message = Message(data={TEXT: text})
    CivicEntityExtractor({}).process([message])
    found = [e for e in message.get(ENTITIES) if e["entity"] == entity]
    assert [e["value"] for e in found] == [value]
    span = text[found[0]["start"]:found[0]["end"]]
    assert span and span in text


def test_no_agency_or_service_in_a_plain_complaint():
    from nlu_components.civic_entities import CivicEntityExtractor

    message = Message(data={TEXT: "ward 23 me street light kharab hai"})
    CivicEntityExtractor({}).process([message])
    assert {e["entity"] for e in message.get(ENTITIES)} == {"ward"}
