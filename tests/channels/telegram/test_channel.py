"""The Telegram channel end to end: the real python-telegram-bot stack against a local fake Bot API,
fed with recorded payloads (tests/data/telegram), asserting on the exact Bot API calls."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.channels.telegram.render import callback_data, keyboard, split, to_html
from bot.channels.telegram.run import run
from bot.config import Config, Environment
from bot.core.conversation import Conversation
from bot.messages import Button
from bot.storage import Store
from tests.helpers.fake_telegram import TOKEN, FakeTelegram

DATA = Path(__file__).resolve().parents[2] / "data" / "telegram"
SECRET = "wegwijs-test-secret"


def payload(name: str, update_id: int | None = None, **message_changes: Any) -> dict[str, Any]:
    update = json.loads((DATA / name).read_text(encoding="utf-8"))
    if "update_id" not in update or update_id is not None:
        update["update_id"] = update_id or 1
    if "message" in update:
        update["message"].update(message_changes)
    return update


def text_update(update_id: int, text: str, chat_id: int = 218485655, message_id: int | None = None) -> dict[str, Any]:
    update = payload("update_message_text_private.json", update_id)
    message = update["message"]
    message.update(text=text, message_id=message_id or 100 + update_id)
    message["chat"]["id"] = message["from"]["id"] = chat_id
    message.pop("entities", None)
    if text.startswith("/"):
        message["entities"] = [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}]
    return update


def press(update_id: int, data: str, chat_id: int = 218485655, message_id: int = 3572) -> dict[str, Any]:
    update = payload("update_callback_query_inline_keyboard.json", update_id)
    query = update["callback_query"]
    query.update(data=data, id=f"cb-{update_id}")
    query["from"]["id"] = query["message"]["chat"]["id"] = chat_id
    query["message"]["message_id"] = message_id
    return update


class Bot:
    """The channel running on long polling (or a webhook) against the fake, in this event loop."""

    def __init__(self, fake: FakeTelegram, config: Config, conversation: Conversation) -> None:
        self.fake, self.config, self.conversation = fake, config, conversation
        self.stop = asyncio.Event()
        self.task: asyncio.Task | None = None

    async def start(self, **options: Any) -> None:
        self.task = asyncio.create_task(run(self.conversation, self.config, stop=self.stop, **options))
        await self.wait_for("setMyCommands", 12)

    async def wait_for(self, method: str, count: int = 1) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self.fake.wait_for, method, count)

    async def texts(self, count: int) -> list[str]:
        return [call["text"] for call in await self.wait_for("sendMessage", count)]


@pytest.fixture
async def telegram(tmp_path: Path, config: Config, content) -> AsyncIterator[Bot]:
    with FakeTelegram() as fake:
        env = Environment(telegram_token=TOKEN, telegram_api_url=fake.api_url, telegram_webhook_secret=SECRET)
        configured = dataclasses.replace(config, env=env)
        store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'telegram.db'}")
        bot = Bot(fake, configured, Conversation(store, content, configured))
        try:
            yield bot
        finally:
            bot.stop.set()
            if bot.task is not None:
                await asyncio.wait_for(bot.task, 30)
            await store.close()


def catalog(content, key: str, language: str = "en", **params: object) -> str:
    return content.catalogs.get(language, key, **params).text


async def test_first_message_gets_welcome_with_language_buttons_as_telegram_html(telegram: Bot, content) -> None:
    telegram.fake.push(payload("update_message_text_private.json"))
    await telegram.start()
    [call] = await telegram.wait_for("sendMessage")
    assert call["chat_id"] == "218485655" and call["parse_mode"] == "HTML"
    assert call["text"] == to_html(catalog(content, "welcome"))
    rows = call["reply_markup"]["inline_keyboard"]
    assert rows[0][0] == {"text": "English", "callback_data": "lang:en"}  # her app's language first
    assert sum(len(row) for row in rows) == 11 and all(len(row) <= 2 for row in rows)


async def test_start_command_from_a_new_woman_gets_the_language_menu(telegram: Bot, content) -> None:
    telegram.fake.push(payload("update_command_start_entities.json"))
    await telegram.start()
    [call] = await telegram.wait_for("sendMessage")
    assert call["chat_id"] == "714862471" and call["text"] == to_html(catalog(content, "welcome"))


async def test_command_menu_is_set_in_every_language(telegram: Bot, content) -> None:
    await telegram.start()
    calls = telegram.fake.called("setMyCommands")
    assert [call.get("language_code") for call in calls] == [None, *telegram.config.settings.languages]
    arabic = next(call for call in calls if call.get("language_code") == "ar")
    assert [c["command"] for c in arabic["commands"]] == ["start", "menu", "help", "language", "human", "cancel", "clear", "forget"]
    assert arabic["commands"][0]["description"] == catalog(content, "command-start", "ar")


async def test_a_pressed_button_is_answered_its_keyboard_removed_and_handled(telegram: Bot, content) -> None:
    telegram.fake.push(text_update(1, "hello"), press(2, "lang:en"))
    await telegram.start()
    texts = await telegram.texts(3)
    assert texts[1:] == [to_html(catalog(content, "privacy-notice", days=telegram.config.settings.retention.messages_days)),
                         to_html(catalog(content, "main-menu"))]
    assert telegram.fake.called("answerCallbackQuery") == [{"callback_query_id": "cb-2"}]
    [edit] = telegram.fake.called("editMessageReplyMarkup")
    assert (edit["chat_id"], edit["message_id"]) == ("218485655", "3572") and "reply_markup" not in edit


async def onboarded(telegram: Bot, first_update: int = 1, chat_id: int = 218485655) -> None:
    telegram.fake.push(text_update(first_update, "hello", chat_id), press(first_update + 1, "lang:en", chat_id))
    await telegram.wait_for("sendMessage", 3)


async def test_edited_messages_get_a_polite_note_and_are_not_read(telegram: Bot, content) -> None:
    await telegram.start()
    await onboarded(telegram)
    edited = payload("update_edited_message.json", 10)
    edited["edited_message"]["chat"]["id"] = edited["edited_message"]["from"]["id"] = 218485655
    telegram.fake.push(edited)
    assert (await telegram.texts(4))[3] == to_html(catalog(content, "edited-ignored"))


@pytest.mark.parametrize("name", ["message_photo_private.json", "update_voice_forwarded_raw_body.json"])
async def test_photos_and_voice_notes_get_a_kind_reply(telegram: Bot, content, name: str) -> None:
    await telegram.start()
    update = payload(name, 10)
    message = update.get("message", update)
    chat_id = message["chat"]["id"]
    await onboarded(telegram, chat_id=chat_id)
    telegram.fake.push({"update_id": 10, "message": message} if "update_id" not in update or "message" not in update else update)
    assert (await telegram.texts(4))[3] == to_html(catalog(content, "unsupported-kind"))


async def test_a_woman_who_blocked_the_bot_is_marked_inactive_without_an_error_loop(telegram: Bot) -> None:
    await telegram.start()
    await onboarded(telegram, chat_id=42)
    telegram.fake.fail("sendMessage", {"error_code": 403, "description": "Forbidden: bot was blocked by the user"})
    telegram.fake.push(text_update(10, "/help", chat_id=42))
    await telegram.wait_for("sendMessage", 4)
    await asyncio.sleep(0.5)
    assert len(telegram.fake.called("sendMessage")) == 4  # the refused one, and no second try of the rest
    user = await telegram.conversation.store.get_user("telegram", "42")
    assert user is not None and user.active is False


async def test_blocking_reported_by_my_chat_member_marks_her_inactive(telegram: Bot) -> None:
    await telegram.start()
    await onboarded(telegram, chat_id=0)
    telegram.fake.push(payload("update_my_chat_member_private_kicked.json", 10))
    for _ in range(100):
        user = await telegram.conversation.store.get_user("telegram", "0")
        if user is not None and not user.active:
            break
        await asyncio.sleep(0.05)
    assert user is not None and user.active is False


async def test_telegram_asking_to_wait_is_respected_and_the_message_still_arrives(telegram: Bot, content) -> None:
    telegram.fake.fail("sendMessage", {"error_code": 429, "description": "Too Many Requests: retry after 1", "parameters": {"retry_after": 1}})
    telegram.fake.push(payload("update_message_text_private.json"))
    await telegram.start()
    calls = await telegram.wait_for("sendMessage", 2)
    assert calls[0]["text"] == calls[1]["text"] == to_html(catalog(content, "welcome"))


async def test_added_to_a_group_it_says_so_once_and_leaves(telegram: Bot, content) -> None:
    telegram.fake.push(payload("my_chat_member_supergroup_added_no_update_id.json", 7))
    await telegram.start()
    [left] = await telegram.wait_for("leaveChat")
    assert left["chat_id"] == "-1002162095988"
    assert [call["text"] for call in telegram.fake.called("sendMessage")] == [catalog(content, "group-not-allowed")]


async def test_messages_in_groups_are_not_answered(telegram: Bot) -> None:
    telegram.fake.push(payload("update_message_command_supergroup_reply.json", 5), payload("update_message_text_private.json", 6))
    await telegram.start()
    await telegram.wait_for("sendMessage")
    await asyncio.sleep(0.3)
    assert [call["chat_id"] for call in telegram.fake.called("sendMessage")] == ["218485655"]


async def test_clear_deletes_the_chat_from_her_phone_after_confirmation(telegram: Bot, content) -> None:
    await telegram.start()
    await onboarded(telegram)
    telegram.fake.push(text_update(10, "/clear", message_id=777))
    confirm = (await telegram.wait_for("sendMessage", 4))[3]
    assert confirm["text"] == to_html(catalog(content, "clear-confirm"))
    assert [b["callback_data"] for row in confirm["reply_markup"]["inline_keyboard"] for b in row] == ["clear:yes", "clear:no"]
    telegram.fake.push(press(11, "clear:yes", message_id=5003))
    [deleted] = await telegram.wait_for("deleteMessages")
    sent = [5000, 5001, 5002, 5003]  # the fake numbers the bot's messages from 5000
    assert sorted(deleted["message_ids"]) == sorted([101, 777, *sent])  # her messages (hello, /clear) and the bot's
    await asyncio.sleep(0.3)
    assert len(telegram.fake.called("sendMessage")) == 4  # nothing new left behind on her screen
    assert await telegram.conversation.store.chat_messages("telegram", "218485655", since=_long_ago()) == []


def _long_ago():
    from datetime import datetime, timezone

    return datetime(2000, 1, 1, tzinfo=timezone.utc)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post(port: int, body: dict[str, Any], secret: str | None) -> int:
    headers = {"Content-Type": "application/json", **({"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {})}
    request = urllib.request.Request(f"http://127.0.0.1:{port}/tg/hook", json.dumps(body).encode(), headers)
    for _ in range(100):  # the webhook server may still be starting
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
        except urllib.error.URLError:
            time.sleep(0.05)
    raise AssertionError("the webhook server did not start")


async def test_webhook_processes_requests_with_the_secret_and_refuses_others_with_403(telegram: Bot, content) -> None:
    port = free_port()
    await telegram.start(webhook="https://example.org/tg/hook", listen="127.0.0.1", port=port)
    [hook] = await telegram.wait_for("setWebhook")
    assert hook["url"] == "https://example.org/tg/hook" and hook["secret_token"] == SECRET
    assert await asyncio.to_thread(post, port, payload("update_message_text_private.json", 1), "wrong") == 403
    assert await asyncio.to_thread(post, port, payload("update_message_text_private.json", 2), None) == 403
    await asyncio.sleep(0.3)
    assert telegram.fake.called("sendMessage") == []
    assert await asyncio.to_thread(post, port, payload("update_message_text_private.json", 3), SECRET) == 200
    [call] = await telegram.wait_for("sendMessage")
    assert call["text"] == to_html(catalog(content, "welcome"))


async def test_webhook_while_the_database_is_down_answers_503_tells_her_once_and_loses_nothing(telegram: Bot, content,
                                                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The database fails in the middle of a run: Telegram gets 503 (it delivers the update again), she gets one
    apology however often it is redelivered, and once the database is back the same update is answered."""
    from sqlalchemy.exc import OperationalError

    store = telegram.conversation.store
    working = store.inbox_add

    async def down(rows: Any) -> Any:
        raise OperationalError("INSERT INTO inbox", {}, Exception("database is locked"))

    port = free_port()
    await telegram.start(webhook="https://example.org/tg/hook", listen="127.0.0.1", port=port)
    monkeypatch.setattr(store, "inbox_add", down)
    update = payload("update_message_text_private.json", 7)
    assert await asyncio.to_thread(post, port, update, SECRET) == 503
    assert await asyncio.to_thread(post, port, update, SECRET) == 503  # Telegram's redelivery
    [apology] = await telegram.wait_for("sendMessage")
    assert apology["text"] == to_html(catalog(content, "error-sorry", numbers=", ".join(telegram.config.settings.emergency_numbers)))
    monkeypatch.setattr(store, "inbox_add", working)
    assert await asyncio.to_thread(post, port, update, SECRET) == 200
    calls = await telegram.wait_for("sendMessage", 2)
    assert calls[1]["text"] == to_html(catalog(content, "welcome"))


