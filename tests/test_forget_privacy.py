"""/forget leaves nothing that identifies her: not in any table (SQLite and PostgreSQL), not in the
bytes of the SQLite files (database, -wal, -shm), and on the Telegram desk her topics are closed and
their cards replaced."""

from __future__ import annotations

import asyncio

import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, select, text

from bot.channels.telegram.render import to_html
from bot.config import Config
from bot.core.content import Content
from bot.core.conversation import Conversation
from bot.messages import DESK
from bot.storage import Store, repository
from bot.storage.models import Case, Unanswered
from tests.conftest import Chat
from tests.desk.test_desk import sent as delivered
from tests.channels.telegram.test_desk import DESK_CHAT, FIRST_TOPIC, HER, DeskBot, catalog, desk, desk_bot  # noqa: F401 - the fixture

HER_REF = "730555123498"  # her chat id on the channel
NAME, FIRST_NAME = "Zeynep Kaplanoglu", "Zeynep"
PHONE, PHONE_DIGITS = "0470 98 76 54", "0470987654"
EMAIL = "zeynep.kaplan@example.org"
QUESTION = f"{NAME} here, qwzx blorp, {PHONE}, {EMAIL}"
OTHER_QUESTION = "qwzx blorp vrmpf 12"


def keys(replies: list[Any]) -> list[str | None]:
    return [reply.key for reply in replies]


async def on_desk(store: Store, case_id: int, thread: str, card: list[int]) -> None:
    """What the desk channel does with a case's card: its topic, the card's messages."""
    await store.set_desk_thread(case_id, thread)
    for message_id in card:
        await store.card_posted(case_id, message_id)
    await store.case_on_desk(case_id)


async def everything(store: Store) -> list[tuple[str, str]]:
    """(table, value) of every column of every row of every table."""
    async with store.engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        found = []
        for table in tables:
            for row in (await connection.execute(text(f'SELECT * FROM "{table}"'))).all():
                found.extend((table, str(value)) for value in row if value is not None)
    return found


