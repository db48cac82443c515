"""The complaint form, ticket submission and status: thin adapters over civic.tickets.

The form (`complaint_form`, slots in domain/slots.yml) asks, in order, only what is missing:
category, ward, place, description, photo, then a summary to confirm. It listens on the way:
a place or a photo given early is kept, a ward can come from a locality, a correction at the
summary (or at the photo question) changes that field, an open ticket of the same category and
ward is found as soon as both are known, and a problem that is "still" there, of a category the
citizen has a recently resolved ticket of, is offered as a reopening of that ticket first. Free text (a ward, a place, a description) is read here, not by slot
mappings, so that a change of mind or a question is never stored as an answer.
"""
import logging
import re
from typing import Any, Dict, List, Optional, Sequence, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.assignment import status_words
from actions.common import (
    GuardedAction,
    label,
    language_of,
    latest_entity,
    latest_intent,
    local_time,
    rating_asked_lately,
    raw_intent,
    repository,
    run_storage,
    typed_text,
)
from actions.ticket_updates import rate_or_reopen, reopen
from civic.city import get_city
from civic.corrections import (
    FIELDS,
    SHOULD_BE,
    WRONG,
    Correction,
    change_of_mind,
    confirms_in_words,
    describes_another_category,
    gives_up,
    offers_photo,
    parse_correction,
    parse_corrections,
    rating_given,
    says_still,
    ward_in_text,
    with_ward_changed,
    without_taking_back,
)
from civic.db import StorageUnavailable
from civic.districts import asks_about_district, is_follow_up
from civic.entities import extract_entities, without_complaint_ids
from civic.language import citizen_words, without_names
from civic.location import (
    HOUSE_NUMBER,
    extract_location,
    landmark_phrase,
    localities_in,
    place_answer,
    states_a_problem,
    unknown_locality,
    wards_of,
    without_apology,
)
from civic.numbers import find_numbers, parse_menu_choice, parse_number
from civic.tickets import MAX_DESCRIPTION_CHARS, PublicStatus, TicketRecord, remark_for_status
from civic.tone import is_angry, without_greeting

logger = logging.getLogger(__name__)

FORM = "complaint_form"
NO_PHOTO = "none"
PHOTO_LATER = "later"  # "photo kal bhej dunga": no photo now; the ticket's reply says how
# Everything the form fills or uses; cleared for the next complaint.
FORM_SLOTS = [
    "category", "ward", "location", "latitude", "longitude", "description", "photo", "confirm",
    "pending_category", "switch_category", "ward_attempts", "ward_choices", "ward_problem", "ward_locality",
    "category_label", "pending_category_label", "photo_label", "category_choices", "editing",
    "edit_field", "existing_ticket", "existing_status", "add_to_existing", "photo_later",
    "reopen_ticket", "reopen_instead", "rating_given", "more_photos", "requested_slot",
]
# Questions and requests answered in the middle of the form; never an answer to it.
DIGRESSIONS = frozenset({
    "covid_cases", "covid_symptoms", "covid_prevention", "covid_helpline", "help",
    "bot_challenge", "human_handoff", "complaint_status", "stop", "greet", "thank", "goodbye",
    "switch_language", "frustration", "reopen_complaint", "other_agency", "municipal_service",
    "EXTERNAL_ticket_update",  # an officer's update (trigger_intent), told by its own rule
})
# Digressions that are questions of their own (a place named in them is not an answer).
QUESTIONS = frozenset({"covid_cases", "covid_symptoms", "covid_prevention", "covid_helpline",
                       "complaint_status", "other_agency", "municipal_service", "stop",
                       "EXTERNAL_ticket_update"})
NOT_FREE_TEXT = DIGRESSIONS | {"affirm", "deny", "share_photo", "share_location",
                               "unsupported_message", "edit_complaint"}
# The photo question: "skip", or a promise to send it later (then the citizen is told how).
SKIP_PHOTO = re.compile(
    r"^(?:(?:skip|स्किप)(?:\s+(?:it|this|photo|kro|karo|kar\s*do|krdo|kr\s*do|karein|kijiye|pls|please|करो|कर\s*दो))*|"
    r"no|nahi|nahin|nhi|na|no photo|photo nahi( hai)?|nahi hai|photo chhodo|photo chodo|"
    r"छोड़ें|नहीं|नहीं है|फोटो नहीं है|no pic|none)[\s.!]*$", re.IGNORECASE)  # "chodo yr" stops
# "no photo" in words that name the photo: an answer to the photo question even before it is asked
NO_PHOTO_SAID = re.compile(
    r"^(?:no\s+(?:photo|pic|picture)|(?:koi\s+)?(?:photo|foto|pic)\s+(?:nahi|nahin|nhi|ni)(?:\s+(?:hai|h|he))?|"
    r"i\s+(?:don'?t|do\s+not)\s+have\s+a\s+(?:photo|picture|pic)|(?:कोई\s+)?(?:फोटो|फ़ोटो|तस्वीर)\s+नहीं(?:\s+है)?)[\s.!।]*$",
    re.IGNORECASE)
# "photo ni h abhi", "photo nhi h bola na", "No photo beta, I have a simple phone": a photo word
# with a "no" beside it (or no camera) says "no photo", whatever else the message says
# "I don't have a photo.", "बिना फोटो के दर्ज करो", "without pic pls" (the benchmark's varied mix)
NO_PHOTO_IN_WORDS = re.compile(
    r"\b(?:no|not|nahi|nahin|nhi|ni|nai|koi)\s+(?:\w+\s+)?(?:photo|foto|pic|picture|image|camera)\b|"
    r"\b(?:don'?t|do\s+not|dont|doesn'?t)\s+have\s+(?:a\s+|any\s+)?(?:photo|pic|picture|image)|"
    r"\b(?:without|bina|bagair|baghair)\s+(?:a\s+|any\s+)?(?:photo|foto|pic|picture|image)\b|"
    r"(?:बिना|बगैर)\s+(?:फोटो|फ़ोटो|तस्वीर)|"
    r"\b(?:photo|foto|pic|picture|image)\s+(?:\w+\s+)?(?:nahi|nahin|nhi|ni|nai|na)\b|"
    r"\b(?:simple|button|keypad|purana|chhota)\s+(?:phone|mobile)\b|"
    r"(?:फोटो|फ़ोटो|तस्वीर)\s+(?:\S+\s+)?(?:नहीं|नही|ना)|(?:नहीं|कोई)\s+(?:फोटो|फ़ोटो|तस्वीर)",
    re.IGNORECASE)
# A "no" longer than this at the photo question says something else than "no photo".
MAX_NO_PHOTO_WORDS = 3
LATER_PHOTO = re.compile(
    r"\b(?:kal|baad|bad\s+me|later|tomorrow|abhi\s+nahi|evening|shaam)\b|कल|बाद\s+में|अभी\s+नहीं",
    re.IGNORECASE)
PHOTO_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
DONT_KNOW = re.compile(
    r"\b(?:(?:pata|pta)\s+(?:nahi|nhi|ni|nai|na)|(?:nahi|nhi|ni|nai)\s+(?:pata|pta)|maloom\s+nahi|malum\s+nahi|"
    r"don'?t\s+know|dont\s+know|no\s+idea|not\s+sure|idea\s+nahi)\b|पता\s+नहीं|नहीं\s+पता|मालूम\s+नहीं",
    re.IGNORECASE)
