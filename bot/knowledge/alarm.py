"""The safety net's second signal: is her message about an emergency, and of which kind.

Logistic regression (scikit-learn) over two views of the message side by side: character n-grams
(2 to 5 letters, inside words) of the folded text, which catch inflections, misspellings and
Latin-script Arabic or Persian that no pattern lists, and the e5 sentence embedding, which carries
meaning across languages. Trained on the emergency examples of every language against the calm
examples (sentences with dangerous words that are not emergencies, weighted most), every
non-safety entry's question variants, the off-topic examples and the small-talk phrases (a goodbye
is no suicide note). A second, multinomial model over
the same features tells the kind. Measured with bench/emergency_bench.py: on never-tuned messages
the two views together catch what the patterns miss far better than the embedding alone (README,
"Emergencies").

The n-grams are hashed into a fixed number of columns, so nothing but arrays is kept: the trained
weights are cached in `.cache/alarm.npz` by a hash of the data, like the retrieval classifier."""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import LogisticRegression

from bot.knowledge.cache import NotCached, save_arrays
from bot.language import tokens

log = logging.getLogger(__name__)

COLUMNS = 2**19  # hashed n-gram columns


@dataclass(frozen=True)
class AlarmTraining:
    """Chosen on never-tuned messages (a third blind round) with a model trained without them:
    bench/emergency_bench.py; the threshold is Thresholds.emergency."""

    ngrams: tuple[int, int] = (2, 5)
    strength: float = 16.0        # LogisticRegression's C (inverse regularisation)
    calm_weight: float = 3.0      # a calm example counts this much ...
    other_weight: float = 0.5     # ... an entry's variant or an off-topic example this much; emergencies weigh as much as all of them together
    # the kind model's solver: newton-cg reaches the same objective in 5 s where lbfgs took 50 (85 steps over half a
    # million columns and five kinds, 0.6 s each), which held up every first start and every edit of the examples
    kind_solver: str = "newton-cg"


_HASHER = HashingVectorizer(analyzer="char_wb", ngram_range=AlarmTraining.ngrams, n_features=COLUMNS,
                            alternate_sign=False, norm=None, lowercase=False)


def _text(text: str) -> str:
    return " ".join(tokens(text))


def _counts(texts: list[str]) -> csr_matrix:
    return _HASHER.transform([_text(text) for text in texts]).tocsr()