async def talk_through_everything(conversation: Conversation, store: Store) -> list[str]:
    """She asks what the bot cannot answer, signs up, gives feedback, has a closed and an open case on
    the desk, and has an update waiting in the inbox and a message to her in the outbox. Returns what
    she typed."""
    her = Chat(conversation, user=HER_REF)
    typed: list[str] = []

    async def say(words: str) -> list[Any]:
        typed.append(words)
        return await her(words)

    await her.onboard("en")
    assert keys(await say(QUESTION))[0] == "fallback"  # logged for coordinators
    for step in ("flow:job-shadowing", "answer:yes"):
        await her.press(step)
    await say(FIRST_NAME)
    await her.press("answer:phone")
    for words, then in ((PHONE, None), ("arabic and turkish", "answer:a1"), ("kitchen work near Sint-Pietersplein", None),
                        ("tuesday mornings", "answer:yes"), ("9000", None)):
        await say(words)
        if then:
            await her.press(then)
    assert keys(await say("my husband works late, call after six")) == ["flow:job-shadowing:done"]
    entry = next(iter(conversation.content.knowledge.entries))
    await her.press(f"helpful:{entry}")
    await her.press(f"unhelpful:{entry}")

    await say("/human")
    await on_desk(store, 1, "901", [7001, 7002])  # a long card: two messages
    await say(f"I am {NAME}, the one who signed up")  # shown in her topic while she waits
    await say("/bot")  # her first case is closed
    await say("/human")
    await on_desk(store, 2, "902", [7003])
    await delivered(store, DESK)

    await store.inbox_add([("test", "update-77", HER_REF, json.dumps({"text": f"still there? {NAME}"}))])  # not handled yet
    async with store.user_session("test", HER_REF) as session:
        session.relay(None, "test", HER_REF, {"text": f"Reminder for {FIRST_NAME}"})  # to her, in no case
    await store.remember_chat_messages("test", HER_REF, ["11", "12"])

    async with store.engine.connect() as connection:  # everything was touched
        for table, count in (("records", 1), ("cases", 2), ("inbox", 1), ("chat_messages", 2), ("feedback", 2)):
            assert (await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one() == count, table
        assert (await connection.execute(text("SELECT count(*) FROM unanswered"))).scalar_one() >= 1

    await say("/forget")
    assert keys(await her.press("forget:yes")) == ["forget-done"]
    return typed


def identifying(typed: list[str]) -> list[str]:
    return [HER_REF, NAME, FIRST_NAME, "Kaplanoglu", PHONE, PHONE_DIGITS, EMAIL,
            *(words for words in typed if not words.startswith("/") and len(words) > 4)]


async def test_after_forget_no_table_holds_anything_of_her(store: Store, conversation: Conversation, content: Content) -> None:
    other = Chat(conversation, user="other-woman")
    await other.onboard("en")
    assert keys(await other(OTHER_QUESTION))[0] == "fallback"
    async with store.user_session("test", "other-woman") as session:
        session.relay(None, "test", "other-woman", {"text": "for her"})

    typed = await talk_through_everything(conversation, store)

    found = await everything(store)
    for needle in identifying(typed):
        assert [(table, value) for table, value in found if needle in value] == [], needle
    async with store.engine.connect() as connection:
        kept = (await connection.execute(select(Unanswered.text))).scalars().all()
        assert kept == ["qwzx blorp vrmpf [number]"]  # the other woman's, masked
        assert (await connection.execute(select(Case.id))).all() == []
        assert (await connection.execute(text("SELECT count(*) FROM feedback"))).scalar_one() == 2  # kept: no link to her
        assert (await connection.execute(text("SELECT recipient FROM outbox WHERE channel = 'test'"))).scalars().all() == ["other-woman"]
    notices = await delivered(store, DESK)
    assert [(n["key"], n["recipient"], n["thread"], n["card"], n["close"]) for n in notices] == [
        ("desk-she-forgot", "case:1", "901", [7001, 7002], True), ("desk-she-forgot", "case:2", "902", [7003], True)]
    assert notices[0]["card_text"] == catalog(content, "desk-card-forgotten", case=1)


async def test_unanswered_questions_are_logged_masked(store: Store, conversation: Conversation) -> None:
    her = Chat(conversation, user=HER_REF)
    await her.onboard("en")
    await her(QUESTION)
    async with store.engine.connect() as connection:
        [logged] = (await connection.execute(select(Unanswered.text))).scalars().all()
    assert logged == f"{NAME} here, qwzx blorp, [phone], [e-mail]"


async def test_after_forget_the_sqlite_files_hold_no_byte_of_her(tmp_path: Path, content: Content, config: Config) -> None:
    path = tmp_path / "wegwijs.db"
    store = await Store.open(f"sqlite+aiosqlite:///{path}")
    try:
        async with store.engine.connect() as connection:  # (this machine's SQLite may have it on by default)
            assert (await connection.execute(text("PRAGMA secure_delete"))).scalar_one() == 1
        typed = await talk_through_everything(Conversation(store, content, config), store)
        files = [file for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if file.exists()]
        assert len(files) == 3  # read while the store is open: closing it would checkpoint anyway
        for file in files:
            data = file.read_bytes()
            for needle in identifying(typed):
                assert needle.encode() not in data, (file.name, needle)
    finally:
        await store.close()


async def test_a_checkpoint_that_finds_the_database_busy_is_tried_again_later(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(repository, "CHECKPOINT_BUSY_MS", 50)
    path = tmp_path / "wegwijs.db"
    store = await Store.open(f"sqlite+aiosqlite:///{path}")
    reader = sqlite3.connect(path, isolation_level=None)
    try:
        async with store.user_session("test", HER_REF) as session:
            session.log("in", "text", QUESTION)
        reader.execute("BEGIN")  # another process is reading: the WAL cannot be emptied meanwhile
        reader.execute("SELECT count(*) FROM messages").fetchone()
        async with store.user_session("test", HER_REF) as session:
            await session.forget()
        assert await store.get_user("test", HER_REF) is None  # her /forget did not fail
        assert QUESTION.encode() in Path(f"{path}-wal").read_bytes()
        reader.execute("COMMIT")
        async with store.user_session("test", "someone-else"):
            pass  # the next unit of work empties the WAL
        assert Path(f"{path}-wal").read_bytes() == b""
    finally:
        reader.close()
        await store.close()


# The Telegram desk -----------------------------------------------------------------------------------

@pytest.fixture
async def closing_desk(tmp_path: Path, config: Config, content: Content) -> AsyncIterator[DeskBot]:
    """The desk with desk.forget_topics: close (counsellors keep their notes)."""
    async with desk_bot(tmp_path, config, content, forget_topics="close") as bot:
        yield bot


async def two_topics(desk: DeskBot) -> list[str]:
    """She asks for a person twice (the first case closed by /bot): two topics on the desk."""
    await desk.start()
    await desk.onboard("en")
    await desk.open_case()
    desk.her_text("/bot")
    await desk.sent(DESK_CHAT, 2)
    await desk.sent(HER, 5)
    desk.her_text("/human")
    await desk.sent(DESK_CHAT, 3)
    await desk.sent(HER, 6)
    return [FIRST_TOPIC, str(int(FIRST_TOPIC) + 1)]


async def test_forget_deletes_her_topics_with_every_message_and_tells_the_desk(desk: DeskBot, content: Content) -> None:
    topics = await two_topics(desk)
    desk.her_text("where can I learn Dutch, my number is 0470 12 34 56")  # relayed into her open topic
    await desk.sent(DESK_CHAT, 4)
    desk.her_text("/forget")
    await desk.sent(HER, 7)
    desk.her_press("forget:yes")
    deleted = await desk.until(lambda: len(desk.fake.succeeded("deleteForumTopic")) >= 2 and desk.fake.succeeded("deleteForumTopic"))
    assert [(d["chat_id"], d["message_thread_id"]) for d in deleted] == [(str(DESK_CHAT), topic) for topic in topics]
    notices = await desk.until(lambda: [call for call in desk.to(DESK_CHAT) if "delete all her data" in call["text"]][1:] and
                               [call for call in desk.to(DESK_CHAT) if "delete all her data" in call["text"]])
    assert [n["text"] for n in notices] == [to_html(catalog(content, "desk-she-forgot", case=case)) for case in (1, 2)]
    assert all("message_thread_id" not in n for n in notices)  # in the desk's General topic: hers are gone
    assert desk.fake.succeeded("closeForumTopic") == [] and desk.fake.succeeded("editMessageText") == []
    assert await desk.conversation.store.find_case(1) is None and await desk.conversation.store.find_case(2) is None


async def forget_while_telegram_refuses(desk: DeskBot, method: str, description: str) -> dict[str, Any]:
    """One case on the desk, Telegram refusing ``method`` once, and she confirms /forget: the topic closed."""
    await desk.start()
    await desk.onboard("en")
    await desk.open_case()
    desk.fake.fail(method, {"error_code": 400, "description": description})
    desk.her_text("/forget")
    await desk.sent(HER, 5)
    desk.her_press("forget:yes")
    [closed] = await desk.until(lambda: desk.fake.succeeded("closeForumTopic"))
    return closed


async def test_a_topic_the_bot_may_not_delete_is_closed_and_its_card_replaced(desk: DeskBot, content: Content) -> None:
    closed = await forget_while_telegram_refuses(desk, "deleteForumTopic", "Bad Request: not enough rights to delete the topic")
    assert closed["message_thread_id"] == FIRST_TOPIC
    [edited] = desk.fake.succeeded("editMessageText")
    assert edited["text"] == to_html(catalog(content, "desk-card-forgotten", case=1))


async def test_forget_closes_her_topics_and_replaces_their_cards(closing_desk: DeskBot, content: Content) -> None:
    desk = closing_desk
    await two_topics(desk)  # her first case is closed by /bot; its topic stays
    for _ in range(500):  # the card's message id is stored just after Telegram took the card
        async with desk.conversation.store.engine.connect() as connection:
            rows = (await connection.execute(select(Case.desk_thread, Case.desk_card).order_by(Case.id))).all()
        if len(rows) == 2 and all(row.desk_card for row in rows):
            break
        await asyncio.sleep(0.02)
    cards = {str(row.desk_thread): [int(m) for m in row.desk_card.split(",")] for row in rows}
    second_topic = str(int(FIRST_TOPIC) + 1)
    assert list(cards) == [FIRST_TOPIC, second_topic] and all(len(ids) == 1 for ids in cards.values())
    posted = [(call["message_thread_id"], case) for case in (1, 2) for call in desk.to(DESK_CHAT)
              if call["text"].startswith(to_html(f"**Case #{case}**"))]
    assert posted == [(FIRST_TOPIC, 1), (second_topic, 2)]

    desk.her_text("/forget")
    await desk.sent(HER, 7)
    desk.her_press("forget:yes")
    closed = await desk.until(lambda: len(desk.fake.succeeded("closeForumTopic")) >= 2 and desk.fake.succeeded("closeForumTopic"))
    assert [(c["chat_id"], c["message_thread_id"]) for c in closed] == [(str(DESK_CHAT), FIRST_TOPIC), (str(DESK_CHAT), second_topic)]
    edited = desk.fake.succeeded("editMessageText")
    assert [(e["chat_id"], int(e["message_id"])) for e in edited] == [(str(DESK_CHAT), cards[FIRST_TOPIC][0]),
                                                                      (str(DESK_CHAT), cards[second_topic][0])]
    assert [e["text"] for e in edited] == [to_html(catalog(content, "desk-card-forgotten", case=case)) for case in (1, 2)]
    assert all("reply_markup" not in e for e in edited)  # the card's buttons are gone
    notices = [call for call in desk.to(DESK_CHAT) if call["text"].startswith(to_html(catalog(content, "desk-she-forgot", case=1))[:20])]
    assert [n["message_thread_id"] for n in notices] == [FIRST_TOPIC, second_topic]
    assert await desk.conversation.store.find_case(1) is None and await desk.conversation.store.find_case(2) is None


async def test_a_topic_already_closed_or_gone_does_not_stop_the_rest(closing_desk: DeskBot, content: Content) -> None:
    desk = closing_desk
    closed = await forget_while_telegram_refuses(desk, "editMessageText", "Bad Request: message to edit not found")
    assert closed["message_thread_id"] == FIRST_TOPIC
    [*_, notice] = desk.to(DESK_CHAT)
    assert notice["text"] == to_html(catalog(content, "desk-she-forgot", case=1))
