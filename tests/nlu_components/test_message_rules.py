"""MessageRules: photos with captions, bare complaint numbers, and typed words that the
classifier took for something only the WhatsApp channel sends."""
from typing import Dict, List, Optional

import pytest
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

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


def test_a_photo_id_in_metadata_of_another_message_type_is_ignored():
    message = parsed("hello", "greet", metadata={"type": "text", "photo_id": "1"})
    assert message.get(INTENT)["name"] == "greet" and message.get(ENTITIES) == []


@pytest.mark.parametrize("text, intent, expected", [
    ("srn 2", "inform", "complaint_status"),
    ("21 ka status", "nlu_fallback", "complaint_status"),
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
