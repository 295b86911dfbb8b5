"""The counsellors' desk on Telegram: a forum supergroup with one topic per case, fed by the outbox."""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Protocol

from telegram import Bot, CallbackQuery, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.ext import ContextTypes

from bot.channels.telegram.render import keyboard, split, to_html
from bot.config import Counsellor
from bot.desk import Desk, DeskMessage
from bot.messages import DESK, Button, Kind, Outgoing
from bot.storage import CaseRow, OutboxItem, Store

log = logging.getLogger(__name__)

TOPIC_NAME_LIMIT = 128  # characters Telegram allows in a topic's name
RATE_RETRIES = 1        # a call waits out one "retry after" at most (then the outbox tries again later)
ANSWER_BACKOFF = (1.0, 2.0)  # seconds between attempts of an answer to a counsellor after a network error
Step = Callable[[], Awaitable[None]]


class TopicUnavailable(Exception):
    """Telegram would not make a case's topic: the desk is no forum, or the bot may not manage topics."""


class Sender(Protocol):
    """What the desk needs of the Telegram channel: its bot, the desk chat, the chats that blocked the bot,
    the long button payloads, and sending or clearing one message (with the channel's retries)."""

    desk_chat_id: int | None
    blocked: set[str]
    long_payloads: dict[str, str]

    @property
    def bot(self) -> Bot: ...

    async def send_once(self, chat_id: int, html: str, plain: str, markup: object | None, **options: Any) -> int: ...

    async def clear(self, chat_id: int) -> None: ...


