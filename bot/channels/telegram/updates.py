"""How updates reach the Telegram channel: a webhook server of our own or long polling, both storing
each update in the inbox before Telegram hears that it arrived.

python-telegram-bot's own webhook answers 200 as soon as an update is in its in-memory queue, and its
poller moves the offset past updates it has not handled: a crash then loses them for good. Here the
webhook answers 200 only after the update is committed (503 when the database cannot take it, so
that Telegram delivers it again later), and the poller asks for the next page only after the last
one is committed. The library still parses every update and runs the handlers (``process_update``).

The webhook checks the secret before it reads a byte of the body, refuses bodies over 1 MiB and
bodies that take too long to arrive, and answers 200 to anything that is not an update it could
use (so that Telegram does not retry it for hours) — logged once a minute per kind, with its size
and update id, never its content."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import Any

from aiohttp import web
from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application

from bot.channels.inbox import Inbox
from bot.channels.web import BODY_TIMEOUT, KEEPALIVE, MAX_BODY, Quiet, TooLarge, closing, mended, read_capped
from bot.storage import InboxItem

log = logging.getLogger(__name__)

CHANNEL = "telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
POLL_TIMEOUT = 10           # seconds Telegram holds a getUpdates open when there is nothing
POLL_BACKOFF = (1.0, 2.0, 5.0, 10.0, 30.0)


def chat_of(update: dict[str, Any]) -> str | None:
    """Her chat's id in a raw update (for the order of her updates and for /forget), if it has one."""
    for field in ("message", "edited_message", "callback_query", "my_chat_member"):
        part = update.get(field)
        if not isinstance(part, dict):
            continue
        holder = part.get("message") if field == "callback_query" else part
        chat = holder.get("chat") if isinstance(holder, dict) else None
        if not isinstance(chat, dict) and field == "callback_query":
            chat = part.get("from")  # an inline message: her own id is her private chat's
        if isinstance(chat, dict) and isinstance(chat.get("id"), int) and not isinstance(chat.get("id"), bool):
            return str(chat["id"])
    return None


def parse(body: bytes) -> tuple[dict[str, Any] | None, str]:
    """The update in a body, or None and why not (a kind for the log)."""
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        return None, "not UTF-8"
    except RecursionError:
        return None, "nested too deeply"
    except ValueError:
        return None, "not JSON"
    return checked(data)


def checked(data: object) -> tuple[dict[str, Any] | None, str]:
    """Decoded JSON as an update (surrogates mended), or None and why it is none."""
    if not isinstance(data, dict):
        return None, "not an object"
    update_id = data.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool) or not 0 <= update_id < 2**63:
        return None, "no update_id"
    problem = misshapen(data)
    if problem is not None:
        return None, problem
    return mended(data), ""


# The shape of an update as far as the handlers (and python-telegram-bot's filters) read it. Telegram
# never sends anything else; what does not fit is set aside, not handed to the library half-read.
NUMBER = (int, float)
USER = {"id": int, "is_bot": bool, "first_name": str, "last_name": str, "username": str, "language_code": str}
CHAT = {"id": int, "type": str, "title": str, "username": str, "first_name": str, "is_forum": bool}
MESSAGE: dict[str, Any] = {
    "message_id": int, "date": int, "edit_date": int, "chat": CHAT, "from": USER, "sender_chat": CHAT,
    "text": str, "caption": str, "message_thread_id": int, "is_topic_message": bool, "media_group_id": str,
    "entities": [dict], "caption_entities": [dict], "photo": [dict], "voice": dict, "audio": dict, "video_note": dict,
    "document": dict, "video": dict, "sticker": dict, "animation": dict,
    "location": {"latitude": NUMBER, "longitude": NUMBER}, "contact": {"phone_number": str, "first_name": str, "user_id": int},
    "forum_topic_created": dict, "forum_topic_edited": dict, "new_chat_members": [USER], "left_chat_member": USER,
}
MESSAGE["reply_to_message"] = MESSAGE
REQUIRED = {id(USER): ("id",), id(CHAT): ("id", "type"), id(MESSAGE): ("message_id", "date", "chat")}
MEMBER = {"status": str, "user": USER}
UPDATE: dict[str, Any] = {
    "message": MESSAGE, "edited_message": MESSAGE,
    "callback_query": {"id": str, "from": USER, "data": str, "chat_instance": str, "inline_message_id": str, "message": MESSAGE},
    "my_chat_member": {"chat": CHAT, "from": USER, "date": int, "old_chat_member": MEMBER, "new_chat_member": MEMBER},
}
REQUIRED.update({id(UPDATE["callback_query"]): ("id", "from"), id(UPDATE["my_chat_member"]): ("chat", "from", "date", "new_chat_member"),
                 id(MEMBER): ("status", "user")})
