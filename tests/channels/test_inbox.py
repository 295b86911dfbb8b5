"""The inbox (bot/channels/inbox.py) on a real store: one chat's updates are handled in the order
they were stored, also when a restarted process accepts new updates before it has read back what
the killed one left (the kill -9 test once saw /help answered before the language button)."""

from __future__ import annotations

import asyncio

from bot.channels.inbox import Inbox
from bot.storage import InboxItem, Store


async def test_an_update_accepted_while_the_inbox_reads_back_waits_for_the_older_ones_of_its_chat(store: Store) -> None:
    await store.inbox_add([("test", "1", "chat-a", "left by the killed process"), ("test", "2", "chat-b", "also left")])
    handled: list[str] = []
    reading = asyncio.Event()
    go_on = asyncio.Event()
    pending = store.inbox_pending

    async def slow_pending(channel: str, after: int = 0, limit: int = 200) -> list[InboxItem]:
        reading.set()
        await go_on.wait()  # the restarted process reads the inbox back slowly (a big inbox, a busy disk)
        return await pending(channel, after, limit)

    store.inbox_pending = slow_pending  # type: ignore[method-assign]

    async def handle(item: InboxItem) -> None:
        handled.append(item.update_id)

    inbox = Inbox(store, "test", handle)
    stop = asyncio.Event()
    runner = asyncio.create_task(inbox.run(stop))
    await reading.wait()
    assert await inbox.accept([("3", "chat-a", "her next message, delivered at once")]) == 1
    await asyncio.sleep(0.05)
    assert handled == []  # not before what she sent earlier
    go_on.set()
    for _ in range(200):
        if len(handled) == 3:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await runner
    await inbox.finish()
    assert sorted(handled) == ["1", "2", "3"]
    assert handled.index("1") < handled.index("3")
    assert await pending("test", 0, 10) == []  # all marked done


async def test_updates_accepted_after_the_read_back_are_handled_at_once(store: Store) -> None:
    handled: list[str] = []

    async def handle(item: InboxItem) -> None:
        handled.append(item.update_id)

    inbox = Inbox(store, "test", handle)
    stop = asyncio.Event()
    runner = asyncio.create_task(inbox.run(stop, sweep=3600))
    for _ in range(100):
        if inbox.ready:
            break
        await asyncio.sleep(0.01)
    assert inbox.ready
    await inbox.accept([("1", "chat-a", "hello"), ("2", "chat-a", "/help")])
    for _ in range(200):
        if len(handled) == 2:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await runner
    assert handled == ["1", "2"]


async def test_an_accept_before_run_is_handled_once_run_has_read_back(store: Store) -> None:
    await store.inbox_add([("test", "1", "chat-a", "left over")])
    handled: list[str] = []

    async def handle(item: InboxItem) -> None:
        handled.append(item.update_id)

    inbox = Inbox(store, "test", handle)
    await inbox.accept([("2", "chat-a", "new")])  # the webhook server was up before the inbox task ran
    await asyncio.sleep(0.05)
    assert handled == []
    stop = asyncio.Event()
    runner = asyncio.create_task(inbox.run(stop, sweep=3600))
    for _ in range(200):
        if len(handled) == 2:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await runner
    assert handled == ["1", "2"]


async def _started(inbox: Inbox) -> tuple[asyncio.Event, asyncio.Task[None]]:
    stop = asyncio.Event()
    runner = asyncio.create_task(inbox.run(stop, sweep=3600))
    for _ in range(100):
        if inbox.ready:
            break
        await asyncio.sleep(0.01)
    return stop, runner


async def test_requests_arriving_together_are_stored_in_one_write_and_each_handled_once(store: Store) -> None:
    handled: list[str] = []
    writes: list[int] = []
    add = store.inbox_add

    async def counted_add(rows: list[tuple[str, str, str | None, str]]) -> list[InboxItem]:
        writes.append(len(rows))
        return await add(rows)

    store.inbox_add = counted_add  # type: ignore[method-assign]

    async def handle(item: InboxItem) -> None:
        handled.append(item.update_id)

    inbox = Inbox(store, "test", handle)
    stop, runner = await _started(inbox)
    results = await asyncio.gather(*(inbox.accept([(str(n), f"chat-{n % 7}", f"message {n}")]) for n in range(40)),
                                   inbox.accept([("3", "chat-3", "message 3, delivered again at the same time")]))
    for _ in range(300):
        if len(handled) == 40:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await runner
    assert sum(results) == 40  # the redelivery is not new
    assert sorted(handled, key=int) == [str(n) for n in range(40)]
    assert sum(writes) == 41 and len(writes) < 10  # many requests to a write
    for chat in range(7):  # each chat's messages in the order they came
        mine = [int(update) for update in handled if int(update) % 7 == chat]
        assert mine == sorted(mine)


async def test_a_request_that_cannot_be_stored_does_not_refuse_the_ones_stored_with_it(store: Store) -> None:
    handled: list[str] = []
    add = store.inbox_add

    async def picky_add(rows: list[tuple[str, str, str | None, str]]) -> list[InboxItem]:
        if any(body == "poison" for _, _, _, body in rows):
            raise RuntimeError("this row cannot be stored")
        return await add(rows)

    store.inbox_add = picky_add  # type: ignore[method-assign]

    async def handle(item: InboxItem) -> None:
        handled.append(item.update_id)

    inbox = Inbox(store, "test", handle)
    stop, runner = await _started(inbox)
    results = await asyncio.gather(inbox.accept([("1", "chat-a", "fine")]), inbox.accept([("2", "chat-b", "poison")]),
                                   inbox.accept([("3", "chat-c", "fine too")]), return_exceptions=True)
    for _ in range(200):
        if len(handled) == 2:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await runner
    assert results[0] == 1 and results[2] == 1
    assert isinstance(results[1], RuntimeError)  # that webhook gets a 503: Meta / Telegram deliver it again
    assert sorted(handled) == ["1", "3"]
