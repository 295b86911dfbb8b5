"""`wegwijs rasa-actions` under load: requests per second and latency of ``action_wegwijs_answer`` (her question
answered from the knowledge base, stored), next to rasa-sdk's own round trip of an action that does nothing,
served by the same kind of server in the same run.

    .venv/bin/python bench/rasa_bench.py                       # 600 calls each, 8 at a time
    .venv/bin/python bench/rasa_bench.py --calls 2000 --concurrency 16

Each call is what Rasa POSTs to /webhook (a tracker with her latest message and a domain), over HTTP on
127.0.0.1 with keep-alive; the answer calls cycle through questions in several languages, each from another
woman (a new user's first message, then her later ones), on a SQLite file. Figures in the README (Benchmarks)."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rasa_sdk import Action  # noqa: E402

from bot.app import open_conversation  # noqa: E402
from bot.channels.rasa import running  # noqa: E402
from bot.channels.rasa import server as rasa_server  # noqa: E402
from bot.config import load_config  # noqa: E402

QUESTIONS = ["where can i learn dutch", "how do i find childcare for my baby", "waar kan ik nederlands leren",
             "أين أجد حضانة لطفلي", "як визнати мій диплом", "can i work with my diploma from syria",
             "kinderopvang zoeken voor mijn dochter", "comment trouver une creche"]
DOMAIN = {"slots": {name: {} for name in ("language", "wegwijs_entry", "wegwijs_topic", "wegwijs_flow", "wegwijs_handoff")}}


class Nothing(Action):
    def name(self) -> str:
        return "action_nothing"

    async def run(self, dispatcher, tracker, domain):  # noqa: ANN001, ANN201 - rasa-sdk's signature
        return []


def body(action: str, number: int, women: int) -> dict:
    text = QUESTIONS[number % len(QUESTIONS)]
    sender = f"bench-{number % women}"
    message = {"text": text, "message_id": f"bench-{number}", "intent": {"name": "nlu_fallback"}, "entities": []}
    return {"next_action": action, "sender_id": sender, "version": "3.21.0",
            "tracker": {"sender_id": sender, "slots": {}, "latest_message": message,
                        "events": [{"event": "action", "name": "action_listen"}, {"event": "user", **message}]},
            "domain": DOMAIN}


async def load(url: str, action: str, calls: int, concurrency: int, women: int) -> tuple[float, list[float]]:
    numbers = itertools.count()
    latencies: list[float] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:
        async def worker() -> None:
            while (number := next(numbers)) < calls:
                started = time.perf_counter()
                async with http.post(url, json=body(action, number, women)) as response:
                    await response.read()
                    assert response.status == 200, response.status
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started, latencies


def report(name: str, seconds: float, latencies: list[float]) -> float:
    ordered = sorted(latencies)
    p50, p99 = ordered[len(ordered) // 2] * 1000, ordered[int(len(ordered) * 0.99)] * 1000
    rate = len(latencies) / seconds
    print(f"{name:28} {rate:7.0f}/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms   mean {statistics.mean(latencies) * 1000:6.1f} ms")
    return rate


async def main(args: argparse.Namespace) -> None:
    config = load_config(ROOT / "config.yaml", env={})
    with tempfile.TemporaryDirectory() as folder:
        async with open_conversation(config, Path(folder) / "bench.db", watch=False) as conversation:
            while not conversation.content.retriever.ready:  # the index is built (or read from the cache) before timing
                await asyncio.sleep(0.2)
            original = rasa_server.wegwijs_actions
            rasa_server.wegwijs_actions = lambda host: [*original(host), Nothing()]  # the no-op next to ours, same server
            try:
                async with running(conversation, config, port=0) as server:
                    url = f"http://127.0.0.1:{server.port}/webhook"
                    await load(url, "action_wegwijs_answer", 40, args.concurrency, args.women)  # warm-up
                    await load(url, "action_nothing", 40, args.concurrency, args.women)
                    nothing = report("rasa-sdk no-op action", *await load(url, "action_nothing", args.calls, args.concurrency, args.women))
                    answer = report("action_wegwijs_answer", *await load(url, "action_wegwijs_answer", args.calls, args.concurrency,
                                                                        args.women))
                    print(f"action_wegwijs_answer at {answer / nothing:.0%} of the no-op's rate")
            finally:
                rasa_server.wegwijs_actions = original


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--women", type=int, default=200, help="distinct senders the calls come from")
    asyncio.run(main(parser.parse_args()))