# Answers in which a citizen describes the problem (or captions its photo): naming another
# category there is describing, not a change of mind, unless the words take one back.
DESCRIBED = frozenset({"description", "photo", "confirm"})
# The questions answered in words: a typed yes or no there gets the question again, in one line.
WORDS_ASKED = frozenset({"category", "ward", "location", "description"})
# A place answer of at most this many words names no complaint of its own.
MAX_PLACE_ONLY_WORDS = 12
# "actually", "asal me", "balki", "no wait": a message that changes what the complaint is
CHANGE_CUE = re.compile(r"\b(?:actually|asal\s+m[ei]n?|balki|darasal|no\s+wait|instead)\b|असल\s+में|बल्कि|दरअसल",
                        re.IGNORECASE)
# A message that opens with a yes ("haan", "हाँ", "yes").
YES_FIRST = re.compile(r"^\s*(?:haan|han|ha|haa|ji\s+haan|yes|yeah|हाँ|हां|जी\s+हाँ)(?![\w\u0900-\u097F])",
                       re.IGNORECASE)
# From the third wrong ward answer on, the helpline is offered too.
WARD_TRIES_BEFORE_HELPLINE = 3
MIN_WORDS_FOR_DESCRIPTION = 4
MIN_CAPTION_WORDS = 3


# -- reading the latest message ---------------------------------------------------------


def category_intents() -> Dict[str, str]:
    """complaint_<category> intent → category, for the city's categories."""
    return {f"complaint_{key}": key for key in get_city().categories}


def answering_now(tracker: Tracker) -> bool:
    """True when the form runs right after the citizen's message, False when it resumes
    after a digression (the latest message was already answered by something else)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return True
        if event.get("event") == "action" and event.get("name") not in (
                FORM, "action_listen", "action_extract_slots", "validate_complaint_form"):
            return False
    return True


def asks_about_a_district(tracker: Tracker, text: str) -> bool:
    """ "or dehradun" (after COVID figures), "Lucknow": another district than the city's, alone
    or as a follow-up, asks for its COVID figures; it is no place, ward or description here."""
    district = latest_entity(tracker, "district")
    return bool(district) and district != get_city().district \
        and (is_follow_up(text) or asks_about_district(text, district))


def free_text(tracker: Tracker) -> Optional[str]:
    """The citizen's words if they can answer the form's question now: typed (or a caption),
    new, and neither a question of another kind nor a yes/no."""
    text = typed_text(tracker)
    if text is None or not answering_now(tracker) or asks_about_a_district(tracker, text) \
            or NO_PHOTO_SAID.match(text.strip()):  # "photo nhi h" answers the photo question
        return None
    if raw_intent(tracker) == "nlu_fallback":  # an unusual place name often falls back
        return text.strip() or None
    return None if latest_intent(tracker) in NOT_FREE_TEXT else (text.strip() or None)


WARD_WORD = re.compile(r"\b(?:wards?|vard|waard)\b|वार्ड|वॉर्ड", re.IGNORECASE)


def says_where(text: Optional[str]) -> bool:
    """ "I don't know the ward, I live near Ghanta Ghar", "Court Road", "ward ka pata nahi":
    the message answers where (the ward or the place), not which complaint."""
    return bool(text) and bool(wards_of(text) or place_answer(text)
                               or (DONT_KNOW.search(text) and WARD_WORD.search(text)))




def only_a_place(text: str, answer: bool = False) -> bool:
    """ "Outside the Government Girls School, Ambala Road": a place and (unless the classifier
    took it for an `answer`) no word of a problem; localities' names ("Ambala Road") are none."""
    if len(text.split()) > MAX_PLACE_ONLY_WORDS or not place_answer(text):
        return False
    if answer:
        return True
    words = {w.casefold() for w in re.findall(r"[\w\u0900-\u097F]+", without_names(text))}
    return not any(words & {w.casefold() for w in category} for category in get_city().category_words.values())


PIN = re.compile(r"\(-?\d+\.\d+, -?\d+\.\d+\)")
OLD_PIN = re.compile(r",?\s*📍[^,]*\(-?\d+\.\d+, -?\d+\.\d+\)\s*$")  # a pin at the end of a place


def vague_place(place: Optional[str]) -> bool:
    """No place yet, or one a field worker cannot find ("hmari gali", "our lane"): no known
    locality, landmark or address in it, and no location pin."""
    return not place or not (PIN.search(place) or wards_of(place) or place_answer(place))


def where_said(text: str) -> Dict[str, Any]:
    """The slots for a ward or place said before the form asks for it (at the fallback's
    "did you mean ...?"): the locality's wards to confirm, or "the ward is not known", and the
    place. The form, when it starts, asks only what is still missing."""
    values: Dict[str, Any] = {}
    wards = wards_of(text)
    if wards:
        values.update(ward_choices=[str(w) for w in wards], ward_problem="locality",
                      ward_locality=localities_in(text)[0][0].name)
    elif DONT_KNOW.search(text) and WARD_WORD.search(text):
        values["ward_problem"] = "unknown"
    place = place_answer(text)
    if place:
        values["location"] = place[:MAX_DESCRIPTION_CHARS]
    return values


def named_category(tracker: Tracker) -> Optional[str]:
    """The category the latest message's intent names, if any."""
    return category_intents().get(latest_intent(tracker))


def another_category(tracker: Tracker) -> bool:
    """The latest message names a different complaint than the one being registered."""
    named = named_category(tracker)
    registering = previous_slot_value(tracker, "category") or tracker.get_slot("category")
    return named is not None and named != registering


def asks_to_switch(tracker: Tracker) -> bool:
    """Mid-form, the latest message names another complaint, and not as the answer to the
    category question or while describing this one (unless its words take this one back)."""
    requested = tracker.get_slot("requested_slot")
    correction = correction_in(tracker) if tracker.active_loop_name and requested != "category" else None
    if correction is not None and correction.field in ("ward", "location"):
        # "अरे नहीं, वार्ड 14 नहीं, हम वार्ड 31 में आते हैं" (classified as drinking water), "गलती हो
        # गई, वार्ड 14 नहीं 31 है" (as construction): a corrected ward or place, not another
        # complaint (a citizen's run, 2026-12-08: the first was asked to switch, the second switched)
        return False
    # a photo's caption describes, wherever it comes ("overflowing drain" at the ward question);
    # typed words at the photo question (no photo with them) are no caption: a change of mind
    describing = bool(latest_entity(tracker, "photo_id")) or requested in DESCRIBED - {"photo"}
    # (a message the classifier was unsure of sets no category: it cannot ask to switch)
    text = typed_text(tracker)
    if requested in ("ward", "location") and text and len(text.split()) <= MAX_PLACE_ONLY_WORDS \
            and (place_answer(text) or (requested == "ward" and (says_where(text) or latest_entity(tracker, "ward")))) \
            and not changes_mind(text) and not CHANGE_CUE.search(text):
        # "स्टेशन के पीछे लोको कॉलोनी, पानी की टंकी के पास": a landmark, not leakage; "हम गोपाल नगर में
        # रहते है, वार्ड का पता नही" at the ward question: where, not garbage (round 4, 10); "my bill
        # says ward no 29": a ward, not house tax (round 4, 25)
        describing = True
    return bool(tracker.active_loop_name) and requested != "category" and raw_intent(tracker) != "nlu_fallback" \
        and another_category(tracker) and (not describing or changes_mind(text))


def text_that_set(tracker: Tracker, slot: str, value: Any) -> Optional[str]:
    """What the citizen wrote in the message after which `slot` became `value` (the latest
    time; None for a tap or media): the message that named a pending category, even when the
    ward and the place were answered before the switch was ("nhi ruko, asl me sewer ubal rha h",
    then "wrd 27", then "haan"; found in the lead's simulator run)."""
    set_here = False
    for event in reversed(tracker.events):
        if event.get("event") == "slot" and event.get("name") == slot and event.get("value") == value:
            set_here = True
        elif set_here and event.get("event") == "user":
            return citizen_words(event.get("text") or "", (event.get("metadata") or {}).get("type"))
    return None


