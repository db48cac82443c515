"""MessageRules: photos with captions, bare complaint numbers, and typed words that the
classifier took for something only the WhatsApp channel sends."""
from typing import Dict, List, Optional

import pytest
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from civic.entities import extract_entities
from nlu_components.message_rules import MessageRules


def parsed(text: str, intent: str, entities: Optional[List[Dict]] = None, metadata: Optional[Dict] = None,
           ranking: Optional[List[Dict]] = None) -> Message:
    message = Message(data={TEXT: text, "metadata": metadata or {}})
    message.set(INTENT, {"name": intent, "confidence": 0.6})
    message.set(ENTITIES, entities or [])
    message.set(INTENT_RANKING_KEY, ranking or [{"name": intent, "confidence": 0.6}])
    return MessageRules({}).process([message])[0]


IMAGE = {"type": "image", "photo_id": "1234567890", "caption": "x"}


@pytest.mark.parametrize("caption, intent, expected", [
    ("ye dekho", "out_of_scope", "share_photo"),
    ("SRN-000012 ki photo", "complaint_status", "share_photo"),
    ("street light ka khamba toota hai", "complaint_street_light", "complaint_street_light"),
    ("shikayat darj karni hai", "report_complaint", "report_complaint"),
])
def test_a_captioned_photo_carries_its_id_and_is_a_photo_unless_it_states_a_complaint(caption, intent, expected):
    message = parsed(caption, intent, metadata=IMAGE)
    assert message.get(INTENT)["name"] == expected
    assert [e["value"] for e in message.get(ENTITIES) if e["entity"] == "photo_id"] == ["1234567890"]


@pytest.mark.parametrize("caption, intent", [
    ("SRN-000008 this is the water in the bucket", "complaint_drinking_water"),  # round 4 (20)
    ("SRN-000008 ki photo, khamba toota hai", "complaint_street_light"),
])
def test_a_captioned_photo_naming_a_ticket_is_a_photo_for_it_whatever_its_words(caption, intent):
    message = parsed(caption, intent, metadata=IMAGE, entities=[{"entity": "complaint_id", "value": "SRN-000008"}])
    assert message.get(INTENT)["name"] == "share_photo"


def test_a_photo_id_in_metadata_of_another_message_type_is_ignored():
    message = parsed("hello", "greet", metadata={"type": "text", "photo_id": "1"})
    assert message.get(INTENT)["name"] == "greet" and message.get(ENTITIES) == []


@pytest.mark.parametrize("text, intent, expected", [
    ("srn 2", "inform", "complaint_status"),
    ("21 ka status", "nlu_fallback", "complaint_status"),
    ("2 ka kya hua bhai", "out_of_scope", "complaint_status"),  # citizens' round 3 (16)
    ("SRN-000045 phir se kholo", "reopen_complaint", "reopen_complaint"),
    ("SRN-000045 ward 12 me light abhi bhi band hai", "inform", "inform"),  # a sentence, not a number
])
def test_a_bare_complaint_number_asks_its_status(text, intent, expected):
    message = parsed(text, intent, entities=[{"entity": "complaint_id", "value": "SRN-000002"}])
    assert message.get(INTENT)["name"] == expected


def test_typed_words_are_never_an_intent_only_the_channel_sends():
    ranking = [{"name": "share_photo", "confidence": 0.9}, {"name": "deny", "confidence": 0.06},
               {"name": "inform", "confidence": 0.04}]
    message = parsed("photo kal bhej dunga", "share_photo", ranking=ranking)
    assert message.get(INTENT) == {"name": "deny", "confidence": 0.06}
    assert [r["name"] for r in message.get(INTENT_RANKING_KEY)] == ["deny", "inform"]
    payload = parsed('/share_photo{"photo_id":"1"}', "share_photo", ranking=ranking)
    assert payload.get(INTENT)["name"] == "share_photo"


def ranking_of(*pairs):
    return [{"name": name, "confidence": confidence} for name, confidence in pairs]


