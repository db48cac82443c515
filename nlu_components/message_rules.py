"""What a message is, decided by rules where the classifier cannot know it.

- A photo with a caption (the WhatsApp channel sends the caption as the text and the media
  id in metadata) carries the `photo_id` entity; unless its caption states a complaint, its
  intent is `share_photo` (a caption "SRN-000012" or "ye dekho" is about the photo).
- Typed words are never `share_photo` or `share_location` (only the
  channel sends those); the next likeliest intent is taken.
- Light and power: a message that says the light is the street's ("street light kharab",
  "khambe ki light") is `complaint_street_light`, one about the supply at home ("ghar ki
  bijli nahi aa rahi", "power cut") is `other_agency` (the power company), and a short one
  that says neither ("light nahi aa rahi") is `other_agency` too, whose action asks which
  (civic/knowledge.py power_kind).
- A message that is only a district's name ("Lucknow", "पटना", "Bombay?", or with words that
  only ask about it: "muzaffarnagar ka bta") is an answer,
  `inform`, like a message that is only a number: in the complaint form it answers the
  question asked; outside it, it asks for that district's COVID figures (action_menu_choice).
- A short message that names a complaint number and nothing else ("SRN-000002", "srn 2",
  "status 21", "21 ka status") asks for that complaint's status.
- Folded hands alone ("🙏", "🙏🙏") are `thank` (a rule greets with the menu when they open the
  conversation), never "did you mean: Hello?".
- Anger without a request ("तुम लोग बस झूठ बोलते हो", "koi sunta hi nahi", "useless people")
  is `frustration` (a calm answer with the offer to register or call), whatever the classifier
  made of its other words; anger with a complaint stays the complaint, whose form acknowledges
  it in one line (civic.tone.is_angry).
- A problem "still" there that the classifier found nearly as much a complaint as a
  reopening ("abhi bhi kuda pda h wha, dubara dekho": reopen 0.7, sanitation 0.3), without a
  complaint number, is that complaint: the form then offers to reopen the citizen's resolved
  ticket of that category, or registers a new one (a citizen with no such ticket loses nothing).
- Giving up ("chodo yr", "rehne do yaar", "jane do", civic.corrections.gives_up) is `stop`,
  never `deny` (which the photo question would take for "no photo").
- A short yes that names one category ("हाँ, सीवर" typed at "did you mean: सीवर या सफाई?") is
  that complaint, not a bare yes (which the help menu would answer).
- A house number ("मकान नंबर 54", "makan no 12", "house no 5") is part of a place: a message
  the classifier took for a house-tax complaint for it, without a word of tax, bills or
  receipts ("अरे नहीं, जगह गलत लिखी, मकान नंबर 54 है"), is the likeliest other complaint, else
  `inform` (an answer: the form reads the place in it).
- A change of mind ("nahi nahi, light nahi, asal me naali band hai") is a complaint of the
  category named after the one taken back (civic.corrections.change_of_mind), not `deny` and
  not the taken-back category, whose words weigh as much in the classifier.

    - name: nlu_components.message_rules.MessageRules   # after the entity extractor,
                                                         # before FallbackClassifier
"""
from __future__ import annotations

import re
from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from civic.corrections import (
    asks_to_cancel,
    categories_named,
    change_of_mind,
    first_mentions,
    gives_up,
    gives_up_first,
    rating_given,
    says_still,
    words_in,
)
from civic.districts import asks_about_district, is_follow_up
from civic.knowledge import power_kind
from civic.location import HOUSE_NUMBER
from civic.tone import is_angry, only_folded_hands

PHOTO_INTENT = "share_photo"
STOP_INTENT = "stop"
REOPEN_INTENT = "reopen_complaint"
# A complaint intent at least this likely beside a reopening makes it that complaint.
MIN_COMPLAINT_BESIDE_REOPEN = 0.15
# Intents only the WhatsApp channel sends (as payloads): typed words are never one of them
# ("I sent a voice note" may well be `unsupported_message`, which is answered in words).
CHANNEL_ONLY = frozenset({"share_photo", "share_location"})
# Intents that say nothing of their own: a complaint number beside them is a status question.
CONTENTLESS = frozenset({"inform", "nlu_fallback", "out_of_scope", "greet", "thank", "affirm",
                         "deny", "help"})
