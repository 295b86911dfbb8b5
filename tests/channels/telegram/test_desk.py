"""The counsellors' desk on Telegram end to end: the real python-telegram-bot stack against the local
fake Bot API, a woman in a private chat and counsellors in a forum supergroup (recorded payloads)."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import itertools
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.channels.telegram.render import to_html
from bot.channels.telegram.run import run
from bot.config import WEEKDAYS, Config, Counsellor, Environment, OfficeHours
from bot.core.content import Content
from bot.core.conversation import Conversation
from bot.desk.desk import Desk, DeskMessage
from bot.language.i18n import native_name
from bot.storage import Store, cases
from bot.language.bidi import outgoing
from tests.helpers.fake_telegram import BOT, TOKEN, FakeTelegram

DATA = Path(__file__).resolve().parents[2] / "data" / "telegram"
DESK_CHAT = -1001847508954  # the forum of the recorded topic messages
AMAL, LOTTE, OLENA, STRANGER = 1253681278, 7002, 7003, 424242
HER, HER_NAME, HER_USERNAME, HER_PHONE = 5551234, "Hanane", "hanane_private_87", "+32470123456"
FIRST_TOPIC = "900"  # the fake numbers forum topics from 900
COMMAND_MENUS = 12   # setMyCommands calls at start: the default menu and one per language


def load(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def desk_config(config: Config, env: Environment) -> Config:
    """A desk chat, counsellors with Telegram ids, and a desk open day and night (deterministic wording)."""
    desk = config.settings.desk.model_copy(update={
        "chat_id": DESK_CHAT,
        "counsellors": [Counsellor(name="Amal", telegram_id=AMAL, languages=["ar", "nl", "en"]),
                        Counsellor(name="Lotte", telegram_id=LOTTE, languages=["nl", "en", "fr"]),
                        Counsellor(name="Olena", telegram_id=OLENA, languages=["uk", "ru", "en"])],
        "office_hours": OfficeHours(weekly={day: ["00:00-24:00"] for day in WEEKDAYS}, holidays=[]),
    })
    return dataclasses.replace(config, settings=config.settings.model_copy(update={"desk": desk}), env=env)


def her_user(language: str) -> dict[str, Any]:
    return {"id": HER, "is_bot": False, "first_name": HER_NAME, "username": HER_USERNAME, "language_code": language}


def her_chat() -> dict[str, Any]:
    return {"id": HER, "first_name": HER_NAME, "username": HER_USERNAME, "type": "private"}


def desk_chat() -> dict[str, Any]:
    return {**load("message_forum_topic_text.json")["chat"], "id": DESK_CHAT}


def counsellor(telegram_id: int) -> dict[str, Any]:
    """The recorded forum member, re-addressed to a counsellor (or a stranger) of the test."""
    return {**load("message_forum_topic_text.json")["from"], "id": telegram_id}


class DeskBot:
    """The bot running against the fake; her chat and the desk chat as the tests drive them."""

    def __init__(self, fake: FakeTelegram, config: Config, conversation: Conversation) -> None:
        self.fake, self.config, self.conversation = fake, config, conversation
        self.language = "en"
        self.stop = asyncio.Event()
        self.task: asyncio.Task | None = None
        self.starts = 0
        self._updates = itertools.count(1)
        self._messages = itertools.count(100)

    async def start(self) -> None:
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(run(self.conversation, self.config, stop=self.stop))
        self.starts += 1
        await asyncio.to_thread(self.fake.wait_for, "setMyCommands", COMMAND_MENUS * self.starts)

    async def halt(self) -> None:
        self.stop.set()
        if self.task is not None:
            await asyncio.wait_for(self.task, 30)
            self.task = None

    def push(self, message: dict[str, Any] | None = None, **update: Any) -> int:
        """Push an update (a message, or another kind given by keyword); returns the message's id."""
        if message is not None:
            message.setdefault("message_id", next(self._messages))
            update["message"] = message
        self.fake.push({"update_id": next(self._updates), **update})
        return message["message_id"] if message is not None else 0

    # Her side -----------------------------------------------------------------------------------

    def her_text(self, text: str) -> int:
        message = load("update_message_text_private.json")["message"]
        message.update(text=text, message_id=next(self._messages), chat=her_chat())
        message["from"] = her_user(self.language)
        if text.startswith("/"):
            message["entities"] = [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}]
        return self.push(message)

    def her_press(self, data: str) -> None:
        query = load("update_callback_query_inline_keyboard.json")["callback_query"]
        query.update(data=data, id=f"her-{next(self._updates)}", **{"from": her_user(self.language)})
        query["message"]["chat"] = her_chat()
        self.push(callback_query=query)

    def her_photo(self, caption: str | None = None) -> int:
        message = load("message_photo_private.json")
        message.update(message_id=next(self._messages), chat=her_chat(), **{"from": her_user(self.language)})
        if caption is not None:
            message["caption"] = caption
        return self.push(message)

    def her_contact(self) -> int:
        message = load("update_message_text_private.json")["message"]
        message.pop("text")
        message.pop("link_preview_options", None)
        message.update(message_id=next(self._messages), chat=her_chat(), contact={"phone_number": HER_PHONE, "first_name": HER_NAME, "user_id": HER})
        message["from"] = her_user(self.language)
        return self.push(message)

    # The desk -------------------------------------------------------------------------------------

    def in_topic(self, message: dict[str, Any], who: int, thread: str | None) -> dict[str, Any]:
        message.update(chat=desk_chat(), message_id=next(self._messages), **{"from": counsellor(who)})
        message.pop("reply_to_message", None)
        message.pop("is_topic_message", None)
        message.pop("message_thread_id", None)
        if thread is not None:
            creation = load("message_forum_topic_created.json")
            creation.update(chat=desk_chat(), message_id=int(thread), message_thread_id=int(thread), **{"from": BOT})
            message.update(message_thread_id=int(thread), is_topic_message=True, reply_to_message=creation)
        return message

    def counsellor_text(self, who: int, text: str, thread: str | None) -> int:
        message = self.in_topic(load("message_forum_topic_text.json"), who, thread)
        message["text"] = text
        if text.startswith("/"):
            message["entities"] = [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}]
        return self.push(message)

    def counsellor_photo(self, who: int, thread: str) -> int:
        return self.push(self.in_topic(load("message_photo_private.json"), who, thread))

    def counsellor_press(self, who: int, data: str, thread: str) -> str:
        query = load("update_callback_query_inline_keyboard.json")["callback_query"]
        query.update(data=data, id=f"desk-{next(self._updates)}", **{"from": counsellor(who)})
        query["message"].update(chat=desk_chat(), message_thread_id=int(thread), is_topic_message=True, **{"from": BOT})
        self.push(callback_query=query)
        return query["id"]

    # What Telegram got ----------------------------------------------------------------------------

    def to(self, chat: int, method: str = "sendMessage") -> list[dict[str, Any]]:
        return [call for call in self.fake.succeeded(method) if call.get("chat_id") == str(chat)]

    async def until(self, check: Callable[[], Any], timeout: float = 30.0) -> Any:
        deadline = asyncio.get_running_loop().time() + timeout
        while not (found := check()):
            if asyncio.get_running_loop().time() > deadline:
                calls = [(name, params.get("chat_id"), str(params.get("text", ""))[:40]) for name, params in self.fake.calls if name != "getUpdates"]
                raise AssertionError(f"timed out; calls: {calls}")
            await asyncio.sleep(0.02)
        return found

    async def sent(self, chat: int, count: int, method: str = "sendMessage") -> list[dict[str, Any]]:
        """The first `count` successful calls of `method` to `chat`, once there are that many."""
        return (await self.until(lambda: len(self.to(chat, method)) >= count and self.to(chat, method)))[:count]

    async def quiet(self, seconds: float = 0.5) -> None:
        """Let whatever else would happen happen (to assert that nothing more was sent)."""
        await asyncio.sleep(seconds)

    # Steps of a case --------------------------------------------------------------------------------

    async def onboard(self, language: str) -> None:
        self.language = language
        self.her_text("hello")
        await self.sent(HER, 1)
        self.her_press(f"lang:{language}")
        await self.sent(HER, 3)

    async def open_case(self) -> dict[str, Any]:
        """She sends /human: the card in its new topic (returned) and her answer."""
        before = len(self.to(HER))
        self.her_text("/human")
        [card] = await self.sent(DESK_CHAT, 1)
        await self.sent(HER, before + 1)
        return card

    async def take(self, who: int = AMAL) -> None:
        before = len(self.to(HER))
        self.counsellor_press(who, "take:1", FIRST_TOPIC)
        await self.sent(HER, before + 1)


