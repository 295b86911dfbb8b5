"""The outbox (bot/desk/outbox.py) on a real store: what was delivered is marked in few writes (one per
message kept SQLite's one write lock busy for ~8 ms each under load: bench/whatsapp_bench.py), each
recipient's messages still in order and each sent once."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import insert

from bot.desk import Outbox
from bot.storage import OutboxItem, Store
from bot.storage.cases import outbox_row
from bot.storage.models import Outbox as OutboxRow


async def test_delivered_messages_are_marked_together_and_sent_once_in_order(store: Store) -> None:
    async with store.engine.begin() as connection:
        await connection.execute(insert(OutboxRow), [outbox_row(None, "test", f"woman-{n % 30}", {"text": f"reply {n}"})
                                                     for n in range(90)])
    writes: list[int] = []
    mark = store.outbox_sent

    async def counted(items: list[OutboxItem]) -> None:
        writes.append(len(items))
        await mark(items)

    store.outbox_sent = counted  # type: ignore[method-assign]
    delivered: dict[str, list[int]] = {}

    async def send(item: OutboxItem) -> bool:
        await asyncio.sleep(0.001)  # the HTTP call
        delivered.setdefault(item.recipient, []).append(int(item.body["text"].split()[1]))
        return True

    outbox = Outbox(store, ("test",), send, concurrency=8)
    total = 0
    while sent := await outbox.drain():
        total += sent
    assert total == 90 and sum(writes) == 90
    assert len(writes) < 30  # many a write, not one each
    assert all(numbers == sorted(numbers) and len(numbers) == 3 for numbers in delivered.values())
    assert await store.outbox_pending() == 0


async def test_when_the_marks_cannot_be_written_the_messages_stay_leased_and_are_marked_later(store: Store) -> None:
    async with store.engine.begin() as connection:
        await connection.execute(insert(OutboxRow), [outbox_row(None, "test", "woman", {"text": "reply"})])
    mark = store.outbox_sent
    down = True

    async def flaky(items: list[OutboxItem]) -> None:
        if down:
            raise ConnectionError("the database went away")
        await mark(items)

    store.outbox_sent = flaky  # type: ignore[method-assign]
    calls: list[Any] = []

    async def send(item: OutboxItem) -> bool:
        calls.append(item.id)
        return True

    outbox = Outbox(store, ("test",), send)
    assert await outbox.drain() == 1
    assert await store.outbox_pending() == 1  # not marked, but leased to us: not sent again meanwhile
    assert await outbox.drain() == 0 and calls == [calls[0]]
    down = False
    await outbox.drain()
    assert await store.outbox_pending() == 0 and len(calls) == 1


async def test_her_next_message_goes_only_once_the_previous_one_is_marked(store: Store) -> None:
    """Marks are written together, but never more than one of hers is sent and unmarked: a crash then sends at most
    that one again (the kill -9 test saw two replies sent twice when her marks waited behind each other)."""
    from sqlalchemy import select

    async with store.engine.begin() as connection:
        await connection.execute(insert(OutboxRow), [outbox_row(None, "test", f"woman-{n % 5}", {"text": f"reply {n}"}) for n in range(25)])
    previous: dict[str, int] = {}
    unmarked: list[int] = []

    async def send(item: OutboxItem) -> bool:
        before = previous.get(item.recipient)
        if before is not None:
            async with store.engine.connect() as connection:
                if (await connection.execute(select(OutboxRow.id).where(OutboxRow.id == before))).first() is not None:
                    unmarked.append(before)
        await asyncio.sleep(0.001)
        previous[item.recipient] = item.id
        return True

    outbox = Outbox(store, ("test",), send, concurrency=5)
    while await outbox.drain():
        pass
    assert unmarked == [] and await store.outbox_pending() == 0

