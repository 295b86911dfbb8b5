"""Status webhooks move the outbox on: a message WhatsApp took is kept a day with its wamids, so that a later
"failed" finds it — a closed window makes a counsellor's message wait for her (template, desk told, sent when she
writes), a rate limit sends it again, and "delivered"/"read" are recorded without ever going back."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from bot.config import Config
from bot.core import Content
from bot.storage import Store
from bot.storage import cases as case_store
from bot.storage.models import Outbox, OutboxReceipt
from tests.channels.whatsapp.test_server import Served, running, served  # noqa: F401 - the fixture
from tests.channels.whatsapp.test_window import TEMPLATE, counsellor_writes, desk_items, with_a_counsellor, with_template
from tests.helpers import whatsapp as wa
from tests.helpers.fake_graph import FakeGraph


@pytest.fixture
async def invited(store: Store, content: Content, config: Config) -> AsyncIterator[Served]:
    async with FakeGraph() as graph, running(store, content, with_template(config, TEMPLATE), graph) as found:
        yield found


async def delivery_of(store: Store, wamid: str) -> str | None:
    async with store.engine.connect() as connection:
        return (await connection.execute(select(Outbox.delivery).join(OutboxReceipt, OutboxReceipt.outbox_id == Outbox.id)
                                         .where(OutboxReceipt.provider_id == wamid))).scalar_one_or_none()


async def eventually(check, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(timeout / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("not within the time")


async def test_delivered_and_read_are_recorded_on_the_message_and_never_go_back(served: Served) -> None:
    await served.says(wa.text("hello"), count=2)
    wamid = served.graph.sent_ids[0]
    assert await delivery_of(served.store, wamid) == "sent"
    assert await served.post(wa.status(wamid, "read")) == 200

    async def read() -> bool:
        return await delivery_of(served.store, wamid) == "read"

    await eventually(read)
    assert await served.post(wa.status(wamid, "delivered")) == 200  # arrived late: read stays
    assert await served.post(wa.status("wamid.not-ours", "delivered")) == 200  # nothing of ours: ignored
    await asyncio.sleep(0.5)
    assert await delivery_of(served.store, wamid) == "read"


async def test_a_counsellors_message_reported_failed_for_a_closed_window_waits_for_her_and_follows_when_she_writes(invited: Served) -> None:
    desk = await with_a_counsellor(invited)
    before = len(invited.graph.sent)
    await counsellor_writes(desk, "The creche has a place for you.", "d-1")
    await invited.graph.wait_for(before + 1)
    wamid = invited.graph.sent_ids[before]  # WhatsApp took it ...
    failed = [{"code": 131047, "title": "Re-engagement message"}]
    assert await invited.post(wa.status(wamid, "failed", errors=failed)) == 200  # ... and then could not deliver it
    await invited.graph.wait_for(before + 2)
    assert invited.graph.sent[before + 1]["type"] == "template"  # she is invited to write

    async def desk_told() -> bool:
        return [item["key"] for item in await desk_items(invited.store)][-1] == "desk-window-closed-invited"

    await eventually(desk_told)
    await asyncio.sleep(1.5)
    assert len(invited.graph.sent) == before + 2  # it waits for her, not sent again and again
    assert await invited.post(wa.text("I am here")) == 200
    sent = await invited.graph.wait_for(before + 3, timeout=10)
    assert sum("The creche has a place for you." in json.dumps(body, ensure_ascii=False) for body in sent[before:]) == 2


async def test_a_reply_reported_failed_for_a_rate_limit_is_sent_again_once(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(case_store, "RETRY_AFTER", (0.0,))
    import bot.channels.whatsapp.channel as channel

    monkeypatch.setattr(channel, "RETRY_AFTER", (0.0,))
    await served.says(wa.text("hello"), count=2)  # one reply, two messages: the greeting and the list of languages
    languages = served.graph.sent[1]
    failed = [{"code": 131056, "title": "Pair rate limit hit"}]
    assert await served.post(wa.status(served.graph.sent_ids[1], "failed", errors=failed)) == 200
    await served.graph.wait_for(3)
    await asyncio.sleep(1.0)
    assert served.graph.sent[2] == languages and len(served.graph.sent) == 3  # from the part that failed, once


async def test_a_failure_reported_before_the_message_was_marked_sent_is_still_acted_on(served: Served,
                                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(case_store, "RETRY_AFTER", (0.0,))
    import bot.channels.whatsapp.channel as channel

    monkeypatch.setattr(channel, "RETRY_AFTER", (0.0,))
    await served.says(wa.text("hello"), count=2)
    mark = served.store.outbox_sent

    async def slow_mark(items):  # type: ignore[no-untyped-def]
        await asyncio.sleep(0.8)  # a busy database: the marks are written late
        await mark(items)

    monkeypatch.setattr(served.store, "outbox_sent", slow_mark)
    before = len(served.graph.sent)
    assert await served.post(wa.list_reply("lang:en", "English")) == 200
    await served.graph.wait_for(before + 1)
    failed = [{"code": 130429, "title": "Rate limit hit"}]
    assert await served.post(wa.status(served.graph.sent_ids[before], "failed", errors=failed)) == 200  # before the mark
    privacy = served.graph.sent[before]

    async def sent_again() -> bool:
        return sum(body == privacy for body in served.graph.sent) >= 2

    await eventually(sent_again, timeout=10)  # after the menu that was waiting behind it
    await asyncio.sleep(1.0)
    assert sum(body == privacy for body in served.graph.sent) == 2  # sent again, once


async def test_forget_leaves_no_kept_message_and_no_receipt_of_hers(served: Served) -> None:
    await served.says(wa.text("hello"), count=2)
    await served.says(wa.list_reply("lang:en", "English"), count=1)

    async def hers() -> tuple[int, int]:
        async with served.store.engine.connect() as connection:
            kept = (await connection.execute(select(func.count()).select_from(Outbox).where(Outbox.recipient == wa.WA_ID))).scalar_one()
            receipts = (await connection.execute(select(func.count()).select_from(OutboxReceipt))).scalar_one()
            return kept, receipts

    kept, receipts = await hers()
    assert kept >= 2 and receipts >= 3  # kept a day for their statuses
    confirm = (await served.says(wa.text("/forget"), count=1))[-1]
    [yes] = [button["reply"] for button in confirm["interactive"]["action"]["buttons"] if "yes" in button["reply"]["id"]]
    goodbye = await served.says(wa.button_reply(yes["id"], yes["title"]), count=1)
    assert goodbye
    await asyncio.sleep(0.5)
    assert await hers() == (0, 0)  # nor of the goodbye sent after it