class TelegramDesk:
    """Counsellors' updates in the desk chat become DeskMessages; outbox items become Bot API calls
    (to her chat, or into the case's topic, which is made on its first message)."""

    def __init__(self, channel: Sender, desk: Desk, store: Store) -> None:
        self.channel = channel
        self.store = store
        self.core = desk
        # her media from another channel ("wa:<id>"), fetched as (bytes, MIME type): set where WhatsApp runs too
        self.fetch_media: Callable[[str], Awaitable[tuple[bytes, str]]] | None = None
        self._progress: dict[Hashable, int] = {}  # outbox item id (or answer) -> steps done: a retry resumes after them

    @property
    def counsellors(self) -> list[Counsellor]:
        return self.core.settings.desk.counsellors

    # Updates from the desk chat --------------------------------------------------------------

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user = update.message, update.effective_user
        if message is None or user is None or user.is_bot:
            return
        thread = message.message_thread_id if message.is_topic_message else None
        case = await self._case_of(thread)
        kind, text = desk_kind(message)
        if case is None and not (kind is Kind.TEXT and text.startswith("/")):
            return  # outside a case's topic, only commands are for the bot: the rest is the team talking
        handle = f"{message.chat.id}:{message.message_id}"
        file_id = media_file_id(message)  # for her on another channel, which cannot copy a Telegram message
        reference = None if kind is Kind.TEXT else f"{handle}|{file_id}" if file_id else handle
        await self._handle(DeskMessage(self._name(user.id), handle, case, kind, text, reference=reference), thread)

    async def on_callback(self, query: CallbackQuery) -> None:
        """A card's button (already answered by the channel): take:<id> or close:<id>."""
        message = query.message
        thread = message.message_thread_id if isinstance(message, Message) and message.is_topic_message else None
        data = query.data or ""
        payload = self.channel.long_payloads.get(data, data)
        pressed = DeskMessage(self._name(query.from_user.id), f"cb:{query.id}", await self._case_of(thread), Kind.BUTTON, payload=payload)
        await self._handle(pressed, thread)

    async def _handle(self, message: DeskMessage, thread: int | None) -> None:
        replies = await self.core.handle(message)
        for reply in replies:
            await self._answer(reply, thread)

    async def _answer(self, reply: Outgoing, thread: int | None) -> None:
        """The core's answer, into its case's topic, else where the counsellor wrote."""
        found = await self.store.find_case(reply.case) if reply.case is not None else None
        where = int(found.desk_thread) if found is not None and found.desk_thread else thread
        steps, key = self._message_steps(self._chat_id(), reply.text, reply.buttons, where, self._mentions(reply.mentions)), object()
        for pause in (*ANSWER_BACKOFF, None):
            try:
                await self._run(steps, key)
                break
            except (BadRequest, Forbidden) as error:
                log.warning("Telegram refused an answer in the desk (%s)", type(error).__name__)
                break
            except (RetryAfter, NetworkError) as error:
                if pause is None:
                    log.error("could not answer in the desk (%s)", type(error).__name__)
                    break
                await asyncio.sleep(pause)
        self._progress.pop(key, None)

    async def _case_of(self, thread: int | None) -> int | None:
        found = await self.store.find_case(thread=str(thread)) if thread is not None else None
        return found.id if found is not None else None

    def _name(self, telegram_id: int) -> str:
        """The counsellor's name in config.yaml; anybody else gets a name no counsellor can have."""
        who = next((c for c in self.counsellors if c.telegram_id == telegram_id), None)
        if who is None:
            log.info("a desk member who is not a counsellor wrote: telegram_id=%s", telegram_id)
        return who.name if who is not None else f"telegram:{telegram_id}"

    def _mentions(self, ids: tuple[int, ...] | list[int]) -> str:
        names = {c.telegram_id: c.name for c in self.counsellors if c.telegram_id}
        links = [f'<a href="tg://user?id={i}">{html.escape(names[i])}</a>' for i in ids if i in names]
        return "\n" + " ".join(links) if links else ""

    def _chat_id(self) -> int:
        chat_id = self.channel.desk_chat_id
        if chat_id is None:
            raise TopicUnavailable("no desk chat is configured")
        return chat_id

    # The outbox ---------------------------------------------------------------------------------

    async def deliver(self, item: OutboxItem) -> bool:
        """Send one outbox item: True when done (or it can never be), False to try again later."""
        to_desk = item.channel == DESK
        if not to_desk and item.recipient in self.channel.blocked:
            return True  # she blocked the bot: the rest of what was queued for her is dropped
        try:
            steps = await (self._desk_steps(item) if to_desk else self._her_steps(item))
            await self._run(steps, item.id)
        except TopicUnavailable as error:
            log.error("cannot make the topic of case %s in the desk (%s): the desk must be a forum supergroup "
                      "where the bot is an administrator allowed to manage topics", item.case_id, error)
            return False
        except Forbidden:
            if to_desk:
                log.error("the bot may not write in the desk chat (removed from it?): case %s waits", item.case_id)
                return False
            await self.store.set_active(item.channel, item.recipient, False)
            self.channel.blocked.add(item.recipient)
            log.info("a relayed message cannot reach a woman who blocked the bot: marked inactive")
        except BadRequest as error:
            log.warning("Telegram refused outbox item %s (%s): dropped", item.id, error.message)
        except (RetryAfter, NetworkError) as error:
            log.warning("outbox item %s not sent yet (%s): tried again later", item.id, type(error).__name__)
            return False
        self._progress.pop(item.id, None)
        return True

    async def _run(self, steps: list[Step], key: Hashable | None = None) -> None:
        """Resume where an earlier attempt stopped: a part that Telegram took is not sent twice."""
        for index in range(self._progress.get(key, 0) if key is not None else 0, len(steps)):
            await steps[index]()
            if key is not None:
                self._progress[key] = index + 1

    async def _her_steps(self, item: OutboxItem) -> list[Step]:
        """Text (split, with her buttons), or a counsellor's photo, voice or document with the name."""
        chat_id, body = int(item.recipient), item.body
        text = body.get("text", "")
        buttons = tuple(Button(label, payload) for label, payload in body.get("buttons", []))
        seen = (item.channel, item.recipient)
        if body.get("action") == "clear-chat":  # /clear: delete what Telegram still lets a bot delete
            async def clear() -> None:
                await self.channel.clear(chat_id)
            return [clear]
        if not body.get("copy"):
            return self._message_steps(chat_id, text, buttons, remember=seen)
        source = _source(body["copy"])
        if body.get("kind") == "other":  # a sticker or a location takes no caption: the name comes first
            return [*self._message_steps(chat_id, text, (), remember=seen), self._copy_step(chat_id, source, remember=seen)]
        return [self._copy_step(chat_id, source, caption=text, remember=seen)]

    async def _desk_steps(self, item: OutboxItem) -> list[Step]:
        """Into the case's topic: the text (with mentions and the card's buttons), then her media.
        The card's message ids are stored, so that /forget can replace it."""
        body = item.body
        card = None
        if item.case_id is None:  # she asked to be forgotten: her case is gone, its topic is named
            thread = int(body["thread"]) if body.get("thread") else None
        else:
            case = await self.store.find_case(item.case_id)
            if case is None:
                return []
            thread = await self._topic(case, body)
            card = case.id if body.get("key") == "desk-card" else None
        buttons = tuple(Button(label, payload) for label, payload in body.get("buttons", []))
        steps = self._message_steps(self._chat_id(), body.get("text", ""), buttons, thread, self._mentions(body.get("mentions", [])),
                                    card=card)
        if str(body.get("copy", "")).startswith("wa:"):  # her photo, voice or document on WhatsApp: fetched, then sent
            steps.append(self._upload_step(body["copy"], thread))
        elif body.get("copy"):  # her caption is in the text, with what the desk may not see hidden: not on the copy
            steps.append(self._copy_step(self._chat_id(), _source(body["copy"]), thread=thread, drop_caption=bool(body.get("drop_caption"))))
        if item.case_id is None and thread is not None:
            if body.get("delete"):  # the topic goes with all her words in it; the notice goes to the desk's General topic
                notice = self._message_steps(self._chat_id(), body.get("text", ""), buttons, None, self._mentions(body.get("mentions", [])))
                return [self._topic_deleted_step(thread, body), *notice]
            return [*self._card_replaced_steps(body), *steps, *self._topic_closed_steps(thread, body)]
        return steps

    def _topic_deleted_step(self, thread: int, body: dict[str, Any]) -> Step:
        """deleteForumTopic: her case's topic and every message in it. Without the right to delete
        messages, Telegram refuses: then the card is replaced and the topic closed instead."""
        bot, chat_id = self.channel.bot, self._chat_id()

        async def delete() -> None:
            try:
                await bot.delete_forum_topic(chat_id, thread, rate_limit_args=RATE_RETRIES)
            except (BadRequest, Forbidden) as error:
                log.warning("Telegram would not delete a topic in the desk (%s): its card is replaced and it is closed", error.message)
                for step in (*self._card_replaced_steps(body), *self._topic_closed_steps(thread, body)):
                    await step()
        return delete

    def _card_replaced_steps(self, body: dict[str, Any]) -> list[Step]:
        """She asked to be forgotten: each message of her case's card becomes "deleted at her request",
        without its buttons (editMessageText)."""
        bot, chat_id, text = self.channel.bot, self._chat_id(), body.get("card_text", "")

        def edit(message_id: int) -> Step:
            async def step() -> None:
                await _unless_refused(bot.edit_message_text(to_html(text), chat_id=chat_id, message_id=message_id,
                                                            parse_mode=ParseMode.HTML, rate_limit_args=RATE_RETRIES), "replace a card")
            return step

        return [edit(int(message_id)) for message_id in body.get("card", [])] if text else []

    def _topic_closed_steps(self, thread: int, body: dict[str, Any]) -> list[Step]:
        """... and her case's topic is closed (closeForumTopic), after the notice."""
        bot, chat_id = self.channel.bot, self._chat_id()

        async def close() -> None:
            await _unless_refused(bot.close_forum_topic(chat_id, thread, rate_limit_args=RATE_RETRIES), "close a topic")
        return [close] if body.get("close") else []

    async def _topic(self, case: CaseRow, body: dict[str, Any]) -> int:
        """The case's topic; made on its first message and stored before anything is posted in it,
        so that a retry does not make a second one."""
        if case.desk_thread:
            return int(case.desk_thread)
        name = str(body.get("title") or f"#{case.id}")[:TOPIC_NAME_LIMIT]
        try:
            topic = await self.channel.bot.create_forum_topic(self._chat_id(), name, rate_limit_args=RATE_RETRIES)
        except BadRequest as error:
            raise TopicUnavailable(error.message) from error
        await self.store.set_desk_thread(case.id, str(topic.message_thread_id))
        log.info("made the desk topic of case %s", case.id)
        return topic.message_thread_id

    def _message_steps(self, chat_id: int, text: str, buttons: tuple[Button, ...], thread: int | None = None,
                       suffix: str = "", remember: tuple[str, str] | None = None, card: int | None = None) -> list[Step]:
        """One step per part of a long text; the buttons and mentions go with the last part. ``card``:
        the case whose card this is (the id of each part is stored)."""
        parts = split(text) if text else []
        options: dict[str, Any] = {"rate_limit_args": RATE_RETRIES, **({"message_thread_id": thread} if thread else {})}

        def step(part: str, last: bool) -> Step:
            async def send() -> None:
                markup = keyboard(buttons, self.channel.long_payloads) if last else None
                sent = await self.channel.send_once(chat_id, to_html(part) + (suffix if last else ""), part, markup, **options)
                await self._remember(remember, sent)
                if card is not None:
                    await self.store.card_posted(card, sent)
            return send

        return [step(part, index == len(parts) - 1) for index, part in enumerate(parts)]

    def _copy_step(self, chat_id: int, source: tuple[int, int], thread: int | None = None, caption: str | None = None,
                   remember: tuple[str, str] | None = None, drop_caption: bool = False) -> Step:
        """copyMessage: a copy carries no "forwarded from" line, so nobody's account shows.
        ``drop_caption``: the copy goes without the original's caption (an empty one replaces it)."""
        bot = self.channel.bot
        options: dict[str, Any] = {"rate_limit_args": RATE_RETRIES, **({"message_thread_id": thread} if thread else {})}
        if drop_caption:
            options["caption"] = ""

        async def copy() -> None:
            if not caption:
                sent = await bot.copy_message(chat_id, source[0], source[1], **options)
            else:
                try:
                    sent = await bot.copy_message(chat_id, source[0], source[1], caption=to_html(caption), parse_mode=ParseMode.HTML, **options)
                except BadRequest:  # no caption possible (a video note) or too long: the name as a message first
                    await self._run(self._message_steps(chat_id, caption, (), thread, remember=remember))
                    sent = await bot.copy_message(chat_id, source[0], source[1], **options)
            await self._remember(remember, sent.message_id)
        return copy

    def _upload_step(self, reference: str, thread: int | None) -> Step:
        """Her media from another channel into the case's topic, as a photo, voice message or document."""
        bot, chat_id = self.channel.bot, self._chat_id()
        options: dict[str, Any] = {"rate_limit_args": RATE_RETRIES, **({"message_thread_id": thread} if thread else {})}

        async def upload() -> None:
            if self.fetch_media is None:
                log.warning("her media cannot be fetched here (no WhatsApp channel in this process): only its notice is on the desk")
                return
            data, mime = await self.fetch_media(reference)
            if mime.startswith("image/") and mime != "image/webp":
                await bot.send_photo(chat_id, data, **options)
            elif mime.startswith("audio/ogg"):
                await bot.send_voice(chat_id, data, **options)
            elif mime.startswith("audio/"):
                await bot.send_audio(chat_id, data, **options)
            else:
                await bot.send_document(chat_id, data, filename=_filename(mime), **options)
        return upload

    async def _remember(self, chat: tuple[str, str] | None, message_id: int) -> None:
        """Her chat's message ids, so that /clear also deletes what a counsellor sent her."""
        if chat is not None:
            await self.store.remember_chat_messages(chat[0], chat[1], [str(message_id)])