def catalog(content: Content, key: str, language: str = "en", /, **params: object) -> str:
    return content.catalogs.get(language, key, **params).text


def for_her(text: str, language: str) -> str:
    """What she receives: the core's shaping for her language (RTL isolation), as Telegram HTML."""
    return to_html(outgoing("", text, [], None, language).text)


def buttons(call: dict[str, Any]) -> list[str]:
    return [button["callback_data"] for row in call.get("reply_markup", {}).get("inline_keyboard", []) for button in row]


@contextlib.asynccontextmanager
async def desk_bot(tmp_path: Path, config: Config, content: Content, **desk_settings: Any) -> AsyncIterator[DeskBot]:
    """The bot against a fake Bot API with the test desk; ``desk_settings`` change its desk: settings."""
    with FakeTelegram() as fake:
        configured = desk_config(config, Environment(telegram_token=TOKEN, telegram_api_url=fake.api_url))
        if desk_settings:
            changed = configured.settings.desk.model_copy(update=desk_settings)
            configured = dataclasses.replace(configured, settings=configured.settings.model_copy(update={"desk": changed}))
        store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'desk.db'}")
        bot = DeskBot(fake, configured, Conversation(store, content, configured))
        try:
            yield bot
        finally:
            await bot.halt()
            await store.close()


