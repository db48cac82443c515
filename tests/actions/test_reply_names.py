"""Inside a Devanagari reply every name is in Devanagari, and the summary follows the reply
language (round 1, 02 / 06 / 25; round 2, 02 / 08): "Ghanta Ghar वार्ड 44 में आता है",
"Saharanpur में कोविड-19", Latin district buttons, "विषय: Water leakage", "फोटो: none".
An angry complaint is acknowledged in one line and the form goes on."""
import re

import pytest
from test_complaint_form import FULL, run, state, turn

from actions.complaints import ActionAskWard
from actions.covid import district_name
from actions.summary import ActionAskConfirm
from civic.city import get_city
from civic.districts import all_districts

LATIN = re.compile(r"[A-Za-z]")


def test_every_locality_has_a_devanagari_name():
    missing = [loc.name for loc in get_city().localities if LATIN.search(loc.display_name("hi"))]
    assert missing == []


def test_every_district_has_a_devanagari_name():
    """Any district of India can be named in a Hindi COVID answer or offered as a button."""
    missing = [name for name in all_districts() if LATIN.search(district_name(name, "hi"))]
    assert missing == []


def test_the_citys_names_in_hindi_replies_are_devanagari():
    city = get_city()
    names = [c.name("hi") for c in city.categories.values()]
    names += [city.department_name(d, "hi") for d in city.departments]
    names += [city.text("name", "hi"), district_name(city.district, "hi")]
    assert [n for n in names if LATIN.search(n)] == []


@pytest.mark.parametrize("language, shown", [("hi", "घंटाघर"), ("hinglish", "Ghanta Ghar"),
                                             ("en", "Ghanta Ghar")])
def test_a_locality_is_named_in_the_script_of_the_reply(language, shown):
    asked = {"category": "sanitation", "requested_slot": "ward", "language": language}
    slots, _ = turn(state("Ghanta Ghar", slots=asked))
    assert slots["ward_choices"] == ["44"]
    _, said = run(ActionAskWard(), state("", slots=slots))
    assert said[0]["response"] == "utter_ask_ward_choice" and said[0]["locality"] == shown


@pytest.mark.parametrize("language, category, photo", [
    ("hi", "पानी का रिसाव", "नहीं"), ("hinglish", "Paani leakage", "nahi"), ("en", "Water leakage", "none"),
])
def test_the_summary_is_in_the_language_of_the_reply_even_after_a_switch(language, category, photo):
    # the labels were set while the citizen wrote English; then "हिंदी में बोलो"
    slots = {**FULL, "category": "water_leakage", "category_label": "Water leakage",
             "photo_label": "none", "requested_slot": "confirm", "language": language}
    _, said = run(ActionAskConfirm(), state("", slots=slots))
    assert said[0]["response"] == "utter_ask_confirm"
    assert (said[0]["category_label"], said[0]["photo_label"]) == (category, photo)


@pytest.mark.parametrize("text, language", [
    ("10 din ho gaye naali band h koi sunta hi nahi, nagar nigam wale sote rehte h", "hinglish"),
    ("नाली 10 दिन से बंद है, कोई सुनता ही नहीं", "hi"),
    ("the drain is blocked for 10 days and nobody listens, useless people", "en"),
])
def test_an_angry_complaint_is_acknowledged_once_and_the_form_goes_on(text, language):
    slots, said = turn(state(text, intent="complaint_sewer", slots={"language": language},
                             candidates={"category": "sewer"}))
    assert said.count("utter_frustration_in_form") == 1
    assert slots["category"] == "sewer" and slots["requested_slot"] == "ward"


def test_a_calm_complaint_is_not_acknowledged_as_angry():
    _, said = turn(state("naali band hai", intent="complaint_sewer", candidates={"category": "sewer"}))
    assert "utter_frustration_in_form" not in said


def test_a_pin_shared_in_another_language_is_named_in_the_summarys():
    slots = {**FULL, "location": "📍 भेजी गई लोकेशन (29.97003, 77.55218)", "requested_slot": "confirm",
             "language": "en"}
    _, said = run(ActionAskConfirm(), state("", slots=slots))
    assert said[0]["location"] == "📍 shared location (29.97003, 77.55218)"
