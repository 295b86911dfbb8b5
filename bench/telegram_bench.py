"""Telegram end to end: updates per second and reply latency through the real python-telegram-bot
stack (long polling, AIORateLimiter, HTML rendering, SQLite) against the local fake Bot API.

    .venv/bin/python bench/telegram_bench.py                    # backlog + paced runs, SQLite
    .venv/bin/python bench/telegram_bench.py --women 300 --messages 10 --rates 100 300

Women follow the same script as bench/conversation_bench.py (onboarding, menus, answers, free-text
questions in their language). Two measurements:
- backlog: all updates are queued at once; updates/s = updates / time until every one is handled
  and its replies sent (the bot's saturation throughput);
- paced: updates arrive at a fixed rate; latency = from the moment getUpdates hands an update to
  the bot until its last reply has been sent (p50/p99).
Telegram's own limit (about 30 messages per second per bot, enforced by AIORateLimiter in
production) is lifted here: the point is the bot's capacity, which must be ten times that.
The fake Bot API runs in its own process on the same 2 cores (it does not share the bot's GIL)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
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
sys.path.insert(0, str(ROOT / "bench"))

from conversation_bench import LANGUAGES, script  # noqa: E402

from bot.channels.telegram.run import run  # noqa: E402
from bot.config import Environment, load_config  # noqa: E402
from bot.core.content import Content  # noqa: E402
from bot.core.conversation import Conversation  # noqa: E402
from bot.storage import Store  # noqa: E402
from tests.helpers.fake_telegram import TOKEN, FakeTelegram  # noqa: E402


def updates(content: Content, women: int, messages: int, free_text: float, seed: int = 7) -> list[list[dict]]:
    """Per woman, her updates in order (text messages and button presses)."""
    rng = random.Random(seed)
    per_woman = []
    for woman in range(women):
        chat = 10_000 + woman
        language = LANGUAGES[woman % len(LANGUAGES)]
        items = []
        for number, (text, payload) in enumerate(script(content, language, messages, rng, free_text=free_text)):
            user = {"id": chat, "is_bot": False, "first_name": "W", "language_code": language}
            if payload is None:
                items.append({"message": {"message_id": number + 1, "from": user, "date": int(time.time()),
                                          "chat": {"id": chat, "type": "private", "first_name": "W"}, "text": text}})
            else:
                items.append({"callback_query": {"id": f"{chat}-{number}", "from": user, "chat_instance": "1", "data": payload,
                                                 "message": {"message_id": 900_000 + number, "date": int(time.time()),
                                                             "chat": {"id": chat, "type": "private", "first_name": "W"}, "text": "menu"}}})
        per_woman.append(items)
    return per_woman


def interleave(per_woman: list[list[dict]]) -> list[dict]:
    ordered, update_id = [], 1
    for round_ in range(max(len(items) for items in per_woman)):
        for items in per_woman:
            if round_ < len(items):
                ordered.append({"update_id": update_id, **items[round_]})
                update_id += 1
    return ordered


class Timed(FakeTelegram):
    """The fake, noting when getUpdates handed out each update."""

    def __init__(self) -> None:
        super().__init__()
        self.served: dict[int, float] = {}

    def _next_updates(self, params):  # type: ignore[no-untyped-def]
        ready = super()._next_updates(params)
        stamp = time.perf_counter()
        for update in ready:
            self.served.setdefault(update["update_id"], stamp)
        return ready


def fake_process(stream: list[dict], rate: float | None, ready, go, finished, results) -> None:  # type: ignore[no-untyped-def]
    """The fake Bot API in its own process (so that it does not share the bot's GIL), feeding updates."""
    with Timed() as fake:
        ready.put(fake.api_url)
        go.wait()
        _feed(fake, stream, rate)
        finished.wait()
        results.put((fake.served, len(fake.calls)))


async def measure(config, content: Content, stream: list[dict], rate: float | None, db: str) -> dict:
    import multiprocessing

    context = multiprocessing.get_context("fork")
    ready, results = context.Queue(), context.Queue()
    go, finished = context.Event(), context.Event()
    child = context.Process(target=fake_process, args=(stream, rate, ready, go, finished, results), daemon=True)
    child.start()
    api_url = ready.get(timeout=30)
    done: dict[int, float] = {}
    env = Environment(telegram_token=TOKEN, telegram_api_url=api_url)
    configured = dataclasses.replace(config, env=env)
    store = await Store.open(db)
    conversation = Conversation(store, content, configured)
    stop = asyncio.Event()
    patch = _patch_process(done)
    task = asyncio.create_task(run(conversation, configured, stop=stop, telegram_limits=False))
    await asyncio.sleep(2)  # set-up: getMe, setMyCommands
    start = time.perf_counter()
    go.set()
    while len(done) < len(stream):
        await asyncio.sleep(0.05)
        if time.perf_counter() - start > 900:
            raise SystemExit(f"only {len(done)} of {len(stream)} updates handled after 15 minutes")
    elapsed = time.perf_counter() - start
    finished.set()
    served, calls = results.get(timeout=60)
    stop.set()
    await task
    await store.close()
    patch.undo()
    child.join(10)
    latencies = sorted(done[u["update_id"]] - served[u["update_id"]] for u in stream)
    return {"updates": len(stream), "elapsed": elapsed, "rate": len(stream) / elapsed,
            "p50": statistics.median(latencies) * 1000, "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
            "calls": calls}


def _feed(fake: FakeTelegram, stream: list[dict], rate: float | None) -> None:
    if rate is None:
        fake.push(*stream)
        return
    start = time.perf_counter()
    for index, update in enumerate(stream):
        delay = start + index / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        fake.push(update)


class _patch_process:
    """Note when python-telegram-bot has run the handlers of an update (which send its replies)."""

    def __init__(self, done: dict[int, float]) -> None:
        from telegram import Update
        from telegram.ext import Application

        self.original = Application.process_update
        original = self.original

        async def timed(application, update):  # type: ignore[no-untyped-def]
            await original(application, update)
            if isinstance(update, Update):
                done[update.update_id] = time.perf_counter()

        Application.process_update = timed  # type: ignore[method-assign]

    def undo(self) -> None:
        from telegram.ext import Application

        Application.process_update = self.original  # type: ignore[method-assign]


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--women", type=int, default=300)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--free-text", type=float, default=0.5,
                        help="share of a woman's messages after onboarding that are new free-text questions")
    parser.add_argument("--rates", type=float, nargs="*", default=[100.0, 300.0], help="paced runs, updates per second")
    args = parser.parse_args()
    config = load_config(ROOT / "config.yaml", env={})
    content = Content.load(config)
    stream = interleave(updates(content, args.women, args.messages, args.free_text))
    print(f"# {time.strftime('%Y-%m-%d')} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{args.women} women x {args.messages} updates = {len(stream)} updates, "
          f"{args.free_text:.0%} of them after onboarding new free-text questions, SQLite")
    with tempfile.TemporaryDirectory() as folder:
        for label, rate in [("backlog", None), *[(f"paced {r:.0f}/s", r) for r in args.rates]]:
            result = await measure(config, content, stream, rate, f"sqlite+aiosqlite:///{folder}/{label.replace(' ', '-').replace('/', '')}.db")
            print(f"{label:<12} {result['rate']:7.1f} updates/s handled   reply latency p50 {result['p50']:7.1f} ms   "
                  f"p99 {result['p99']:7.1f} ms   ({result['updates']} updates, {result['calls']} Bot API calls, {result['elapsed']:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
