"""The action server of `wegwijs rasa-actions` on a free port, with a fake of Rasa's HTTP API (tests/helpers/fake_rasa.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.channels.rasa import running
from bot.config import Config, Environment
from bot.core import Content, Conversation
from bot.storage import Store
from tests.helpers.fake_rasa import FakeRasa
from tests.helpers.rasa import Server


@pytest.fixture
async def server(store: Store, content: Content, config: Config) -> AsyncIterator[Server]:
    async with FakeRasa() as rasa:
        rasa_config = dataclasses.replace(config, env=Environment(rasa_url=rasa.url))
        conversation = Conversation(store, content, rasa_config)
        async with running(conversation, rasa_config, port=0) as action_server, aiohttp.ClientSession() as http:
            url = f"http://127.0.0.1:{action_server.port}"
            rasa.action_server = f"{url}/webhook"
            yield Server(url, http, store, rasa, conversation)