MAX_DEPTH = 24


def misshapen(update: dict[str, Any]) -> str | None:
    """Why an update is not one Telegram would send (a field of the wrong type, a required one
    missing, nested too deeply); None when it is fine. Names the field, never its value."""
    return _check(update, UPDATE, "update", 0)


def _check(value: Any, spec: Any, where: str, depth: int) -> str | None:
    if depth > MAX_DEPTH:
        return f"{where}: nested too deeply"
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            return f"{where}: not an object"
        for name in REQUIRED.get(id(spec), ()):
            if name not in value:
                return f"{where}.{name}: missing"
        for name, inner in spec.items():
            if name in value and (problem := _check(value[name], inner, f"{where}.{name}", depth + 1)):
                return problem
        return None
    if isinstance(spec, list):
        if not isinstance(value, list):
            return f"{where}: not a list"
        return next((problem for item in value if (problem := _check(item, spec[0], f"{where}[]", depth + 1))), None)
    if spec is dict:
        return None if isinstance(value, dict) else f"{where}: not an object"
    kinds = spec if isinstance(spec, tuple) else (spec,)
    if isinstance(value, bool) and bool not in kinds:
        return f"{where}: a boolean"
    if not isinstance(value, kinds):
        return f"{where}: not {'/'.join(kind.__name__ for kind in kinds)}"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**63:
        return f"{where}: out of range"
    return None


