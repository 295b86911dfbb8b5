"""The inbox: every update is stored before the channel is told it arrived, then handled from the
store — one chat's updates in order, many chats at once, each update once.

A channel calls ``accept`` with the raw updates (after a webhook request, after a getUpdates page)
and acknowledges only when it returned; ``run`` handles what ``accept`` stored and, at start, what
an earlier process stored but never finished (a crash, ``kill -9``). Until that read-back is done,
what ``accept`` stores waits (her older updates first, even when the webhook is up before the
inbox). What is handled is marked done (its body emptied at once). An update whose handling raised is tried again on the next sweep, and
after ``inbox.GIVE_UP`` attempts set aside (logged, without its content)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable

from bot.storage import GIVE_UP, InboxItem, Store

log = logging.getLogger(__name__)

Handle = Callable[[InboxItem], Awaitable[None]]
SWEEP = 30.0  # seconds between looks for stored updates that are not being handled (after a failure)


class Inbox:
    def __init__(self, store: Store, channel: str, handle: Handle, concurrency: int = 32) -> None:
        self.store = store
        self.channel = channel
        self.handle = handle
        self._slots = asyncio.Semaphore(concurrency)
        self._chats: dict[str, deque[InboxItem]] = {}  # chat -> its updates not yet handled, in order
        self._in_hand: set[int] = set()                # inbox ids queued or being handled
        self._tasks: set[asyncio.Task[None]] = set()
        self._done: list[int] = []
        self._done_flush: asyncio.Event = asyncio.Event()
        self._adding: list[tuple[list[tuple[str, str, str | None, str]], asyncio.Future[list[InboxItem]]]] = []
        self._adder: asyncio.Task[None] | None = None
        self._held: list[InboxItem] = []               # accepted before the read-back at start was done
        self.ready = False                             # the read-back at start is done: accepted updates go at once
        self.handled = 0

    async def accept(self, rows: list[tuple[str, str | None, str]]) -> int:
        """Store (update id, chat, raw JSON) rows; raises when the store cannot (then the channel must
        not acknowledge them). Returns how many were new; those are handled at once. Requests that
        arrive while an earlier one is being stored are stored together, in one transaction."""
        future: asyncio.Future[list[InboxItem]] = asyncio.get_running_loop().create_future()
        self._adding.append(([(self.channel, update_id, chat, body) for update_id, chat, body in rows], future))
        if self._adder is None or self._adder.done():
            self._adder = asyncio.create_task(self._add_waiting(), name="inbox-add")
        return len(await future)

    def _arrived(self, new: list[InboxItem]) -> None:
        if not self.ready:  # an older update of her chat may still be unread: after the read-back
            self._held.extend(new)
            return
        for item in new:
            self._dispatch(item)

    async def _add_waiting(self) -> None:
        """Store what the waiting requests brought, all in one write; when that fails, each on its own
        (one that cannot be stored does not refuse the others)."""
        while self._adding:
            waiting, self._adding = self._adding, []
            try:
                added = await self.store.inbox_add([row for rows, _ in waiting for row in rows])
            except Exception as error:
                if len(waiting) == 1:
                    _settle(waiting[0][1], error=error)
                    continue
                for rows, future in waiting:
                    try:
                        one = await self.store.inbox_add(rows)
                    except Exception as failed:
                        _settle(future, error=failed)
                        continue
                    _settle(future, one)
                    self._arrived(one)
                continue
            new = {item.update_id: item for item in added}
            for rows, future in waiting:  # a redelivery that came twice at once is new for the first only
                _settle(future, [new.pop(update_id) for _, update_id, _, _ in rows if update_id in new])
            self._arrived(added)  # stored, so acknowledged whatever happens here (a sweep would find them)

    def _dispatch(self, item: InboxItem) -> None:
        if item.id in self._in_hand:
            return
        self._in_hand.add(item.id)
        chat = item.chat or f"update:{item.update_id}"  # no chat (e.g. a poll): on its own
        queue = self._chats.get(chat)
        if queue is not None:
            queue.append(item)
            return
        self._chats[chat] = deque([item])
        task = asyncio.create_task(self._drain_chat(chat), name="inbox-chat")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drain_chat(self, chat: str) -> None:
        """One chat's updates one after the other; other chats meanwhile take other slots."""
        queue = self._chats[chat]
        try:
            async with self._slots:
                while queue:
                    item = queue[0]
                    if not await self._handle(item):  # to be tried again by a sweep
                        self._in_hand.discard(item.id)
                    queue.popleft()
        finally:
            for item in queue:  # cancelled at shutdown: left for the next start
                self._in_hand.discard(item.id)
            del self._chats[chat]

    async def _handle(self, item: InboxItem) -> bool:
        """True when handled (or set aside for good); it stays in hand until marked done."""
        try:
            await self.handle(item)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("handling inbox update %s failed; it is tried again later", item.id)
            with contextlib.suppress(Exception):
                if await self.store.inbox_failed(item.id) >= GIVE_UP:
                    log.error("inbox update %s failed %d times: set aside", item.id, GIVE_UP)
                    self._mark_done(item.id)
                    return True
            return False
        self.handled += 1
        self._mark_done(item.id)
        return True

    def _mark_done(self, item_id: int) -> None:
        self._done.append(item_id)
        self._done_flush.set()

    async def _flush_done(self) -> None:
        """Mark handled updates done, many in one write."""
        ids, self._done = self._done, []
        if not ids:
            return
        try:
            await self.store.inbox_done(ids)
        except Exception:
            log.warning("could not mark %d handled updates as done; trying again", len(ids))
            self._done = ids + self._done
            return
        self._in_hand.difference_update(ids)

    async def recover(self) -> int:
        """Dispatch what is stored but not handled (an earlier process died, or handling failed)."""
        count, after = 0, 0
        while batch := await self.store.inbox_pending(self.channel, after):
            for item in batch:
                if item.id not in self._in_hand:
                    self._dispatch(item)
                    count += 1
            after = batch[-1].id
        if count:
            log.info("handling %d stored updates that were not handled before", count)
        return count

    async def run(self, stop: asyncio.Event, sweep: float = SWEEP) -> None:
        """Until ``stop``: mark handled updates done, and look for stored ones nobody handles."""
        await self._read_back(stop)
        last_sweep = asyncio.get_running_loop().time()
        while not stop.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._done_flush.wait(), 0.2)
            self._done_flush.clear()
            await self._flush_done()
            if asyncio.get_running_loop().time() - last_sweep >= sweep:
                last_sweep = asyncio.get_running_loop().time()
                await self._recover_quietly()

    async def finish(self, timeout: float = 10.0) -> None:
        """On the way out: let the updates in hand finish (briefly), then record what was handled."""
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        await self._flush_done()

    async def _read_back(self, stop: asyncio.Event, pause: float = 1.0) -> None:
        """At start, what an earlier process left, in the order it was stored; then what ``accept``
        held meanwhile. Retried while the store cannot be read (nothing is handled out of order)."""
        while not stop.is_set():
            try:
                await self.recover()
                break
            except Exception as error:
                log.warning("could not read the inbox back (%s); trying again", type(error).__name__)
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), pause)
        self.ready = True
        held, self._held = sorted(self._held, key=lambda item: item.id), []
        for item in held:
            self._dispatch(item)

    async def _recover_quietly(self) -> None:
        try:
            await self.recover()
        except Exception as error:
            log.warning("could not read the inbox (%s); trying again later", type(error).__name__)


def _settle(future: asyncio.Future[list[InboxItem]], result: list[InboxItem] | None = None, error: BaseException | None = None) -> None:
    if future.done():  # its request went away (the client hung up): what it brought is stored all the same
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result or [])
