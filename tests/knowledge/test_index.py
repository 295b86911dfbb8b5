"""The retrieval index at a start that finds it missing: lexical matching answers at once, the index
builds in the background and is used stage by stage as it arrives; a warm start needs no build."""

from __future__ import annotations

import dataclasses
import io
import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import yaml

from bot.channels.terminal import Terminal
from bot.config import Config
from bot.core import Conversation
from bot.core.content import Content, shared_embedder
from bot.knowledge.embedder import EmbeddingCache
from bot.knowledge.retrieval import Retriever
from bot.storage import Store
from tests.conftest import ROOT
from tests.core.test_broken_content import copy_project


class Gated:
    """The bundled model's vectors (read from the suite's warm cache), held back until ``gate`` opens."""

    name = "gated-e5"

    def __init__(self, config: Config, fail: bool = False) -> None:
        self.real = EmbeddingCache(config.path(config.settings.paths.cache) / "embeddings.npz", shared_embedder())  # type: ignore[arg-type]
        self.gate = threading.Event()
        self.fail = fail
        self.calls = 0

    def queries(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        if not self.gate.wait(60):
            raise TimeoutError("the test never opened the gate")
        if self.fail:
            raise OSError("no memory left for the model")
        # a text the warm cache lacks (her question) is embedded without touching that cache: its saves keep only what is asked
        return np.stack([self.real.embed([text])[0] if not self.real.missing([text]) else self.real.embedder.queries([text])[0]
                         for text in texts])


@pytest.fixture
def cache(tmp_path: Path, config: Config, content: Content) -> Path:
    """An empty embedding cache, next to the suite's trained models (same vectors, so no training here)."""
    warm = config.path(config.settings.paths.cache)
    for name in ("classifier.npz", "alarm.npz"):
        shutil.copy(warm / name, tmp_path / name)
    return tmp_path / "embeddings.npz"


def flows(content: Content) -> dict[str, tuple[str, ...]]:
    return {flow.id: flow.triggers for flow in content.flows.values()}


def paraphrase(content: Content) -> tuple[str, str]:
    """A question of the labelled set that retrieval gets right only with embeddings."""
    lexical = Retriever(content.knowledge, None, None, flows=flows(content))
    for path in sorted((ROOT / "tests" / "data" / "eval").glob("*.yaml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            if item.get("lang") != "en":
                continue
            entry = item.get("entry")
            if entry and lexical.decide(item["q"]).entry != entry and content.retriever.decide(item["q"]).entry == entry:
                return item["q"], entry
    raise AssertionError("no question that needs the embeddings")


def test_a_first_start_answers_from_words_while_the_index_builds_then_uses_it(config: Config, content: Content, cache: Path) -> None:
    model = Gated(config)
    retriever = Retriever(content.knowledge, model, cache, flows=flows(content), build="background")
    assert retriever.index is not None and retriever.index.thread is not None    # returned before embedding anything
    status = retriever.status()
    assert status.state == "embedding" and status.embedded == 0 and status.to_embed == status.sentences > 10_000
    assert not retriever.uses_embeddings and not retriever.ready
    entry = content.knowledge.entries["childcare/find-childcare"]
    assert retriever.decide(entry.answers["en"].questions[0]).entry == entry.key   # her words: answered meanwhile
    question, expected = paraphrase(content)
    assert retriever.decide(question).entry != expected   # remembered without embeddings ...
    model.gate.set()
    assert retriever.index.wait(120)
    assert retriever.ready and retriever.uses_embeddings and retriever.status().embedded == retriever.status().to_embed
    assert retriever.decide(question).entry == expected   # ... and forgotten when the index arrived
    assert retriever.evidence("my husband beat me yesterday and i am scared").emergency >= 0.8  # the alarm is there too
    assert set(EmbeddingCache(cache, model).missing(retriever.index.plan.strings)) == set()       # saved for next time


def test_a_warm_start_uses_what_is_on_disk_without_a_thread(config: Config, content: Content, cache: Path) -> None:
    model = Gated(config)
    model.gate.set()
    Retriever(content.knowledge, model, cache, flows=flows(content), build="now")
    calls = model.calls
    again = Retriever(content.knowledge, model, cache, flows=flows(content), build="background")
    assert again.ready and again.uses_embeddings and again.index is not None and again.index.thread is None
    assert model.calls == calls  # nothing embedded twice


def test_the_retrieval_stage_is_used_before_the_alarm_is_built(config: Config, content: Content, cache: Path) -> None:
    model = Gated(config)
    model.gate.set()
    retrieval = Retriever(content.knowledge, model, cache, flows=flows(content), build="now").index.plan  # type: ignore[union-attr]
    cache.unlink()
    EmbeddingCache(cache, model).embed(retrieval.variants + retrieval.offtopic)  # the cache now lacks only the alarm's sentences
    (cache.parent / "alarm.npz").unlink()
    model.gate.clear()
    retriever = Retriever(content.knowledge, model, cache, flows=flows(content), build="background")
    assert retriever.uses_embeddings and not retriever.ready     # answers with embeddings at once ...
    assert retriever.status().to_embed == len(set(retrieval.alarm_strings) - set(retrieval.variants + retrieval.offtopic))
    assert retriever.evidence("i want to die").emergency == 0.0   # ... the alarm not yet (the patterns still catch this one)
    model.gate.set()
    assert retriever.index.wait(300)  # type: ignore[union-attr]
    assert retriever.evidence("nobody would miss me if i was gone").emergency >= 0.8


def test_a_build_that_fails_keeps_answering_from_words_and_says_so(config: Config, content: Content, cache: Path,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    model = Gated(config, fail=True)
    model.gate.set()
    retriever = Retriever(content.knowledge, model, cache, flows=flows(content), build="background")
    assert retriever.index is not None and not retriever.index.wait(60)
    assert retriever.status().state == "failed" and not retriever.uses_embeddings
    assert "the retrieval index could not be built" in caplog.text
    entry = content.knowledge.entries["childcare/find-childcare"]
    assert retriever.decide(entry.answers["en"].questions[0]).entry == entry.key


def test_never_reports_how_much_is_missing_without_building(config: Config, content: Content, cache: Path) -> None:
    model = Gated(config)
    retriever = Retriever(content.knowledge, model, cache, flows=flows(content), build="never")
    assert model.calls == 0 and retriever.index is not None and retriever.index.thread is None
    assert retriever.status().state == "waiting" and retriever.status().to_embed == retriever.status().sentences


def test_wegwijs_answers_on_a_fresh_clone_before_the_index_is_built(tmp_path: Path) -> None:
    """`wegwijs chat` with no cache at all: her question is answered (from its words) and the chat ends
    while the index is still being built; `wegwijs check` then says the index is not complete."""
    config = copy_project(tmp_path)
    shutil.rmtree(tmp_path / ".cache")
    lines = [{"button": "lang:en"}, {"text": "where can my child stay when i work"}]
    chat = subprocess.run([sys.executable, "-m", "bot", "--config", str(config), "chat", "--json", "--db", str(tmp_path / "she.db")],
                          input="".join(json.dumps(line) + "\n" for line in lines), capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert chat.returncode == 0, chat.stderr
    replies = [json.loads(line) for line in chat.stdout.splitlines()]
    assert "helpful:childcare/find-childcare" in [button["payload"] for reply in replies for button in reply["buttons"]], replies
    assert not (tmp_path / ".cache" / "alarm.npz").exists()   # it did not wait for the index
    check = subprocess.run([sys.executable, "-m", "bot", "--config", str(config), "check"], capture_output=True, text=True, cwd=ROOT,
                           timeout=120)
    assert "index not complete yet" in check.stdout and "background" in check.stdout, check.stdout


async def test_the_terminal_prompt_shows_how_far_the_answers_are(config: Config, content: Content, cache: Path, store: Store) -> None:
    model = Gated(config)
    retriever = Retriever(content.knowledge, model, cache, flows=flows(content), build="background")
    terminal = Terminal(Conversation(store, dataclasses.replace(content, retriever=retriever), config), io.StringIO())
    assert terminal.prompt() == "[preparing answers .......... 0%] > "
    retriever.index.progress.show(-(-retriever.index.progress.total // 2))  # half, rounded up  # type: ignore[union-attr]
    assert terminal.prompt() == "[preparing answers #####..... 50%] > "
    model.gate.set()
    assert retriever.index.wait(120)  # type: ignore[union-attr]
    assert terminal.prompt() == "> "


def test_a_build_at_once_shows_its_progress_line_on_a_terminal(config: Config, content: Content, cache: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """`wegwijs ask` or the tests on a fresh clone: the rewritten progress line, as before the background build."""
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    model = Gated(config)
    model.gate.set()
    Retriever(content.knowledge, model, cache, flows=flows(content), build="now")
    shown = screen.getvalue()
    assert shown.count("\r") > 10 and shown.endswith(" sentences)\n") and "Preparing the answers" in shown
    assert shown.rsplit("\r", 1)[-1].startswith("Preparing the answers (first start, once): 100%")
