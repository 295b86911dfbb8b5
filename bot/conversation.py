"""Conversation.handle: the one boundary between channels and everything Wegwijs decides."""

from __future__ import annotations

import logging
import unicodedata

from bot.config import Config
from bot.content import Content
from bot.messages import Incoming, Outgoing
from bot.reloader import ContentWatcher
from bot.router import STAGES, offer_language
from bot.storage import Store, UserSession
from bot.turn import Turn, outgoing

log = logging.getLogger(__name__)

KEEP = {"\n", "\t"}


class Conversation:
    def __init__(self, store: Store, content: Content, config: Config, watcher: ContentWatcher | None = None) -> None:
        self.store = store
        self.content = content
        self.config = config
        self.watcher = watcher

    async def handle(self, incoming: Incoming) -> list[Outgoing]:
        """Handle one inbound message once, in order for her, and return the replies to send."""
        if self.watcher is not None:
            self.content = await self.watcher.poll(self.content)
        try:
            async with self.store.user_session(incoming.channel, incoming.user) as session:
                if not await session.mark_processed(incoming.channel, incoming.message_id):
                    log.info("duplicate message skipped channel=%s id=%s", incoming.channel, incoming.message_id)
                    return []
                return await self._route(incoming, session)
        except Exception:
            log.exception("could not handle message channel=%s id=%s", incoming.channel, incoming.message_id)
            return await self._apologise(incoming)

    async def _route(self, incoming: Incoming, session: UserSession) -> list[Outgoing]:
        text, too_long = clean_text(incoming.text, self.config.settings.limits.max_message_chars)
        turn = Turn(incoming, session, self.content, self.config.settings, text=text)
        session.log("in", incoming.kind.value, incoming.payload or text)
        if too_long:
            turn.say("message-too-long", limit=self.config.settings.limits.max_message_chars)
        for stage in STAGES:
            if await stage(turn):
                break
        offer_language(turn)
        replies = turn.finish()
        for reply in replies:
            session.log("out", "text", reply.text, reply.key)
        log.info("handled channel=%s id=%s replies=%s", incoming.channel, incoming.message_id, [reply.key for reply in replies])
        return replies

    async def _apologise(self, incoming: Incoming) -> list[Outgoing]:
        """Keep what she sent if the database still works, and answer kindly in her language."""
        language = self.config.settings.default_language
        try:
            async with self.store.user_session(incoming.channel, incoming.user) as session:
                language = session.user.language or language
                if await session.mark_processed(incoming.channel, incoming.message_id):
                    session.log("in", incoming.kind.value, incoming.payload or clean_text(incoming.text, self.config.settings.limits.max_message_chars)[0])
        except Exception:
            log.exception("could not record the message after an error channel=%s id=%s", incoming.channel, incoming.message_id)
        text = self.content.catalogs.get(language, "error-sorry", numbers=", ".join(self.config.settings.emergency_numbers))
        return [outgoing(incoming.user, text.text, (), "error-sorry", text.language)]


def clean_text(text: str, limit: int) -> tuple[str, bool]:
    """Drop control characters, trim, and cut at ``limit`` characters (True when cut)."""
    kept = "".join(char for char in text if char in KEEP or unicodedata.category(char) not in ("Cc", "Cs", "Co"))
    kept = kept.strip()
    return (kept[:limit], True) if len(kept) > limit else (kept, False)
