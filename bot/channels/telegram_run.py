"""Running the Telegram channel: long polling or a webhook behind a reverse proxy, until a signal."""

from __future__ import annotations

import asyncio
import logging
import secrets
import signal
from urllib.parse import urlparse

from bot.channels.telegram import UPDATES, TelegramChannel
from bot.config import Config
from bot.conversation import Conversation

log = logging.getLogger(__name__)


async def run(conversation: Conversation, config: Config, *, webhook: str | None = None, listen: str = "127.0.0.1",
              port: int = 8443, stop: asyncio.Event | None = None, telegram_limits: bool = True) -> TelegramChannel:
    """Serve until ``stop`` is set (or SIGINT/SIGTERM). The secret for the webhook comes from
    TELEGRAM_WEBHOOK_SECRET, else a random one for this run; a request without it gets 403."""
    stop = stop or _stop_on_signals()
    channel = TelegramChannel(conversation, config.env.telegram_token or "", config.env.telegram_api_url,
                              config.settings.desk.chat_id, telegram_limits=telegram_limits)
    application = channel.application
    async with application:
        await channel.set_commands()
        await application.start()
        if webhook:
            secret = config.env.telegram_webhook_secret or secrets.token_urlsafe(32)
            await application.updater.start_webhook(listen=listen, port=port, url_path=urlparse(webhook).path.lstrip("/"),  # type: ignore[union-attr]
                                                    webhook_url=webhook, secret_token=secret, allowed_updates=UPDATES)
            log.info("Telegram webhook listening on %s:%d for %s", listen, port, webhook)
        else:
            await application.updater.start_polling(allowed_updates=UPDATES)  # type: ignore[union-attr]
            log.info("Telegram long polling started")
        await stop.wait()
        await application.updater.stop()  # type: ignore[union-attr]
        await application.stop()
    return channel


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for name in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(name, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    return stop
