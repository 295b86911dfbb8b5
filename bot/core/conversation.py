"""Conversation.handle: the one boundary between channels and everything Wegwijs decides."""

from __future__ import annotations

import dataclasses
import logging
import time
import unicodedata
from collections.abc import Callable

from bot.config import Config
from bot.core.content import Content
from bot.core.reloader import ContentWatcher
from bot.core.router import STAGES, offer_language
from bot.core.turn import Assist, Standing, Turn, standing, standing_of
from bot.knowledge import evidence_in_thread
from bot.language import outgoing
from bot.messages import Button, Incoming, Kind, Outgoing
from bot.storage import OutboxItem, Store, UserSession

log = logging.getLogger(__name__)

KEEP = {"\n", "\t"}
CONTACT_LOGGED = "[phone number shared]"  # a shared number is never written to the message log
NOT_COMPUTED = object()


class Conversation:
    def __init__(self, store: Store, content: Content, config: Config, watcher: ContentWatcher | None = None) -> None:
        self.store = store
        self.content = content
        self.config = config
        self.watcher = watcher
        self.queued: set[str] = set()  # channels whose replies go through the outbox (see queue_replies)
        self.waking: set[str] = set()  # channels where her message makes what waits for her due (see queue_replies)
        self.observers: list[Callable[[Incoming, list[Outgoing], float], None]] = []  # (her message, replies, seconds)

    def queue_replies(self, channel: str, wake: bool = False) -> None:
        """From now on, replies on ``channel`` are stored in the outbox in the same transaction as her
        message and state, and sent by the channel's outbox: a crash means "sent later", never
        "never sent". handle() still returns them, marked ``queued``. ``wake``: her message also makes
        her outbox items that wait for her (WhatsApp's closed window) due, in the same transaction."""
        self.queued.add(channel)
        if wake:
            self.waking.add(channel)

    async def handle(self, incoming: Incoming, assist: Assist | None = None) -> list[Outgoing]:
        """Handle one inbound message once, in order for her, and return the replies to send. ``assist``:
        for an assistant that runs the conversation itself (bot/core/assistant.py); it gets her standing."""
        started = time.perf_counter()
        replies = await self._handle(incoming, assist)
        for observe in self.observers:  # e.g. the metrics of `wegwijs serve`; never in the way of her answer
            try:
                observe(incoming, replies, time.perf_counter() - started)
            except Exception:
                log.exception("an observer of the conversation failed")
        return replies

    async def _handle(self, incoming: Incoming, assist: Assist | None = None) -> list[Outgoing]:
        if self.watcher is not None:
            self.content = await self.watcher.poll(self.content)
        try:
            content = self.content
            evidence = await self._evidence(incoming, content)
            async with self.store.user_session(incoming.channel, incoming.user) as session:
                if not await session.mark_processed(incoming.channel, incoming.message_id):
                    log.info("duplicate message skipped channel=%s id=%s", incoming.channel, incoming.message_id)
                    return []
                return await self._route(incoming, session, content, evidence, assist)
        except Exception:
            log.exception("could not handle message channel=%s id=%s", incoming.channel, incoming.message_id)
            return await self._apologise(incoming)

    async def _evidence(self, incoming: Incoming, content: Content) -> object:
        """Embed her question before taking her lock and the database: the embedding runs in its own
        thread (the engine releases the GIL), so other women's messages are stored meanwhile."""
        if incoming.kind is not Kind.TEXT or incoming.text.lstrip().startswith("/"):
            return NOT_COMPUTED
        text = clean_text(incoming.text, self.config.settings.limits.max_message_chars)[0]
        if not text:
            return NOT_COMPUTED
        return await evidence_in_thread(content.retriever, text)

    async def _route(self, incoming: Incoming, session: UserSession, content: Content, evidence: object = NOT_COMPUTED,
                     assist: Assist | None = None) -> list[Outgoing]:
        text, too_long = clean_text(incoming.text, self.config.settings.limits.max_message_chars)
        turn = Turn(incoming, session, content, self.config.settings, text=text, assist=assist)
        if evidence is not NOT_COMPUTED:
            turn.__dict__["evidence"] = evidence  # Turn.evidence is a cached_property: already known
        session.log("in", incoming.kind.value, logged(incoming, text))
        if incoming.channel in self.waking:
            session.wake_waiting()
        if incoming.chat_message is not None:
            session.remember_chat_message(incoming.chat_message)
        if too_long:
            turn.say("message-too-long", limit=self.config.settings.limits.max_message_chars)
        for stage in assist.stages if assist is not None else STAGES:
            if await stage(turn):
                break
        offer_language(turn)
        replies = turn.finish()
        if assist is not None:
            assist.standing = standing(turn)
        for reply in replies:
            session.log("out", "text", reply.text, reply.key)
        log.info("handled channel=%s id=%s replies=%s", incoming.channel, incoming.message_id, [reply.key for reply in replies])
        return self._queue(incoming, session, replies)

    def _queue(self, incoming: Incoming, session: UserSession, replies: list[Outgoing]) -> list[Outgoing]:
        """Replies on a queued channel go into the outbox of this unit of work."""
        if incoming.channel not in self.queued:
            return replies
        for reply in replies:
            body = {**outbox_body(reply), "language": session.user.language}
            if session.forgotten:  # the goodbye after /forget: sent, then nothing of it kept (no receipts)
                body["forgotten"] = True
            session.relay(None, incoming.channel, reply.recipient, body)
        return [dataclasses.replace(reply, queued=True) for reply in replies]

    async def waiting(self, channel: str, user: str) -> tuple[list[Outgoing], Standing]:
        """What the outbox holds for her (a counsellor's messages), handed over to be sent in the channel's
        reply rather than by its outbox, and where she stands now (e.g. her case closed)."""
        async with self.store.user_session(channel, user) as session:
            items = await session.take_waiting()
            language = session.user.language or self.config.settings.default_language
            return [waiting_reply(item) for item in items], standing_of(language, session.state)

    def group_notice(self) -> str:
        """What the bot says once in a group it was added to, before it leaves (default language)."""
        return self.content.catalogs.get(self.config.settings.default_language, "group-not-allowed").text

    def storage_down_notice(self) -> str:
        """What she is told when her message could not be stored (default language: her own is in the database)."""
        settings = self.config.settings
        return self.content.catalogs.get(settings.default_language, "error-sorry", numbers=", ".join(settings.emergency_numbers)).text

    async def _apologise(self, incoming: Incoming) -> list[Outgoing]:
        """Keep what she sent if the database still works, and answer kindly in her language."""
        language = self.config.settings.default_language
        first_time = True
        numbers = ", ".join(self.config.settings.emergency_numbers)
        try:
            async with self.store.user_session(incoming.channel, incoming.user) as session:
                language = session.user.language or language
                first_time = await session.mark_processed(incoming.channel, incoming.message_id)
                if first_time:
                    session.log("in", incoming.kind.value, logged(incoming, clean_text(incoming.text, self.config.settings.limits.max_message_chars)[0]))
                    if incoming.channel in self.waking:
                        session.wake_waiting()
                    text = self.content.catalogs.get(language, "error-sorry", numbers=numbers)
                    return self._queue(incoming, session, [outgoing(incoming.user, text.text, (), "error-sorry", text.language)])
        except Exception:
            log.exception("could not record the message after an error channel=%s id=%s", incoming.channel, incoming.message_id)
        if not first_time:  # a redelivered message that already got the apology
            return []
        text = self.content.catalogs.get(language, "error-sorry", numbers=numbers)  # not stored: the caller sends it
        return [outgoing(incoming.user, text.text, (), "error-sorry", text.language)]


