"""The custom NLU components, built the way Rasa builds them and run on real Messages."""
import asyncio
import textwrap

import numpy as np
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from civic.city import get_city
from nlu_components.civic_entities import CivicEntityExtractor
from nlu_components.normalizing_tokenizer import ScriptNormalizingTokenizer


def build(cls, storage, context, **config):
    config = {**cls.get_default_config(), **config}
    return cls.create(config, storage, Resource(cls.__name__), context)


def tokens(message):
    return [(t.text, t.start, t.end, t.lemma) for t in message.get(TOKENS_NAMES[TEXT])]


def test_tokenizer_keeps_text_and_offsets_and_normalises_lemmas(storage, context):
    tokenizer = build(ScriptNormalizingTokenizer, storage, context)
    text = "वार्ड नंबर २३ में पानी नहीं आ रहा है।"
    message = Message(data={TEXT: text})
    tokenizer.process([message])
    assert tokens(message) == [
        ("वार्ड", 0, 5, "vard"), ("नंबर", 6, 10, "nambar"), ("२३", 11, 13, "23"),
        ("में", 14, 17, "me"), ("पानी", 18, 22, "pani"), ("नहीं", 23, 27, "nahi"),
        ("आ", 28, 29, "a"), ("रहा", 30, 33, "raha"), ("है", 34, 36, "hai"),
    ]


def test_tokenizer_hinglish_and_english(storage, context):
    tokenizer = build(ScriptNormalizingTokenizer, storage, context)
    message = Message(data={TEXT: "Ward-23 me paani NAHIN aa raha!!"})
    tokenizer.process([message])
    assert [(t[0], t[3]) for t in tokens(message)] == [
        ("Ward-23", "vard-23"), ("me", "me"), ("paani", "pani"), ("NAHIN", "nahi"),
        ("aa", "a"), ("raha", "raha"),
    ]
    for text, start, end, _ in tokens(message):
        assert message.get(TEXT)[start:end] == text


def test_tokenizer_emoji_only_message(storage, context):
    tokenizer = build(ScriptNormalizingTokenizer, storage, context)
    message = Message(data={TEXT: "👍"})
    tokenizer.process([message])
    assert tokens(message) == [("👍", 0, 1, "👍")]


def test_featurizer_sees_one_form_for_three_spellings(storage, context):
    """CountVectorsFeaturizer (char_wb) gives identical features to पानी, paani and pani."""
    tokenizer = build(ScriptNormalizingTokenizer, storage, context)
    featurizer = build(
        CountVectorsFeaturizer, storage, context, analyzer="char_wb", min_ngram=1, max_ngram=4
    )
    training = TrainingData(
        [
            Message(data={TEXT: "paani nahi aa raha", INTENT: "complaint_drinking_water"}),
            Message(data={TEXT: "light kharab hai", INTENT: "complaint_street_light"}),
        ]
    )
    tokenizer.process_training_data(training)
    featurizer.train(training)

    def features(text):
        message = Message(data={TEXT: text})
        tokenizer.process([message])
        featurizer.process([message])
        sequence, _ = message.get_sparse_features(TEXT)
        return sequence.features.toarray()

    pani = features("पानी नहीं")
    assert pani.any()
    assert np.array_equal(pani, features("paani nahin"))
    assert np.array_equal(pani, features("pani nhi"))
    assert not np.array_equal(pani, features("light kharab"))


def test_extractor_reads_the_city_config(storage, context):
    extractor = build(CivicEntityExtractor, storage, context)
    assert extractor.complaint_prefix == get_city().complaint_prefix
    assert extractor.wards == get_city().wards


def test_extractor_adds_canonical_entities(storage, context):
    tokenizer = build(ScriptNormalizingTokenizer, storage, context)
    extractor = build(CivicEntityExtractor, storage, context)
    text = "वार्ड नंबर तेईस में पानी नहीं, शिकायत srn 145"
    message = Message(data={TEXT: text})
    tokenizer.process([message])
    extractor.process([message])
    srn = text.index("srn 145")
    assert message.get(ENTITIES) == [
        {"entity": "ward", "value": "23", "start": 11, "end": 15,
         "extractor": "CivicEntityExtractor"},
        {"entity": "complaint_id", "value": "SRN-000145", "start": srn, "end": srn + 7,
         "extractor": "CivicEntityExtractor"},
    ]
    assert text[11:15] == "तेईस"
    assert message.as_dict(only_output_properties=True)[ENTITIES] == message.get(ENTITIES)


def test_extractor_keeps_entities_of_earlier_extractors(storage, context):
    extractor = build(CivicEntityExtractor, storage, context)
    earlier = {
        "entity": "category", "value": "sewer", "start": 0, "end": 5, "extractor": "DIETClassifier"
    }
    message = Message(data={TEXT: "sewer ward 7", ENTITIES: [dict(earlier)]})
    extractor.process([message])
    assert message.get(ENTITIES) == [
        earlier,
        {"entity": "ward", "value": "7", "start": 11, "end": 12,
         "extractor": "CivicEntityExtractor"},
    ]


def test_extractor_config_overrides_the_city(storage, context):
    extractor = build(CivicEntityExtractor, storage, context, complaint_prefix="mrt", wards=90)
    message = Message(data={TEXT: "MRT 12 ka status"})
    extractor.process([message])
    assert [e["value"] for e in message.get(ENTITIES)] == ["MRT-000012"]
    assert extractor.wards == 90