# Rendering ------------------------------------------------------------------------------------

def test_markdown_becomes_escaped_telegram_html() -> None:
    text = "**Ligo** & *CVO* <3\n- one\n- [VDAB](https://www.vdab.be?a=1&b=2)\nhttps://www.caw.be"
    assert to_html(text) == ('<b>Ligo</b> &amp; <i>CVO</i> &lt;3\n• one\n• <a href="https://www.vdab.be?a=1&amp;b=2">VDAB</a>\n'
                             "https://www.caw.be")


def test_long_messages_are_split_at_paragraphs_under_4096_characters() -> None:
    paragraphs = [f"**Paragraph {i}** " + "word " * 150 for i in range(12)]
    parts = split("\n\n".join(paragraphs))
    assert len(parts) > 1 and all(len(to_html(part)) <= 4096 for part in parts)
    assert "\n\n".join(parts) == "\n\n".join(paragraphs)  # nothing lost, cut only between paragraphs
    assert all(part.startswith("**Paragraph") for part in parts)
    one_huge_line = "x" * 9000
    assert all(len(part) <= 4096 for part in split(one_huge_line)) and "".join(split(one_huge_line)) == one_huge_line


def test_buttons_are_laid_out_for_a_phone_and_long_payloads_fit_telegram() -> None:
    long = "entry:" + "x" * 80
    mapping: dict[str, str] = {}
    markup = keyboard((Button("Yes", "a:yes"), Button("No", "a:no"), Button("A much longer label here", "b"), Button("Menu", long)), mapping)
    rows = [[button.text for button in row] for row in markup.inline_keyboard]
    assert rows == [["Yes", "No"], ["A much longer label here"], ["Menu"]]
    data = markup.inline_keyboard[2][0].callback_data
    assert len(data.encode()) <= 64 and mapping[data] == long == mapping[callback_data(long)]
    assert copy.copy(markup) is not None
