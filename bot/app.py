"""Assembly at the edge: config, content and store become a Conversation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.config import Config
from bot.core import Content, ContentWatcher, Conversation
from bot.storage import Store


@asynccontextmanager
async def open_conversation(config: Config, db: str | Path | None = None, *, watch: bool = True) -> AsyncIterator[Conversation]:
    """The conversation over the configured store; with ``watch``, edited content is picked up live."""
    store = await Store.open(config.database_url(db))  # first: a wrong --db fails before content loads
    try:
        content = Content.load(config, build="background")  # a first start answers within seconds (bot/knowledge/index.py)
        retention = config.settings.retention
        await store.purge_expired(retention.messages_days, retention.inactive_user_days)
        yield Conversation(store, content, config, ContentWatcher(config) if watch else None)
    finally:
        await store.close()
