"""WeightedLogisticRegressionClassifier against Rasa 3.6's own LogisticRegressionClassifier."""
import numpy as np
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu_components.normalizing_tokenizer import ScriptNormalizingTokenizer
from nlu_components.weighted_logreg import WeightedLogisticRegressionClassifier

TRAINING = [
    ("nal me pani nahi aa raha", "complaint_drinking_water"),
    ("pani ki supply band hai", "complaint_drinking_water"),
    ("street light kharab hai", "complaint_street_light"),
    ("khambe ki light nahi jalti", "complaint_street_light"),
    ("aaj mausam kaisa hai", "out_of_scope"),
    ("cricket score batao", "out_of_scope"),
    ("gaana chalao", "out_of_scope"),
    ("alarm laga do", "out_of_scope"),
]
PROBES = ["pani ki bottle order karo", "light music chalao", "gali ki light kharab", "namaste"]


def build(cls, storage, context, name, **config):
    return cls.create({**cls.get_default_config(), **config}, storage, Resource(name), context)


def rankings(classifier_cls, storage, context, name, **config):
    tokenizer = build(ScriptNormalizingTokenizer, storage, context, f"{name}-tok")
    featurizer = build(CountVectorsFeaturizer, storage, context, f"{name}-cv",
                       analyzer="char_wb", min_ngram=2, max_ngram=4)
    classifier = build(classifier_cls, storage, context, name, **config)
    training = TrainingData([Message(data={TEXT: t, INTENT: i}) for t, i in TRAINING])
    tokenizer.process_training_data(training)
    featurizer.train(training)
    featurizer.process_training_data(training)
    classifier.train(training)
    messages = [Message(data={TEXT: text}) for text in PROBES]
    tokenizer.process(messages)
    featurizer.process(messages)
    classifier.process(messages)
    return [{r["name"]: r["confidence"] for r in m.get(INTENT_RANKING_KEY)} for m in messages]


def test_without_weights_it_is_rasas_classifier(storage, context):
    ours = rankings(WeightedLogisticRegressionClassifier, storage, context, "ours")
    rasas = rankings(LogisticRegressionClassifier, storage, context, "rasa")
    for mine, theirs in zip(ours, rasas, strict=True):
        assert mine.keys() == theirs.keys()
        assert np.allclose([mine[k] for k in theirs], list(theirs.values()))


def test_a_weight_raises_that_intents_confidence_everywhere(storage, context):
    plain = rankings(WeightedLogisticRegressionClassifier, storage, context, "plain")
    weighted = rankings(WeightedLogisticRegressionClassifier, storage, context, "weighted",
                        weights={"out_of_scope": 4.0})
    for before, after in zip(plain, weighted, strict=True):
        assert after["out_of_scope"] > before["out_of_scope"]
