"""Telegram with python-telegram-bot 22: thin handlers that turn updates into core messages and the
core's replies into Bot API calls (HTML, split at 4,096 characters, inline keyboards)."""

from __future__ import annotations

import asyncio
import logging
import weakref
from datetime import datetime, timedelta, timezone
from typing import Any

from telegram import Bot, BotCommand, LinkPreviewOptions, Message, Update
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import AIORateLimiter, Application, CallbackQueryHandler, ChatMemberHandler, ContextTypes, MessageHandler, filters

from bot.channels.telegram.desk import TelegramDesk
from bot.channels.telegram.http import AiohttpRequest
from bot.channels.telegram.render import keyboard, split, to_html
from bot.channels.telegram.updates import TelegramUpdates
from bot.core import Conversation
from bot.desk import Desk, Outbox
from bot.messages import DESK, Incoming, Kind, Outgoing

log = logging.getLogger(__name__)

CHANNEL = "telegram"
COMMANDS = ("start", "menu", "help", "language", "human", "bot", "cancel", "clear", "forget")
DESK_ONLY_COMMANDS = ("bot",)  # in the menu only where a counsellor can have her (a desk chat is set)
BACKOFF = (1.0, 2.0, 4.0)     # seconds between attempts after a network error
DELETABLE = timedelta(hours=48)
SLOW_NOTICE_EVERY = 600.0     # seconds: "sorry, we are slow" at most this often per chat while the database is down
UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY, Update.MY_CHAT_MEMBER]


