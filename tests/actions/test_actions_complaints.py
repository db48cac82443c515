"""The complaint form's validators and the ticket actions, with tracker fixtures, the real
domain and a real (throw-away SQLite) ticket database."""
import asyncio
import uuid
from pathlib import Path

from domain_support import DOMAIN
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.complaints import (
    NO_PHOTO,
    ActionComplaintStatus,
    ActionSubmitComplaint,
    ValidateComplaintForm,
    repository,
)
from actions.menu import ActionMenuChoice

ROOT = Path(__file__).resolve().parents[2]


def tracker(text="", intent="inform", slots=None, entities=None, events=None, metadata=None,
            sender=None) -> Tracker:
    return Tracker.from_dict({
        "sender_id": sender or "91" + uuid.uuid4().hex[:10],
        "slots": {"language": "en", **(slots or {})},
        "latest_message": {"text": text, "intent": {"name": intent}, "entities": entities or [],
                           "metadata": metadata or {}},
        "events": events or [],
        "active_loop": {"name": "complaint_form"},
    })


def validate(slot, value, state):
    dispatcher = CollectingDispatcher()
    method = getattr(ValidateComplaintForm(), f"validate_{slot}")
    result = asyncio.run(method(value, dispatcher, state, DOMAIN))
    return result, [m.get("response") for m in dispatcher.messages]


def run(action, state):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, state, DOMAIN))
    return events, dispatcher.messages


def test_location_pin_becomes_readable_text_with_the_address():
    state = tracker('/share_location', "share_location", slots={"latitude": 29.96412, "longitude": 77.54611},
                    metadata={"location_address": "Court Road, Saharanpur"})
    result, _ = validate("location", "pin", state)
    assert result["location"] == "Court Road, Saharanpur 📍 shared location (29.96412, 77.54611)"


def test_long_description_is_cut_and_the_citizen_told():
    text = "क" * 1500
    result, said = validate("description", text, tracker(text))
    assert len(result["description"]) == 1000 and said == ["utter_description_cut"]


def filled_form(sender, **extra):
    return tracker("yes", "affirm", sender=sender, slots={
        "category": "drinking_water", "ward": "12", "location": "घंटाघर के पास",
        "description": "नल में 3 दिन से पानी नहीं 😡 \"urgent\"", "photo": NO_PHOTO,
        "confirm": True, "language": "hi", **extra})


def test_submit_stores_the_ticket_exactly_as_typed_and_clears_the_form():
    sender = "91" + uuid.uuid4().hex[:10]
    events, said = run(ActionSubmitComplaint(), filled_form(sender))
    assert said[0]["response"] == "utter_ticket_created"
    ticket = repository.get(said[0]["ticket_number"])
    assert ticket.description == "नल में 3 दिन से पानी नहीं 😡 \"urgent\""
    assert ticket.department == "water_works" and said[0]["department"] == "जलकल विभाग"
    cleared = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert cleared["category"] is None and cleared["ticket_outcome"] == "created"

    _, again = run(ActionSubmitComplaint(), filled_form(sender))
    assert again[0]["response"] == "utter_ticket_duplicate"
    assert again[0]["ticket_number"] == ticket.number


def test_submit_without_a_yes_registers_nothing():
    sender = "91" + uuid.uuid4().hex[:10]
    _, said = run(ActionSubmitComplaint(), filled_form(sender, confirm=None))
    assert [m["response"] for m in said] == ["utter_complaint_cancelled"]
    assert repository.recent_for_citizen(sender) == []


def test_status_for_the_owner_for_others_and_unknown_numbers():
    sender = "91" + uuid.uuid4().hex[:10]
    _, said = run(ActionSubmitComplaint(), filled_form(sender))
    number = said[0]["ticket_number"]
    entity = [{"entity": "complaint_id", "value": number}]
    _, own = run(ActionComplaintStatus(), tracker(f"status {number}", "complaint_status",
                                                  entities=entity, sender=sender))
    assert own[0]["response"] == "utter_ticket_status" and own[0]["ward"] == 12
    _, other = run(ActionComplaintStatus(), tracker("status", "complaint_status", entities=entity))
    assert other[0]["response"] == "utter_ticket_status_public" and "ward" not in other[0]
    _, unknown = run(ActionComplaintStatus(), tracker("status", "complaint_status",
                     entities=[{"entity": "complaint_id", "value": "SRN-999999"}]))
    assert unknown[0]["response"] == "utter_ticket_not_found"
    _, listing = run(ActionComplaintStatus(), tracker("meri shikayat", "complaint_status", sender=sender))
    assert listing[0]["response"] == "utter_ticket_list" and number in listing[0]["tickets"]