# Words beside a complaint number that keep a message a status question.
MAX_STATUS_WORDS = 5  # "2 ka kya hua bhai"
COMPLAINT_PREFIX = "complaint_"
# Intents a change of mind is taken for besides the category it takes back.
NO_PROBLEM_NAMED = frozenset({"deny", "inform", "nlu_fallback", "stop", "out_of_scope"})
ANSWER_INTENT = "inform"
COVID_INTENT = "covid_cases"
AGENCY_INTENT = "other_agency"
POWER_AGENCY = "electricity"
# "rate", "rating", "stars": a rating asked to be given, whatever the classifier made of it
RATING_WORD = re.compile(r"(?<![\w\u0900-\u097F])(?:rate|rating|ratings|stars?|रेटिंग|स्टार)(?![\w\u0900-\u097F])",
                         re.IGNORECASE)
# Tax named only in a rant ("why do we even pay taxes", "tax hum pura dete h"), not a bill's problem
TAX_IN_A_RANT = re.compile(
    r"(?:pay|paying|paid)\s+(?:our\s+|the\s+|all\s+)?tax(?:es)?|tax(?:es)?\s+(?:hum\s+)?(?:pura\s+)?"
    r"(?:dete|bharte|bhar\w*|lete|kha\w*|lena)|टैक्स\s+(?:हम\s+)?(?:पूरा\s+)?(?:देते|भरते|लेते|लेना|खा)",
    re.IGNORECASE)
HOUSE_TAX_PROBLEM = re.compile(
    r"\b(?:bill|receipt|raseed|rasid|assessment|arrears|penalty|wrong|galat|zyada|jyada|double)\b|बिल|रसीद|गलत|ज़्यादा|ज्यादा",
    re.IGNORECASE)
MAX_OTHER_CONFIDENCE = 0.9  # the other intents beside one set here (FallbackClassifier ambiguity 0.05)
STREET_LIGHT_INTENT = "complaint_street_light"
# "light nahi aa rahi" is asked about; a longer message about a light is left to the classifier.
MAX_AMBIGUOUS_LIGHT_WORDS = 6
# Words of when ("कल रात से", "since last night", "2 din se") say nothing about which light.
TIME_WORDS = frozenset("""
    kal raat rat subah shaam sham din dino ghante ghanto aaj parso se sey since from last night
    morning evening yesterday today hours days कल रात सुबह शाम दिन दिनों घंटे घंटों आज परसों से
    """.split())
HOUSE_TAX_INTENT = "complaint_house_tax"
# What makes a message with a house number about house tax after all.
TAX_WORDS = re.compile(
    r"(?<![\w\u0900-\u097F])(?:tax|taxes|taks|tex|grihkar|grih\s*kar|bill|raseed|rasid|receipt|property|"
    r"sampatti|mutation|dakhil|टैक्स|गृहकर|गृह\s*कर|बिल|रसीद|प्रॉपर्टी|संपत्ति|दाखिल)(?![\w\u0900-\u097F])",
    re.IGNORECASE)
# Beside a house number taken for house tax, another complaint at least this likely is meant.
MIN_COMPLAINT_BESIDE_HOUSE_NUMBER = 0.1
MAX_YES_WITH_CATEGORY_WORDS = 4
THANK_INTENT = "thank"
FRUSTRATION_INTENT = "frustration"
# What the classifier may make of an angry message that asks for nothing in particular.
NO_REQUEST = CONTENTLESS | {"bot_challenge", "goodbye", "stop", "human_handoff", FRUSTRATION_INTENT}


def follow_up_about_a_district(text: str, entities: list) -> bool:
    """A short "and <district> ...?" message (the topic is the previous answer's)."""
    return is_follow_up(text) and any(e.get("entity") == "district" for e in entities)