class TelegramChannel:
    def __init__(self, conversation: Conversation, token: str, api_url: str | None = None,
                 desk_chat_id: int | None = None, concurrent_updates: int = 32, telegram_limits: bool = True) -> None:
        """``telegram_limits=False`` lifts the 30 messages per second Telegram allows a bot overall
        (only for benchmarks against the local fake, which measure the bot's own capacity)."""
        self.conversation = conversation
        self.store = conversation.store
        self.desk_chat_id = desk_chat_id
        self.long_payloads: dict[str, str] = {}
        self._chats: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()
        limiter = AIORateLimiter(max_retries=3) if telegram_limits else AIORateLimiter(overall_max_rate=0, group_max_rate=0, max_retries=3)
        builder = (Application.builder().token(token).rate_limiter(limiter).concurrent_updates(concurrent_updates)
                   .request(AiohttpRequest(connection_pool_size=concurrent_updates))
                   .get_updates_request(AiohttpRequest(connection_pool_size=1)).updater(None))  # bot/channels/telegram/updates.py receives
        if api_url:
            builder = builder.base_url(api_url).base_file_url(api_url.replace("/bot", "/file/bot"))
        self.application = builder.build()
        self.desk = TelegramDesk(self, Desk(conversation), self.store)
        conversation.queue_replies(CHANNEL)  # every reply is stored with her message, then sent by the outbox
        # Her replies and the desk have an outbox each: the desk group's rate limit never holds up her answers.
        self.outbox = Outbox(self.store, (CHANNEL,), self.desk.deliver, concurrency=concurrent_updates)
        self.desk_outbox = Outbox(self.store, (DESK,), self.desk.deliver) if desk_chat_id is not None else None
        self.updates = TelegramUpdates(self.application, self.store, concurrent_updates)
        self.updates.on_store_failure = self.say_we_are_slow
        self._told_slow: dict[str, float] = {}
        self.blocked: set[str] = set()  # chats that refused a message (she blocked the bot) until she writes again
        private = filters.ChatType.PRIVATE
        self.application.add_handler(ChatMemberHandler(self.on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER))
        if desk_chat_id is not None:  # what counsellors write in the desk (service messages are not theirs)
            in_desk = filters.UpdateType.MESSAGE & filters.Chat(chat_id=desk_chat_id) & ~filters.StatusUpdate.ALL
            self.application.add_handler(MessageHandler(in_desk, self.desk.on_message))
        self.application.add_handler(CallbackQueryHandler(self.on_callback))
        self.application.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE & private, self.on_edited))
        self.application.add_handler(MessageHandler(filters.UpdateType.MESSAGE & private, self.on_message))
        self.application.add_error_handler(self.on_error)

    # Handlers: convert, delegate, deliver -----------------------------------------------------

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message
        if message is not None:
            await self.process(message.chat.id, to_incoming(message))

    async def on_edited(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.edited_message
        if message is not None:
            edited = int((message.edit_date or message.date).timestamp())
            await self.process(message.chat.id, Incoming(CHANNEL, str(message.chat.id), f"{message.chat.id}:{message.message_id}:edit:{edited}",
                                                         Kind.EDITED, language_hint=_language(message)))

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        await _quietly(query.answer())  # the spinner on her button (or a counsellor's) stops at once
        chat = query.message.chat if query.message else None
        if chat is not None and self.desk_chat_id is not None and chat.id == self.desk_chat_id:
            await self.desk.on_callback(query)
            return
        if chat is None or chat.type != ChatType.PRIVATE:
            return
        if query.message is not None and isinstance(query.message, Message):
            await _quietly(query.edit_message_reply_markup(reply_markup=None))  # a used keyboard goes away
        payload = self.long_payloads.get(query.data or "", query.data or "")
        await self.process(chat.id, Incoming(CHANNEL, str(chat.id), f"cb:{query.id}", Kind.BUTTON, payload=payload,
                                             language_hint=query.from_user.language_code if query.from_user else None))

    async def on_my_chat_member(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        change = update.my_chat_member
        if change is None:
            return
        chat, status = change.chat, change.new_chat_member.status
        if chat.type == ChatType.PRIVATE:
            if status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT):
                await self.store.set_active(CHANNEL, str(chat.id), False)
                self.blocked.add(str(chat.id))
                log.info("a woman blocked the bot: marked inactive")
            return
        if status in (ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR) and chat.id != self.desk_chat_id:
            log.info("added to a group that is not the desk: saying so and leaving chat=%s", chat.id)
            await _quietly(context.bot.send_message(chat.id, self.conversation.group_notice()))
            await _quietly(context.bot.leave_chat(chat.id))

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("error while handling a Telegram update", exc_info=context.error)

    # Delivery ---------------------------------------------------------------------------------

    async def process(self, chat_id: int, incoming: Incoming) -> None:
        """Handle one message; its replies were stored in the outbox with it (which sends them), except
        an apology the database could not take, sent here. One chat at a time."""
        lock = self._chats.get(chat_id)
        if lock is None:
            lock = self._chats[chat_id] = asyncio.Lock()
        self.blocked.discard(str(chat_id))
        async with lock:
            replies = await self.conversation.handle(incoming)
            direct = [reply for reply in replies if not reply.queued]
            if direct:
                await self.deliver(chat_id, direct)

    async def say_we_are_slow(self, chat: str) -> None:
        """The database could not store her message (Telegram delivers it again later): say so,
        at most once in ten minutes per chat, without storing anything."""
        if not chat.lstrip("-").isdigit() or int(chat) < 0:
            return
        moment = asyncio.get_running_loop().time()
        if moment - self._told_slow.get(chat, -SLOW_NOTICE_EVERY) < SLOW_NOTICE_EVERY:
            return
        if len(self._told_slow) > 10_000:
            self._told_slow.clear()
        self._told_slow[chat] = moment
        await self.send(int(chat), self.conversation.storage_down_notice(), None)

    async def deliver(self, chat_id: int, replies: list[Outgoing]) -> None:
        """Send replies that are not in the outbox: only the apology when the database could not take
        her message (so nothing is remembered for /clear either)."""
        for reply in replies:
            parts = split(reply.text)
            for index, part in enumerate(parts):
                markup = keyboard(reply.buttons, self.long_payloads) if index == len(parts) - 1 else None
                if await self.send(chat_id, part, markup) is None:
                    return

    async def send(self, chat_id: int, text: str, markup: object | None) -> int | None:
        """Send one message: the id, or None when she cannot be reached (blocked, or still failing)."""
        for attempt, pause in enumerate((*BACKOFF, None)):
            try:
                return await self.send_once(chat_id, to_html(text), text, markup)
            except Forbidden:
                await self.store.set_active(CHANNEL, str(chat_id), False)
                log.info("cannot write to a woman who blocked the bot: marked inactive")
                return None
            except BadRequest:  # refused even as plain text: trying again changes nothing
                raise
            except RetryAfter as error:
                pause = float(error.retry_after if isinstance(error.retry_after, (int, float)) else error.retry_after.total_seconds())
            except NetworkError as error:
                log.warning("network error sending to Telegram (attempt %d): %s", attempt + 1, type(error).__name__)
            if pause is None:
                break
            await asyncio.sleep(pause)
        log.error("giving up sending a message after %d attempts", len(BACKOFF) + 1)
        return None

    @property
    def bot(self) -> Bot:
        return self.application.bot

    async def send_once(self, chat_id: int, html: str, plain: str, markup: object | None, **options: Any) -> int:
        """One sendMessage, as plain text when Telegram refuses the HTML; Telegram's other errors
        (Forbidden, RetryAfter, network errors) are the caller's to handle."""
        bot = self.application.bot
        try:
            message = await bot.send_message(chat_id, html, parse_mode=ParseMode.HTML, reply_markup=markup,  # type: ignore[arg-type]
                                             link_preview_options=LinkPreviewOptions(is_disabled=True), **options)
        except BadRequest as error:  # e.g. HTML Telegram refuses: send the words without formatting
            log.warning("Telegram refused a message (%s): sending it as plain text", error.message)
            message = await bot.send_message(chat_id, plain, reply_markup=markup, **options)  # type: ignore[arg-type]
        return message.message_id

    async def clear(self, chat_id: int) -> None:
        """Delete from her phone what Telegram still lets a bot delete (48 hours, both sides)."""
        since = datetime.now(timezone.utc) - DELETABLE
        ids = sorted({int(m) for m in await self.store.chat_messages(CHANNEL, str(chat_id), since)})
        for start in range(0, len(ids), 100):
            await _quietly(self.application.bot.delete_messages(chat_id, ids[start:start + 100]))
        await self.store.forget_chat_messages(CHANNEL, str(chat_id))
        log.info("cleared a chat on request: %d messages", len(ids))

    async def set_commands(self) -> None:
        """The command menu in each of her languages (Telegram picks it by the app's language)."""
        catalogs = self.conversation.content.catalogs
        settings = self.conversation.config.settings
        names = [name for name in COMMANDS if self.desk_chat_id is not None or name not in DESK_ONLY_COMMANDS]
        for language in (None, *settings.languages):
            texts = [BotCommand(name, catalogs.get(language or settings.default_language, f"command-{name}").text) for name in names]
            await self.application.bot.set_my_commands(texts, language_code=language)


def to_incoming(message: Message) -> Incoming:
    """A private-chat message as the core sees it (kind, text, location, her app's language); a photo,
    voice message or document carries its reference, so that a counsellor can get a copy."""
    handle = f"{message.chat.id}:{message.message_id}"
    base = {"channel": CHANNEL, "user": str(message.chat.id), "message_id": handle, "language_hint": _language(message),
            "chat_message": str(message.message_id)}
    if message.text is not None:
        return Incoming(kind=Kind.TEXT, text=message.text, **base)
    if message.location is not None:
        return Incoming(kind=Kind.LOCATION, location=(message.location.latitude, message.location.longitude), **base)
    if message.contact is not None:
        return Incoming(kind=Kind.CONTACT, text=message.contact.phone_number, **base)
    caption = message.caption or ""  # read for emergencies ("photo of my arm, he did this")
    if message.voice is not None or message.audio is not None or message.video_note is not None:
        return Incoming(kind=Kind.VOICE, text=caption, reference=handle, **base)
    if message.photo:
        return Incoming(kind=Kind.IMAGE, text=caption, reference=handle, **base)
    if message.document is not None:
        return Incoming(kind=Kind.DOCUMENT, text=caption, reference=handle, **base)
    return Incoming(kind=Kind.OTHER, text=caption, reference=handle, **base)  # stickers, videos, polls …


def _language(message: Message) -> str | None:
    return message.from_user.language_code if message.from_user else None


async def _quietly(call: object) -> None:
    """A courtesy call (answer a callback, remove a keyboard, leave a group) whose failure changes nothing."""
    try:
        await call  # type: ignore[misc]
    except TelegramError as error:
        log.debug("Telegram call failed: %s", error)
