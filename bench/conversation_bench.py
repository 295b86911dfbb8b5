"""Drive N simulated women concurrently through Conversation.handle and report throughput and latency.

Storage writes are included: every message is committed (processed id, message log, state) before
its replies are returned, exactly as in production.

    .venv/bin/python bench/conversation_bench.py                       # SQLite in a temp dir
    .venv/bin/python bench/conversation_bench.py --pg postgresql://u:p@127.0.0.1/db
    .venv/bin/python bench/conversation_bench.py --women 20 --messages 50
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import load_config, normalise_database_url  # noqa: E402
from bot.core.content import Content  # noqa: E402
from bot.core.conversation import Conversation  # noqa: E402
from bot.messages import Incoming, Kind  # noqa: E402
from bot.storage import Store  # noqa: E402

LANGUAGES = ["nl", "en", "fr", "ar", "tr", "fa", "ps", "ti", "so", "uk", "ru"]


def _held_out() -> dict[str, list[str]]:
    """Free text comes from the held-out questions of tests/data/eval (in-scope and off-topic), as
    women type them, not from the entries' own variants (which retrieval recognises without embedding)."""
    import yaml

    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / "tests" / "data" / "eval").glob("*.yaml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            found.setdefault(item["lang"], []).append(item["q"])
    return found


HELD_OUT = _held_out()


def script(content: Content, language: str, count: int, rng: random.Random, unique: bool = True,
           free_text: float = 0.5) -> list[tuple[str, str | None]]:
    """What one woman sends: onboarding, then menus, topics, answers and free-text questions (a
    share ``free_text`` of her messages after onboarding). With ``unique`` every free-text question
    gets a number, so none is answered from the question cache (the worst case: every question
    embedded)."""
    questions = HELD_OUT.get(language) or [q for entry in content.knowledge.entries.values()
                                          for q in entry.answers.get(language, entry.answers["en"]).questions]
    steps: list[tuple[str, str | None]] = [("hello", None), ("", f"lang:{language}")]
    while len(steps) < count:
        roll = rng.random()
        if roll < free_text:
            question = rng.choice(questions)
            steps.append((f"{question} {rng.randrange(10**6)}" if unique else question, None))
        elif roll < free_text + (1 - free_text) * 0.4:
            steps.append(("", f"topic:{rng.choice(content.knowledge.topics).id}"))
        elif roll < free_text + (1 - free_text) * 0.7:
            steps.append(("", f"entry:{rng.choice(list(content.knowledge.entries))}"))
        else:
            steps.append((rng.choice(["/menu", "/help", "/language", "what is the weather on mars"]), None))
    return steps[:count]


async def woman(conversation: Conversation, index: int, steps: list[tuple[str, str | None]], latencies: list[float],
                run_id: str, pause: float = 0.0, rng: random.Random | None = None) -> None:
    """Send the steps one after the other; with ``pause``, wait an exponential think time between them."""
    for number, (text, payload) in enumerate(steps):
        if pause and rng:
            await asyncio.sleep(rng.expovariate(1 / pause))
        kind = Kind.BUTTON if payload else Kind.TEXT
        message = Incoming("bench", f"{run_id}-woman-{index}", f"{run_id}-{index}-{number}", kind, text, payload)
        start = time.perf_counter()
        replies = await conversation.handle(message)
        latencies.append(time.perf_counter() - start)
        assert replies and replies[0].key != "error-sorry", replies


async def run(url: str, women: int, messages: int, seed: int, pause: float) -> dict[str, float]:
    config = load_config(Path(os.environ.get("WEGWIJS_CONFIG", ROOT / "config.yaml")), env={})
    content = Content.load(config)
    store = await Store.open(url)
    conversation = Conversation(store, content, config)
    rng = random.Random(seed)
    scripts = [script(content, LANGUAGES[i % len(LANGUAGES)], messages, rng) for i in range(women)]
    run_id = f"{time.time_ns():x}"
    await woman(conversation, -1, script(content, "en", 5, rng), [], run_id)  # warm-up: connections, caches
    latencies: list[float] = []
    start = time.perf_counter()
    await asyncio.gather(*(woman(conversation, i, scripts[i], latencies, run_id, pause, random.Random(seed + i)) for i in range(women)))
    elapsed = time.perf_counter() - start
    await store.close()
    latencies.sort()
    return {
        "messages": len(latencies),
        "seconds": elapsed,
        "per_second": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "max_ms": latencies[-1] * 1000,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--women", type=int, default=10, help="women writing at the same time (default 10)")
    parser.add_argument("--messages", type=int, default=100, help="messages per woman (default 100)")
    parser.add_argument("--pause", type=float, default=0.0,
                        help="mean seconds a woman waits before each message (default 0: as fast as replies come, "
                             "which measures saturation; e.g. --women 200 --pause 2 offers about 100 messages/s)")
    parser.add_argument("--pg", help="also run on this PostgreSQL URL (its tables are created if missing)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    targets = []
    with tempfile.TemporaryDirectory() as tmp:
        targets.append(("sqlite", f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"))
        if args.pg:
            targets.append(("postgresql", normalise_database_url(args.pg)))
        print(f"# {time.strftime('%Y-%m-%d')} {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
              f"{args.women} women x {args.messages} messages, mean pause {args.pause} s")
        print(f"{'store':<12}{'messages':>9}{'msg/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
        for name, url in targets:
            result = asyncio.run(run(url, args.women, args.messages, args.seed, args.pause))
            print(f"{name:<12}{result['messages']:>9}{result['per_second']:>9.0f}{result['p50_ms']:>9.2f}{result['p99_ms']:>9.2f}{result['max_ms']:>9.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
