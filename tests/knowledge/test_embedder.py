"""The embedding cache: a first start shows how far it is and, interrupted, goes on where it stopped."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import numpy as np
import pytest

from bot.knowledge import embedder as embedder_module
from bot.knowledge.embedder import EmbeddingCache, Progress


class Counting:
    name = "fake-model"

    def __init__(self, fail_at_batch: int | None = None) -> None:
        self.embedded: list[str] = []
        self.batches = 0
        self.fail_at_batch = fail_at_batch

    def queries(self, texts: list[str]) -> np.ndarray:
        self.batches += 1
        if self.fail_at_batch is not None and self.batches == self.fail_at_batch:
            raise KeyboardInterrupt  # she pressed Ctrl-C while the first start embedded
        self.embedded += texts
        return np.asarray([[float(len(text)), 1.0] for text in texts], dtype=np.float32)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_one_rewritten_line_on_a_terminal_and_a_log_line_every_ten_percent(caplog: pytest.LogCaptureFixture) -> None:
    terminal = Terminal()
    progress = Progress(1000, terminal)
    with caplog.at_level(logging.INFO, logger="bot.knowledge.embedder"):
        for done in range(64, 1000, 64):
            progress.show(done)
        progress.show(1000)
    assert terminal.getvalue().count("\r") == 16 and terminal.getvalue().endswith("100% (1,000 of 1,000 sentences)\n")
    assert [record.getMessage().split(" (")[0] for record in caplog.records][-1] == "embedding content: 1000 of 1000"
    assert 10 <= len(caplog.records) <= 11
    quiet = io.StringIO()                      # not a terminal (a log file, CI): nothing written there
    Progress(10, quiet).show(10)
    assert quiet.getvalue() == ""


def test_an_interrupted_first_start_keeps_what_was_embedded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedder_module, "PROGRESS_FROM", 10)
    monkeypatch.setattr(embedder_module, "SAVE_EVERY", 2)
    texts = [f"sentence {n}" for n in range(400)]
    path = tmp_path / "embeddings.npz"
    with pytest.raises(KeyboardInterrupt):
        EmbeddingCache(path, Counting(fail_at_batch=4)).embed(texts)     # batches 1-3 done, saved after 2
    again = Counting()
    vectors = EmbeddingCache(path, again).embed(texts)
    assert len(again.embedded) == 400 - 128 and again.embedded[0] == "sentence 128"
    assert vectors.shape == (400, 2) and vectors[5][0] == len("sentence 5")