class Alarm:
    def __init__(self, idf: np.ndarray, weights: np.ndarray, bias: float, kind_weights: np.ndarray, kind_bias: np.ndarray,
                 kinds: list[str]) -> None:
        self.idf = idf.astype(np.float32)
        self.weights = weights.astype(np.float32)
        self.bias = float(bias)
        self.kind_weights = kind_weights.astype(np.float32)    # (columns + embedding, kinds)
        self.kind_bias = kind_bias.astype(np.float32)
        self.kinds = kinds

    def _features(self, texts: list[str], vectors: np.ndarray) -> csr_matrix:
        counts = _counts(texts)
        counts.data = 1.0 + np.log(counts.data)       # sublinear term frequency
        grams = counts.multiply(self.idf[None, :]).tocsr()
        norms = np.sqrt(np.asarray(grams.multiply(grams).sum(axis=1))).ravel()
        norms[norms == 0] = 1.0
        grams = csr_matrix(grams.multiply(1.0 / norms[:, None]))
        return hstack([grams, csr_matrix(vectors.astype(np.float32))]).tocsr()

    def judge(self, text: str, vector: np.ndarray) -> tuple[float, str | None]:
        """(the probability that she writes about an emergency, its most likely kind). The same
        features as ``_features``, for one text, without building a matrix (a few microseconds)."""
        counts = _counts([text])
        columns = counts.indices
        grams = (1.0 + np.log(counts.data)) * self.idf[columns]
        norm = float(np.sqrt(grams @ grams))
        if norm > 0:
            grams /= norm
        vector = vector.astype(np.float32)
        logit = float(grams @ self.weights[columns] + vector @ self.weights[COLUMNS:]) + self.bias
        probability = 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, logit))))
        if not self.kinds:
            return probability, None
        scores = grams @ self.kind_weights[columns] + vector @ self.kind_weights[COLUMNS:] + self.kind_bias
        return probability, self.kinds[int(np.argmax(scores))]

    @classmethod
    def train(cls, dangers: list[tuple[str, str]], danger_vectors: np.ndarray, calm: list[str], calm_vectors: np.ndarray,
              others: list[str], other_vectors: np.ndarray, training: AlarmTraining = AlarmTraining()) -> Alarm:
        texts = [text for text, _ in dangers] + calm + others
        counts = _counts(texts)
        present = np.asarray((counts > 0).sum(axis=0)).ravel()
        idf = (np.log((1 + len(texts)) / (1 + present)) + 1.0).astype(np.float32)
        half = cls(idf, np.zeros(COLUMNS + danger_vectors.shape[1]), 0.0, np.zeros((COLUMNS + danger_vectors.shape[1], 0)), np.zeros(0), [])
        features = half._features(texts, np.concatenate([danger_vectors, calm_vectors, other_vectors]))
        labels = np.asarray([1] * len(dangers) + [0] * (len(calm) + len(others)))
        weights = np.asarray([0.0] * len(dangers) + [training.calm_weight] * len(calm) + [training.other_weight] * len(others))
        weights[: len(dangers)] = weights.sum() / max(1, len(dangers))
        model = LogisticRegression(C=training.strength, max_iter=5000)
        model.fit(features, labels, sample_weight=weights)
        kinds = sorted({kind for _, kind in dangers})
        kind_weights, kind_bias = np.zeros((features.shape[1], len(kinds))), np.zeros(len(kinds))
        if len(kinds) > 1:
            by_kind = LogisticRegression(C=training.strength, solver=training.kind_solver, max_iter=5000)
            by_kind.fit(features[: len(dangers)], [kinds.index(kind) for _, kind in dangers])
            kind_weights, kind_bias = by_kind.coef_.T, by_kind.intercept_
            if len(kinds) == 2:  # scikit-learn keeps one column for two classes: the second one's score against the first's
                kind_weights, kind_bias = np.hstack([-kind_weights / 2, kind_weights / 2]), np.concatenate([-kind_bias / 2, kind_bias / 2])
        elif kinds:  # one kind: always that one
            kind_weights, kind_bias = np.zeros((features.shape[1], 1)), np.zeros(1)
        return cls(idf, model.coef_[0], float(model.intercept_[0]), kind_weights, kind_bias, kinds)

    @classmethod
    def cached(cls, path: Path | None, dangers: list[tuple[str, str]], danger_vectors: np.ndarray, calm: list[str],
               calm_vectors: np.ndarray, others: list[str], other_vectors: np.ndarray,
               training: AlarmTraining = AlarmTraining(), *, train: bool = True) -> Alarm:
        """The model trained on exactly this data from `path`, or trained and saved there (about a minute;
        ``train=False``: raise NotCached instead)."""
        digest = hashlib.sha1(repr((training, COLUMNS, dangers, calm, others)).encode()
                              + b"".join(v.astype(np.float32).tobytes() for v in (danger_vectors, calm_vectors, other_vectors))).hexdigest()
        if path is not None and path.exists():
            try:
                with np.load(path) as data:
                    if str(data["digest"]) == digest:
                        return cls(data["idf"], data["weights"], float(data["bias"]), data["kind_weights"], data["kind_bias"],
                                   [str(kind) for kind in data["kinds"]])
            except (OSError, ValueError, KeyError) as error:
                log.warning("ignoring unreadable alarm model %s (%s); it will be trained again", path, error)
        if not train:
            raise NotCached("the alarm model is not trained on this content yet")
        alarm = cls.train(dangers, danger_vectors, calm, calm_vectors, others, other_vectors, training)
        if path is not None:
            save_arrays(path, "alarm model", digest=digest, idf=alarm.idf, weights=alarm.weights, bias=alarm.bias,
                        kind_weights=alarm.kind_weights, kind_bias=alarm.kind_bias, kinds=np.asarray(alarm.kinds))
        return alarm