def test_extractor_number_emoji_and_long_messages(storage, context):
    extractor = build(CivicEntityExtractor, storage, context)
    messages = [Message(data={TEXT: t}) for t in ["२३", "😡🙏", ""]]
    long_message = Message(data={TEXT: ("SRN 145 ward 9 😡 " * 600)[:10_000]})
    extractor.process(messages + [long_message])  # how long it takes: scripts/bench_text.py
    assert messages[0].get(ENTITIES)[0]["value"] == "23"
    assert messages[0].get(ENTITIES)[0]["entity"] == "number"
    assert messages[1].get(ENTITIES) == []
    assert {e["value"] for e in long_message.get(ENTITIES)} == {"SRN-000145", "9"}


NLU_DATA = """
version: "3.1"
nlu:
- intent: complaint_street_light
  examples: |
    - street light kharab hai
    - ward 5 me light nahi jal rahi
    - खंभे की लाइट खराब है
    - street lamp not working
    - batti band hai
- intent: complaint_drinking_water
  examples: |
    - paani nahi aa raha
    - पानी नहीं आ रहा
    - no water supply since morning
    - nal me ganda pani
    - pine ka pani nahi hai
"""

CONFIG = """
recipe: default.v1
language: hi
assistant_id: test-civic-pipeline
pipeline:
- name: nlu_components.normalizing_tokenizer.ScriptNormalizingTokenizer
- name: CountVectorsFeaturizer
  analyzer: char_wb
  min_ngram: 1
  max_ngram: 4
- name: LogisticRegressionClassifier
- name: nlu_components.civic_entities.CivicEntityExtractor
policies: []
"""


def test_trained_pipeline_parses_ward_and_intent(tmp_path, monkeypatch):
    """Train a tiny model through Rasa's own API, load it with Agent, parse a message."""
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu

    monkeypatch.setenv("RASA_CACHE_DIRECTORY", str(tmp_path / "cache"))
    (tmp_path / "nlu.yml").write_text(textwrap.dedent(NLU_DATA), encoding="utf-8")
    (tmp_path / "config.yml").write_text(textwrap.dedent(CONFIG), encoding="utf-8")
    model_path = train_nlu(
        str(tmp_path / "config.yml"), str(tmp_path / "nlu.yml"), str(tmp_path / "models")
    )
    assert model_path

    agent = Agent.load(model_path)
    parsed = asyncio.run(agent.parse_message("ward 23 me light kharab"))
    assert parsed["intent"]["name"] == "complaint_street_light"
    assert [(e["entity"], e["value"], e["extractor"]) for e in parsed["entities"]] == [
        ("ward", "23", "CivicEntityExtractor")
    ]
    hindi = asyncio.run(agent.parse_message("वार्ड नंबर तेईस में पानी नहीं आ रहा"))
    assert hindi["intent"]["name"] == "complaint_drinking_water"
    assert [(e["entity"], e["value"]) for e in hindi["entities"]] == [("ward", "23")]


def test_a_message_that_is_only_a_number_is_an_answer(storage, context):
    from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY

    extractor = build(CivicEntityExtractor, storage, context)
    guessed = {"name": "nlu_fallback", "confidence": 0.3}
    for text in ("four", "४", "chaar", "4"):
        message = Message(data={TEXT: text, INTENT: guessed,
                                INTENT_RANKING_KEY: [guessed, {"name": "inform", "confidence": 0.2}]})
        extractor.process([message])
        assert message.get(INTENT) == {"name": "inform", "confidence": 1.0}, text
        assert [r["name"] for r in message.get(INTENT_RANKING_KEY)] == ["inform", "nlu_fallback"]
    sentence = Message(data={TEXT: "ward 4 me light kharab", INTENT: {"name": "complaint_street_light"}})
    extractor.process([sentence])
    assert sentence.get(INTENT) == {"name": "complaint_street_light"}


def test_tokenizer_reads_the_first_max_chars_of_a_long_message_in_whole_words(storage, context):
    tokenizer = build(ScriptNormalizingTokenizer, storage, context)
    text = ("ward 23 me street light kharab hai Court Road pe " * 90)[:4096]
    message = Message(data={TEXT: text})
    tokenizer.process([message])
    found = tokens(message)
    assert message.get(TEXT) == text  # the text itself is whole
    assert max(start for _, start, _, _ in found) < 500  # words that start in the first 500
    assert all(text[start:end] == word for word, start, end, _ in found)
    everything = Message(data={TEXT: text})
    build(ScriptNormalizingTokenizer, storage, context, max_chars=10_000).process([everything])
    assert found == tokens(everything)[: len(found)]
    assert len(tokens(everything)) > 5 * len(found)


def test_tokenizer_bound_changes_nothing_within_max_chars(storage, context):
    text = "वार्ड २३ में पानी नहीं आ रहा " * 17  # 476 characters
    bounded, unbounded = Message(data={TEXT: text}), Message(data={TEXT: text})
    build(ScriptNormalizingTokenizer, storage, context).process([bounded])
    build(ScriptNormalizingTokenizer, storage, context, max_chars=10_000).process([unbounded])
    assert len(text) < 500 and tokens(bounded) == tokens(unbounded)