def changes_mind(text: Optional[str]) -> bool:
    """ "nahi nahi, light nahi, asal me naali band hai": takes a category back, names another."""
    return bool(text) and change_of_mind(text, get_city().category_words) is not None


def names_a_place(tracker: Tracker) -> bool:
    """ "hm rly station ke piche rehte h", "bus stand k pas": taken for another agency by the
    classifier, but naming no agency and a place: an answer to the ward or place question."""
    text = typed_text(tracker)
    return latest_intent(tracker) == "other_agency" and not latest_entity(tracker, "agency") \
        and bool(text) and bool(wards_of(text) or landmark_phrase(text))


def is_opening(tracker: Tracker) -> bool:
    """The latest message is the complaint that started the form."""
    return tracker.get_slot("requested_slot") is None and answering_now(tracker)


def previous_slot_value(tracker: Tracker, slot: str) -> Any:
    """The slot's value before the latest user message (its new candidate comes after it)."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            seen_user = True
        elif seen_user and event.get("event") == "slot" and event.get("name") == slot:
            return event.get("value")
    return None


def category_from_answer(value: Any, shown: Optional[Sequence[str]] = None) -> Optional[str]:
    """A category from a menu answer ("3", "teen") or its key; None when it is neither.
    Numbers count in the menu that was shown (`shown`, else the city's order)."""
    text = str(value or "").strip()
    categories = list(get_city().categories)
    if text in categories:
        return text
    menu = list(shown or categories)
    choice = parse_menu_choice(text, len(menu))
    return menu[choice - 1] if choice else None


def ward_from_answer(value: Any) -> Optional[int]:
    """The ward number in an answer: "23", "२३", "teis", "ward no. 23", "ok 52",
    "41 hai, 14 nahi"; never a house or lane number ("gali no 3")."""
    # "मकान नंबर 45" is no ward, nor is a complaint number ("SRN-000021 ye dekho" was ward 21; round 4, 50)
    text = without_complaint_ids(HOUSE_NUMBER.sub(" ", str(value or "")), get_city().complaint_prefix).strip()
    if text.isdigit():
        return int(text)
    number = parse_number(text)
    if number is not None:
        return number
    city = get_city()
    for entity in extract_entities(text, city.complaint_prefix, city.wards):
        if entity["entity"] in ("ward", "number"):
            return int(entity["value"])
    if len(text.split()) <= 6 and find_numbers(text):
        value = ward_in_text(text)
        return int(value) if value is not None else None
    return None


def pin_text(latitude: float, longitude: float, metadata: Dict[str, Any], language: str) -> str:
    """A shared location as the complaint's place: its name or address, then the pin."""
    place = metadata.get("location_address") or metadata.get("location_name")
    pin = f"{label('location', 'pin', language)} ({latitude:.5f}, {longitude:.5f})"
    return f"{place} {pin}" if place else pin


def category_menu(keys: Sequence[str], language: str) -> Dict[str, Any]:
    """The numbered text and the buttons of a menu of these categories (names from city.yml)."""
    categories = get_city().categories
    return {
        "menu": "\n".join(f"{i}. {categories[key].name(language)}" for i, key in enumerate(keys, 1)),
        "buttons": [{"title": categories[key].name(language), "payload": f"/complaint_{key}"} for key in keys],
    }


def correction_in(tracker: Tracker) -> Optional[Correction]:
    """A correction in the latest typed message (field named), read with the city's category
    words, so that it can carry the new category."""
    text = typed_text(tracker) if answering_now(tracker) else None
    if not text:
        return None
    registering = previous_slot_value(tracker, "category") or tracker.get_slot("category")
    return parse_correction(text, get_city().category_words, registering)


def corrections_in(tracker: Tracker) -> Tuple[Correction, ...]:
    """Every correction in the latest typed message ("ward 15 not 5. and the place is X")."""
    text = typed_text(tracker) if answering_now(tracker) else None
    if not text:
        return ()
    registering = previous_slot_value(tracker, "category") or tracker.get_slot("category")
    return parse_corrections(text, get_city().category_words, registering)


def photos_of(tracker: Tracker) -> List[str]:
    """Every photo of the complaint, in the order sent."""
    photo = tracker.get_slot("photo")
    return [*(tracker.get_slot("more_photos") or []), *([photo] if photo and photo != NO_PHOTO else [])]


def reset_complaint(tracker: Tracker) -> List[EventType]:
    """Clear the form for the next complaint: the slots that hold something (an event for a
    slot already empty would only lengthen every later load, replay and action call)."""
    return [SlotSet(slot, None) for slot in FORM_SLOTS if tracker.get_slot(slot) is not None]


def cleared(field: str) -> Dict[str, Any]:
    """Slot values that make the form ask `field` again, then show the summary."""
    values: Dict[str, Any] = {field: None, "confirm": None, "editing": None, "edit_field": None}
    if field == "location":
        values.update(latitude=None, longitude=None)
    if field == "ward":
        values.update(ward_attempts=None, ward_choices=None, ward_problem=None, ward_locality=None)
    if field == "category":
        values.update(category_choices=None)
    return values


def corrected(correction: Correction, place: Optional[str] = None) -> Dict[str, Any]:
    """The slot values a correction at the summary leads to (`place`: the place so far, to
    which "जगह में गली नंबर 3 भी लिख दो" adds)."""
    if correction.field is None:
        return {"editing": True, "confirm": None}
    if correction.value is None:
        return cleared(correction.field)
    value = correction.value
    if correction.added and place and value.casefold() not in place.casefold():
        return {"location": f"{place}, {value}"[:MAX_DESCRIPTION_CHARS], "confirm": None, "editing": None,
                "edit_field": None}  # the pin (if any) stays: the place is only more precise
    values = {correction.field: value, "confirm": None, "editing": None, "edit_field": None}
    pin = OLD_PIN.search(place or "") if correction.field == "location" else None
    if pin:  # the pin shared stays with the place typed in its stead (round 5, 25 and 33)
        values["location"] = f"{value}, {pin.group(0).strip(' ,')}"[:MAX_DESCRIPTION_CHARS]
    elif correction.field == "location":
        values.update(latitude=None, longitude=None)
    return values


class ValidateComplaintForm(FormValidationAction):
    """Fills the complaint form without asking what the citizen already said."""

    def name(self) -> str:
        return "validate_complaint_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[EventType]:
        try:
            return await super().run(dispatcher, tracker, domain)
        except Exception:  # noqa: BLE001 - the citizen hears back; the answers so far stay
            logger.exception("complaint form validation failed for %s", tracker.sender_id)
            dispatcher.utter_message(response="utter_action_failed")
            return []

    async def required_slots(self, domain_slots: List[str], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: DomainDict) -> List[str]:
        if tracker.get_slot("rating_given"):
            return []  # a rating in words for the ticket just resolved: the submit action rates it
        if tracker.get_slot("reopen_instead"):
            return ["reopen_instead"]  # yes: the submit action reopens that ticket
        if tracker.get_slot("add_to_existing") is not None:
            return ["add_to_existing"]  # answered: the submit action adds it to the ticket, or not
        slots = list(domain_slots)
        if tracker.get_slot("reopen_ticket"):  # offered; "no" goes on with a new complaint
            slots.insert(slots.index("category") + 1, "reopen_instead")
        if tracker.get_slot("pending_category"):
            slots.insert(0, "switch_category")
        if tracker.get_slot("existing_ticket"):
            slots.insert(slots.index("ward") + 1, "add_to_existing")
        if tracker.get_slot("editing"):
            slots.insert(slots.index("confirm"), "edit_field")
        return slots

    # -- extraction: what the latest message says ------------------------------------------

    @staticmethod
    def _edits(tracker: Tracker) -> Dict[str, Any]:
        """A change asked for at the summary or in the edit list, or one that names its field
        at the photo question ("nahi, ward 14 hai": never "no photo")."""
        requested = tracker.get_slot("requested_slot")
        if requested in ("ward", "location", "description", "photo") and not latest_entity(tracker, "photo_id"):
            # a question of the form: a correction that names its field and the new value
            # and says so ("category should be garbage", "the place is wrong: X") is applied, and
            # the question asked again
            correction = correction_in(tracker)
            text = typed_text(tracker) or ""
            said_so = WRONG.search(text) or SHOULD_BE.search(text) or ":" in text  # not "ward pata nahi"
            if correction is None or correction.field in (None, "photo", requested) or correction.value is None \
                    or not said_so:
                return {}
            edits = corrected(correction, tracker.get_slot("location"))
            for slot in ("confirm", "editing", "edit_field"):
                edits.pop(slot, None)
            return edits
        if requested not in ("confirm", "edit_field") or not answering_now(tracker):
            return {}
        text = typed_text(tracker)
        if requested == "confirm" and text and YES_FIRST.match(text) and named_category(tracker) \
                and not another_category(tracker):
            return {"confirm": True}  # "haan light wali hi" at the summary: yes (this complaint)
        asked_to_edit = latest_intent(tracker) == "edit_complaint"
        field = latest_entity(tracker, "complaint_field")
        if asked_to_edit and field in FIELDS:
            return cleared(field)  # a row of the edit list
        text = typed_text(tracker)
        if text and requested == "edit_field":
            choice = parse_menu_choice(text, len(FIELDS))
            if choice:
                return cleared(FIELDS[choice - 1])
        several = corrections_in(tracker) if requested == "confirm" else ()
        if len(several) > 1:  # "oops its ward 15 not 5. and the place is Mission Compound road ..."
            values: Dict[str, Any] = {}
            for one in several:
                values.update(corrected(one, tracker.get_slot("location")))
            return values
        correction = correction_in(tracker)
        if correction is not None and (correction.field or requested == "confirm"):
            return corrected(correction, tracker.get_slot("location"))
        if requested == "confirm" and text and confirms_in_words(text) and not another_category(tracker):
            return {"confirm": True}  # "sorry bzy tha, haan darj kr do": yes, after words of their own
        answer = raw_intent(tracker) in ("inform", "nlu_fallback")  # else a complaint: no problem words
        if text and requested == "confirm" and not latest_entity(tracker, "ward") \
                and (answer or latest_intent(tracker) not in NOT_FREE_TEXT) and only_a_place(text, answer):
            # "Outside the Government Girls School, Ambala Road" alone at the summary: the place
            return corrected(Correction("location", text.strip()[:MAX_DESCRIPTION_CHARS]))
        return {"editing": True, "confirm": None} if asked_to_edit else {}

    @staticmethod
    def _yes_or_no(tracker: Tracker, slot: str) -> Dict[str, Any]:
        """The answer to a yes/no question the form asked (`slot` requested)."""
        if tracker.get_slot("requested_slot") != slot or not answering_now(tracker):
            return {}
        intent = latest_intent(tracker)
        return {slot: True} if intent == "affirm" else {slot: False} if intent == "deny" else {}

    async def extract_switch_category(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                      domain: DomainDict) -> Dict[str, Any]:
        return self._yes_or_no(tracker, "switch_category")

    async def extract_add_to_existing(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                      domain: DomainDict) -> Dict[str, Any]:
        return self._yes_or_no(tracker, "add_to_existing")

    async def extract_reopen_instead(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                     domain: DomainDict) -> Dict[str, Any]:
        return self._yes_or_no(tracker, "reopen_instead")

    async def extract_category(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                               domain: DomainDict) -> Dict[str, Any]:
        """A typed menu answer ("3", "teen"); a named category comes through its intent."""
        if tracker.get_slot("requested_slot") != "category" or named_category(tracker):
            return {}
        text = free_text(tracker)
        if text and says_where(text) and category_from_answer(text, tracker.get_slot("category_choices")) is None:
            return {}  # the ward or the place, said early: kept (extract_ward), the choice asked again
        return {"category": text} if text else {}

    async def extract_ward(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                           domain: DomainDict) -> Dict[str, Any]:
        """Any answer to the ward question: a number, a locality, "pata nahi"; not a change
        to another complaint ("no wait, it's the sewer"), which is asked about first."""
        requested = tracker.get_slot("requested_slot")
        if requested not in ("ward", "category") or latest_entity(tracker, "ward") or asks_to_switch(tracker) \
                or latest_entity(tracker, "photo_id"):
            return {}  # (a photo's caption is no ward answer: the photo is kept, the ward asked again)
        typed = typed_text(tracker) if answering_now(tracker) else None
        if requested == "ward" and typed and YES_FIRST.match(typed) and ward_from_answer(typed) is not None:
            return {"ward": typed}  # "हाँ 22 ही होगा" at the locality's wards (round 4, 29)
        if requested == "category":  # "I don't know the ward, I live near Ghanta Ghar" at the choice
            return {"ward": typed} if typed and not named_category(tracker) and says_where(typed) \
                and latest_intent(tracker) not in QUESTIONS else {}
        if typed and (latest_intent(tracker) not in QUESTIONS or names_a_place(tracker)) \
                and (wards_of(typed) or DONT_KNOW.search(typed) or place_answer(typed)):
            return {"ward": typed}  # a locality, a place or "pata nahi", whatever NLU made of it
        text = free_text(tracker)
        if text and raw_intent(tracker) == "out_of_scope" \
                and not (ward_from_answer(text) or wards_of(text) or DONT_KNOW.search(text)):
            return {}  # not about a ward at all ("ghar ki bijli nahi hai"): answered by the rules
        # anything else typed, an unclear word included, is a (perhaps wrong) ward answer
        return {"ward": text} if text else {}

    async def extract_location(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                               domain: DomainDict) -> Dict[str, Any]:
        requested = tracker.get_slot("requested_slot")
        if requested in ("confirm", "edit_field", "add_to_existing"):
            return {}
        text = free_text(tracker)
        if text is None and is_opening(tracker) and named_category(tracker):
            text = typed_text(tracker)  # the complaint itself may name the place
        if text is None and requested == "location" and answering_now(tracker) and names_a_place(tracker):
            text = typed_text(tracker)  # "bus stand k pas": a place, not another agency
        if text is None or asks_to_switch(tracker):
            return {}
        if requested == "location":
            correction = correction_in(tracker)
            if correction is not None and correction.field == "location" and correction.value:
                return {"location": correction.value}  # "jagah galat likhi, makan no 54 hai"
            if correction is not None and correction.field == "ward":
                return {}  # "वार्ड 14 नहीं, हम वार्ड 31 में आते हैं": the ward corrected, the place still asked
            if raw_intent(tracker) == "out_of_scope" \
                    and not (place_answer(text) or extract_location(text) or wards_of(text)):
                return {}  # "what's the cricket score": not a place; answered by the rules
            # "Court Road pe, teen din se" names a place; "abhi bhi kharab hai" does not; "हमारे घर
            # के सामने, पुराने पीपल के पेड़ वाले खंभे की लाइट" says where, in the citizen's words
            if named_category(tracker) and not another_category(tracker):  # (another: a landmark's words)
                # "jama masjid k samne sadak tuti pdi h": the place in it; "sorry got busy. its behind
                # nehru park, the main manhole near the water tank": all of it (round 4, 30)
                place = (extract_location(text) or place_answer(text)) if states_a_problem(text) \
                    else without_apology(text)[:MAX_DESCRIPTION_CHARS]
            else:
                place = text
            return {"location": place} if place else {}
        if tracker.get_slot("location") is None:
            place = extract_location(text)  # a place named along the way
            return {"location": place} if place else {}
        if requested == "photo" and raw_intent(tracker) in ("inform", "nlu_fallback") and place_answer(text) \
                and not latest_entity(tracker, "photo_id"):
            # "ghanta ghar k pichhe wali gali, dudh dairy k samne" at the photo question: the exact spot
            earlier = str(tracker.get_slot("location"))
            place = text if earlier.casefold() in text.casefold() else f"{earlier}, {text}"
            return {"location": place[:MAX_DESCRIPTION_CHARS]}
        return {}

    async def extract_description(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                  domain: DomainDict) -> Dict[str, Any]:
        requested = tracker.get_slot("requested_slot")
        if requested == "description":
            caption = typed_text(tracker) if latest_entity(tracker, "photo_id") and answering_now(tracker) else None
            if caption:
                return {"description": caption}  # a photo with a caption answers the question
            text = free_text(tracker)
            return {"description": text} if text and not asks_to_switch(tracker) else {}
        if tracker.get_slot("description") or not answering_now(tracker):
            return {}
        text = typed_text(tracker)
        if not text:
            return {}
        words = len(text.split())
        if is_opening(tracker) and named_category(tracker) and words >= MIN_WORDS_FOR_DESCRIPTION:
            return {"description": text}  # the complaint that started the form describes it
        place = extract_location(text) if requested in ("ward", "location") and states_a_problem(text) else None
        if place and named_category(tracker) and not another_category(tracker) \
                and words - len(place.split()) >= MIN_WORDS_FOR_DESCRIPTION:
            # "jama masjid k samne sadak tuti pdi h, gaddhe h bde bde" at the place question: the
            # place, and the problem it tells is the description (never asked for again)
            return {"description": text}
        if latest_entity(tracker, "photo_id") and words >= MIN_CAPTION_WORDS \
                and latest_intent(tracker) not in DIGRESSIONS:
            return {"description": text}  # a photo's caption
        return {}

    async def extract_photo(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                            domain: DomainDict) -> Dict[str, Any]:
        """A photo exists only when an image arrived; words are never a photo."""
        if not answering_now(tracker):
            return {}
        photo_id = latest_entity(tracker, "photo_id")
        if photo_id:
            return {"photo": photo_id}
        text = typed_text(tracker)
        if tracker.get_slot("requested_slot") != "photo":
            # "फोटो नहीं है" said before the photo question: noted, the question asked stays
            early = text and NO_PHOTO_SAID.match(text.strip()) \
                and tracker.get_slot("requested_slot") in ("ward", "location", "description")
            return {"photo": NO_PHOTO} if early else {}
        if latest_intent(tracker) == "stop" or (text and gives_up(text)) or asks_to_switch(tracker):
            return {}  # "chodo yr" stops the form; another complaint is asked about
        correction = correction_in(tracker)
        if correction is not None and correction.field not in (None, "photo"):
            return {}  # "nahi, ward 14 hai": a correction (see _edits), not "no photo"
        if text and LATER_PHOTO.search(text) and latest_intent(tracker) not in DIGRESSIONS:
            # (not "how do I pay the tax online instead? maybe i'll just pay and fight later", a
            # question answered by its own rule; round 4, 37)
            return {"photo": PHOTO_LATER}
        if text and offers_photo(text):
            return {"photo": None}  # "haan photo hai" (often classified "no"): how to send it
        short = not text or len(text.split()) <= MAX_NO_PHOTO_WORDS  # a tapped "no" has no text
        if (latest_intent(tracker) == "deny" and short) or (text and SKIP_PHOTO.match(text.strip())) \
                or (text and NO_PHOTO_IN_WORDS.search(text)):
            return {"photo": NO_PHOTO}
        if text and raw_intent(tracker) == "out_of_scope":
            return {}  # "can you fix my neighbour's wifi?": told what we do (rule), then asked again
        if text and latest_intent(tracker) not in DIGRESSIONS:
            return {"photo": None}  # not a photo: the question is asked again
        return {}

    # -- validation ----------------------------------------------------------------------

    async def get_validation_events(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> List[EventType]:
        if answering_now(tracker) and raw_intent(tracker) != "frustration" \
                and is_angry(typed_text(tracker) or ""):
            # an angry complaint: acknowledged in one line, then the form goes on
            dispatcher.utter_message(response="utter_frustration_in_form")
        if answering_now(tracker) and latest_entity(tracker, "photo_id") \
                and tracker.get_slot("requested_slot") in ("ward", "location", "description", "confirm"):
            # a photo sent while another question waits: kept, and said so (round 4, 08)
            dispatcher.utter_message(response="utter_photo_kept")
        if answering_now(tracker) and latest_intent(tracker) == "share_location" \
                and tracker.get_slot("requested_slot") in ("description", "photo", "confirm"):
            dispatcher.utter_message(response="utter_location_kept")  # then the same question
        earlier_photo = previous_slot_value(tracker, "photo")
        new_photo = latest_entity(tracker, "photo_id") if answering_now(tracker) else None
        more_photos = []
        if new_photo and earlier_photo not in (None, NO_PHOTO, new_photo):
            # a second photo (round 4, 22): the first is kept too
            more_photos = [SlotSet("more_photos", [*(tracker.get_slot("more_photos") or []), earlier_photo])]
        edits = self._edits(tracker)
        if edits:
            # rasa-sdk validates the earliest candidate of a slot in this turn; a correction
            # overrides what Rasa's own mappings read ("14 nahi" is not ward 14)
            start = len(tracker.events)
            while start and tracker.events[start - 1].get("event") == "slot":
                start -= 1
            # before the summary the message is the correction only, no answer to the question
            only_edits = tracker.get_slot("requested_slot") not in ("confirm", "edit_field")
            dropped = {e.get("name") for e in tracker.events[start:] if only_edits} - set(edits)
            tracker.events = tracker.events[:start] + [
                e for e in tracker.events[start:] if e.get("name") not in edits and not only_edits]
            tracker.add_slots([SlotSet(slot, value) for slot, value in edits.items()])
        events = await super().get_validation_events(dispatcher, tracker, domain)
        validated = {e["name"] for e in events}
        events += [SlotSet(slot, value) for slot, value in edits.items() if slot not in validated]
        if edits:
            # what Rasa's own mappings read from a message that is only a correction goes back
            # ("गलती हो गई, वार्ड 14 नहीं 31 है", classified as construction, is no construction)
            events += [SlotSet(slot, previous_slot_value(tracker, slot))
                       for slot in sorted(dropped - validated) if slot]
            events += self._description_after_correction(tracker, events)
        requested = tracker.get_slot("requested_slot")
        if not events and requested in WORDS_ASKED and answering_now(tracker) and typed_text(tracker) \
                and latest_intent(tracker) in ("affirm", "deny"):
            return [SlotSet(requested, None)]  # "ok" / "nahi" where words are asked: asked again
        if not events:
            return []  # nothing extracted: let the form reject, so digressions are handled
        events += more_photos
        tracker.add_slots(events)
        language = language_of(tracker)
        photo = tracker.get_slot("photo")
        labels = {
            "category_label": self._category_label(tracker.get_slot("category"), language),
            "pending_category_label": self._category_label(tracker.get_slot("pending_category"), language),
            "photo_label": None if photo is None else label("photo", "none" if photo == NO_PHOTO else "attached", language),
        }
        events += [SlotSet(slot, value) for slot, value in labels.items() if tracker.get_slot(slot) != value]
        rating = await self._rating_of_the_announced_ticket(tracker)
        if rating:
            return events + [SlotSet("rating_given", rating)]
        open_ticket = []
        if {"category", "ward"} & {e["name"] for e in events}:
            open_ticket = await self._open_ticket_events(tracker, language)
        if "category" in {e["name"] for e in events} and not any(
                e["name"] == "existing_ticket" and e["value"] for e in open_ticket):
            events += await self._reopen_offer_events(tracker)  # (a ticket still open comes first)
        return events + open_ticket

    @staticmethod
    async def _rating_of_the_announced_ticket(tracker: Tracker) -> Optional[int]:
        """ "wow that was quick!! lights are working now, i'd give 4 stars" right after "SRN-x
        (street light) is resolved, rate it": a rating, not a new street-light complaint (round
        4, 12). Only for the ticket just announced: right after its rating question whatever
        complaint the classifier heard (round 5, 11), later only a complaint of its kind."""
        announced, text = tracker.get_slot("rating_ticket"), typed_text(tracker)
        rating = rating_given(text) if announced and text and answering_now(tracker) else None
        if not rating or named_category(tracker) is None:
            return None
        if rating_asked_lately(tracker):
            return rating  # "i'd give it four stars, good work but took 2 days" heard as a road (round 5, 11)
        try:
            ticket = await run_storage(repository.get, announced)
        except StorageUnavailable as exc:
            logger.warning("announced ticket lookup failed: %s", exc)
            return None
        return rating if ticket is not None and ticket.category == named_category(tracker) else None

    @staticmethod
    def _description_after_correction(tracker: Tracker, events: List[EventType]) -> List[EventType]:
        """The description written before a correction follows it: the old ward number in it
        becomes the new one; one that only describes the old category is asked again."""
        description = tracker.get_slot("description")
        new = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
        if not description or "description" in new:
            return []
        old_category, old_ward = previous_slot_value(tracker, "category"), previous_slot_value(tracker, "ward")
        category = new.get("category")
        if category and old_category and category != old_category \
                and describes_another_category(description, old_category, category, get_city().category_words):
            return [SlotSet("description", None)]  # "कूड़ा पड़ा है" is no road complaint: asked again
        if new.get("ward") and old_ward and str(new["ward"]) != str(old_ward):
            changed = with_ward_changed(description, old_ward, new["ward"])
            return [SlotSet("description", changed)] if changed != description else []
        return []

    @staticmethod
    async def _reopen_offer_events(tracker: Tracker) -> List[EventType]:
        """ "abhi bhi kuda pada hai, dubara dekho": the citizen's ticket of this category
        resolved within the reopen window is offered to be reopened (never silently)."""
        category, text = tracker.get_slot("category"), typed_text(tracker)
        still = bool(text) and says_still(text)
        # right after "SRN-x is resolved, rate it", a complaint of its kind is about it: "bhai light
        # to aaj raat bhi band thi, kuch nhi kiya kisi ne" (round 4, 03)
        announced = tracker.get_slot("rating_ticket")
        if not category or tracker.get_slot("reopen_instead") is not None or not answering_now(tracker) \
                or not text or not (still or announced):
            return []
        try:
            ticket = await run_storage(repository.latest_resolved_for, tracker.sender_id, category,
                                       reopenable=True)
        except StorageUnavailable as exc:  # then it is a new complaint, as before
            logger.warning("resolved-ticket lookup failed: %s", exc)
            return []
        ward = tracker.get_slot("ward")
        if ticket is None or (ward and str(ward) != str(ticket.ward)) or (not still and ticket.number != announced):
            return []
        return [SlotSet("reopen_ticket", ticket.number)]

    @staticmethod
    def _category_label(category: Optional[str], language: str) -> Optional[str]:
        return get_city().categories[category].name(language) if category else None

    @staticmethod
    async def _open_ticket_events(tracker: Tracker, language: str) -> List[EventType]:
        """As soon as category and ward are known (or one of them changes): the citizen's open
        ticket of that kind. Before the ward, "abhi bhi andhera hai, khamba jala hi nahi" from a
        citizen whose street-light ticket is still open is about that ticket (its ward is taken:
        "no" to adding keeps that ticket and files nothing new)."""
        category, ward = tracker.get_slot("category"), tracker.get_slot("ward")
        if not category or tracker.get_slot("add_to_existing") is not None:
            return []
        text = typed_text(tracker) if answering_now(tracker) else None
        if not ward and not (text and says_still(text)):
            return []
        try:
            existing = await run_storage(repository.open_ticket_for, tracker.sender_id, category, ward or None)
        except StorageUnavailable as exc:  # the submit step checks again
            logger.warning("open-ticket lookup failed: %s", exc)
            return []
        if not ward:
            return [] if existing is None else [
                SlotSet("ward", str(existing.ward)), SlotSet("existing_ticket", existing.number),
                SlotSet("existing_status", label("status", existing.status, language))]
        return [SlotSet("existing_ticket", existing.number if existing else None),
                SlotSet("existing_status", label("status", existing.status, language) if existing else None)]

    async def validate_category(self, value: Any, dispatcher: CollectingDispatcher,
                                tracker: Tracker, domain: DomainDict) -> Dict[str, Any]:
        if value is None:
            return {"category": None}
        categories = get_city().categories
        shown = tracker.get_slot("category_choices") or list(categories)
        category = category_from_answer(value, shown)
        if category is None:  # the range and the example from the menu the citizen saw
            dispatcher.utter_message(response="utter_not_a_category", count=len(shown),
                                     example=categories[shown[0]].name(language_of(tracker)))
            return {"category": None}
        text = typed_text(tracker)
        if is_opening(tracker) and text:
            choices = get_city().categories_for_short_message(text)
            if category in choices:  # "paani": water that does not come, or that leaks?
                return {"category": None, "category_choices": list(choices)}
        correction = correction_in(tracker)
        if correction is not None and correction.field == "category" and correction.value == category:
            return {"category": category, "category_choices": None}  # "category should be garbage"
        previous = previous_slot_value(tracker, "category")
        if previous and previous != category and tracker.active_loop_name \
                and tracker.get_slot("requested_slot") != "category":
            if not asks_to_switch(tracker):
                # "the drain overflows, dirty water all over the road": a description that
                # sounds like another category is still this complaint's description
                return {"category": previous}
            # A different complaint mid-form: keep the current one and ask before switching.
            return {"category": previous, "pending_category": category, "switch_category": None}
        return {"category": category, "category_choices": None}

    async def validate_switch_category(self, value: Any, dispatcher: CollectingDispatcher,
                                       tracker: Tracker, domain: DomainDict) -> Dict[str, Any]:
        if value is None:
            return {"switch_category": None}
        pending = tracker.get_slot("pending_category")
        result: Dict[str, Any] = {"switch_category": None, "pending_category": None}
        if value and pending:
            # The new complaint keeps ward and place; its description is the message that
            # named it ("no wait, the sewer in front of my house is overflowing") when that
            # says enough, else it is asked.
            named_it = text_that_set(tracker, "pending_category", pending)
            if named_it:
                named_it = without_taking_back(named_it, tracker.get_slot("category"), pending,
                                               get_city().category_words)
            described = named_it[:MAX_DESCRIPTION_CHARS] \
                if named_it and len(named_it.split()) >= MIN_WORDS_FOR_DESCRIPTION else None
            result.update({"category": pending, "description": described, "confirm": None,
                           "existing_ticket": None, "ward_problem": None})
        return result

    async def validate_ward(self, value: Any, dispatcher: CollectingDispatcher,
                            tracker: Tracker, domain: DomainDict) -> Dict[str, Any]:
        if value is None:
            return {"ward": None}
        city = get_city()
        ward = ward_from_answer(value)
        if ward is not None and city.valid_ward(ward):
            return {"ward": str(ward), "ward_attempts": None, "ward_choices": None, "ward_problem": None,
                    "ward_locality": None}
        text = str(value)
        wards = wards_of(text) if ward is None else ()
        if wards:  # a locality: its wards as buttons, to confirm (never assumed)
            result: Dict[str, Any] = {"ward": None, "ward_choices": [str(w) for w in wards],
                                      "ward_problem": "locality", "ward_locality": localities_in(text)[0][0].name}
            if vague_place(tracker.get_slot("location")):  # "hmari gali" from the first message
                result["location"] = extract_location(text) or tracker.get_slot("location")
            return result
        attempts = int(tracker.get_slot("ward_attempts") or 0) + 1
        place = place_answer(text) if ward is None else None
        if place:  # a place, not a ward: kept as the place; the ward is asked once more
            locality = unknown_locality(text)
            result = {"ward": None, "ward_attempts": attempts, "ward_choices": None,
                      "ward_problem": "unknown_locality" if locality else "place", "ward_locality": locality}
            earlier = tracker.get_slot("location")
            if vague_place(earlier):
                result["location"] = place[:MAX_DESCRIPTION_CHARS]
            elif tracker.get_slot("ward_problem") in ("place", "unknown_locality") and place not in earlier:
                # "शास्त्री नगर", then "मंदिर वाली गली, मकान नंबर 45 के सामने": both are the address
                result["location"] = f"{earlier}, {place}"[:MAX_DESCRIPTION_CHARS]
            return result
        if ward is None and DONT_KNOW.search(text):
            return {"ward": None, "ward_choices": None, "ward_problem": "unknown"}
        return {"ward": None, "ward_attempts": attempts, "ward_choices": None, "ward_problem": "invalid"}

    async def validate_location(self, value: Any, dispatcher: CollectingDispatcher,
                                tracker: Tracker, domain: DomainDict) -> Dict[str, Any]:
        if value == "pin":
            latitude, longitude = tracker.get_slot("latitude"), tracker.get_slot("longitude")
            if latitude is None or longitude is None:
                return {"location": None}
            metadata = tracker.latest_message.get("metadata") or {}
            pin = pin_text(latitude, longitude, metadata, language_of(tracker))
            # "rly station k piche wali road pr", then a pin: both (round 4, 13); a new pin replaces an old one
            typed = OLD_PIN.sub("", previous_slot_value(tracker, "location") or "").strip(" ,")
            result = {"location": f"{typed}, {pin}"[:MAX_DESCRIPTION_CHARS] if typed else pin}
            if tracker.get_slot("requested_slot") == "ward" and tracker.get_slot("ward") is None:
                result["ward_problem"] = "place"  # a pin at the ward question: noted, the ward asked
            return result
        text = str(value or "").strip()
        return {"location": text[:MAX_DESCRIPTION_CHARS] or None}

    async def validate_description(self, value: Any, dispatcher: CollectingDispatcher,
                                   tracker: Tracker, domain: DomainDict) -> Dict[str, Any]:
        text = without_greeting(str(value or "").strip())  # "नमस्ते जी, ..." is no part of the problem
        if not text:
            return {"description": None}
        if len(text) > MAX_DESCRIPTION_CHARS:
            dispatcher.utter_message(response="utter_description_cut")
            text = text[:MAX_DESCRIPTION_CHARS]
        return {"description": text}

    async def validate_photo(self, value: Any, dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: DomainDict) -> Dict[str, Any]:
        if value == PHOTO_LATER:
            return {"photo": NO_PHOTO, "photo_later": True}
        if value is None or value == NO_PHOTO:
            return {"photo": value}
        return {"photo": str(value) if PHOTO_ID.match(str(value)) else None}

    async def validate_confirm(self, value: Any, dispatcher: CollectingDispatcher,
                               tracker: Tracker, domain: DomainDict) -> Dict[str, Any]:
        if value is False:  # "no" at the summary: what should change? (cancel is in the list)
            return {"confirm": None, "editing": True}
        return {"confirm": value}

    async def validate_add_to_existing(self, value: Any, dispatcher: CollectingDispatcher,
                                       tracker: Tracker, domain: DomainDict) -> Dict[str, Any]:
        return {"add_to_existing": value}

    async def validate_reopen_instead(self, value: Any, dispatcher: CollectingDispatcher,
                                      tracker: Tracker, domain: DomainDict) -> Dict[str, Any]:
        return {"reopen_instead": value}


class ActionAskCategory(GuardedAction):
    """The category question: the city's categories as a numbered menu and a WhatsApp list,
    or just the two or three a short message ("paani") may mean, as buttons."""

    def name(self) -> str:
        return "action_ask_category"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[EventType]:
        city = get_city()
        language = language_of(tracker)
        choices = tracker.get_slot("category_choices")
        text = typed_text(tracker)
        if not choices and text and answering_now(tracker):
            choices = list(city.categories_for_short_message(text)) or None
        response = "utter_ask_category_choice" if choices else "utter_ask_category"
        dispatcher.utter_message(response=response, **category_menu(choices or list(city.categories), language))
        return [SlotSet("category_choices", choices)]


def locality_name(name: Optional[str], language: str) -> Optional[str]:
    """A locality of city.yml as a reply in `language` names it (Devanagari in Hindi)."""
    locality = next((loc for loc in get_city().localities if loc.name == name), None)
    return locality.display_name(language) if locality else name


class ActionAskWard(GuardedAction):
    """The ward question, or what the last answer needs: the wards of a locality as buttons,
    a request for the locality, or the valid range (with the helpline after three tries)."""

    def name(self) -> str:
        return "action_ask_ward"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[EventType]:
        choices = tracker.get_slot("ward_choices")
        # after a digression (a question answered in between) the question is asked afresh
        problem = tracker.get_slot("ward_problem") if answering_now(tracker) else None
        language = language_of(tracker)
        if problem == "locality" and choices:
            buttons = [{"title": f"{label('ward', None, language)} {ward}",
                        "payload": f'/inform{{"ward":"{ward}"}}'} for ward in choices[:3]]
            dispatcher.utter_message(response="utter_ask_ward_choice", buttons=buttons,
                                     locality=locality_name(tracker.get_slot("ward_locality"), language),
                                     wards=", ".join(choices))
        elif problem == "unknown":
            dispatcher.utter_message(response="utter_ask_ward_locality")
        elif problem == "unknown_locality":  # "शास्त्री नगर में रहते हैं": not in city.yml
            dispatcher.utter_message(response="utter_locality_not_found",
                                     locality=tracker.get_slot("ward_locality"))
        elif problem == "place":  # "just opposite the old post office": kept as the place
            dispatcher.utter_message(response="utter_ward_after_place")
            if int(tracker.get_slot("ward_attempts") or 0) >= WARD_TRIES_BEFORE_HELPLINE:
                dispatcher.utter_message(response="utter_ward_helpline")
        elif problem == "invalid":
            dispatcher.utter_message(response="utter_invalid_ward")
            if int(tracker.get_slot("ward_attempts") or 0) >= WARD_TRIES_BEFORE_HELPLINE:
                dispatcher.utter_message(response="utter_ward_helpline")
        else:
            dispatcher.utter_message(response="utter_ask_ward")
        return []


class ActionAskPhoto(GuardedAction):
    """The photo question; after "haan photo hai" / "yes I have one" at it, how to send the
    photo (📎) instead, with the same "No photo" button."""

    def name(self) -> str:
        return "action_ask_photo"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[EventType]:
        text = typed_text(tracker) if answering_now(tracker) else None
        asked_before = previous_slot_value(tracker, "requested_slot") == "photo"
        offered = asked_before and bool(text) and offers_photo(text or "") and not LATER_PHOTO.search(text or "")
        if asked_before and text and latest_intent(tracker) != "share_location":
            # "change the place to near jama masjid" at the photo question: said back, then the question
            for slot, response in (("ward", "utter_ward_changed"), ("location", "utter_place_changed")):
                now, before = tracker.get_slot(slot), previous_slot_value(tracker, slot)
                if now and before and str(now) != str(before):
                    dispatcher.utter_message(response=response, **{slot: now})
        dispatcher.utter_message(response="utter_photo_how_to_send" if offered else "utter_ask_photo")
        return []


class ActionAskEditField(GuardedAction):
    """ "What should I change?": the fields of the summary as a list, and cancelling."""

    def name(self) -> str:
        return "action_ask_edit_field"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[EventType]:
        language = language_of(tracker)
        names = [label("field", field, language) for field in FIELDS]
        buttons = [{"title": name, "payload": f'/edit_complaint{{"complaint_field":"{field}"}}'}
                   for field, name in zip(FIELDS, names)]
        buttons.append({"title": label("cancel_complaint", None, language), "payload": "/stop"})
        dispatcher.utter_message(response="utter_ask_edit_field", buttons=buttons,
                                 fields="\n".join(f"{i}. {name}" for i, name in enumerate(names, 1)))
        return []


class ActionSubmitComplaint(GuardedAction):
    """Register the confirmed complaint; tell the number, department and due time. Or add
    this message to the citizen's open ticket of the same kind, or reopen their resolved
    one, if they chose that."""

    def name(self) -> str:
        return "action_submit_complaint"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[EventType]:
        rating = tracker.get_slot("rating_given")
        if rating:  # "lights are working now, i'd give 4 stars": rated, nothing filed
            return reset_complaint(tracker) + await rate_or_reopen(dispatcher, tracker, int(rating))
        to_reopen = tracker.get_slot("reopen_ticket")
        if tracker.get_slot("reopen_instead") and to_reopen:
            events = await reopen(dispatcher, tracker, to_reopen)
            return reset_complaint(tracker) + events + [SlotSet("last_ticket", to_reopen)]
        existing = tracker.get_slot("existing_ticket")
        choice = tracker.get_slot("add_to_existing")
        if choice is not None and existing:
            return await self._add_to_existing(dispatcher, tracker, existing, choice)
        if tracker.get_slot("confirm") is not True:
            dispatcher.utter_message(response="utter_complaint_cancelled")
            return reset_complaint(tracker)
        language = language_of(tracker)
        try:
            result = await run_storage(
                repository.create_ticket,
                citizen_id=tracker.sender_id,
                category=tracker.get_slot("category"),
                ward=tracker.get_slot("ward"),
                location_text=tracker.get_slot("location") or "",
                description=tracker.get_slot("description") or "",
                language=language,
                latitude=tracker.get_slot("latitude"),
                longitude=tracker.get_slot("longitude"),
                photo_media_ids=photos_of(tracker),
            )
        except StorageUnavailable as exc:
            logger.error("could not store a complaint for %s: %s", tracker.sender_id, exc)
            dispatcher.utter_message(response="utter_storage_down")
            # Everything typed stays in the slots; "yes" shows the summary again and retries.
            return [SlotSet("confirm", None), SlotSet("ticket_outcome", "unavailable")]

        if result.limit_reached:
            dispatcher.utter_message(
                response="utter_ticket_limit", limit=get_city().max_tickets_per_citizen_per_day)
        elif result.duplicate:
            dispatcher.utter_message(
                response="utter_ticket_duplicate", ticket_number=result.ticket.number,
                status=label("status", result.ticket.status, language))
        else:
            ticket = result.ticket
            dispatcher.utter_message(
                response="utter_ticket_created", ticket_number=ticket.number,
                department=get_city().department_name(ticket.department, language),
                due=local_time(ticket.due_at))
            if tracker.get_slot("photo_later"):
                dispatcher.utter_message(response="utter_photo_later", ticket_number=ticket.number)
        last = result.ticket.number if result.ticket else tracker.get_slot("last_ticket")
        return reset_complaint(tracker) + [SlotSet("ticket_outcome", result.outcome.value),
                                    SlotSet("last_ticket", last)]

    @staticmethod
    async def _add_to_existing(dispatcher: CollectingDispatcher, tracker: Tracker,
                               number: str, choice: bool) -> List[EventType]:
        if not choice:
            dispatcher.utter_message(response="utter_existing_kept", ticket_number=number)
            return reset_complaint(tracker) + [SlotSet("last_ticket", number)]
        note = tracker.get_slot("description") or label("reminder", None, language_of(tracker))
        try:
            await run_storage(repository.add_from_citizen, number, tracker.sender_id, note,
                              photos_of(tracker))
        except StorageUnavailable as exc:
            logger.error("could not add to %s: %s", number, exc)
            dispatcher.utter_message(response="utter_storage_down")
            return [SlotSet("add_to_existing", None), SlotSet("ticket_outcome", "unavailable")]
        dispatcher.utter_message(response="utter_added_to_existing", ticket_number=number)
        return reset_complaint(tracker) + [SlotSet("last_ticket", number)]


class ActionCancelComplaint(GuardedAction):
    """Stop the complaint form: one "stop" / "rehne do" is enough."""

    def name(self) -> str:
        return "action_cancel_complaint"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[EventType]:
        return [ActiveLoop(None), *reset_complaint(tracker)]


class ActionComplaintStatus(GuardedAction):
    """Status of a complaint number, or the citizen's last five complaints."""

    def name(self) -> str:
        return "action_complaint_status"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[EventType]:
        language = language_of(tracker)
        number = latest_entity(tracker, "complaint_id")
        try:
            if number:
                await self._one(dispatcher, tracker.sender_id, number, language)
            else:
                await self._recent(dispatcher, tracker.sender_id, language)
        except StorageUnavailable as exc:
            logger.error("status lookup failed: %s", exc)
            dispatcher.utter_message(response="utter_status_unavailable")
        return []

    @staticmethod
    async def _one(dispatcher, citizen_id: str, number: str, language: str) -> None:
        city = get_city()
        ticket = await run_storage(repository.get, number)
        if ticket is None:
            dispatcher.utter_message(
                response="utter_ticket_not_found", ticket_number=number,
                example_number=f"{city.complaint_prefix}-000145")
            return
        if ticket.citizen_id != citizen_id:
            # Someone else's number: only what the repository's public view holds.
            ticket = await run_storage(repository.status_view, number)
        common = dict(
            ticket_number=ticket.number,
            category=city.categories[ticket.category].name(language),
            department=city.department_name(ticket.department, language),
            status=label("status", ticket.status, language),
            updated=local_time(ticket.updated_at),
        )
        if isinstance(ticket, PublicStatus):
            dispatcher.utter_message(response="utter_ticket_status_public", **common)
            return
        history = await run_storage(repository.history, ticket.number)
        remark = remark_for_status(history)  # none of a resolution once reopened
        common["status"] = await status_words(ticket, language)  # names the assignee's title
        dispatcher.utter_message(
            response="utter_ticket_status", ward=ticket.ward, due=local_time(ticket.due_at),
            remark=f"\n{label('remark', None, language)}: {remark}" if remark else "",
            **common)

    @staticmethod
    async def _recent(dispatcher, citizen_id: str, language: str) -> None:
        tickets: List[TicketRecord] = await run_storage(repository.recent_for_citizen, citizen_id, 5)
        if not tickets:
            dispatcher.utter_message(response="utter_no_tickets")
            return
        city = get_city()
        lines = [
            f"{t.number} · {city.categories[t.category].name(language)} · "
            f"{label('ward', None, language)} {t.ward} · {label('status', t.status, language)}"
            for t in tickets
        ]
        dispatcher.utter_message(response="utter_ticket_list", tickets="\n".join(lines))