@pytest.mark.parametrize("text, ranking, expected", [
    # round 4 (32): "naali" named first, "pani" after it, the classifier preferring the water
    ("nhi nhi light nhi, asl me naali band pdi h, pani ruka h gli me",
     [("complaint_street_light", 0.5), ("complaint_drinking_water", 0.3), ("complaint_sewer", 0.2)],
     "complaint_sewer"),
    # the classifier's words: "light" and "nahi" outweigh the drain the citizen means
    ("nahi nahi, light nahi, asal me naali band hai",
     [("deny", 0.63), ("complaint_street_light", 0.28), ("complaint_sanitation", 0.09)],
     "complaint_sanitation"),
    ("नहीं नहीं, लाइट नहीं, असल में नाली बंद है",
     [("complaint_street_light", 0.6), ("complaint_sewer", 0.3), ("complaint_sanitation", 0.1)],
     "complaint_sewer"),
    ("no no, not the drain, the street light is off",
     [("complaint_sewer", 0.7), ("complaint_street_light", 0.3)], "complaint_street_light"),
    # no category named after the taken-back one, but "actually": the likeliest other complaint
    ("not the light actually, something else", [("complaint_street_light", 0.7),
                                                ("complaint_construction", 0.2)],
     "complaint_construction"),
])
def test_a_change_of_mind_is_the_category_named_after_the_one_taken_back(text, ranking, expected):
    message = parsed(text, ranking[0][0], ranking=ranking_of(*ranking))
    assert message.get(INTENT)["name"] == expected


@pytest.mark.parametrize("text, ranking", [
    ("paani nahi aa raha", [("complaint_drinking_water", 0.9), ("complaint_water_leakage", 0.1)]),
    ("paani nahi, 3 din se koi nahi aaya", [("complaint_drinking_water", 0.9), ("deny", 0.1)]),
    ("light nahi jal rahi", [("complaint_street_light", 0.9), ("deny", 0.1)]),
    ("nahi", [("deny", 0.9), ("complaint_street_light", 0.1)]),
    # another category already won: the rule does not second-guess it
    ("light nahi, asal me naali band hai", [("complaint_sewer", 0.6), ("complaint_sanitation", 0.4)]),
])
def test_a_negated_problem_or_a_plain_no_is_left_as_classified(text, ranking):
    message = parsed(text, ranking[0][0], ranking=ranking_of(*ranking))
    assert message.get(INTENT)["name"] == ranking[0][0]


@pytest.mark.parametrize("text, intent, expected", [
    ("or bombay ka kya haal h", "out_of_scope", "inform"),  # SMS "or" for "aur"
    ("aur patna me?", "nlu_fallback", "inform"),
    ("और पटना?", "out_of_scope", "inform"),
    ("gurgaon se noida jaane ka rasta", "out_of_scope", "out_of_scope"),  # not a follow-up
    ("or bombay ka kya haal h", "complaint_sewer", "complaint_sewer"),  # it said something
])
def test_a_short_and_district_message_is_an_answer_to_follow_the_previous_topic(text, intent, expected):
    message = parsed(text, intent, entities=[{"entity": "district", "value": "Mumbai"}])
    assert message.get(INTENT)["name"] == expected


@pytest.mark.parametrize("text, intent, expected", [
    # citizens' round 3: after a COVID answer these got "I can't help with that"
    ("लखनऊ का क्या हाल है", "out_of_scope", "inform"),
    ("muzaffarnagar ka bta", "out_of_scope", "inform"),
    ("meerut ka batao", "nlu_fallback", "inform"),
    ("patna me kya haal h", "out_of_scope", "inform"),
    # another subject beside the district stays as classified
    ("lucknow ki train kab hai", "out_of_scope", "out_of_scope"),
    ("meerut me mausam kaisa h", "out_of_scope", "out_of_scope"),
    ("saharanpur me safai ka kya haal h", "complaint_sanitation", "complaint_sanitation"),
    # a district alone is still an answer (the form's question, or which figures)
    ("Lucknow", "out_of_scope", "inform"),
])
def test_a_short_question_about_a_district_is_an_answer_naming_it(text, intent, expected):
    # (after COVID figures an answer naming a district gets its figures: action_menu_choice)
    entities = extract_entities(text, "SRN", 70)
    assert parsed(text, intent, entities=entities).get(INTENT)["name"] == expected


@pytest.mark.parametrize("text", ["🙏", "🙏🙏", "🙏🏽", " 🙏 🙏 "])
def test_folded_hands_alone_thank_and_are_never_asked_about(text):
    # (data/rules/basics.yml: as the first message of a conversation they greet with the menu)
    assert parsed(text, "nlu_fallback").get(INTENT) == {"name": "thank", "confidence": 1.0}