class TelegramUpdates:
    """Feeds the inbox from Telegram and hands stored updates to the library's handlers."""

    def __init__(self, application: Application, inbox_store: Any, concurrency: int = 32) -> None:
        self.application = application
        self.inbox = Inbox(inbox_store, CHANNEL, self.handle, concurrency)
        self.quiet = Quiet()
        self._runner: web.AppRunner | None = None
        self.on_store_failure: Any = None  # async (chat) -> None: tell her kindly that we are slow

    # Handling a stored update ----------------------------------------------------------------

    async def handle(self, item: InboxItem) -> None:
        try:
            data, why = parse(item.body.encode("utf-8", "surrogatepass"))
            if data is None:
                raise ValueError(why)
            update = Update.de_json(data, self.application.bot)
        except Exception as error:  # noqa: BLE001 - whatever the library cannot read is set aside
            self.quiet.warn("unparseable", "an update python-telegram-bot cannot read was set aside (%s, %d bytes, update %s)",
                            type(error).__name__, len(item.body), item.update_id)
            return
        if update is None:
            return
        await self.application.process_update(update)

    async def _store(self, updates: list[dict[str, Any]], raw: list[str]) -> None:
        await self.inbox.accept([(str(update["update_id"]), chat_of(update), text) for update, text in zip(updates, raw)])

    # Webhook ---------------------------------------------------------------------------------

    async def start_webhook(self, listen: str, port: int, path: str, secret: str) -> None:
        """Our own web server for the webhook (`wegwijs telegram --webhook`)."""
        app = web.Application(client_max_size=MAX_BODY)
        self.add_route(app, path, secret)
        self._runner = web.AppRunner(app, access_log=None, keepalive_timeout=KEEPALIVE, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, listen, port, backlog=1024).start()

    def add_route(self, app: web.Application, path: str, secret: str) -> None:
        """POST ``path`` on ``app`` receives Telegram's updates (also in `wegwijs serve`)."""
        secret_bytes = secret.encode()

        async def receive(request: web.Request) -> web.StreamResponse:
            given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")  # a header may hold any bytes
            if not hmac.compare_digest(given, secret_bytes):
                self.quiet.warn("forbidden", "a webhook request without the right secret was refused")
                return closing(403)
            if request.content_length is not None and request.content_length > MAX_BODY:
                self.quiet.warn("too-large", "a webhook request of %d bytes was refused", request.content_length)
                return closing(413)
            try:
                body = await asyncio.wait_for(read_capped(request), BODY_TIMEOUT)
            except TooLarge:
                self.quiet.warn("too-large", "a webhook request over %d bytes was refused", MAX_BODY)
                return closing(413)
            except (asyncio.TimeoutError, ConnectionError):
                self.quiet.warn("slow", "a webhook request whose body did not arrive in %.0f s was cut off", BODY_TIMEOUT)
                return closing(408)
            update, why = parse(body)
            if update is None:
                self.quiet.warn("not-an-update", "a webhook request that is no update was acknowledged and dropped (%s, %d bytes)", why, len(body))
                return web.Response(status=200)
            try:
                await self._store([update], [json.dumps(update, ensure_ascii=False)])
            except Exception as error:  # noqa: BLE001 - the database is down: Telegram keeps it for us
                self.quiet.warn("store", "an update could not be stored (%s): Telegram will deliver it again", type(error).__name__)
                await self._tell_her_we_are_slow(update)
                return web.Response(status=503)
            return web.Response(status=200)

        app.router.add_post("/" + path.lstrip("/"), receive)

    async def stop_webhook(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # Long polling ----------------------------------------------------------------------------

    async def poll(self, stop: asyncio.Event, allowed_updates: list[str]) -> None:
        """getUpdates until ``stop``; an offset moves past a page only once the page is stored."""
        bot = self.application.bot
        await bot.delete_webhook()
        offset: int | None = None
        failures = 0
        while not stop.is_set():
            try:
                data: dict[str, Any] = {"timeout": POLL_TIMEOUT, "allowed_updates": allowed_updates}
                if offset is not None:
                    data["offset"] = offset
                result = await bot._post("getUpdates", data, read_timeout=POLL_TIMEOUT + 10)  # noqa: SLF001 - the raw JSON, not parsed objects
            except (InvalidToken, Conflict) as error:
                log.error("Telegram refuses long polling (%s): %s", type(error).__name__, error.message)
                await _pause(stop, POLL_BACKOFF[-1])
                continue
            except RetryAfter as error:
                await _pause(stop, float(error.retry_after if isinstance(error.retry_after, (int, float)) else error.retry_after.total_seconds()))
                continue
            except (NetworkError, TelegramError) as error:
                failures += 1
                self.quiet.warn("poll", "getUpdates failed (%s); trying again", type(error).__name__)
                await _pause(stop, POLL_BACKOFF[min(failures - 1, len(POLL_BACKOFF) - 1)])
                continue
            failures = 0
            page = result if isinstance(result, list) else []
            updates, raw = [], []
            highest = None
            for entry in page:
                update, why = checked(entry)
                if isinstance(entry, dict) and isinstance(entry.get("update_id"), int):
                    highest = max(highest or entry["update_id"], entry["update_id"])
                if update is None:
                    self.quiet.warn("not-an-update", "a polled entry that is no update was skipped (%s)", why)
                    continue
                updates.append(update)
                raw.append(json.dumps(update, ensure_ascii=False))
            while not stop.is_set():
                try:
                    await self._store(updates, raw)
                    break
                except Exception as error:  # noqa: BLE001 - keep the offset: Telegram keeps them
                    self.quiet.warn("store", "updates could not be stored (%s): asking Telegram again later", type(error).__name__)
                    for update in updates:
                        await self._tell_her_we_are_slow(update)
                    await _pause(stop, POLL_BACKOFF[2])
            else:
                return
            if highest is not None:
                offset = highest + 1

    async def _tell_her_we_are_slow(self, update: dict[str, Any]) -> None:
        if self.on_store_failure is None:
            return
        chat = chat_of(update)
        if chat is not None:
            try:
                await self.on_store_failure(chat)
            except Exception as error:  # noqa: BLE001 - a courtesy: never in the way
                log.debug("could not tell her the bot is slow: %s", error)


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except asyncio.TimeoutError:
        pass
