"""Grid-search the decision thresholds of bot/retrieval.py on the dev half of tests/data/eval.

    .venv/bin/python bench/tune_retrieval.py

Prints the best settings (objective: top-1 on in-scope questions + off-topic rejection, both on
the dev half) and their test-half figures; copy them into Thresholds by hand."""

from __future__ import annotations

import itertools
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from retrieval_bench import load_eval  # noqa: E402

from bot.config import load_config  # noqa: E402
from bot.embedder import load_embedder  # noqa: E402
from bot.knowledge import KnowledgeBase  # noqa: E402
from bot.retrieval import Retriever, Thresholds, decide  # noqa: E402


def score(rows, thresholds: Thresholds) -> tuple[float, float]:
    top1 = inscope = rejected = offtopic = 0
    for item, evidence in rows:
        decision = decide(evidence, thresholds)
        if item["entry"] is None:
            offtopic += 1
            rejected += decision.action == "fallback"
        else:
            inscope += 1
            first = decision.entry if decision.action == "answer" else (decision.candidates[0].entry if decision.action == "suggest" else None)
            top1 += first == item["entry"]
    return top1 / max(1, inscope), rejected / max(1, offtopic)


def main() -> int:
    config = load_config(ROOT / "config.yaml", env={})
    kb = KnowledgeBase.load(config.knowledge_dir)
    retriever = Retriever(kb, load_embedder(), config.path(config.settings.paths.cache) / "embeddings.npz")
    items = load_eval(ROOT / "tests" / "data" / "eval")
    rows = [(item, retriever.evidence(item["q"])) for item in items]
    dev = [row for row in rows if row[0]["half"] == "dev" and row[1] is not None]
    test = [row for row in rows if row[0]["half"] == "test" and row[1] is not None]
    best, best_value = Thresholds(), -1.0
    grid = itertools.product([0.04, 0.08, 0.12], [0.86, 0.87, 0.88, 0.89, 0.9], [0.0, 0.005, 0.01],
                             [0.84, 0.85, 0.86, 0.87], [-0.02, 0.0, 0.02], [0.4, 0.6, 0.8])
    for weight, answer, margin, suggest, off_margin, strong in grid:
        if suggest > answer:
            continue
        candidate = replace(Thresholds(), lexical_weight=weight, answer=answer, margin=margin, suggest=suggest,
                            offtopic_margin=off_margin, strong_lexical=strong)
        top1, reject = score(dev, candidate)
        value = top1 + reject
        if value > best_value:
            best, best_value = candidate, value
    print("best on dev:", best)
    print("dev  top-1 %.1f%%, off-topic rejected %.1f%%" % tuple(100 * x for x in score(dev, best)))
    print("test top-1 %.1f%%, off-topic rejected %.1f%%" % tuple(100 * x for x in score(test, best)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