@pytest.mark.parametrize("text, intent, expected", [
    # round 1, 36: "did you mean: am I a bot / house tax?"
    ("तुम लोग बस झूठ बोलते हो, बहुत गुस्सा आ रहा है", "bot_challenge", "frustration"),
    ("koi sunta hi nahi yaha", "nlu_fallback", "frustration"),
    ("you people are useless", "out_of_scope", "frustration"),
    ("nagar nigam wale sote rehte h", "inform", "frustration"),
    # anger with a complaint stays the complaint (the form acknowledges it)
    ("10 din se naali band h koi sunta hi nahi", "complaint_sewer", "complaint_sewer"),
    # a problem described is no anger
    ("the garbage is lying there again", "nlu_fallback", "nlu_fallback"),
    ("🙏 thanks", "thank", "thank"),
])
def test_anger_without_a_request_is_frustration(text, intent, expected):
    assert parsed(text, intent).get(INTENT)["name"] == expected


@pytest.mark.parametrize("text, intent", [("chodo yr", "deny"), ("rehne do yaar", "stop"), ("jane do", "affirm"),
                                          ("छोड़ो यार", "deny"), ("arre chhod do bhai", "out_of_scope")])
def test_giving_up_is_a_stop_never_a_no(text, intent):
    """Citizens' round 2 (28): "chodo yr" at the photo question was taken for "no photo"."""
    assert parsed(text, intent).get(INTENT)["name"] == "stop"


@pytest.mark.parametrize("text, intent", [("photo chodo", "deny"), ("kooda chhod ke gaye", "complaint_sanitation")])
def test_words_that_only_contain_giving_up_keep_their_intent(text, intent):
    assert parsed(text, intent).get(INTENT)["name"] == intent


def test_still_there_nearly_as_much_a_complaint_as_a_reopening_is_the_complaint():
    """Round 2 (20): the form then offers the reopening, or registers it for a new citizen."""
    ranking = [{"name": "reopen_complaint", "confidence": 0.7}, {"name": "complaint_sanitation", "confidence": 0.29}]
    message = parsed("abhi bhi kuda pda h wha, dubara dekho", "reopen_complaint", ranking=ranking)
    assert message.get(INTENT)["name"] == "complaint_sanitation"


@pytest.mark.parametrize("text, ranking, entities", [
    ("It is still not clean, please look again",
     [{"name": "reopen_complaint", "confidence": 0.99}, {"name": "complaint_sanitation", "confidence": 0.01}], []),
    ("SRN-000045 phir se kholo, kooda pada hai",
     [{"name": "reopen_complaint", "confidence": 0.6}, {"name": "complaint_sanitation", "confidence": 0.4}],
     [{"entity": "complaint_id", "value": "SRN-000045"}]),
])
def test_a_clear_reopening_or_one_naming_its_number_stays_a_reopening(text, ranking, entities):
    assert parsed(text, "reopen_complaint", entities=entities, ranking=ranking).get(INTENT)["name"] == \
        "reopen_complaint"


@pytest.mark.parametrize("text, ranking, expected", [
    # the lead's defect 5: "मकान" (house) took a place correction for a house-tax complaint
    ("अरे नहीं, जगह गलत लिखी, मकान नंबर 54 है", [("complaint_house_tax", 0.83), ("inform", 0.08)], "inform"),
    ("makan no 12 ke saamne", [("complaint_house_tax", 0.6), ("complaint_street_light", 0.05)], "inform"),
    ("house no 5 ke aage naali band hai", [("complaint_house_tax", 0.5), ("complaint_sewer", 0.3)],
     "complaint_sewer"),
])
def test_a_house_number_is_a_place_never_house_tax(text, ranking, expected):
    assert parsed(text, ranking[0][0], ranking=ranking_of(*ranking)).get(INTENT)["name"] == expected


@pytest.mark.parametrize("text", ["makan no 54 ka house tax galat aaya", "मकान नंबर 12 की रसीद नहीं मिली",
                                  "house tax bahut zyada aaya hai"])
def test_house_tax_with_a_house_number_stays_house_tax(text):
    ranking = ranking_of(("complaint_house_tax", 0.9), ("complaint_sewer", 0.05))
    assert parsed(text, "complaint_house_tax", ranking=ranking).get(INTENT)["name"] == "complaint_house_tax"


@pytest.mark.parametrize("text, district", [("muzaffarnagar ka bta", "Muzaffarnagar"),
                                            ("पटना का क्या हाल है", "Patna"),
                                            ("बंगलोर का भी बताओ", "Bengaluru Urban"),  # round 4 (05)
                                            ("meerut ka bhi bta do", "Meerut"),
                                            ("gurgaon ka bta do yr, bhai rehta h wha", "Gurugram"),  # round 4 (27)
                                            ("thik h or mumbai", "Mumbai")])
