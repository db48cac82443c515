"""Whole conversations through the real WhatsApp channel, as citizens have them: signed
webhooks to `rasa run`, the trained model, a real action server and ticket database, taps on
the buttons and list rows the bot sent, photos with captions, location pins, voice notes,
and officers' updates. Every reply must be in the citizen's language and script."""
import re

import pytest
from whatsapp_citizen import Citizen, WhatsAppStack

from conftest import MODEL
from whatsapp_support import LoopThread

NUMBER = re.compile(r"SRN-\d{6}")
LATIN = re.compile(r"[A-Za-z]{2,}")
DEVANAGARI = re.compile(r"[\u0900-\u097F]")
# Latin words a Devanagari reply may carry: complaint numbers, the command it asks for.
LATIN_IN_HINDI = {"SRN", "status", "WhatsApp", "CHC", "SpO", "COVID"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    if not MODEL.exists():
        pytest.skip(f"no trained model at {MODEL}: run `make train` first")
    loop = LoopThread()
    stack = WhatsAppStack(MODEL, tmp_path_factory.mktemp("whatsapp"), loop)
    yield stack
    stack.close()
    loop.close()


def all_hindi(replies) -> bool:
    """Every reply in Devanagari; Latin only for complaint numbers and commands."""
    return bool(replies) and all(
        DEVANAGARI.search(r.text) and set(LATIN.findall(r.text)) <= LATIN_IN_HINDI
        and all(DEVANAGARI.search(t) for t in r.titles) for r in replies)


def all_latin(replies) -> bool:
    return bool(replies) and all(not DEVANAGARI.search(r.text + "".join(r.titles)) for r in replies)


def test_a_hindi_citizen_who_taps_every_button_is_answered_in_hindi_to_the_end(stack):
    citizen = Citizen(stack)
    asked = citizen.say("हमारी गली की स्ट्रीट लाइट दो दिन से नहीं जल रही")
    assert all_hindi(asked) and "वार्ड" in citizen.text()
    assert all_hindi(citizen.say("वार्ड तेईस, कोर्ट रोड के पास"))
    assert "फोटो" in citizen.text()
    summary = citizen.tap("फोटो नहीं है")
    assert all_hindi(summary) and "कोर्ट रोड के पास" in citizen.text() and "वार्ड: 23" in citizen.text()
    done = citizen.tap("हाँ, दर्ज करें")
    assert all_hindi(done) and "मार्ग प्रकाश विभाग" in citizen.text()
    number = NUMBER.search(citizen.text()).group(0)
    ticket = stack.repository().get(number)
    assert (ticket.language, ticket.category, ticket.ward) == ("hi", "street_light", 23)

    stack.officer_sets(number, "assigned", remark="लाइनमैन भेजा गया")
    stack.officer_sets(number, "in_progress", "resolved", remark="नया बल्ब लगा दिया")
    updates = citizen.unread()
    # assigned, then resolved: "in progress", superseded before it was sent, is not announced
    assert len(updates) == 2 and all_hindi(updates) and all(number in u.text for u in updates)
    assert "नया बल्ब लगा दिया" in updates[-1].text and "5 ⭐ बहुत अच्छा" in updates[-1].titles
    thanks = citizen.tap("5 ⭐ बहुत अच्छा")
    assert all_hindi(thanks) and "5/5" in citizen.text()
    assert stack.repository().get(number).rating == 5


def test_hinglish_sms_spelling_ward_from_a_locality_a_correction_and_a_photo_sent_later(stack):
    citizen = Citizen(stack)
    assert all_latin(citizen.say("bhai hmari gali me light nhi jal rhi 3 din se"))
    assert "ward" in citizen.text().lower()
    asked = citizen.say("pta nhi ward kya h")
    assert all_latin(asked) and "mohalla" in citizen.text()
    offered = citizen.say("bus adda ke pass rehta hu")
    assert offered[-1].titles == ["ward 30", "ward 32"]
    assert "photo" in citizen.tap("ward 30")[-1].text.lower()
    summary = citizen.say("photo kal bhejunga")
    assert "Ward: 30" in citizen.text() and "Photo: nahi" in citizen.text()
    corrected = citizen.say("ward 32 h, 30 nhi")
    assert "Ward: 32" in citizen.text() and "Kripya jaanch lein" in citizen.text()
    done = citizen.tap("Haan, darj karein")
    assert all_latin(summary + corrected + done)
    number = NUMBER.search(citizen.text()).group(0)
    assert f"caption me {number}" in citizen.text()
    assert "Marg Prakash Vibhag" in citizen.text()  # one script in a Hinglish reply
    added = citizen.photo(caption=f"{number} ki photo", media_id="555000111222333")
    assert number in added[-1].text and all_latin(added)
    assert stack.repository().get(number).photo_media_ids == ("555000111222333",)
    # round 4 (20): the number and words in the caption started a new complaint form
    more = citizen.photo(caption=f"{number} ye dekho khamba jhuka hua h, light latak rhi h", media_id="555000111222444")
    assert number in more[-1].text and "ward" not in more[-1].text.lower()
    assert stack.repository().get(number).photo_media_ids == ("555000111222333", "555000111222444")
    assert "khamba jhuka hua h" in (stack.repository().history(number)[-1].remark or "")


def test_an_english_citizen_corrects_the_summary_in_words_and_through_the_edit_list(stack):
    citizen = Citizen(stack)
    citizen.say("The sewer line in our street is overflowing since yesterday")
    citizen.say("ward 14")
    citizen.say("opposite the old post office")
    citizen.tap("No photo")
    assert "Place: opposite the old post office" in citizen.text()
    citizen.say("wrong place, it is behind the bus stand")
    assert "Place: behind the bus stand" in citizen.text() and "Shall I register" in citizen.text()
    listed = citizen.tap("Change something")
    assert listed[-1].titles[:5] == ["Subject", "Ward", "Place", "Description", "Photo"]
    citizen.tap("Ward")
    assert "ward number" in citizen.text()
    citizen.say("16")
    assert "Ward: 16" in citizen.text() and "Place: behind the bus stand" in citizen.text()
    citizen.tap("Yes, register")
    ticket = stack.repository().get(NUMBER.search(citizen.text()).group(0))
    assert (ticket.ward, ticket.location_text, ticket.language) == (16, "behind the bus stand", "en")


def test_a_change_of_mind_is_not_a_place_and_one_word_stops_the_form(stack):
    citizen = Citizen(stack)
    citizen.say("light kharab hai ward 9 me")
    assert "kahan" in citizen.text().lower()
    switch = citizen.say("nahi nahi, light nahi, asal me naali band hai")
    assert "badlein" in " ".join(switch[-1].titles).lower() or "Haan" in " ".join(switch[-1].titles)
    citizen.tap("Haan, badlein")
    assert "kahan" in citizen.text().lower()  # still asking for the place: nothing was taken as one
    stopped = citizen.say("rehne do")
    assert "darj nahi" in citizen.text() and len(stopped) == 1
    assert stack.repository().recent_for_citizen(citizen.wa_id) == []


def test_a_voice_note_and_a_location_pin_keep_the_hindi_conversation_going(stack):
    citizen = Citizen(stack)
    citizen.say("नाली का गंदा पानी सड़क पर भर गया है")
    assert "वार्ड" in citizen.text()
    unsupported = citizen.voice()
    assert all_hindi(unsupported) and "वार्ड" in citizen.text()  # the question again, in Hindi
    citizen.say("४४")
    pinned = citizen.location(29.96412, 77.54611, name="घंटाघर")
    assert all_hindi(pinned)
    assert "घंटाघर" in citizen.text() or "फोटो" in citizen.text()


def test_a_photo_with_a_caption_starts_the_complaint_and_a_pin_sent_first_is_kept(stack):
    citizen = Citizen(stack)
    kept = citizen.location(29.97003, 77.55218)
    # a pin carries no words: the first reply is in the city's default language (Hindi)
    assert "समस्या" in citizen.text() and len(kept) == 1
    citizen.photo(caption="garbage has not been picked up from this corner for a week, ward 45")
    assert "Please check" in citizen.text()  # place, ward, description and photo all given
    assert "shared location" in citizen.text() and "Photo: attached" in citizen.text()
    citizen.tap("Yes, register")
    ticket = stack.repository().get(NUMBER.search(citizen.text()).group(0))
    assert ticket.category == "sanitation" and ticket.ward == 45 and len(ticket.photo_media_ids) == 1
    assert ticket.latitude == pytest.approx(29.97003)


def test_the_same_complaint_again_is_offered_to_be_added_to_the_open_one(stack):
    citizen = Citizen(stack)
    citizen.say("road par bahut gadde hain ward 40 me school ke saamne")
    citizen.tap("Photo nahi hai")
    citizen.tap("Haan, darj karein")
    number = NUMBER.search(citizen.text()).group(0)
    again = citizen.say("ward 40 ki sadak abhi bhi tooti padi hai, ek scooter gir gaya")
    assert number in again[-1].text and "darj, abhi kisi adhikari ko nahi saunpi gayi" in again[-1].text
    citizen.tap("Haan, jod dein")
    assert number in citizen.text()
    assert len(stack.repository().recent_for_citizen(citizen.wa_id)) == 1
    assert "scooter" in stack.repository().history(number)[-1].remark


def test_reopening_in_words_days_later_and_bare_complaint_numbers(stack):
    citizen = Citizen(stack)
    citizen.say("kooda gaadi 4 din se nahi aayi, ward 27 Nehru Market ke peeche")
    citizen.tap("Photo nahi hai")
    citizen.tap("Haan, darj karein")
    number = NUMBER.search(citizen.text()).group(0)
    stack.officer_sets(number, "assigned", "in_progress", "resolved", remark="kooda utha liya")
    assert [u.kind for u in citizen.unread()] == ["list"]  # only the resolution, with its rating list
    citizen.say("theek hai")
    status = citizen.say(number.replace("-0000", " ").lower())  # "srn 12"
    assert number in status[-1].text and "samadhan" in status[-1].text
    reopened = citizen.say("abhi bhi kooda pada hai, phir se kholo")
    assert number in reopened[-1].text and "dobara khol" in reopened[-1].text
    assert stack.repository().get(number).status == "reopened"


@pytest.mark.parametrize("text, script", [("😡😡😡", None), ("koi sunta hi nahi yahan", "latin"),
                                          ("कोई सुनता ही नहीं", "hi")])
def test_anger_gets_a_calm_answer_and_a_way_forward(stack, text, script):
    citizen = Citizen(stack)
    calm = citizen.say(text)
    assert len(calm[-1].choices) == 2 and calm[-1].choices[0]["id"] == "/report_complaint"
    assert script is None or (all_hindi(calm) if script == "hi" else all_latin(calm))


def test_a_one_word_opener_that_fits_two_categories_gets_a_choice(stack):
    citizen = Citizen(stack)
    choice = citizen.say("paani")
    assert [c["id"] for c in choice[-1].choices] == ["/complaint_drinking_water", "/complaint_water_leakage"]
    citizen.tap(choice[-1].titles[1])
    assert "ward" in citizen.text().lower()
    assert stack.tracker(citizen.wa_id)["slots"]["category"] == "water_leakage"
