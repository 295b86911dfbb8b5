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
    waits without retries, her later items behind it, until then or until she writes (``Store.outbox_wake``)."""

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
        store.on_outbox(self.poke)  # something was stored for the outbox: send it at once

    async def drain(self) -> int:
        """Send what is due now; returns how many were sent. A recipient whose message failed gets
        nothing more in this round (her messages keep their order)."""
        sent = 0
        while items := await self.store.claim_outbox(self.channels, self.batch):
            by_target: dict[tuple[str, str], list[OutboxItem]] = {}
            for item in items:
                by_target.setdefault((item.channel, item.recipient), []).append(item)
            slots = asyncio.Semaphore(self.concurrency)

            async def one_recipient(queue: list[OutboxItem]) -> tuple[int, bool]:
                async with slots:
                    return await self._send_in_order(queue)

            results = await asyncio.gather(*(one_recipient(queue) for queue in by_target.values()))
            sent += sum(count for count, _ in results)
            if any(failed for _, failed in results) or len(items) < self.batch:
                break
        return sent

    async def _send_in_order(self, queue: list[OutboxItem]) -> tuple[int, bool]:
        """One recipient's items in order: (sent, whether one failed; the rest then waits)."""
        sent = 0
        for index, item in enumerate(queue):
            try:
                delivered = await self._send(item)
            except Deferred as deferred:
                await self.store.outbox_defer(item, deferred.until)
                for later in queue[index + 1:]:
                    await self.store.outbox_release(later)
                return sent, True
            if delivered:
                await self.store.outbox_sent(item)
                if item.channel == DESK and item.case_id is not None and item.body.get("key") == CARD:
                    await self.store.case_on_desk(item.case_id)
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
