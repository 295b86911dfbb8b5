"""Grid-search the decision thresholds of bot/knowledge/retrieval.py on the dev half of tests/data/eval.

    .venv/bin/python bench/tune_retrieval.py [--training]

Prints the best settings (objective: top-1 + off-topic rejection + half of top-3, all on the dev
half) and their test-half figures; copy them into Thresholds by hand."""

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
from bot.knowledge.embedder import load_embedder  # noqa: E402
from bot.knowledge.entries import KnowledgeBase  # noqa: E402
from bot.knowledge.classifier import Training  # noqa: E402
from bot.flows.model import load_flows  # noqa: E402
from bot.knowledge.retrieval import Retriever, Thresholds, decide  # noqa: E402


def score(rows, thresholds: Thresholds) -> tuple[float, float, float]:
    """top-1, off-topic rejected, top-3 (as in retrieval_bench.py)."""
    top1 = top3 = inscope = rejected = offtopic = 0
    for item, evidence in rows:
        decision = decide(evidence, thresholds)
        if item["entry"] is None:
            offtopic += 1
            rejected += decision.action == "fallback"
        elif decision.action != "fallback":
            inscope += 1
            ranked = [c.entry for c in decision.candidates]
            top1 += ranked[0] == item["entry"]
            top3 += item["entry"] in ranked[:3]
        else:
            inscope += 1
    return top1 / max(1, inscope), rejected / max(1, offtopic), top3 / max(1, inscope)


def main() -> int:
    config = load_config(ROOT / "config.yaml", env={})
    kb = KnowledgeBase.load(config.knowledge_dir)
    flows = {flow.id: flow.triggers for flow in load_flows(config.path(config.settings.paths.flows)).values()}
    embedder = load_embedder()
    cache = config.path(config.settings.paths.cache) / "embeddings.npz"
    items = load_eval(ROOT / "tests" / "data" / "eval")
    if "--training" in sys.argv:  # also search the classifier's training settings (about 3 s each)
        best_training, best_value = Training(), -1.0
        for epochs, temperature, l2 in itertools.product([150, 300], [5.0, 10.0, 20.0], [1e-4, 1e-3]):
            training = Training(epochs=epochs, temperature=temperature, l2=l2)
            retriever = Retriever(kb, embedder, cache, flows=flows, training=training)
            rows = [(item, retriever.evidence(item["q"])) for item in items if item["half"] == "dev"]
            top1, reject, top3 = score([row for row in rows if row[1] is not None], Thresholds())
            print(f"{training}: dev top-1 {top1:.1%}, rejected {reject:.1%}, top-3 {top3:.1%}")
            if top1 + reject + 0.5 * top3 > best_value:
                best_training, best_value = training, top1 + reject + 0.5 * top3
        print("best training on dev:", best_training)
    retriever = Retriever(kb, embedder, cache, flows=flows)
    rows = [(item, retriever.evidence(item["q"])) for item in items]
    dev = [row for row in rows if row[0]["half"] == "dev" and row[1] is not None]
    test = [row for row in rows if row[0]["half"] == "test" and row[1] is not None]
    best, best_value = Thresholds(), -1.0
    grid = itertools.product([0.0, 0.5, 1.0, 2.0, 3.0], [0.3, 0.4, 0.5, 0.6, 0.7], [0.1, 0.15, 0.2, 0.3],
                             [0.0, 0.02, 0.05, 1.0], [0.6, 0.8, 2.0])
    for weight, answer, suggest, off_margin, strong in grid:
        if suggest > answer:
            continue
        candidate = replace(Thresholds(), lexical_weight=weight, answer=answer, suggest=suggest,
                            offtopic_margin=off_margin, strong_lexical=strong)
        top1, reject, top3 = score(dev, candidate)
        value = top1 + reject + 0.5 * top3
        if value > best_value + 1e-9:
            best, best_value = candidate, value
    print("current:", Thresholds())
    print("dev  top-1 %.1f%%, off-topic rejected %.1f%%, top-3 %.1f%%" % tuple(100 * x for x in score(dev, Thresholds())))
    print("best on dev:", best)
    print("dev  top-1 %.1f%%, off-topic rejected %.1f%%, top-3 %.1f%%" % tuple(100 * x for x in score(dev, best)))
    print("test top-1 %.1f%%, off-topic rejected %.1f%%, top-3 %.1f%%" % tuple(100 * x for x in score(test, best)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