def outbox_body(reply: Outgoing) -> dict[str, object]:
    """A reply to her as the outbox stores it (read back by the channel's sender)."""
    body: dict[str, object] = {"text": reply.text, "key": reply.key}
    if reply.buttons:
        body["buttons"] = [[button.label, button.payload] for button in reply.buttons]
    if reply.action:
        body["action"] = reply.action
    return body


def waiting_reply(item: OutboxItem) -> Outgoing:
    """An outbox item for her as the reply it stands for (a photo a channel cannot pass on: its caption)."""
    body = item.body
    buttons = tuple(Button(str(label), str(payload)) for label, payload in body.get("buttons", []))
    return Outgoing(item.recipient, str(body.get("text", "")), buttons, body.get("key"), bool(body.get("rtl")))


def logged(incoming: Incoming, text: str) -> str:
    """What the message log keeps of her message: the button, her cleaned text, never a phone number."""
    return incoming.payload or (CONTACT_LOGGED if incoming.kind is Kind.CONTACT else text)


def clean_text(text: str, limit: int) -> tuple[str, bool]:
    """Drop control characters, trim, and cut at ``limit`` characters (True when cut)."""
    kept = "".join(char for char in text if char in KEEP or unicodedata.category(char) not in ("Cc", "Cs", "Co"))
    kept = kept.strip()
    return (kept[:limit], True) if len(kept) > limit else (kept, False)
