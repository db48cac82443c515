"""Every button and list title the assistant can send fits WhatsApp's limits whole, in every
language (../shared/WHATSAPP.md): a reply button's title at most 20 characters, a list row's at
most 24 (channels/whatsapp_output.py: 1-3 buttons are reply buttons, 4-10 a list). A title
that does not fit would be cut by the channel (round 1, 38: "Shikayat dobara kho…").

Titles come from the domain's responses and from the actions: category names (city.yml), the
"did you mean" labels (actions/intent_labels.yml), words of actions/labels.yml, ward and
district buttons."""
from pathlib import Path
from typing import Dict, List

import pytest
import yaml

from channels.text_limits import measure, truncate
from channels.whatsapp_output import (
    BUTTON_TITLE_LIMIT,
    LIST_BUTTON_LIMIT,
    MAX_REPLY_BUTTONS,
    ROW_TITLE_LIMIT,
)

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("hi", "hinglish", "en")


def _read(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def response_variants(domain_dict) -> List[tuple]:
    found = []
    for name, variants in domain_dict["responses"].items():
        for variant in variants:
            condition = variant.get("condition") or [{"value": "en"}]
            found.append((name, condition[0].get("value"), variant))
    return found


def test_every_response_title_fits_whatsapp(domain_dict):
    too_long = []
    for name, language, variant in response_variants(domain_dict):
        buttons = variant.get("buttons") or []
        limit = BUTTON_TITLE_LIMIT if len(buttons) <= MAX_REPLY_BUTTONS else ROW_TITLE_LIMIT
        too_long += [(name, language, b["title"]) for b in buttons
                     if "{" not in b["title"] and measure(b["title"]) > limit]
        label = (variant.get("metadata") or {}).get("list_button")
        if label and measure(label) > LIST_BUTTON_LIMIT:
            too_long.append((name, language, label))
    assert not too_long


def test_menus_are_lists_in_every_language(domain_dict):
    """The main and COVID menus can be tapped; each row sends its number, as typed."""
    for name in ("utter_greet", "utter_help", "utter_covid_menu"):
        variants = domain_dict["responses"][name]
        assert len(variants) == len(LANGUAGES)
        for variant in variants:
            assert [b["payload"] for b in variant["buttons"]] == ["1", "2", "3", "4"]
            assert variant["metadata"]["list_button"]


def test_titles_the_actions_make_fit_whatsapp(city):
    intent_labels: Dict[str, Dict[str, str]] = _read(ROOT / "actions" / "intent_labels.yml")
    labels = _read(ROOT / "actions" / "labels.yml")
    titles = []  # (title, limit): buttons are 20 wide, rows of a list 24
    for language in LANGUAGES:
        titles += [(names[language], BUTTON_TITLE_LIMIT) for names in intent_labels.values()]
        # two or three categories ("paani") are buttons, all of them a list
        titles += [(c.name(language), BUTTON_TITLE_LIMIT) for c in city.categories.values()]
        titles += [(labels["light_choice"][k][language], BUTTON_TITLE_LIMIT)
                   for k in labels["light_choice"]]
        titles += [(labels[k][language], BUTTON_TITLE_LIMIT)
                   for k in ("something_else", "service_complaint")]
        titles += [(labels["field"][k][language], ROW_TITLE_LIMIT) for k in labels["field"]]
        titles.append((labels["cancel_complaint"][language], ROW_TITLE_LIMIT))
        titles.append((f"{labels['ward'][language]} {city.wards}", BUTTON_TITLE_LIMIT))
    assert [t for t, limit in titles if measure(t) > limit] == []


@pytest.mark.parametrize("title, limit, cut", [
    ("Shikayat dobara kholna", 20, "Shikayat dobara…"),
    ("North and Middle Andaman", 20, "North and Middle…"),
    ("शिकायत दोबारा खोलना है", 20, "शिकायत दोबारा खोलना…"),
    ("Dakshinkannadadistrict", 20, "Dakshinkannadadistr…"),  # one long word: letters cut
])
def test_a_title_that_is_still_too_long_is_cut_between_words(title, limit, cut):
    assert truncate(title, limit) == cut
