"""Memory of the running bot over many updates, most of them broken.

    .venv/bin/python bench/memory_bench.py                      # 100,000 updates
    .venv/bin/python bench/memory_bench.py --updates 20000 --normal 0.2

The real `wegwijs telegram --webhook` process (SQLite) against the local fake Bot API; updates are
the recorded payloads of tests/data/telegram with random fields replaced by junk (wrong types, long
and odd strings, nesting), plus a share of ordinary messages from 500 women. Prints the process's
RSS (from /proc) every tenth of the run, and whether a woman is still answered at the end."""

from __future__ import annotations

import argparse
import copy
import json
import random
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import always_open_file  # noqa: E402
from tests.helpers.crash import HOOK, SECRET, BotProcess, free_port, text_update  # noqa: E402
from tests.helpers.fake_telegram import FakeTelegram  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "telegram"
RECORDED = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(DATA.glob("update_*.json")) if not p.name.endswith("raw_body.json")]
QUESTIONS = ["hello", "/help", "/menu", "how can I find a creche", "where can I learn Dutch", "thank you", "/language"]


def junk(chance: random.Random, depth: int = 0) -> Any:
    makers = [lambda: None, lambda: True, lambda: chance.randrange(-2**40, 2**40), chance.random, lambda: "x" * chance.randrange(0, 3000),
              lambda: "\u202e\u200b" + str(chance.random()), lambda: [junk(chance, depth + 1)], lambda: {"a": junk(chance, depth + 1)},
              lambda: {"text": [1, 2], "chat": {"id": {"x": 1}}}]
    return makers[chance.randrange(len(makers) if depth < 3 else 6)]()


def mutated(chance: random.Random, update_id: int) -> dict[str, Any]:
    update = copy.deepcopy(chance.choice(RECORDED))
    for _ in range(chance.randrange(1, 4)):
        holder: Any = update
        while isinstance(holder, dict) and holder and chance.random() < 0.7:
            key = chance.choice(list(holder))
            if not isinstance(holder[key], dict):
                break
            holder = holder[key]
        if isinstance(holder, dict) and holder:
            holder[chance.choice(list(holder))] = junk(chance)
    update["update_id"] = update_id
    return update


def rss(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def post(port: int, update: dict[str, Any]) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{HOOK}", json.dumps(update).encode(),
                                     {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--updates", type=int, default=100_000)
    parser.add_argument("--normal", type=float, default=0.1, help="share of ordinary messages")
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    with tempfile.TemporaryDirectory() as tmp, FakeTelegram() as fake:
        folder = Path(tmp)
        port = free_port()
        with BotProcess(fake, port, str(folder / "memory.db"), always_open_file(folder), folder / "bot.log") as bot:
            bot.start()
            assert bot.process is not None
            pid = bot.process.pid
            time.sleep(2)
            print(f"after start: RSS {rss(pid):.0f} MB", flush=True)
            counter = iter(range(1, args.updates + 1))

            def work(seed: int) -> None:
                chance = random.Random(seed)
                for update_id in counter:
                    if chance.random() < args.normal:
                        woman = 8_000_000 + chance.randrange(500)
                        update = text_update(update_id, woman, chance.choice(QUESTIONS), update_id)
                    else:
                        update = mutated(chance, update_id)
                    status = post(port, update)
                    with lock:
                        statuses[status] = statuses.get(status, 0) + 1

            threads = [threading.Thread(target=work, args=(seed,), daemon=True) for seed in range(args.threads)]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            step = args.updates // 10
            mark = step
            while any(thread.is_alive() for thread in threads):
                time.sleep(0.5)
                done = sum(statuses.values())
                if done >= mark:
                    print(f"{done:7d} updates: RSS {rss(pid):.0f} MB ({done / (time.perf_counter() - started):.0f}/s)", flush=True)
                    mark += step
            time.sleep(5)
            print(f"all {sum(statuses.values())} posted: RSS {rss(pid):.0f} MB; answers {dict(sorted(statuses.items()))}")
            before = len(fake.called("sendMessage"))
            post(port, text_update(args.updates + 10, 31337, "hello", 1))
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not any(c["chat_id"] == "31337" for c in fake.called("sendMessage")[before:]):
                time.sleep(0.1)
            answered = any(c["chat_id"] == "31337" for c in fake.called("sendMessage")[before:])
            print(f"a new woman afterwards: {'answered' if answered else 'NOT answered'}; log {(folder / 'bot.log').stat().st_size} bytes")
            bot.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