def test_a_district_with_words_that_only_ask_about_it_is_an_answer(text, district):
    """Round 3 (17): "muzaffarnagar ka bta" right after COVID figures got "I can't help with that"."""
    message = parsed(text, "out_of_scope", entities=[{"entity": "district", "value": district}])
    assert message.get(INTENT)["name"] == "inform"


def test_a_district_in_a_complaint_is_left_as_classified():
    message = parsed("meerut road pe pani nahi aa raha", "complaint_drinking_water",
                     entities=[{"entity": "district", "value": "Meerut"}])
    assert message.get(INTENT)["name"] == "complaint_drinking_water"


@pytest.mark.parametrize("text, expected", [
    ("हाँ, सीवर", "complaint_sewer"),  # round 3 (04): the help menu, and the garbage complaint filed
    ("haan sewer wala", "complaint_sewer"),
    ("haan", "affirm"), ("yes please", "affirm"),
    ("haan naali", "affirm"),  # a drain is sewer or sanitation: still a plain yes
])
def test_a_yes_that_names_one_category_is_that_complaint(text, expected):
    assert parsed(text, "affirm").get(INTENT)["name"] == expected


@pytest.mark.parametrize("text, intent, expected", [
    ("thank you so much, 5 stars from me", "thank", "inform"),  # round 4 (12)
    ("4/5 dunga", "nlu_fallback", "inform"),
    ("5 star hotel ke paas kachra pda h", "complaint_sanitation", "complaint_sanitation"),  # a complaint stays one
    ("thank you", "thank", "thank"),
    ("5 - finally someone came, thanks", "thank", "inform"),  # round 4 (51)
])
def test_a_rating_in_words_is_an_answer(text, intent, expected):
    assert parsed(text, intent).get(INTENT)["name"] == expected


def test_a_reopening_the_classifier_was_unsure_of_is_a_reopening_when_it_says_still():
    """Round 4 (17): "ढक्कन तो अभी तक नहीं लगा, झूठ क्यों बोल रहे हो" → "did you mean: reopen?"."""
    ranking = ranking_of(("reopen_complaint", 0.38), ("frustration", 0.3), ("complaint_sewer", 0.08))
    message = parsed("ढक्कन तो अभी तक नहीं लगा, झूठ क्यों बोल रहे हो", "reopen_complaint", ranking=ranking)
    assert message.get(INTENT) == {"name": "reopen_complaint", "confidence": 1.0}
    unsure = parsed("isko dekh lo", "reopen_complaint", ranking=ranking_of(("reopen_complaint", 0.38)))
    assert unsure.get(INTENT)["confidence"] != 1.0  # no "still": left to the fallback


@pytest.mark.parametrize("text, intent, entities, expected", [
    # round 4 (26): a pending ration card became a house-tax ticket
    ("ok thanks. one more, my ration card application is pending since 3 months, can u check", "complaint_house_tax",
     [{"entity": "agency", "value": "ration_card"}], "other_agency"),
    ("house tax bill galat aaya, aadhaar bhi diya tha", "complaint_house_tax",
     [{"entity": "agency", "value": "aadhaar"}], "complaint_house_tax"),  # names its complaint: stays
    ("garbage dumped near the police chowki", "complaint_sanitation",
     [{"entity": "agency", "value": "police"}], "complaint_sanitation"),  # police beside a civic problem
])
def test_paperwork_of_another_agency_is_that_agencys(text, intent, entities, expected):
    assert parsed(text, intent, entities=entities).get(INTENT)["name"] == expected


def test_a_district_alone_is_an_answer_even_when_the_classifier_guessed_something_else_unsure():
    """Round 4 (19): "roorkee?" → "did you mean: Cancel or COVID figures?"."""
    message = parsed("roorkee?", "stop", entities=[{"entity": "district", "value": "Haridwar"}])
    message.set(INTENT, {"name": "stop", "confidence": 0.18})
    MessageRules({}).process([message])
    assert message.get(INTENT)["name"] == "inform"


@pytest.mark.parametrize("text, expected", [
    ("nhi rehne do, leakage hi rkho", "complaint_water_leakage"),  # round 4 (38): the complaint was cancelled
    ("rehne do, kooda wali shikayat nahi karni", "stop"),  # the category negated: a stop
    ("rehne do", "stop"),
])
def test_a_stop_that_keeps_a_category_is_that_complaint(text, expected):
    assert parsed(text, "stop").get(INTENT)["name"] == expected


