"""Running the Telegram channel: long polling or a webhook behind a reverse proxy, until a signal."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlparse

from bot.channels.telegram.channel import CHANNEL, UPDATES, TelegramChannel
from bot.config import Config
from bot.core import Conversation
from bot.messages import DESK

log = logging.getLogger(__name__)

REMINDER_INTERVAL = 30.0  # seconds between looks for urgent cases nobody has taken


async def run(conversation: Conversation, config: Config, *, webhook: str | None = None, listen: str = "127.0.0.1",
              port: int = 8443, stop: asyncio.Event | None = None, telegram_limits: bool = True) -> TelegramChannel:
    """Serve until ``stop`` is set (or SIGINT/SIGTERM). The secret for the webhook comes from
    TELEGRAM_WEBHOOK_SECRET, else a random one for this run; a request without it gets 403.
    The outbox runs alongside: relays stored before a restart (or while Telegram failed) go out."""
    stop = stop or _stop_on_signals()
    if config.settings.desk.chat_id is None and config.settings.desk.counsellors:
        log.warning("desk.chat_id is not set: no counsellor would see a case, so women are told counsellors are not connected")
        conversation.config = config = without_counsellors(config)
    channel = TelegramChannel(conversation, config.env.telegram_token or "", config.env.telegram_api_url,
                              config.settings.desk.chat_id, telegram_limits=telegram_limits)
    application = channel.application
    async with application:
        await channel.set_commands()
        await application.start()
        try:
            await channel.store.outbox_unclaim((CHANNEL, DESK))  # what a killed process had in hand goes out now
            async with outboxes_running(channel):
                updates = channel.updates
                inbox_stop = asyncio.Event()
                inbox_task = asyncio.create_task(updates.inbox.run(inbox_stop), name="inbox")  # first: what was stored before
                poller = None
                try:
                    if webhook:
                        secret = config.env.telegram_webhook_secret or secrets.token_urlsafe(32)
                        await updates.start_webhook(listen, port, urlparse(webhook).path, secret)
                        await application.bot.set_webhook(webhook, allowed_updates=UPDATES, secret_token=secret)
                        log.info("Telegram webhook listening on %s:%d for %s", listen, port, webhook)
                    else:
                        poller = asyncio.create_task(updates.poll(stop, UPDATES), name="telegram-polling")
                        log.info("Telegram long polling started")
                    await stop.wait()
                finally:
                    if poller is not None:
                        poller.cancel()
                        await asyncio.gather(poller, return_exceptions=True)
                    await updates.stop_webhook()
                    await updates.inbox.finish()  # the updates in hand finish (their replies are in the outbox)
                    inbox_stop.set()
                    await inbox_task
        finally:  # also when the start failed (a port in use): the library is stopped before it closes
            await application.stop()
    return channel


def without_counsellors(config: Config) -> Config:
    """The same settings with nobody on the desk: /human then says honestly that nobody is connected."""
    desk = config.settings.desk.model_copy(update={"counsellors": []})
    return dataclasses.replace(config, settings=config.settings.model_copy(update={"desk": desk}))


@asynccontextmanager
async def outboxes_running(channel: TelegramChannel) -> AsyncIterator[None]:
    """The outbox sends while the bot runs (and the desk is reminded of urgent cases); on the way
    out it finishes the item in hand."""
    stop = asyncio.Event()
    outboxes = [box for box in (channel.outbox, channel.desk_outbox) if box is not None]
    tasks = [asyncio.create_task(box.run(stop), name="outbox") for box in outboxes]
    if channel.desk_chat_id is not None:  # urgent cases nobody took are posted again
        tasks.append(asyncio.create_task(channel.desk.core.run_reminders(stop, REMINDER_INTERVAL), name="urgent-reminders"))
    try:
        yield
    finally:
        stop.set()
        for box in outboxes:
            box.poke()  # wake it from its pause, so it sees the stop at once
        await asyncio.gather(*tasks)


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for name in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(name, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    return stop
