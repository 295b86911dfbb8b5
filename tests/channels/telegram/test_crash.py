"""kill -9 during a burst: the real `wegwijs telegram` process (webhook and long polling), the fake Bot
API, Telegram's redelivery played by tests/helpers/crash.py. Nothing she sent may be lost or handled twice; every
stored reply is sent (a message sent just before a kill may be sent again: counted, bounded)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.config import normalise_database_url
from bot.storage import Store
from tests.conftest import PG_URL, always_open_file, reset_postgres
from tests.helpers.crash import BotProcess, Outcome, burst, confirmed, free_port, outcome, polled, script, settle
from tests.helpers.fake_telegram import FakeTelegram

KILLS_AT = (50, 130, 210)  # acknowledged updates (of 300) at which the bot is killed
DUPLICATE_WINDOW = 3 * 32  # at most the replies in flight at each kill (32 at a time)


async def database(backend: str, tmp_path: Path) -> str:
    if backend == "postgres":
        if not PG_URL:
            pytest.skip("WEGWIJS_TEST_PG_URL is not set")
        await reset_postgres(PG_URL)
        return PG_URL
    return str(tmp_path / "crash.db")


async def finished(fake: FakeTelegram, bot: BotProcess, db: str, updates: list[dict]) -> Outcome:
    """Once the bot has done all its work and stopped cleanly: what happened to every update."""
    store = await Store.open(normalise_database_url(db) if "://" in db else f"sqlite+aiosqlite:///{db}", upgrade=False)
    try:
        rows, inbox, outbox = await settle(fake, store)
        assert await asyncio.to_thread(bot.stop) == 0
    finally:
        await store.close()
    return outcome(updates, fake, rows, inbox, outbox)


def nothing_lost_nothing_twice(result: Outcome, updates: int) -> None:
    assert (result.stored, result.handled_twice) == (updates, 0), result.lines()
    assert (result.lost, result.extra, result.out_of_order) == (0, 0, 0), result.lines()
    assert (result.pending_inbox, result.pending_outbox) == (0, 0), result.lines()
    assert result.replies >= updates and result.duplicated <= DUPLICATE_WINDOW, result.lines()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_kill_9_three_times_during_a_burst_loses_nothing_and_handles_each_update_once(backend: str, tmp_path: Path) -> None:
    db = await database(backend, tmp_path)
    updates = script(women=30, messages=10)
    with FakeTelegram() as fake, BotProcess(fake, free_port(), db, always_open_file(tmp_path), tmp_path / "bot.log") as bot:
        sender = await burst(fake, bot, updates, KILLS_AT)
        assert sender.acknowledged == len(updates)
        result = await finished(fake, bot, db, updates)
    assert bot.starts == 4
    nothing_lost_nothing_twice(result, len(updates))


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_kill_9_three_times_while_long_polling_loses_nothing_and_handles_each_update_once(backend: str, tmp_path: Path) -> None:
    """Long polling confirms a page (the next getUpdates' offset) only once it is stored: a kill in
    between gets the page again from Telegram, and what was stored already is not handled twice."""
    db = await database(backend, tmp_path)
    updates = script(women=30, messages=10)
    with FakeTelegram() as fake, BotProcess(fake, free_port(), db, always_open_file(tmp_path), tmp_path / "bot.log", webhook=False) as bot:
        await polled(fake, bot, updates, KILLS_AT)
        assert confirmed(fake) == len(updates)
        result = await finished(fake, bot, db, updates)
    assert bot.starts == 4
    nothing_lost_nothing_twice(result, len(updates))
