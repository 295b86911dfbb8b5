"""The softmax classifier behind retrieval: it separates classes, is deterministic, and its disk cache
is reused only for the same data."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bot.knowledge.classifier import SoftmaxClassifier, Training


def clusters(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, 16))
    labels = np.repeat(np.arange(3), 20)
    vectors = centres[labels] + 0.3 * rng.normal(size=(60, 16))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32), labels


def test_classifier_puts_most_probability_on_the_right_class() -> None:
    vectors, labels = clusters()
    classifier = SoftmaxClassifier.train(vectors, labels, 3)
    predicted = [int(np.argmax(classifier.probabilities(v))) for v in vectors]
    assert predicted == labels.tolist()
    assert abs(float(classifier.probabilities(vectors[0]).sum()) - 1.0) < 1e-5


def test_training_is_deterministic() -> None:
    vectors, labels = clusters()
    first = SoftmaxClassifier.train(vectors, labels, 3, Training(epochs=20))
    second = SoftmaxClassifier.train(vectors, labels, 3, Training(epochs=20))
    assert np.array_equal(first.weights, second.weights)


def test_cache_is_reused_for_the_same_data_and_retrained_for_other_data(tmp_path: Path) -> None:
    vectors, labels = clusters()
    path = tmp_path / "classifier.npz"
    trained = SoftmaxClassifier.cached(path, vectors, labels, 3, Training(epochs=20))
    assert path.exists()
    stamp = path.stat().st_mtime_ns
    again = SoftmaxClassifier.cached(path, vectors, labels, 3, Training(epochs=20))
    assert np.array_equal(trained.weights, again.weights) and path.stat().st_mtime_ns == stamp
    other, other_labels = clusters(seed=1)
    retrained = SoftmaxClassifier.cached(path, other, other_labels, 3, Training(epochs=20))
    assert not np.array_equal(trained.weights, retrained.weights)


def test_a_broken_cache_file_is_replaced_not_fatal(tmp_path: Path) -> None:
    vectors, labels = clusters()
    path = tmp_path / "classifier.npz"
    path.write_bytes(b"not a numpy file")
    classifier = SoftmaxClassifier.cached(path, vectors, labels, 3, Training(epochs=20))
    assert classifier.weights.shape == (16, 3)
    assert np.load(path)["weights"].shape == (16, 3)
