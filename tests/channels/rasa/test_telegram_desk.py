"""`wegwijs rasa-actions` with TELEGRAM_TOKEN: the Telegram desk runs in the same process. A woman on a Rasa
assistant asks for a person; the case card appears in the desk's forum (the Bot API fake); the counsellor takes
it and writes; her words reach the topic through the relay action and the counsellor's reach her through Rasa's
HTTP API (its fake), which runs the relay action on the action server."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

from bot.channels.rasa import serve
from bot.config import Config, Environment
from bot.core import Content, Conversation
from bot.storage import Store
from tests.channels.telegram.test_desk import AMAL, COMMAND_MENUS, DESK_CHAT, FIRST_TOPIC, DeskBot, desk_config
from tests.channels.whatsapp.test_server import free_port
from tests.helpers.fake_rasa import FakeRasa
from tests.helpers.fake_telegram import TOKEN, FakeTelegram
from tests.helpers.rasa import DOMAIN, call, slots


async def test_rasa_woman_and_telegram_counsellor_through_one_process(store: Store, content: Content, config: Config) -> None:
    port = free_port()
    with FakeTelegram() as fake:
        async with FakeRasa(f"http://127.0.0.1:{port}/webhook") as rasa, aiohttp.ClientSession() as http:
            configured = desk_config(config, Environment(telegram_token=TOKEN, telegram_api_url=fake.api_url, rasa_url=rasa.url))
            conversation = Conversation(store, content, configured)
            desk = DeskBot(fake, configured, conversation)
            stop = asyncio.Event()
            task = asyncio.create_task(serve(conversation, configured, listen="127.0.0.1", port=port, stop=stop))
            try:
                await asyncio.to_thread(fake.wait_for, "setMyCommands", COMMAND_MENUS)

                async def action(name: str, text: str, **options: Any) -> dict[str, Any]:
                    async with http.post(f"http://127.0.0.1:{port}/webhook", json=call(name, text, sender="farah", **options)) as response:
                        assert response.status == 200
                        return await response.json()

                earlier = [{"event": "user", "text": "my child has no place in a creche", "message_id": "e1"}]
                body = await action("action_wegwijs_handoff", "can i talk to someone", events=earlier)
                assert slots(body)["wegwijs_handoff"] is True
                [card] = await desk.sent(DESK_CHAT, 1)
                assert "my child has no place in a creche" in card["text"] and "farah" not in json.dumps(card)

                desk.counsellor_press(AMAL, "take:1", FIRST_TOPIC)
                await desk.until(lambda: any("Amal" in (m.get("text") or "") for m in rasa.uttered.get("farah", [])))
                desk.counsellor_text(AMAL, "Hello Farah, which town do you live in?", FIRST_TOPIC)
                await desk.until(lambda: any("which town" in (m.get("text") or "") for m in rasa.uttered.get("farah", [])))
                assert all(call["params"].get("output_channel") == "latest" for call in rasa.executed)

                body = await action("action_wegwijs_relay", "in Gent", slots={"wegwijs_handoff": True}, domain=DOMAIN)
                assert body["responses"] == []
                await desk.until(lambda: any("in Gent" in (params.get("text") or "") for params in desk.to(DESK_CHAT)[1:]))
            finally:
                stop.set()
                await asyncio.wait_for(task, 30)