def test_the_resolvers_remark_is_shown_while_resolved_and_not_after_the_citizen_reopens():
    sender = "91" + uuid.uuid4().hex[:10]
    _, said = run(ActionSubmitComplaint(), filled_form(sender))
    number = said[0]["ticket_number"]
    for status in ("assigned", "in_progress"):
        repository.change_status(number, status, actor="officer:je")
    repository.change_status(number, "resolved", actor="officer:je", remark="naya bulb laga diya")

    def status_remark():
        _, reply = run(ActionComplaintStatus(), tracker(f"status {number}", "complaint_status", sender=sender,
                                                        entities=[{"entity": "complaint_id", "value": number}]))
        return reply[0]["remark"]

    assert "naya bulb laga diya" in status_remark()
    repository.rate(number, sender, 2)
    assert "naya bulb laga diya" in status_remark()  # a rating keeps the ticket resolved
    repository.reopen(number, sender, "abhi bhi andhera hai")
    assert status_remark() == ""
    repository.change_status(number, "in_progress", actor="officer:je", remark="wiring badal rahe hain")
    assert "wiring badal rahe hain" in status_remark() and "bulb" not in status_remark()


def test_menu_choice_needs_a_menu_before_it():
    greeted = [{"event": "bot", "text": "…", "metadata": {"utter_action": "utter_greet"}}]
    events, said = run(ActionMenuChoice(), tracker("ek", events=greeted))
    assert events == [{"event": "followup", "timestamp": None, "name": "complaint_form"}]
    _, said = run(ActionMenuChoice(), tracker("9", events=greeted))
    assert said[0]["response"] == "utter_not_a_menu_choice"
    _, said = run(ActionMenuChoice(), tracker("2", events=[]))
    assert said[0]["response"] == "utter_help"


def test_a_place_said_at_the_fallbacks_did_you_mean_is_kept_and_the_question_asked_again():
    """The lead's defect 2: "Did you mean: Sewer or Sanitation?" - "I don't know the ward, I live
    near Ghanta Ghar" answered with the help menu; the choice and the place were lost."""
    buttons = [{"title": "Sewer", "payload": "/complaint_sewer"},
               {"title": "Sanitation / garbage", "payload": "/complaint_sanitation"},
               {"title": "Something else", "payload": "/out_of_scope"}]
    asked = [{"event": "bot", "text": "Did you mean: Sewer or Sanitation / garbage?", "data": {"buttons": buttons},
              "metadata": {"utter_action": "utter_ask_which_intent"}}]
    events, said = run(ActionMenuChoice(), tracker("I don't know the ward, I live near Ghanta Ghar", events=asked))
    assert [(m["response"], m["buttons"], m["first_label"]) for m in said] == [
        ("utter_ask_which_intent", buttons, "Sewer")]
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots == {"ward_choices": ["44"], "ward_problem": "locality", "ward_locality": "Ghanta Ghar",
                     "location": "near Ghanta Ghar"}
    _, said = run(ActionMenuChoice(), tracker("what is this", events=asked))
    assert [m["response"] for m in said] == ["utter_help"]  # anything else: as before


def resolved_ticket(sender: str, category: str, ward: int) -> str:
    number = repository.create_ticket(citizen_id=sender, category=category, ward=ward, location_text="Court Road",
                                      description="kaam karwao", language="hi").ticket.number
    for status in ("assigned", "in_progress", "resolved"):
        repository.change_status(number, status, "officer", "ho gaya")
    return number


def test_a_rating_in_a_sentence_for_the_ticket_just_resolved_is_the_rating():
    """Round 4 (12): "i'd give 4 stars" got a new complaint form; a rating in words now rates."""
    sender = "91" + uuid.uuid4().hex[:10]
    number = resolved_ticket(sender, "street_light", 5)
    resolved = [{"event": "bot", "text": "resolved", "metadata": {"utter_action": "utter_ticket_resolved"}}]
    _, said = run(ActionMenuChoice(), tracker("thank you so much, 5 stars from me", sender=sender,
                                              slots={"rating_ticket": number}, events=resolved))
    assert [m["response"] for m in said] == ["utter_rating_thanks"] and repository.get(number).rating == 5
    _, said = run(ActionMenuChoice(), tracker("5 stars", sender=sender, slots={"rating_ticket": None}))
    assert [m["response"] for m in said] == ["utter_help"]  # nothing to rate: the menu, no thanks


def test_a_bare_number_soon_after_the_rating_question_is_the_rating_not_a_menu():
    """Round 4 (18): "धन्यवाद" → "आपका स्वागत है", then "५" got the help menu and the rating was lost."""
    sender = "91" + uuid.uuid4().hex[:10]
    number = resolved_ticket(sender, "sewer", 32)
    asked = {"event": "bot", "text": "resolved", "metadata": {"utter_action": "utter_ticket_resolved"}}
    welcome = {"event": "bot", "text": "आपका स्वागत है", "metadata": {"utter_action": "utter_welcome"}}
    _, said = run(ActionMenuChoice(), tracker("५", sender=sender, slots={"rating_ticket": number},
                                              events=[asked, welcome]))
    assert [m["response"] for m in said] == ["utter_rating_thanks"] and repository.get(number).rating == 5
    later = [asked] + [welcome] * 3  # many messages later a bare number is no rating
    other = resolved_ticket(sender, "sewer", 33)
    _, said = run(ActionMenuChoice(), tracker("4", sender=sender, slots={"rating_ticket": other}, events=later))
    assert repository.get(other).rating is None
