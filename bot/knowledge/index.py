"""The retrieval index's slow half: the content's sentences embedded, the classifier and the alarm trained.

Built at once (tools, tests, a content reload, which runs in a thread while the old content serves),
or, at a start that finds it missing (a fresh clone, content edited while the bot was stopped), in a
background thread while lexical matching answers. It is built in two stages, each used as soon as it
is ready: retrieval first (question variants, off-topic examples, the classifier), then the alarm
(the safety net's classifier; until it is there the emergency patterns alone recognise emergencies).
Whatever was embedded or trained is saved as it goes, so an interrupted build goes on next time."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from bot.knowledge.alarm import Alarm
from bot.knowledge.cache import NotCached
from bot.knowledge.classifier import SoftmaxClassifier, Training
from bot.knowledge.embedder import PROGRESS_FROM, Embedder, EmbeddingCache, Progress

log = logging.getLogger(__name__)

BUILD_THREADS = 2  # the engine's OpenMP threads while the index is built (answering keeps one: see embedder.py)
BUILD_BATCH = 32   # sentences per call: a question embedded for an answer waits for at most one batch


@dataclass(frozen=True)
class IndexStatus:
    """How far the index is, for /healthz, `wegwijs check` and the terminal's prompt."""

    state: str        # "ready", "waiting", "embedding", "training", "failed"; "lexical" without the model
    sentences: int    # distinct sentences of the content
    to_embed: int     # of them not embedded at this start
    embedded: int     # of those, embedded since


@dataclass(frozen=True)
class Dense:
    vectors: np.ndarray              # per question variant
    offtopic: np.ndarray             # per off-topic example
    classifier: SoftmaxClassifier
    alarm: Alarm | None = None


@dataclass(frozen=True)
class Plan:
    """What the index is made of (the Retriever lays it out from the content)."""

    variants: list[str]              # titles and question variants, entry after entry
    labels: np.ndarray               # the entry of each variant, then the off-topic class for each off-topic example
    classes: int
    offtopic: list[str]
    calm: list[str]                  # sentences with dangerous words that are no emergency
    dangers: list[tuple[str, str]]   # (emergency example, its kind)
    talk: list[str]                  # small-talk phrases: no emergency either
    ordinary: list[int]              # positions of the variants of entries that are not about safety

    @property
    def strings(self) -> list[str]:
        return [*self.variants, *self.offtopic, *self.alarm_strings]

    @property
    def alarm_strings(self) -> list[str]:
        return [*self.calm, *(text for text, _ in self.dangers), *self.talk] if self.has_alarm else []

    @property
    def has_alarm(self) -> bool:
        return bool(self.dangers) and bool(self.calm or self.ordinary or self.offtopic or self.talk)  # it needs sentences of both sides


class IndexBuilder:
    """Builds the stages not built yet, handing each to ``publish`` when it is ready."""

    def __init__(self, plan: Plan, embedder: Embedder, cache_path: Path | None, training: Training,
                 publish: Callable[[Dense], None]) -> None:
        self.plan = plan
        self.embedder = embedder
        self.cache_path = cache_path
        self.training = training
        self._publish = publish
        self._cache = EmbeddingCache(cache_path, embedder, keep=plan.strings) if cache_path is not None else None
        missing = self._cache.missing(plan.strings) if self._cache is not None else list(dict.fromkeys(plan.strings))
        self.progress = Progress(len(missing), terminal=False)
        self.sentences = len(set(plan.strings))
        self.state = "waiting"       # then "embedding", "training", "ready" or "failed"
        self.built: Dense | None = None
        self.thread: threading.Thread | None = None

    def build(self, *, cached_only: bool = False, batch: int = 64, terminal: bool = False) -> None:
        """Every stage not built yet, embedding with both cores; ``cached_only``: only from what is on disk, else
        raise NotCached. ``terminal``: a long build shows its progress line there (tools, tests; not a chat)."""
        self.progress.terminal = terminal and self.progress.total >= PROGRESS_FROM
        with engine_threads(BUILD_THREADS) if not cached_only else contextlib.nullcontext():
            self._build(cached_only, batch)

    def _build(self, cached_only: bool, batch: int) -> None:
        plan = self.plan
        if self.built is None:
            vectors = self._embed(plan.variants + plan.offtopic, cached_only, batch)
            self._training(cached_only)
            classifier = SoftmaxClassifier.cached(self._path("classifier.npz"), vectors, plan.labels, plan.classes, self.training,
                                                  train=not cached_only)
            self.built = Dense(vectors[:len(plan.variants)], vectors[len(plan.variants):], classifier)
            self._publish(self.built)
        if plan.has_alarm and self.built.alarm is None:
            vectors = self._embed(plan.alarm_strings, cached_only, batch)
            ends = np.cumsum([len(plan.calm), len(plan.dangers)])
            others = [plan.variants[i] for i in plan.ordinary] + plan.offtopic + plan.talk
            other_vectors = np.concatenate([self.built.vectors[plan.ordinary], self.built.offtopic, vectors[ends[1]:]])
            self._training(cached_only)
            alarm = Alarm.cached(self._path("alarm.npz"), plan.dangers, vectors[ends[0]:ends[1]], plan.calm, vectors[:ends[0]],
                                 others, other_vectors, train=not cached_only)
            self.built = replace(self.built, alarm=alarm)
            self._publish(self.built)
        self.state = "ready"
        self._cache = None  # its vectors, one small array each, are in the stacked matrices now (about 25 MB)

    def start(self) -> None:
        """Build the rest in a background thread (a daemon: stopping the bot does not wait for it)."""
        self.state = "embedding" if self.progress.total else "training"
        self.thread = threading.Thread(target=self._run, name="index-build", daemon=True)
        self.thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """True once the whole index is built (at once, or by the background thread)."""
        if self.thread is not None:
            self.thread.join(timeout)
        return self.state == "ready"

    def status(self) -> IndexStatus:
        return IndexStatus(self.state, self.sentences, self.progress.total, self.progress.done)

    def _run(self) -> None:
        started = time.monotonic()
        log.info("building the retrieval index in the background: %d of %d sentences to embed; lexical matching answers meanwhile",
                 self.progress.total, self.sentences)
        try:
            self.build(batch=BUILD_BATCH)
        except Exception:
            self.state = "failed"
            log.exception("the retrieval index could not be built; answering with lexical matching (restart to try again)")
            return
        log.info("retrieval index ready after %.0f s", time.monotonic() - started)

    def _training(self, cached_only: bool) -> None:
        if not cached_only:
            self.state = "training"

    def _embed(self, texts: list[str], cached_only: bool, batch: int) -> np.ndarray:
        if not cached_only:
            self.state = "embedding"
        if self._cache is None:
            if cached_only:
                raise NotCached("no embedding cache")
            vectors = self.embedder.queries(texts)
            self.progress.advance(len(texts))
            return vectors
        return self._cache.embed(texts, cached_only=cached_only, progress=self.progress, batch=batch)

    def _path(self, name: str) -> Path | None:
        return self.cache_path.with_name(name) if self.cache_path is not None else None


@contextlib.contextmanager
def engine_threads(threads: int) -> Iterator[None]:
    """OpenMP threads for the embedding calls of this thread only (the answering thread keeps one: see embedder.py)."""
    limits = None
    try:
        from threadpoolctl import threadpool_limits

        limits = threadpool_limits(limits=threads, user_api="openmp")
    except Exception:  # threadpoolctl cannot see the engine's runtime: one thread, slower but correct
        log.debug("could not set the engine's threads for the index build", exc_info=True)
    try:
        yield
    finally:
        if limits is not None:
            limits.restore_original_limits()