def test_an_intent_set_here_over_a_sure_classifier_is_no_ambiguity_for_rasas_fallback():
    """Round 4 (20), seen again in a conversation test: a photo captioned "SRN-000002 ... light latak rhi
    h" was set to share_photo (1.0) beside street light at 0.9994, and Rasa's FallbackClassifier (in
    the pipeline after MessageRules) fell back on the ambiguity: "did you mean: Street light?"."""
    from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier

    ranking = ranking_of(("complaint_street_light", 0.9994), ("reopen_complaint", 0.0002))
    message = Message(data={TEXT: "SRN-000002 ye dekho khamba jhuka hua h, light latak rhi h", "metadata": IMAGE})
    message.set(INTENT, {"name": "complaint_street_light", "confidence": 0.9994})
    message.set(ENTITIES, [{"entity": "complaint_id", "value": "SRN-000002"}])
    message.set(INTENT_RANKING_KEY, ranking)
    MessageRules({}).process([message])
    config = {**FallbackClassifier.get_default_config(), "threshold": 0.45, "ambiguity_threshold": 0.05}
    FallbackClassifier(config).process([message])
    assert message.get(INTENT)["name"] == "share_photo"


def test_a_rating_the_classifier_was_unsure_of_is_an_answer():
    """Round 4 (41): "hn ab saaf h gli. bdiya kaam kiya is baar, 5 star dungi" → "did you mean: Sewer or Safai?"."""
    message = Message(data={TEXT: "hn ab saaf h gli. bdiya kaam kiya is baar, 5 star dungi", "metadata": {}})
    message.set(INTENT, {"name": "complaint_sanitation", "confidence": 0.31})
    message.set(ENTITIES, [])
    message.set(INTENT_RANKING_KEY, ranking_of(("complaint_sanitation", 0.31), ("complaint_sewer", 0.29)))
    MessageRules({}).process([message])
    assert message.get(INTENT)["name"] == "inform"


@pytest.mark.parametrize("text, intent, entities, expected", [
    # round 5 (16, 17, 21): stopping in own words
    ("street light?? ye police ka mamla h, cancel kro", "complaint_street_light", [], "stop"),
    ("I dont want to register anything, I want to talk to a senior officer", "human_handoff", [], "stop"),
    ("stop asking my ward!!!", "inform", [], "stop"),
    ("छोड़ो यार, बाद में देखेंगे, अभी दुकान खोलनी है", "complaint_sewer", [], "stop"),
    ("chodo, asal me naali band h", "complaint_sewer", [], "complaint_sewer"),  # a change of mind, not a stop
    ("chhodo, photo nahi hai", "deny", [], "deny"),  # leaves the photo, not the complaint
    ("chodo yr, ward 12 hi likh do", "inform", [], "inform"),
    ("mat cancel karo, darj kar do", "affirm", [], "affirm"),
    # round 5 (17): anger that names tax only in a rant
    ("You people are USELESS. I have complained 4 times on the 1533 number and nobody ever comes. "
     "Why do we even pay taxes?? shame on nagar nigam", "complaint_house_tax", [], "frustration"),
    ("You people are USELESS. I have complained 4 times on the 1533 number and nobody ever comes. "
     "Why do we even pay taxes?? shame on nagar nigam", "complaint_drinking_water", [], "frustration"),
    ("garbage nahi uthaya, hum tax bharte h, you people are useless", "complaint_sanitation", [],
     "complaint_sanitation"),  # a complaint named beside the rant stays one
    ("house tax ka bill galat aaya h, tum log bas tax lena jaante ho", "complaint_house_tax", [],
     "complaint_house_tax"),  # a bill's problem stays one
    # round 5 (16): a police matter heard as a street light
    ("bhai mere padosi roz rat ko daru pi k jhagda krte h gali m, police wale sunte nhi, aap kuch kro",
     "complaint_street_light", [{"entity": "agency", "value": "police"}], "other_agency"),
    # round 5 (11): a rating asked to be given, heard as a status question
    ("I want to rate complaint SRN-000003, 4 stars", "complaint_status",
     [{"entity": "complaint_id", "value": "SRN-000003"}], "inform"),
])
def test_round_5s_messages(text, intent, entities, expected):
    assert parsed(text, intent, entities=entities).get(INTENT)["name"] == expected
