"""The outbox: relayed messages are stored first, then sent by the channel that can; what fails is
retried later (in order per recipient), so nothing is lost when Telegram or the bot is down."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from bot.messages import DESK
from bot.storage import Store
from bot.storage.cases import OutboxItem

log = logging.getLogger(__name__)

CARD = "desk-card"  # once a case's card is on the desk, the case is waiting there
Send = Callable[[OutboxItem], Awaitable[bool]]  # True: delivered (or can never be); False: try again later


class Outbox:
    def __init__(self, store: Store, channels: tuple[str, ...], send: Send, batch: int = 50) -> None:
        self.store = store
        self.channels = channels
        self.send = send
        self.batch = batch
        self._wake = asyncio.Event()
        store.on_outbox(self.poke)  # something was stored for the outbox: send it at once

    async def drain(self) -> int:
        """Send what is due now; returns how many were sent. A recipient whose message failed gets
        nothing more in this round (her messages keep their order)."""
        sent = 0
        while items := await self.store.claim_outbox(self.channels, self.batch):
            failed: set[tuple[str, str]] = set()
            for item in items:
                target = (item.channel, item.recipient)
                if target in failed:
                    await self.store.outbox_release(item)
                    continue
                if await self._send(item):
                    await self.store.outbox_sent(item)
                    if item.channel == DESK and item.case_id is not None and item.body.get("key") == CARD:
                        await self.store.case_on_desk(item.case_id)
                    sent += 1
                else:
                    failed.add(target)
                    await self.store.outbox_failed(item)
            if failed or len(items) < self.batch:
                break
        return sent

    async def _send(self, item: OutboxItem) -> bool:
        try:
            return await self.send(item)
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
