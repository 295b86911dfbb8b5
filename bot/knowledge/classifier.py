"""A softmax classifier over sentence embeddings: which entry (or "off-topic") a question is about.

Nearest-neighbour search over question variants lets one stray variant decide; a linear classifier
trained on all variants of all entries (and the labelled off-topic examples as one more class)
learns which directions of the embedding space separate entries. Trained with full-batch Adam from
zeros, so the same content always gives the same weights; cached on disk by a hash of the data."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.knowledge.cache import NotCached, save_arrays

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Training:
    """Tuned with bench/tune_retrieval.py on the dev half of tests/data/eval."""

    epochs: int = 200
    temperature: float = 10.0
    l2: float = 1e-3
    learning_rate: float = 0.05


class SoftmaxClassifier:
    def __init__(self, weights: np.ndarray, bias: np.ndarray, temperature: float) -> None:
        self.weights = weights.astype(np.float32)
        self.bias = bias.astype(np.float32)
        self.temperature = temperature

    def probabilities(self, vector: np.ndarray) -> np.ndarray:
        logits = self.temperature * (vector @ self.weights) + self.bias
        logits = np.exp(logits - logits.max())
        return logits / logits.sum()

    @classmethod
    def train(cls, vectors: np.ndarray, labels: np.ndarray, classes: int, training: Training = Training(),
              weights: np.ndarray | None = None) -> SoftmaxClassifier:
        """``weights``: how much each example counts (default: all alike)."""
        x = vectors.astype(np.float64)
        targets = np.eye(classes)[labels]
        share = (np.ones(len(x)) if weights is None else weights.astype(np.float64))[:, None]
        share = share / share.sum()
        weights, bias = np.zeros((x.shape[1], classes)), np.zeros(classes)
        moments = [np.zeros_like(weights), np.zeros_like(weights), np.zeros_like(bias), np.zeros_like(bias)]
        t = training.temperature
        for step in range(1, training.epochs + 1):
            logits = t * (x @ weights) + bias
            logits -= logits.max(axis=1, keepdims=True)
            p = np.exp(logits)
            p /= p.sum(axis=1, keepdims=True)
            error = (p - targets) * share
            for param, grad, first, second in ((weights, t * x.T @ error + training.l2 * weights, *moments[:2]),
                                               (bias, error.sum(axis=0), *moments[2:])):
                first *= 0.9
                first += 0.1 * grad
                second *= 0.999
                second += 0.001 * grad**2
                param -= training.learning_rate * (first / (1 - 0.9**step)) / (np.sqrt(second / (1 - 0.999**step)) + 1e-8)
        return cls(weights, bias, t)

    @classmethod
    def cached(cls, path: Path | None, vectors: np.ndarray, labels: np.ndarray, classes: int,
               training: Training = Training(), weights: np.ndarray | None = None, *, train: bool = True) -> SoftmaxClassifier:
        """Load the weights trained on exactly this data from `path`, or train and save them there
        (``train=False``: raise NotCached instead)."""
        digest = hashlib.sha1(repr((training, classes)).encode() + vectors.astype(np.float32).tobytes() + labels.astype(np.int64).tobytes()
                              + (b"" if weights is None else weights.astype(np.float64).tobytes())).hexdigest()
        if path is not None and path.exists():
            try:
                with np.load(path) as data:
                    if str(data["digest"]) == digest:
                        return cls(data["weights"], data["bias"], float(data["temperature"]))
            except (OSError, ValueError, KeyError) as error:
                log.warning("classifier cache %s unreadable (%s): training again", path, type(error).__name__)
        if not train:
            raise NotCached("the retrieval classifier is not trained on this content yet")
        classifier = cls.train(vectors, labels, classes, training, weights)
        if path is not None:
            classifier._save(path, digest)
        return classifier

    def _save(self, path: Path, digest: str) -> None:
        save_arrays(path, "classifier cache", weights=self.weights, bias=self.bias, temperature=self.temperature, digest=digest)
