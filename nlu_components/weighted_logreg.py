"""Rasa's LogisticRegressionClassifier with more weight on chosen intents (Rasa 3.6).

Rasa 3.6 fixes `class_weight="balanced"`: every intent gets the same total weight, however
many examples it has. That is right for the civic intents, but `out_of_scope` stands for
everything else people ask a phone (weather, cricket, recipes ...): balanced, its hundreds of
examples weigh no more than the ten of `share_photo`, and other-domain requests fall to the
nearest civic intent. `weights` multiplies the balanced weight of the intents named:

    - name: nlu_components.weighted_logreg.WeightedLogisticRegressionClassifier
      max_iter: 500
      random_state: 42
      weights: {out_of_scope: 3.0}

With no `weights` it is Rasa's classifier unchanged (tests/nlu_components/test_weighted_logreg.py).
"""
from __future__ import annotations

from collections import Counter
from typing import Any, Dict, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.training_data import TrainingData


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class WeightedLogisticRegressionClassifier(LogisticRegressionClassifier):
    """LogisticRegressionClassifier whose balanced class weights can be raised per intent."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Rasa's defaults, and no extra weight."""
        return {**LogisticRegressionClassifier.get_default_config(), "weights": {}}

    def train(self, training_data: TrainingData) -> Resource:
        """Sets sklearn's class weights (balanced x `weights`), then trains as Rasa does."""
        counts = Counter(e.get(INTENT) for e in training_data.intent_examples
                         if e.get(INTENT) and e.get(TEXT))  # the examples Rasa trains on
        total, classes = sum(counts.values()), len(counts)
        extra = self.config["weights"] or {}
        self.clf.set_params(class_weight={
            intent: total / (classes * count) * float(extra.get(intent, 1.0))
            for intent, count in counts.items()
        })
        return super().train(training_data)