def only_a_district(text: str, entities: list) -> bool:
    """The message is a district's name and nothing else ("Lucknow", "Noida?", "पटना जिला"), or
    with words that only ask about it ("muzaffarnagar ka bta", "पटना का क्या हाल है")."""
    district = next((e.get("value") for e in entities if e.get("entity") == "district"), None)
    if not district or text.startswith("/"):
        return False
    return asks_about_district(text, district)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class MessageRules(GraphComponent, EntityExtractorMixin):
    """Sets the intent of photos and of bare complaint numbers (see the module docstring)."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"status_intent": "complaint_status", "fallback_threshold": 0.45}  # FallbackClassifier's

    def __init__(self, config: Dict[str, Any]) -> None:
        config = {**self.get_default_config(), **config}
        self.status_intent = config["status_intent"]
        self.fallback_threshold = float(config["fallback_threshold"])
        from civic.city import get_city  # reads city.yml (or CITY_CONFIG) once

        self.category_words = get_city().category_words

    @classmethod
    def create(cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> MessageRules:
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            metadata = message.get("metadata") or {}
            intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY) or ""
            entities = message.get(ENTITIES) or []
            photo_id = metadata.get("photo_id") if metadata.get("type") == "image" else None
            if photo_id and not text.startswith("/"):
                if not any(e.get("entity") == "photo_id" for e in entities):
                    entity = {"entity": "photo_id", "value": str(photo_id), "start": 0, "end": 0}
                    message.set(ENTITIES, entities + self.add_extractor_name([entity]), add_to_output=True)
                names_a_ticket = any(e.get("entity") == "complaint_id" for e in entities)
                if names_a_ticket or (not (intent.startswith("complaint_") and intent != self.status_intent)
                                      and intent != "report_complaint"):
                    # "SRN-000008 this is the water in the bucket": a photo for that ticket (round 4, 20)
                    self._set_intent(message, PHOTO_INTENT)
            elif intent in CONTENTLESS and any(e.get("entity") == "complaint_id" for e in entities) \
                    and len(text.split()) <= MAX_STATUS_WORDS:
                self._set_intent(message, self.status_intent)
            elif gives_up(text) or asks_to_cancel(text) \
                    or (gives_up_first(text) and not categories_named(text, self.category_words)):
                # "chodo yr"; "street light?? ye police ka mamla h, cancel kro"; "I dont want to
                # register anything"; "छोड़ो यार, बाद में देखेंगे, अभी दुकान खोलनी है" (round 5)
                self._set_intent(message, STOP_INTENT)
            elif intent == STOP_INTENT and len(categories_named(text, self.category_words)) == 1:
                # "nhi rehne do, leakage hi rkho": keep that complaint, not stop (round 4, 38)
                self._set_intent(message, COMPLAINT_PREFIX + next(iter(categories_named(text, self.category_words))))
            elif (intent in CONTENTLESS - {ANSWER_INTENT} or self._unsure(message)
                  or (RATING_WORD.search(text) and intent[len(COMPLAINT_PREFIX):] not in self.category_words)) \
                    and not text.startswith("/") and rating_given(text):
                # ("I want to rate complaint SRN-000003, 4 stars" was a status question; round 5, 11)
                # "thanks, 5 stars", "4/5 dunga": an answer (to the rating question, when one was asked)
                self._set_intent(message, ANSWER_INTENT)
            elif intent == REOPEN_INTENT and not any(e.get("entity") == "complaint_id" for e in entities):
                self._still_a_complaint(message)
            elif intent in CHANNEL_ONLY and not text.startswith("/"):
                self._next_best(message)
            elif intent in CONTENTLESS and follow_up_about_a_district(text, entities):
                # "or bombay ka kya haal h": an answer, which right after COVID figures is a
                # COVID question (action_menu_choice), and never "I can't help with that"
                self._set_intent(message, ANSWER_INTENT)
            elif (intent in CONTENTLESS | {COVID_INTENT} or self._unsure(message)) and only_a_district(text, entities):
                # sure of it, so that the fallback does not ask "what do you mean?"
                self._set_intent(message, COVID_INTENT if intent == COVID_INTENT else ANSWER_INTENT)
            elif only_folded_hands(text):
                self._set_intent(message, THANK_INTENT)
            elif is_angry(text) and TAX_IN_A_RANT.search(text) and not HOUSE_TAX_PROBLEM.search(text) \
                    and self._names_nothing_of(intent, text):
                # "You people are USELESS ... Why do we even pay taxes??": anger, not a tax bill (round 5, 17)
                self._set_intent(message, FRUSTRATION_INTENT)
            elif intent in NO_REQUEST - {"human_handoff"} and is_angry(text) \
                    and not any(e.get("entity") == "complaint_id" for e in entities):
                self._set_intent(message, FRUSTRATION_INTENT)
            elif intent == "affirm" and self._yes_with_a_category(text):
                # "हाँ, सीवर" typed at "did you mean: सीवर या सफाई?": that complaint, not a bare yes
                self._set_intent(message, COMPLAINT_PREFIX + self._yes_with_a_category(text))
            elif intent == HOUSE_TAX_INTENT and HOUSE_NUMBER.search(text) and not TAX_WORDS.search(text):
                self._not_house_tax(message)
            elif self._another_agencys(intent, text, entities):
                # "my ration card application is pending since 3 months, can u check": the
                # agency's, not a house-tax complaint (round 4, 26)
                self._set_intent(message, AGENCY_INTENT)
            elif not text.startswith("/"):
                self._change_of_mind(message, text, intent)
                intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY) or ""
                self._power_rule(message, text, intent, entities)
        return messages

    def _change_of_mind(self, message: Message, text: str, intent: str) -> None:
        """The category named after the one taken back, likeliest first by the classifier;
        with no category named but "asal me"/"actually", the likeliest other complaint."""
        change = change_of_mind(text, self.category_words)
        if change is None:
            return
        taken_back = {COMPLAINT_PREFIX + key for key in change.taken_back}
        if intent not in taken_back and intent not in NO_PROBLEM_NAMED:
            return
        ranked = [r.get(INTENT_NAME_KEY) for r in message.get(INTENT_RANKING_KEY) or []]
        named = self._first_named(text, change.named, ranked)
        others = [name for name in ranked if name.startswith(COMPLAINT_PREFIX)
                  and name not in taken_back and name != self.status_intent]
        choice = named[0] if named else (others[0] if change.cue and others else None)
        if choice:
            self._set_intent(message, choice)

    def _unsure(self, message: Message) -> bool:
        """The classifier's best is below the fallback's threshold (FallbackClassifier runs after)."""
        return ((message.get(INTENT) or {}).get(PREDICTED_CONFIDENCE_KEY) or 0) < self.fallback_threshold

    def _names_nothing_of(self, intent: str, text: str) -> bool:
        """A complaint intent for a message with no word of that complaint's name."""
        key = intent[len(COMPLAINT_PREFIX):] if intent.startswith(COMPLAINT_PREFIX) else None
        if key not in self.category_words:
            return False
        return not words_in(text) & {w.casefold() for w in self.category_words[key]}

    def _another_agencys(self, intent: str, text: str, entities: list) -> bool:
        """A complaint intent for a message about another agency's work (not the power, which
        `_power_rule` reads) that names no word of that complaint."""
        agency = next((e.get("value") for e in entities if e.get("entity") == "agency"), None)
        return agency not in (None, POWER_AGENCY) and self._names_nothing_of(intent, text)

    def _first_named(self, text: str, keys, ranked: List[str]) -> List[str]:
        """The intents of the categories `keys`, the one named first in `text` first ("asl me
        naali band pdi h, pani ruka h gli me": the drain, not the water; round 4, 32); a word of
        two categories ("naali") leaves them to the classifier's order."""
        at = first_mentions(text, [k for k in self.category_words if k in keys], self.category_words)
        rank = {name: i for i, name in enumerate(ranked)}
        keys = sorted(at, key=lambda k: (at[k], rank.get(COMPLAINT_PREFIX + k, len(rank))))
        return [COMPLAINT_PREFIX + key for key in keys]

    def _yes_with_a_category(self, text: str) -> str:
        """The one category a short yes names ("हाँ, सीवर", "haan sewer wala"), else ""."""
        words = {w.casefold() for w in re.findall(r"[\w\u0900-\u097F]+", text)}
        if not 2 <= len(words) <= MAX_YES_WITH_CATEGORY_WORDS:
            return ""
        named = [key for key, category in self.category_words.items()
                 if words & {w.casefold() for w in category}]
        return named[0] if len(named) == 1 else ""

    def _not_house_tax(self, message: Message) -> None:
        """ "मकान नंबर 54": a place. The likeliest other complaint, else an answer."""
        complaint = next((r for r in message.get(INTENT_RANKING_KEY) or []
                          if (r.get(INTENT_NAME_KEY) or "").startswith(COMPLAINT_PREFIX)
                          and r.get(INTENT_NAME_KEY) not in (HOUSE_TAX_INTENT, self.status_intent)), None)
        if complaint and (complaint.get(PREDICTED_CONFIDENCE_KEY) or 0) >= MIN_COMPLAINT_BESIDE_HOUSE_NUMBER:
            self._set_intent(message, complaint[INTENT_NAME_KEY])
        else:
            self._set_intent(message, ANSWER_INTENT)

    def _still_a_complaint(self, message: Message) -> None:
        complaint = next((r for r in message.get(INTENT_RANKING_KEY) or []
                          if (r.get(INTENT_NAME_KEY) or "").startswith(COMPLAINT_PREFIX)
                          and r.get(INTENT_NAME_KEY) != self.status_intent), None)
        if complaint and (complaint.get(PREDICTED_CONFIDENCE_KEY) or 0) >= MIN_COMPLAINT_BESIDE_REOPEN:
            self._set_intent(message, complaint[INTENT_NAME_KEY])
        elif says_still(message.get(TEXT) or ""):
            # "ढक्कन तो अभी तक नहीं लगा, झूठ क्यों बोल रहे हो": a reopening, however unsure the
            # classifier (the "did you mean: reopen?" it led to was one tap too many; round 4, 17)
            self._set_intent(message, REOPEN_INTENT)

    def _power_rule(self, message: Message, text: str, intent: str, entities: list) -> None:
        kind = power_kind(text)
        agency = next((e.get("value") for e in entities if e.get("entity") == "agency"), None)
        if kind == "street" and intent == AGENCY_INTENT and agency in (None, POWER_AGENCY):
            self._set_intent(message, STREET_LIGHT_INTENT)
        elif (kind == "home" and intent in (STREET_LIGHT_INTENT, "nlu_fallback", "out_of_scope")) \
                or (kind == "ambiguous" and intent in (STREET_LIGHT_INTENT, "nlu_fallback")
                    and len([w for w in text.split() if w.casefold() not in TIME_WORDS and not w.isdigit()])
                    <= MAX_AMBIGUOUS_LIGHT_WORDS):
            # (the entity extractor has added agency "electricity" for the power at home; an
            # unclear light gets none: action_other_agency asks which light)
            self._set_intent(message, AGENCY_INTENT)

    @staticmethod
    def _next_best(message: Message) -> None:
        """Typed words the classifier took for a photo or a location ("photo kal bhej
        dunga"): the likeliest intent a citizen can type, with its own confidence."""
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or []
                   if r.get(INTENT_NAME_KEY) not in CHANNEL_ONLY]
        if ranking:
            message.set(INTENT, dict(ranking[0]), add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)

    @staticmethod
    def _set_intent(message: Message, name: str) -> None:
        chosen = {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: 1.0}
        # the others below 1 by more than FallbackClassifier's ambiguity threshold: a choice made
        # here over a classifier that was sure of another ("SRN-000002 ... light latak rhi h" with a
        # photo: 0.9994 street light) is no ambiguity to fall back on
        ranking = [{**r, PREDICTED_CONFIDENCE_KEY: min(r.get(PREDICTED_CONFIDENCE_KEY) or 0, MAX_OTHER_CONFIDENCE)}
                   for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != name]
        message.set(INTENT, chosen, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [chosen, *ranking], add_to_output=True)
