"""Every response speaks all three languages, and the variations say the same thing."""
import re
import string
from pathlib import Path

import pytest
from domain_support import DOMAIN

ROOT = Path(__file__).resolve().parent.parent
RESPONSES = DOMAIN["responses"]


def language_of(variation: dict) -> str:
    conditions = variation.get("condition") or []
    return next((c["value"] for c in conditions if c.get("name") == "language"), "default")


def placeholders(text: str) -> set:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def meaning(text: str) -> frozenset:
    """The variables of a text, ignoring which language's copy of a city fact it uses."""
    return frozenset(re.sub(r"_(hi|hinglish|en)$", "", name) for name in placeholders(text))


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_response_has_hindi_hinglish_and_an_english_default(name):
    languages = sorted(language_of(v) for v in RESPONSES[name])
    assert languages == ["default", "hi", "hinglish"], name


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_variations_use_the_same_variables_and_buttons(name):
    variations = RESPONSES[name]
    assert len({meaning(v["text"]) for v in variations}) == 1, name
    assert len({tuple(b["payload"] for b in v.get("buttons", [])) for v in variations}) == 1, name


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_hindi_is_in_devanagari_and_hinglish_in_latin_script(name):
    for variation in RESPONSES[name]:
        text = re.sub(r"\{\w+\}|SpO2|WhatsApp|COVID-19|CHC|SRN", "", variation["text"])
        words = "".join(ch for ch in text if ch.isalpha())
        devanagari = sum("\u0900" <= ch <= "\u097f" for ch in words)
        if language_of(variation) == "hi":
            assert devanagari > len(words) / 2, name
        else:
            assert devanagari == 0, (name, language_of(variation))


def test_slot_variables_exist():
    """Variables that are not passed by an action must be slots."""
    slots = set(DOMAIN["slots"])
    from_actions = {
        "intent_label", "intent_name", "ticket_number", "department", "due", "status", "limit",
        "category", "ward", "updated", "remark", "tickets", "example_number", "district",
        "confirmed", "active", "recovered", "deceased", "as_of", "tested", "tested_as_of",
        "delta_confirmed", "delta_recovered", "delta_deceased", "age_days", "fetched_at",
        "example_district", "stars", "days", "menu", "count", "locality", "wards", "other_number",
        "first_label", "second_label", "fields", "example",
        "assignee", "photo_id", "place", "description",  # the officers' workflow (domain/staff.yml)
    }
    used = {p for v in sum(RESPONSES.values(), []) for p in placeholders(v["text"])}
    assert used - slots - from_actions == set()