def desk_kind(message: Message) -> tuple[Kind, str]:
    """What a counsellor sent, and its words (a media's caption)."""
    if message.text is not None:
        return Kind.TEXT, message.text
    caption = message.caption or ""
    if message.photo:
        return Kind.IMAGE, caption
    if message.voice is not None or message.audio is not None or message.video_note is not None:
        return Kind.VOICE, caption
    if message.document is not None:
        return Kind.DOCUMENT, caption
    return Kind.OTHER, caption


async def _unless_refused(call: Awaitable[object], what: str) -> None:
    """A step Telegram may refuse without harm (the card or topic was deleted, or is already so)."""
    try:
        await call
    except BadRequest as error:
        log.warning("Telegram would not %s in the desk (%s): skipped", what, error.message)


def media_file_id(message: Message) -> str | None:
    """The file id of a counsellor's photo (its largest size), voice, audio, video note or document."""
    if message.photo:
        return message.photo[-1].file_id
    found = message.voice or message.audio or message.video_note or message.document
    return found.file_id if found is not None else None


def _filename(mime: str) -> str:
    return "file." + {"application/pdf": "pdf", "image/webp": "webp", "video/mp4": "mp4"}.get(mime, mime.rsplit("/", 1)[-1][:8] or "bin")


def _source(reference: str) -> tuple[int, int]:
    """"<chat id>:<message id>", maybe followed by "|<file id>" (a chat id may be negative, never contains a colon)."""
    chat, _, message = str(reference).split("|", 1)[0].rpartition(":")
    return int(chat), int(message)
