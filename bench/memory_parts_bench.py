"""Memory of a running bot, part by part: resident set size (RSS) after the imports, the knowledge base (with the
compiled emergency patterns), the language detector, the embedding model, and the whole content with its index.

    .venv/bin/python bench/memory_parts_bench.py

The target (issue 19) is a running `wegwijs serve` with the model and the detector in at most 250 MB RSS.
Figures in the README (Benchmarks, "Memory"); bench/memory_bench.py measures the running process over many updates."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def rss() -> int:
    """This process's resident set size in MB."""
    return int(re.search(r"VmRSS:\s+(\d+)", Path("/proc/self/status").read_text())[1]) // 1024  # type: ignore[index]


def main() -> None:
    steps = [("python", rss())]
    import bot.channels.server  # noqa: F401  (what `wegwijs serve` imports)
    from bot.config import load_config
    from bot.core.content import Content, known_texts, shared_embedder
    from bot.knowledge import KnowledgeBase
    from bot.language import LanguageDetector
    steps.append(("imports (numpy, scipy, scikit-learn, SQLAlchemy, aiohttp, python-telegram-bot, lingua ...)", rss()))
    config = load_config(ROOT / "config.yaml", env={})
    knowledge = KnowledgeBase.load(config.knowledge_dir)
    steps.append(("knowledge base, with the compiled emergency patterns", rss()))
    LanguageDetector(config.settings.languages, known_texts(knowledge)).detect("ik zoek kinderopvang voor mijn dochter")
    steps.append(("language detector (lingua, 11 languages)", rss()))
    embedder = shared_embedder()
    if embedder is not None:
        embedder.queries(["where can i learn dutch"])
    steps.append(("embedding model (mapped, the pages one question touches)", rss()))
    Content.load(config)
    steps.append(("the whole content with its index (embeddings, classifier, alarm)", rss()))
    before = 0
    for name, total in steps:
        print(f"{total:5d} MB  (+{total - before:4d})  {name}")
        before = total


if __name__ == "__main__":
    main()