@pytest.fixture
async def desk(tmp_path: Path, config: Config, content: Content) -> AsyncIterator[DeskBot]:
    async with desk_bot(tmp_path, config, content) as bot:
        yield bot


# Opening a case ---------------------------------------------------------------------------------------

async def test_her_request_opens_a_topic_whose_card_never_identifies_her(desk: DeskBot, content: Content) -> None:
    await desk.start()
    await desk.onboard("ar")
    desk.her_contact()  # a number she shared with the bot, not with the desk
    await desk.sent(HER, 4)
    card = await desk.open_case()

    [topic] = desk.to(DESK_CHAT, "createForumTopic")
    title = catalog(content, "desk-card-title", case=1, language="ar", topic=catalog(content, "desk-no-topic"))
    assert topic["name"] == title == "#1 · ar · general"
    assert card["message_thread_id"] == FIRST_TOPIC and card["parse_mode"] == "HTML"
    assert card["text"].startswith(to_html("**Case #1**"))
    assert f'<a href="tg://user?id={AMAL}">Amal</a>' in card["text"]  # the one who speaks Arabic is notified
    assert f"id={LOTTE}" not in card["text"] and f"id={OLENA}" not in card["text"]
    assert buttons(card) == ["take:1", "close:1"]
    labels = [b["text"] for row in card["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == [catalog(content, "desk-button-take"), catalog(content, "desk-button-close")]
    assert desk.to(HER)[-1]["text"] == for_her(catalog(content, "handoff-waiting", "ar", position=1), "ar")
    assert (await desk.conversation.store.find_case(1)).desk_thread == FIRST_TOPIC

    for name, params in desk.fake.calls:  # nothing that identifies her reaches the desk
        if params.get("chat_id") == str(DESK_CHAT):
            shown = json.dumps({key: value for key, value in params.items() if key != "from_chat_id"}, ensure_ascii=False)
            assert HER_USERNAME not in shown and HER_NAME not in shown and HER_PHONE not in shown and str(HER) not in shown, name
    arabic = next(call for call in desk.fake.called("setMyCommands") if call.get("language_code") == "ar")
    assert "bot" in [command["command"] for command in arabic["commands"]]  # with a desk, /bot is in her menu


async def test_service_messages_and_team_talk_outside_a_case_are_left_alone(desk: DeskBot, content: Content) -> None:
    await desk.start()
    await desk.onboard("en")
    await desk.open_case()
    created = load("update_forum_topic_created.json")["message"]  # Telegram's notice of the topic the bot made
    created.update(chat=desk_chat(), message_thread_id=int(FIRST_TOPIC), message_id=int(FIRST_TOPIC), **{"from": BOT})
    desk.push(created)
    edited = load("update_forum_topic_edited_in_thread.json")["message"]
    edited.update(chat=desk_chat(), message_thread_id=int(FIRST_TOPIC), **{"from": counsellor(AMAL)})
    desk.push(edited)
    manual = load("message_forum_topic_created.json")  # a counsellor makes a topic for the team
    manual.update(chat=desk_chat(), message_id=77, message_thread_id=77, **{"from": counsellor(LOTTE)})
    desk.push(manual)
    desk.counsellor_text(LOTTE, "Lunch at one?", None)   # the team talking in the general topic
    desk.counsellor_text(LOTTE, "Anyone?", "77")         # ... and in a topic that is no case
    desk.counsellor_text(AMAL, "/queue", None)
    [_, queue] = await desk.sent(DESK_CHAT, 2)
    assert "message_thread_id" not in queue  # answered where she asked: the general topic
    assert queue["text"].startswith(to_html(catalog(content, "desk-queue", count=1)))
    await desk.quiet()
    assert len(desk.to(DESK_CHAT)) == 2 and len(desk.fake.called("createForumTopic")) == 1
    assert len(desk.to(HER)) == 4


async def test_an_emergency_mentions_every_counsellor_and_is_posted_again_until_taken(desk: DeskBot, content: Content,
                                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.channels.telegram.run as telegram_run
    from sqlalchemy import update
    from datetime import UTC, datetime, timedelta
    from bot.storage.models import Case

    monkeypatch.setattr(telegram_run, "REMINDER_INTERVAL", 0.05)
    await desk.start()
    await desk.onboard("uk")
    desk.her_text("чоловік мене б'є")
    [card] = await desk.sent(DESK_CHAT, 1)
    assert all(f'<a href="tg://user?id={who}">' in card["text"] for who in (AMAL, LOTTE, OLENA))  # not only Olena
    [topic] = desk.to(DESK_CHAT, "createForumTopic")
    assert topic["name"].startswith("⚠️")
    async with desk.conversation.store.engine.begin() as connection:
        await connection.execute(update(Case).values(opened_at=datetime.now(UTC) - timedelta(minutes=11)))
    [_, reminder] = await desk.sent(DESK_CHAT, 2)
    assert reminder["message_thread_id"] == FIRST_TOPIC and "#1" in reminder["text"]
    assert all(f'<a href="tg://user?id={who}">' in reminder["text"] for who in (AMAL, LOTTE, OLENA))
    await desk.quiet()
    assert len(desk.to(DESK_CHAT)) == 2  # once per interval of desk.urgent_reminder_minutes, not on every look
    desk.counsellor_press(OLENA, "take:1", FIRST_TOPIC)
    await desk.sent(HER, 6)  # "Olena is here"
    await desk.quiet()  # and whatever the take posts on the desk (it may come after her notice)
    posted = len(desk.to(DESK_CHAT))
    async with desk.conversation.store.engine.begin() as connection:
        await connection.execute(update(Case).values(reminded_at=datetime.now(UTC) - timedelta(minutes=11)))
    await desk.quiet()
    assert len(desk.to(DESK_CHAT)) == posted  # taken: no more reminders


# Taking over, talking, media ---------------------------------------------------------------------------

async def test_take_over_connects_her_once_in_her_language(desk: DeskBot, content: Content) -> None:
    await desk.start()
    await desk.onboard("ar")
    await desk.open_case()
    pressed = desk.counsellor_press(AMAL, "take:1", FIRST_TOPIC)
    [_, taken] = await desk.sent(DESK_CHAT, 2)
    assert {"callback_query_id": pressed} in desk.fake.called("answerCallbackQuery")
    assert taken["message_thread_id"] == FIRST_TOPIC and taken["text"] == to_html(catalog(content, "desk-taken", case=1, name="Amal"))
    connected = for_her(catalog(content, "handoff-connected", "ar", name="Amal"), "ar")
    assert (await desk.sent(HER, 5))[4]["text"] == connected

    second = desk.counsellor_press(LOTTE, "take:1", FIRST_TOPIC)
    [*_, already] = await desk.sent(DESK_CHAT, 3)
    assert {"callback_query_id": second} in desk.fake.called("answerCallbackQuery")
    assert already["message_thread_id"] == FIRST_TOPIC
    assert already["text"] == to_html(catalog(content, "desk-already-taken", case=1, name="Amal"))
    await desk.quiet()
    assert [call["text"] for call in desk.to(HER)].count(connected) == 1


async def test_counsellor_and_woman_write_to_each_other_through_the_topic(desk: DeskBot) -> None:
    await desk.start()
    await desk.onboard("en")
    await desk.open_case()
    await desk.take()
    desk.counsellor_text(AMAL, "Hello, I am Amal. How can I help?", FIRST_TOPIC)
    [*_, hers] = await desk.sent(HER, 6)
    assert hers["text"] == "<b>Amal</b>: Hello, I am Amal. How can I help?"
    desk.her_text("I need a Dutch course for my sister")
    [*_, relayed] = await desk.sent(DESK_CHAT, 3)
    assert relayed["message_thread_id"] == FIRST_TOPIC
    assert relayed["text"] == "💬 I need a Dutch course for my sister"
    await desk.quiet()
    assert len(desk.to(HER)) == 6  # the bot stays silent while a counsellor has her


async def test_photos_are_copied_both_ways_without_anyones_account(desk: DeskBot, content: Content) -> None:
    await desk.start()
    await desk.onboard("en")
    await desk.open_case()
    desk.her_photo()  # while she waits, the bot still answers her photo itself
    [*_, kind_reply] = await desk.sent(HER, 5)
    assert kind_reply["text"] == to_html(catalog(content, "unsupported-kind"))
    await desk.take()
    assert desk.to(DESK_CHAT, "copyMessage") == []
    photo = desk.her_photo()
    [copied] = await desk.sent(DESK_CHAT, 1, "copyMessage")
    assert copied == {"chat_id": str(DESK_CHAT), "from_chat_id": str(HER), "message_id": str(photo), "message_thread_id": FIRST_TOPIC}
    notice = desk.to(DESK_CHAT)[-1]
    assert notice["text"] == to_html(catalog(content, "desk-she-sent", kind=catalog(content, "desk-kind-image")))
    assert notice["message_thread_id"] == FIRST_TOPIC

    theirs = desk.counsellor_photo(AMAL, FIRST_TOPIC)
    [to_her] = await desk.sent(HER, 1, "copyMessage")
    assert to_her == {"chat_id": str(HER), "from_chat_id": str(DESK_CHAT), "message_id": str(theirs), "caption": "<b>Amal</b>",
                      "parse_mode": "HTML"}
    await desk.quiet()
    assert len(desk.to(HER)) == 6  # her second photo got no "I can only read text": Amal has her


async def test_canned_reply_reaches_her_in_her_language_and_the_desk_is_told(desk: DeskBot, content: Content) -> None:
    await desk.start()
    await desk.onboard("nl")
    await desk.open_case()
    await desk.take()
    desk.counsellor_text(AMAL, "/r welcome", FIRST_TOPIC)
    text, language = content.replies.find("welcome", content.catalogs.chain("nl"))
    assert language == "nl"
    [*_, hers] = await desk.sent(HER, 6)
    assert hers["text"] == to_html(f"**Amal**: {text}")
    [*_, note] = await desk.sent(DESK_CHAT, 3)
    assert note["message_thread_id"] == FIRST_TOPIC
    assert note["text"] == to_html(catalog(content, "desk-reply-sent", key="welcome", language=native_name("nl")))


# Ending a case ------------------------------------------------------------------------------------------

async def test_she_goes_back_to_the_bot_and_the_desk_is_told(desk: DeskBot, content: Content) -> None:
    await desk.start()
    await desk.onboard("en")
    await desk.open_case()
    await desk.take()
    desk.her_text("/bot")
    expected = to_html(catalog(content, "desk-she-left", case=1))
    left = await desk.until(lambda: next((m for m in desk.to(DESK_CHAT) if m["text"] == expected), None))  # whatever came before
    assert left["message_thread_id"] == FIRST_TOPIC
    await desk.sent(HER, 7)
    await desk.quiet()
    texts = [m["text"] for m in desk.to(HER)]
    assert len(texts) == 7 and texts[-2] == to_html(catalog(content, "handoff-back")), texts


async def test_a_counsellor_closes_the_case_and_she_gets_a_menu_button(desk: DeskBot, content: Content) -> None:
    await desk.start()
    await desk.onboard("en")
    await desk.open_case()
    await desk.take()
    desk.counsellor_text(AMAL, "/close", FIRST_TOPIC)
    [*_, closing] = await desk.sent(HER, 6)
    assert closing["text"] == to_html(catalog(content, "handoff-closed-by-counsellor"))
    assert closing["reply_markup"]["inline_keyboard"] == [[{"text": catalog(content, "button-menu"), "callback_data": "cmd:menu"}]]
    [*_, closed] = await desk.sent(DESK_CHAT, 3)
    assert closed["message_thread_id"] == FIRST_TOPIC and closed["text"] == to_html(catalog(content, "desk-closed", case=1, name="Amal"))
    desk.counsellor_text(AMAL, "One more thing", FIRST_TOPIC)
    [*_, late] = await desk.sent(DESK_CHAT, 4)
    assert late["text"] == to_html(catalog(content, "desk-case-closed", case=1))


async def test_closing_from_the_card_after_writing_to_her_tells_her_at_once_and_once(desk: DeskBot, content: Content) -> None:
    await desk.start()
    await desk.onboard("ar")
    await desk.open_case()
    await desk.take()
    desk.counsellor_text(AMAL, "سأغلق المحادثة الآن", FIRST_TOPIC)
    await desk.sent(HER, 6)
    desk.counsellor_press(AMAL, "close:1", FIRST_TOPIC)
    [*_, closing] = await desk.sent(HER, 7)  # without her writing again
    assert closing["text"] == for_her(catalog(content, "handoff-closed-by-counsellor", "ar"), "ar")
    assert buttons(closing) == ["cmd:menu"]
    desk.her_text("شكرا")
    await desk.sent(HER, 8)  # the bot answers her again ...
    await desk.quiet()
    texts = [call["text"] for call in desk.to(HER)]
    assert texts.count(closing["text"]) == 1  # ... and the notice is not repeated


async def test_her_caption_reaches_the_desk_without_her_phone_number(desk: DeskBot, content: Content) -> None:
    await desk.start()
    await desk.onboard("en")
    await desk.open_case()
    await desk.take()
    photo = desk.her_photo(caption="this letter, call me on 0470 12 34 56")
    [copied] = await desk.sent(DESK_CHAT, 1, "copyMessage")
    assert copied["message_id"] == str(photo) and copied["caption"] == ""  # Telegram's copy would keep her caption
    notice = desk.to(DESK_CHAT)[-1]
    hidden = catalog(content, "desk-hidden-phone")
    assert notice["text"] == to_html(catalog(content, "desk-she-sent", kind=catalog(content, "desk-kind-image")) + f"\n💬 this letter, call me on {hidden}")
    assert all("0470" not in json.dumps(params) for _, params in desk.fake.calls if params.get("chat_id") == str(DESK_CHAT))


# Reliability ---------------------------------------------------------------------------------------------

FAILURES = {
    "server-errors": [{"error_code": 500, "description": "Internal Server Error"}] * 3,
    "flood-wait": [{"error_code": 429, "description": "Too Many Requests: retry after 1", "parameters": {"retry_after": 1}}] * 2,
    "connection-dropped": [{"close": True}] * 2,
}


@pytest.mark.parametrize("failure", FAILURES)
async def test_a_relay_telegram_fails_to_take_arrives_later_exactly_once(desk: DeskBot, monkeypatch: pytest.MonkeyPatch, failure: str) -> None:
    monkeypatch.setattr(cases, "RETRY_AFTER", (0.1,) * 5)  # the outbox's pauses between attempts, shortened
    await desk.start()
    await desk.onboard("en")
    await desk.open_case()
    await desk.take()
    desk.fake.fail("sendMessage", *FAILURES[failure], chat_id=HER)
    desk.counsellor_text(AMAL, "Are you still there?", FIRST_TOPIC)
    expected = "<b>Amal</b>: Are you still there?"
    await desk.until(lambda: any(call["text"] == expected for call in desk.to(HER)))
    await desk.quiet(1.5)
    assert [call["text"] for call in desk.to(HER)].count(expected) == 1
    attempts = [call for call in desk.fake.called("sendMessage") if call["chat_id"] == str(HER) and call["text"] == expected]
    assert len(attempts) == len(FAILURES[failure]) + 1
    assert await desk.conversation.store.outbox_pending() == 0


async def test_a_relay_to_a_woman_who_blocked_the_bot_is_given_up_at_once(desk: DeskBot) -> None:
    await desk.start()
    await desk.onboard("en")
    await desk.open_case()
    await desk.take()
    desk.fake.fail("sendMessage", {"error_code": 403, "description": "Forbidden: bot was blocked by the user"}, chat_id=HER)
    desk.counsellor_text(AMAL, "Hello?", FIRST_TOPIC)
    await desk.until(lambda: desk.fake.failed)
    await desk.quiet(1.5)
    assert [call["text"] for call in desk.fake.called("sendMessage") if call["chat_id"] == str(HER)].count("<b>Amal</b>: Hello?") == 1
    assert await desk.conversation.store.outbox_pending() == 0  # not retried: it can never arrive
    user = await desk.conversation.store.get_user("telegram", str(HER))
    assert user is not None and user.active is False


async def test_a_relay_stored_while_the_bot_was_down_goes_out_once_after_a_restart(desk: DeskBot) -> None:
    await desk.start()
    await desk.onboard("en")
    await desk.open_case()
    await desk.take()
    await desk.halt()
    replies = await Desk(desk.conversation).handle(DeskMessage("Amal", "terminal-1", case=1, text="I am back, sorry for the wait"))
    assert replies == [] and await desk.conversation.store.outbox_pending() == 1
    await desk.start()
    expected = "<b>Amal</b>: I am back, sorry for the wait"
    await desk.until(lambda: any(call["text"] == expected for call in desk.to(HER)))
    await desk.quiet(1.5)
    assert [call["text"] for call in desk.to(HER)].count(expected) == 1
    assert await desk.conversation.store.outbox_pending() == 0
    assert len(desk.fake.called("createForumTopic")) == 1


async def test_a_desk_topic_that_cannot_be_made_keeps_the_card_until_it_can(desk: DeskBot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cases, "RETRY_AFTER", (0.1,) * 5)
    desk.fake.fail("createForumTopic", {"error_code": 400, "description": "Bad Request: the chat is not a forum"})
    await desk.start()
    await desk.onboard("en")
    card = await desk.open_case()
    assert card["message_thread_id"] == FIRST_TOPIC
    assert len(desk.fake.called("createForumTopic")) == 2 and len(desk.to(DESK_CHAT)) == 1


# Who may act in the desk -----------------------------------------------------------------------------------

async def test_someone_not_on_the_list_is_told_so_and_the_bot_stays_in_the_desk(desk: DeskBot, content: Content) -> None:
    await desk.start()
    added = load("my_chat_member_supergroup_added_no_update_id.json")["my_chat_member"]
    added["chat"] = desk_chat()
    added["new_chat_member"] = {**copy.deepcopy(added["new_chat_member"]), "status": "administrator", "can_be_edited": False,
                                "can_manage_chat": True, "can_change_info": True, "can_delete_messages": True, "can_invite_users": True,
                                "can_restrict_members": True, "can_pin_messages": True, "can_promote_members": False,
                                "can_manage_video_chats": True, "is_anonymous": False, "can_post_stories": False,
                                "can_edit_stories": False, "can_delete_stories": False, "can_manage_topics": True}
    desk.push(my_chat_member=added)
    await desk.onboard("en")
    await desk.open_case()
    desk.counsellor_text(STRANGER, "Hello, can I help her?", FIRST_TOPIC)
    [_, answer] = await desk.sent(DESK_CHAT, 2)
    assert answer["message_thread_id"] == FIRST_TOPIC
    assert answer["text"] == to_html(catalog(content, "desk-not-counsellor"))
    desk.counsellor_press(STRANGER, "take:1", FIRST_TOPIC)
    [*_, refused] = await desk.sent(DESK_CHAT, 3)
    assert refused["text"] == to_html(catalog(content, "desk-not-counsellor"))
    await desk.quiet()
    assert desk.fake.called("leaveChat") == []
    assert len(desk.to(HER)) == 4  # nothing of the stranger's reached her
    assert (await desk.conversation.store.find_case(1)).status == "waiting"


async def test_when_she_asks_to_be_forgotten_her_topic_is_told_after_her_case_is_gone(desk: DeskBot, content: Content) -> None:
    await desk.start()
    await desk.onboard("en")
    await desk.open_case()
    desk.her_text("/forget")
    await desk.sent(HER, 5)
    desk.her_press("forget:yes")
    [_, notice] = await desk.sent(DESK_CHAT, 2)
    assert "message_thread_id" not in notice  # her topic is deleted (desk.forget_topics: delete): the notice is in General
    assert [d["message_thread_id"] for d in desk.fake.succeeded("deleteForumTopic")] == [FIRST_TOPIC]
    assert notice["text"] == to_html(catalog(content, "desk-she-forgot", case=1))
    assert await desk.conversation.store.find_case(1) is None


async def test_without_a_desk_chat_telegram_women_are_told_nobody_is_connected(config) -> None:  # type: ignore[no-untyped-def]
    from bot.channels.telegram.run import without_counsellors

    assert config.settings.desk.counsellors and without_counsellors(config).settings.desk.counsellors == []
    assert without_counsellors(config).settings.desk.office_hours == config.settings.desk.office_hours


async def test_a_flood_in_the_desk_never_holds_up_her_answers(desk: DeskBot) -> None:
    """200 counsellor commands in the desk (answered at Telegram's 20 a minute for a group) while
    she writes: her answer does not wait behind them (before the inbox and two outboxes, desk sends
    held the slots that handle women's updates: 5 of 5 women unanswered for 90 s)."""
    await desk.start()
    await desk.onboard("en")
    for _ in range(200):
        desk.counsellor_text(AMAL, "/queue", None)
    await desk.sent(DESK_CHAT, 1)  # the desk is being answered, at the group's pace
    before = len(desk.to(HER))
    desk.her_text("/help")
    await desk.sent(HER, before + 1)
    assert len(desk.to(DESK_CHAT)) < 50  # she had her answer long before the desk's backlog was through
