"""The 24-hour customer-service window on WhatsApp, with a woman on WhatsApp and a counsellor at the desk: inside the
window the counsellor's message reaches her; after it, the desk is told at once, the approved template invites her to
write back, and the counsellor's message follows when she does. Her last message is moved back in the database."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.config import Config, WhatsApp
from bot.core import Content
from bot.desk import Desk, DeskMessage
from bot.messages import Kind
from bot.storage import MessageLog, Store, User
from bot.storage.models import Outbox
from tests.channels.whatsapp.test_server import Served, running
from tests.helpers import whatsapp as wa
from tests.helpers.fake_graph import FakeGraph

TEMPLATE = "wegwijs_write_again"


def with_template(config: Config, template: str | None) -> Config:
    settings = config.settings.model_copy(update={"whatsapp": WhatsApp(reengage_template=template, template_languages={"en": "en_US"})})
    return dataclasses.replace(config, settings=settings)


async def desk_items(store: Store) -> list[dict]:
    async with store.engine.connect() as connection:
        rows = await connection.execute(select(Outbox.body).where(Outbox.channel == "desk").order_by(Outbox.id))
        return [json.loads(body) for (body,) in rows]


async def her_last_message_ago(store: Store, hours: float) -> None:
    async with store.engine.begin() as connection:
        user_id = (await connection.execute(select(User.id).where(User.channel == "whatsapp", User.channel_ref == wa.WA_ID))).scalar_one()
        await connection.execute(update(MessageLog).where(MessageLog.user_id == user_id)
                                 .values(created_at=datetime.now(UTC) - timedelta(hours=hours)))


async def with_a_counsellor(served: Served) -> Desk:
    """She chose English and asked for a person; Amal took her case."""
    await served.says(wa.text("hello"), count=2)
    await served.says(wa.list_reply("lang:en", "English"), count=1)
    await served.says(wa.text("/human"), count=1)
    desk = Desk(served.server.conversation)
    await desk.handle(DeskMessage("Amal", "d-take", 1, Kind.BUTTON, payload="take:1"))
    await served.graph.wait_for(len(served.graph.sent) + 1)  # "Amal is here"
    return desk


async def counsellor_writes(desk: Desk, text: str, message_id: str) -> None:
    await desk.handle(DeskMessage("Amal", message_id, 1, Kind.TEXT, text))


@pytest.fixture
async def invited(store: Store, content: Content, config: Config) -> AsyncIterator[Served]:
    async with FakeGraph() as graph, running(store, content, with_template(config, TEMPLATE), graph) as found:
        yield found


async def test_the_case_card_says_until_when_her_window_is_open(invited: Served) -> None:
    await with_a_counsellor(invited)
    [card] = [item for item in await desk_items(invited.store) if item.get("key") == "desk-card"]
    assert "WhatsApp" in card["text"] and "when she writes again" in card["text"]


async def test_inside_the_window_the_counsellors_message_reaches_her(invited: Served) -> None:
    desk = await with_a_counsellor(invited)
    before = len(invited.graph.sent)
    await counsellor_writes(desk, "Hello, I can help you with the creche.", "d-1")
    sent = await invited.graph.wait_for(before + 1)
    assert "Hello, I can help you with the creche." in json.dumps(sent[before:], ensure_ascii=False)
    assert not any(message.get("type") == "template" for message in sent)


async def test_after_the_window_the_desk_is_told_she_is_invited_and_the_message_follows_when_she_writes(invited: Served) -> None:
    desk = await with_a_counsellor(invited)
    await her_last_message_ago(invited.store, 25)
    before = len(invited.graph.sent)
    await counsellor_writes(desk, "Sorry for the wait, here is the address.", "d-2")
    await invited.graph.wait_for(before + 1)
    invite = invited.graph.sent[before]
    assert invite["type"] == "template" and invite["template"] == {"name": TEMPLATE, "language": {"code": "en_US"}}
    await asyncio.sleep(1.5)  # the outbox does not try again and again: she gets one invitation, not the text
    assert len(invited.graph.sent) == before + 1
    assert [item["key"] for item in await desk_items(invited.store)][-1] == "desk-window-closed-invited"
    she_writes = len(invited.graph.sent)
    assert await invited.post(wa.text("hello, I am here")) == 200
    sent = await invited.graph.wait_for(she_writes + 1, timeout=10)
    assert "Sorry for the wait, here is the address." in json.dumps(sent[she_writes:], ensure_ascii=False)
    await asyncio.sleep(0.5)
    assert sum(message.get("type") == "template" for message in invited.graph.sent) == 1


async def test_without_a_template_the_desk_is_told_to_wait_and_nothing_is_sent(store: Store, content: Content, config: Config) -> None:
    async with FakeGraph() as graph, running(store, content, with_template(config, None), graph) as served:
        desk = await with_a_counsellor(served)
        await her_last_message_ago(served.store, 30)
        before = len(served.graph.sent)
        await counsellor_writes(desk, "Are you still there?", "d-3")
        for _ in range(50):
            keys = [item["key"] for item in await desk_items(served.store)]
            if keys[-1] == "desk-window-closed":
                break
            await asyncio.sleep(0.1)
        assert keys[-1] == "desk-window-closed"
        await asyncio.sleep(1.0)
        assert len(served.graph.sent) == before


async def test_a_window_error_from_whatsapp_defers_the_message_like_a_closed_window(invited: Served) -> None:
    desk = await with_a_counsellor(invited)
    invited.graph.fail_next(status=400, code=131047, to=wa.WA_ID)  # WhatsApp's clock says closed, ours did not yet
    before = len(invited.graph.sent)
    await counsellor_writes(desk, "One more thing.", "d-4")
    await invited.graph.wait_for(before + 1)  # the invitation
    assert invited.graph.sent[-1]["type"] == "template"
    assert await invited.post(wa.text("yes?")) == 200
    sent = await invited.graph.wait_for(before + 2, timeout=10)
    assert "One more thing." in json.dumps(sent[before:], ensure_ascii=False)
