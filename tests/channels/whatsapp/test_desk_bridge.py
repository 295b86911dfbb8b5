"""A woman on WhatsApp and a counsellor on the Telegram desk, through one `wegwijs serve`: the case card in the
desk's forum, the counsellor takes it, text both ways, her photo onto the desk and the counsellor's photo to her.
Both fakes run: the Graph API (tests/helpers/fake_graph.py) and the Bot API (tests/helpers/fake_telegram.py); the
Telegram updates are posted to serve's /telegram webhook, as Telegram does."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from bot.channels.server import Server, serve
from bot.config import Config, Environment
from bot.core import Content, Conversation
from bot.storage import Store
from tests.channels.telegram.test_desk import AMAL, DESK_CHAT, FIRST_TOPIC, counsellor, desk_chat, desk_config, load
from tests.channels.whatsapp.test_server import free_port
from tests.helpers import whatsapp as wa
from tests.helpers.fake_graph import FakeGraph
from tests.helpers.fake_telegram import BOT, TOKEN, FakeTelegram

SECRET = "test-telegram-secret"
PHOTO = b"\xff\xd8\xff\xe0 a small jpeg of a school letter"
COUNSELLOR_PHOTO_ID = "AgADAgAD36sxG-counsellor-photo"


@dataclasses.dataclass
class Bridge:
    url: str
    graph: FakeGraph
    telegram: FakeTelegram
    http: aiohttp.ClientSession
    ids: Any = dataclasses.field(default_factory=lambda: itertools.count(1))

    async def her(self, body: dict[str, Any]) -> None:
        raw = wa.encode(body)
        async with self.http.post(f"{self.url}/whatsapp", data=raw, headers=wa.signed_headers(raw)) as response:
            assert response.status == 200

    async def update(self, **update: Any) -> None:
        """A Telegram update from the desk, posted to the webhook with its secret."""
        body = {"update_id": next(self.ids), **update}
        async with self.http.post(f"{self.url}/telegram", json=body, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as response:
            assert response.status == 200

    def in_topic(self, message: dict[str, Any]) -> dict[str, Any]:
        creation = load("message_forum_topic_created.json")
        creation.update(chat=desk_chat(), message_id=int(FIRST_TOPIC), message_thread_id=int(FIRST_TOPIC), **{"from": BOT})
        message.pop("reply_to_message", None)
        message.update(chat=desk_chat(), message_id=next(self.ids) + 1000, message_thread_id=int(FIRST_TOPIC), is_topic_message=True,
                       reply_to_message=creation, **{"from": counsellor(AMAL)})
        return message

    async def counsellor_text(self, text: str) -> None:
        message = self.in_topic(load("message_forum_topic_text.json"))
        message["text"] = text
        await self.update(message=message)

    async def counsellor_photo(self) -> None:
        message = self.in_topic(load("message_photo_private.json"))
        message["photo"][-1]["file_id"] = COUNSELLOR_PHOTO_ID
        message.pop("caption", None)
        await self.update(message=message)

    async def counsellor_media(self, field: str, media: dict[str, Any]) -> None:
        """A voice, audio or video note of the counsellor's (Telegram's fields for it, e.g. file_id, duration)."""
        message = self.in_topic(load("message_forum_topic_text.json"))
        message.pop("text", None)
        message.pop("entities", None)
        message[field] = media
        await self.update(message=message)

    async def counsellor_press(self, data: str) -> None:
        query = load("update_callback_query_inline_keyboard.json")["callback_query"]
        query.update(data=data, id=f"desk-{next(self.ids)}", **{"from": counsellor(AMAL)})
        query["message"].update(chat=desk_chat(), message_thread_id=int(FIRST_TOPIC), is_topic_message=True, **{"from": BOT})
        await self.update(callback_query=query)

    def desk(self, method: str = "sendMessage") -> list[dict[str, Any]]:
        return [call for call in self.telegram.succeeded(method) if call.get("chat_id") == str(DESK_CHAT)]

    async def until(self, check: Callable[[], Any], timeout: float = 15.0) -> Any:
        for _ in range(int(timeout / 0.05)):
            if found := check():
                return found
            await asyncio.sleep(0.05)
        raise AssertionError(f"timed out; WhatsApp got {self.graph.texts()}; Telegram got "
                             f"{[(name, str(params.get('text', ''))[:40]) for name, params in self.telegram.calls]}")

    def to_her(self) -> str:
        return json.dumps(self.graph.sent, ensure_ascii=False)


@pytest.fixture
async def bridge(store: Store, content: Content, config: Config) -> AsyncIterator[Bridge]:
    with FakeTelegram() as telegram:
        async with FakeGraph() as graph, aiohttp.ClientSession() as http:
            env = Environment(telegram_token=TOKEN, telegram_api_url=telegram.api_url, telegram_webhook_secret=SECRET,
                              whatsapp_token=wa.TOKEN, whatsapp_app_secret=wa.APP_SECRET, whatsapp_verify_token=wa.VERIFY_TOKEN,
                              whatsapp_phone_number_id=wa.PHONE_ID, whatsapp_api_url=graph.base_url)
            settings = desk_config(config, env)
            conversation = Conversation(store, content, settings)
            stop, ready, port = asyncio.Event(), asyncio.Event(), free_port()
            task = asyncio.create_task(serve(conversation, settings, port=port, stop=stop, ready=ready,
                                             server=Server(conversation, settings)))
            await asyncio.wait_for(ready.wait(), 30)
            try:
                yield Bridge(f"http://127.0.0.1:{port}", graph, telegram, http)
            finally:
                stop.set()
                await asyncio.wait_for(task, 30)


async def test_a_woman_on_whatsapp_and_a_counsellor_on_the_telegram_desk_talk_and_share_photos(bridge: Bridge) -> None:
    await bridge.her(wa.text("hello"))
    await bridge.graph.wait_for(2)
    await bridge.her(wa.list_reply("lang:en", "English"))
    await bridge.graph.wait_for(3)
    await bridge.her(wa.text("/human"))
    [card] = await bridge.until(lambda: [c for c in bridge.desk() if "#1" in c.get("text", "")])
    assert wa.WA_ID not in json.dumps(bridge.telegram.calls)  # her number never reaches the desk
    assert "WhatsApp" in card["text"]
    await bridge.counsellor_press("take:1")
    await bridge.until(lambda: "Amal" in bridge.to_her())
    await bridge.counsellor_text("Hello, I am Amal. How can I help?")
    await bridge.until(lambda: "How can I help?" in bridge.to_her())
    await bridge.her(wa.text("I got a letter from the school"))
    await bridge.until(lambda: any("letter from the school" in c.get("text", "") for c in bridge.desk()))
    bridge.graph.add_media("media-her-photo", PHOTO, "image/jpeg")
    await bridge.her(wa.image("media-her-photo"))
    [photo] = await bridge.until(lambda: bridge.desk("sendPhoto"))
    assert photo["photo"] == PHOTO and photo["message_thread_id"] == FIRST_TOPIC
    bridge.telegram.add_file(COUNSELLOR_PHOTO_ID, b"\x89PNG the counsellor's map")
    await bridge.counsellor_photo()
    [image] = await bridge.until(lambda: [m for m in bridge.graph.sent if m.get("type") == "image"])
    uploaded = bridge.graph.uploads[image["image"]["id"]]
    assert uploaded.data == b"\x89PNG the counsellor's map" and "Amal" in image["image"]["caption"]


async def test_the_telegram_webhook_of_serve_refuses_a_request_without_its_secret(bridge: Bridge) -> None:
    body = {"update_id": 999, "message": {**load("message_forum_topic_text.json"), "chat": desk_chat()}}
    for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
        async with bridge.http.post(f"{bridge.url}/telegram", json=body, headers=headers) as response:
            assert response.status == 403
    async with bridge.http.get(f"{bridge.url}/healthz") as response:
        assert (await response.json())["telegram"] == "ok"


MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom a round video of the counsellor"
MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00 the counsellor's recorded explanation"


async def test_a_counsellors_video_note_reaches_her_as_a_video_and_an_mp3_as_audio(bridge: Bridge) -> None:
    await bridge.her(wa.text("hello"))
    await bridge.graph.wait_for(2)
    await bridge.her(wa.list_reply("lang:en", "English"))
    await bridge.graph.wait_for(3)
    await bridge.her(wa.text("/human"))
    await bridge.until(lambda: [c for c in bridge.desk() if "#1" in c.get("text", "")])
    await bridge.counsellor_press("take:1")
    await bridge.until(lambda: "Amal" in bridge.to_her())
    bridge.telegram.add_file("DQACAgQAAx-video-note", MP4)
    await bridge.counsellor_media("video_note", {"file_id": "DQACAgQAAx-video-note", "file_unique_id": "vn1", "length": 240, "duration": 4})
    [video] = await bridge.until(lambda: [m for m in bridge.graph.sent if m.get("type") == "video"])
    uploaded = bridge.graph.uploads[video["video"]["id"]]
    assert uploaded.data == MP4 and uploaded.mime_type == "video/mp4" and "Amal" in video["video"]["caption"]
    bridge.telegram.add_file("CQACAgQAAx-audio", MP3)
    await bridge.counsellor_media("audio", {"file_id": "CQACAgQAAx-audio", "file_unique_id": "au1", "duration": 30})
    [audio] = await bridge.until(lambda: [m for m in bridge.graph.sent if m.get("type") == "audio"])
    assert bridge.graph.uploads[audio["audio"]["id"]].mime_type == "audio/mpeg"
