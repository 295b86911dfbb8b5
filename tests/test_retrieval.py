"""Retrieval on the labelled set in tests/data/eval, and `wegwijs ask` as acceptance tests use it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.content import Content
from bot.retrieval import Retriever

ROOT = Path(__file__).resolve().parent.parent
EVAL = [item for path in sorted((ROOT / "tests" / "data" / "eval").glob("*.yaml"))
        for item in yaml.safe_load(path.read_text(encoding="utf-8")) or []]

# Floors, below the targets in the README (measured there with bench/retrieval_bench.py): a change
# that makes retrieval clearly worse fails CI.
TOP1_FLOOR = 0.80
OFFTOPIC_FLOOR = 0.70


def test_labelled_set_is_well_formed(content: Content) -> None:
    assert len(EVAL) >= 80
    assert sum(item["entry"] is None for item in EVAL) >= 15
    assert {item["lang"] for item in EVAL} == {"nl", "en", "fr", "ar", "tr", "fa", "ps", "ti", "so", "uk", "ru"}
    unknown = [item for item in EVAL if item["entry"] is not None and item["entry"] not in content.knowledge.entries]
    assert unknown == []
    variants = {q.casefold() for e in content.knowledge.entries.values() for a in e.answers.values() for q in a.questions}
    assert [item["q"] for item in EVAL if item["q"].casefold() in variants] == []  # held out


def test_retrieval_floor_on_the_labelled_set(content: Content) -> None:
    retriever = content.retriever
    assert retriever.uses_embeddings
    inscope = [item for item in EVAL if item["entry"]]
    offtopic = [item for item in EVAL if item["entry"] is None]
    hits = sum(first(retriever, item["q"]) == item["entry"] for item in inscope)
    rejected = sum(retriever.decide(item["q"]).action == "fallback" for item in offtopic)
    assert hits / len(inscope) >= TOP1_FLOOR, f"top-1 {hits}/{len(inscope)}"
    assert rejected / len(offtopic) >= OFFTOPIC_FLOOR, f"off-topic rejected {rejected}/{len(offtopic)}"


def first(retriever: Retriever, question: str) -> str | None:
    decision = retriever.decide(question)
    if decision.action == "answer":
        return decision.entry
    return decision.candidates[0].entry if decision.action == "suggest" else None


def test_lexical_only_when_embeddings_are_missing(content: Content) -> None:
    lexical = Retriever(content.knowledge, None, None)
    assert not lexical.uses_embeddings
    entry = next(iter(content.knowledge.entries.values()))
    assert lexical.decide(entry.answers["en"].questions[0]).entry == entry.key
    assert lexical.decide("zzzz qqqq").action == "fallback"


def ask(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", "ask", *args], input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_ask_json_contract_for_one_question() -> None:
    result = ask("where can i learn dutch", "--json")
    line = json.loads(result.stdout)
    assert set(line) == {"action", "entry", "topic", "score", "language", "alternatives"}
    assert (line["action"], line["entry"], line["topic"], line["language"]) == ("answer", "dutch-courses/learn-dutch", "dutch-courses", "en")
    assert isinstance(line["score"], float) and isinstance(line["alternatives"], list)


@pytest.mark.parametrize("question, action", [("my husband hits me", "emergency"), ("what is the weather tomorrow in gent", "fallback")])
def test_ask_emergency_and_fallback(question: str, action: str) -> None:
    line = json.loads(ask(question, "--json").stdout)
    assert line["action"] == action
    if action == "emergency":
        assert line["topic"] == "safety"
    else:
        assert line["entry"] is None and line["topic"] is None


def test_ask_reads_one_question_per_line_from_stdin() -> None:
    result = ask("--json", stdin="ik zoek werk\nزوجي يضربني\nqwzx blorp\n")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["action"] for line in lines] == ["answer", "emergency", "fallback"]
    assert lines[0]["entry"] == "work/find-work"


def test_ask_without_question_explains() -> None:
    result = ask()
    assert result.returncode == 2 and "give a question" in result.stderr
