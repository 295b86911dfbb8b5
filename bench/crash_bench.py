"""kill -9 during a burst: what is lost and what is sent twice.

    .venv/bin/python bench/crash_bench.py                                   # SQLite, 50 women x 20 = 1,000 updates, 3 kills
    .venv/bin/python bench/crash_bench.py --pg postgresql://wegwijs_test:wegwijs_test@127.0.0.1:5432/wegwijs_test

Runs the real `wegwijs telegram --webhook` process against the local fake Bot API; Telegram's side
of the webhook (deliver each update until it gets a 200, in order per chat) is played by
tests/helpers/crash.py. The bot is killed with SIGKILL after a third, a half and two thirds of the
updates were acknowledged, and started again each time. Afterwards every stored update and reply
is compared with what the fake received: lost updates (acknowledged, never stored), updates handled
twice, stored replies never sent, replies sent twice (the documented window), out of order."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import normalise_database_url  # noqa: E402
from bot.storage import Store  # noqa: E402
from tests.conftest import always_open_file, reset_postgres  # noqa: E402
from tests.helpers.crash import BotProcess, Sender, burst, free_port, outcome, script, settle  # noqa: E402
from tests.helpers.fake_telegram import FakeTelegram  # noqa: E402


async def one_run(db: str, women: int, messages: int, kills: int, folder: Path) -> None:
    url = normalise_database_url(db) if "://" in db else f"sqlite+aiosqlite:///{db}"
    if "://" in db:
        await reset_postgres(db)
    updates = script(women, messages)
    thresholds = [len(updates) * (index + 1) // (kills + 1) for index in range(kills)]
    started = time.perf_counter()
    with FakeTelegram() as fake, BotProcess(fake, free_port(), db, always_open_file(folder), folder / "bot.log") as bot:
        def killed(sender: Sender) -> None:
            print(f"  killed after {sender.acknowledged} acknowledged updates, {len(fake.called('sendMessage'))} messages sent", flush=True)

        sender = await burst(fake, bot, updates, thresholds, killed)
        store = await Store.open(url, upgrade=False)
        try:
            rows, inbox, outbox = await settle(fake, store, quiet=3.0, timeout=900.0)
            bot.stop()
        finally:
            await store.close()
        result = outcome(updates, fake, rows, inbox, outbox)
    print(f"  {result.lines().split(', notes')[0]}")
    print(f"  lost updates: {len(updates) - result.stored}, lost replies: {result.lost}, replies sent twice: {result.duplicated} "
          f"({time.perf_counter() - started:.0f} s, {bot.starts} starts, {sender.refused} refused answers)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--women", type=int, default=50)
    parser.add_argument("--messages", type=int, default=20, help="updates per woman")
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--pg", help="also on this PostgreSQL database (its schema is dropped and made again)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(f"SQLite: {args.women} women x {args.messages} updates, {args.kills} kills")
        asyncio.run(one_run(str(folder / "crash.db"), args.women, args.messages, args.kills, folder))
        if args.pg:
            print(f"PostgreSQL: {args.women} women x {args.messages} updates, {args.kills} kills")
            asyncio.run(one_run(args.pg, args.women, args.messages, args.kills, folder))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
