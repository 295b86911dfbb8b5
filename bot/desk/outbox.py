"""The outbox: relayed messages are stored first, then sent by the channel that can; what fails is
retried later (in order per recipient), so nothing is lost when Telegram or the bot is down."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from bot.messages import DESK
from bot.storage import OutboxItem, Store

log = logging.getLogger(__name__)

CARD = "desk-card"  # once a case's card is on the desk, the case is waiting there
Send = Callable[[OutboxItem], Awaitable[bool]]  # True: delivered (or can never be); False: try again later


class Deferred(Exception):
    """Raised by a channel's send: this item cannot go out before ``until`` (her WhatsApp window is closed); it
    waits without retries, her later items behind it, until then or until she writes (``UserSession.wake_waiting``)."""

    def __init__(self, until: datetime) -> None:
        super().__init__(f"deferred until {until.isoformat()}")
        self.until = until


class Outbox:
    """Sends the items of ``channels``: up to ``concurrency`` recipients at a time, each one's items in
    order. The women's replies and the desk have separate outboxes, so that the desk group's rate
    limit never holds up an answer to a woman."""

    def __init__(self, store: Store, channels: tuple[str, ...], send: Send, batch: int = 50, concurrency: int = 1) -> None:
        self.store = store
        self.channels = channels
        self.send = send
        self.batch = batch
        self.concurrency = concurrency
        self._wake = asyncio.Event()
        self._delivered: list[OutboxItem] = []  # sent, to be marked: many in one write while others are being sent
        self._marking: asyncio.Task[None] | None = None
        store.on_outbox(self.poke)  # something was stored for the outbox: send it at once

    async def drain(self) -> int:
        """Send what is due now; returns how many were sent. A recipient whose message failed gets
        nothing more in this round (her messages keep their order)."""
        sent = 0
        await self._marked()  # what an earlier round could not mark (the database was down)
        while items := await self.store.claim_outbox(self.channels, self.batch):
            by_target: dict[tuple[str, str], list[OutboxItem]] = {}
            for item in items:
                by_target.setdefault((item.channel, item.recipient), []).append(item)
            slots = asyncio.Semaphore(self.concurrency)

            async def one_recipient(queue: list[OutboxItem]) -> tuple[int, bool]:
                async with slots:
                    return await self._send_in_order(queue)

            results = await asyncio.gather(*(one_recipient(queue) for queue in by_target.values()))
            await self._marked()
            sent += sum(count for count, _ in results)
            if any(failed for _, failed in results) or len(items) < self.batch:
                break
        return sent

    def _mark(self, item: OutboxItem) -> None:
        """Delivered: marked by one writer, which takes whatever was delivered while it wrote."""
        self._delivered.append(item)
        if self._marking is None or self._marking.done():
            self._marking = asyncio.create_task(self._mark_delivered(), name="outbox-marks")

    async def _mark_delivered(self) -> None:
        while self._delivered:
            items, self._delivered = self._delivered, []
            try:
                await self.store.outbox_sent(items)
            except Exception as error:  # they stay leased to us; marked in the next round
                log.warning("could not mark %d sent outbox items (%s); trying again", len(items), type(error).__name__)
                self._delivered = items + self._delivered
                return
            for item in items:
                if item.channel == DESK and item.case_id is not None and item.body.get("key") == CARD:
                    try:
                        await self.store.case_on_desk(item.case_id)
                    except Exception:
                        log.exception("could not mark case %s as on the desk", item.case_id)

    async def marked(self) -> None:
        """Everything delivered so far is marked (e.g. before a status of it is looked up)."""
        await self._marked()

    async def _marked(self) -> None:
        """End of a round: everything delivered in it is marked (or, the database being down, waits for the next)."""
        if self._marking is not None:
            await self._marking
        if self._delivered:
            await self._mark_delivered()

    async def _send_in_order(self, queue: list[OutboxItem]) -> tuple[int, bool]:
        """One recipient's items in order: (sent, whether one failed; the rest then waits)."""
        sent = 0
        for index, item in enumerate(queue):
            if index:  # her previous item is marked before this one goes: after a crash at most one is sent again
                await self._marked()
            try:
                delivered = await self._send(item)
            except Deferred as deferred:
                await self.store.outbox_defer(item, deferred.until)
                for later in queue[index + 1:]:
                    await self.store.outbox_release(later)
                return sent, True
            if delivered:
                self._mark(item)
                sent += 1
                continue
            await self.store.outbox_failed(item)
            for later in queue[index + 1:]:
                await self.store.outbox_release(later)
            return sent, True
        return sent, False

    async def _send(self, item: OutboxItem) -> bool:
        try:
            return await self.send(item)
        except Deferred:
            raise
        except Exception:
            log.exception("relaying outbox item %s failed; it will be retried", item.id)
            return False

    def poke(self) -> None:
        """Something new was stored: send it now rather than at the next tick."""
        self._wake.set()

    async def run(self, stop: asyncio.Event, interval: float = 1.0) -> None:
        while not stop.is_set():
            self._wake.clear()  # a poke during the drain below wakes the next round at once
            try:
                await self.drain()
            except Exception:
                log.exception("the outbox could not be read; trying again in %.0f s", interval)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), interval)
