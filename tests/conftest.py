"""Fixtures: the repository's real config (desk open around the clock) and content, and a fresh database per test on SQLite
and (when WEGWIJS_TEST_PG_URL is set) PostgreSQL."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.config import WEEKDAYS, Config, load_config, normalise_database_url
from bot.core.content import Content
from bot.core.conversation import Conversation
from bot.messages import Incoming, Outgoing
from bot.storage import Store

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("WEGWIJS_TEST_PG_URL")
REQUIRE_PG = os.environ.get("WEGWIJS_REQUIRE_PG") == "1"


def pytest_configure(config: pytest.Config) -> None:
    if REQUIRE_PG and not PG_URL:
        raise pytest.UsageError("WEGWIJS_REQUIRE_PG=1 but WEGWIJS_TEST_PG_URL is not set")


ALWAYS_OPEN = {day: ["00:00-24:00"] for day in WEEKDAYS}


def always_open(config: Config) -> Config:
    """The repository's config with the desk open around the clock, so that what she is told does
    not depend on the hour the tests run (tests of office hours set their own)."""
    hours = config.settings.desk.office_hours.model_copy(update={"weekly": ALWAYS_OPEN})
    desk = config.settings.desk.model_copy(update={"office_hours": hours})
    return dataclasses.replace(config, settings=config.settings.model_copy(update={"desk": desk}))


def always_open_file(folder: Path) -> Path:
    """The same as a config.yaml for `wegwijs` processes (content paths point at the repository)."""
    raw = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    raw["desk"]["office_hours"]["weekly"] = ALWAYS_OPEN
    raw["paths"] = {name: str(ROOT / value) for name, value in raw["paths"].items()}
    raw["database_file"] = str(folder / "wegwijs.db")
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def config() -> Config:
    return always_open(load_config(ROOT / "config.yaml", env={}))


@pytest.fixture(scope="session")
def content(config: Config) -> Content:
    return Content.load(config)


@pytest.fixture(scope="session", autouse=True)
def embedding_cache(content: Content) -> None:
    """Load content once before any test, so that on a fresh clone the embedding cache is written
    before the tests that start `wegwijs` processes (each would otherwise embed everything)."""


async def reset_postgres(url: str) -> None:
    engine = create_async_engine(normalise_database_url(url))
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


def _backends() -> list:
    postgres = pytest.param("postgres", marks=pytest.mark.postgres)
    return ["sqlite", postgres]


@pytest.fixture(params=_backends())
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'wegwijs.db'}"
    if not PG_URL:
        pytest.skip("PostgreSQL tests skipped: set WEGWIJS_TEST_PG_URL (`.ci/run` does) to run them")
    await reset_postgres(PG_URL)
    return normalise_database_url(PG_URL)


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[Store]:
    store = await Store.open(db_url)
    yield store
    await store.close()


@pytest.fixture
def conversation(store: Store, content: Content, config: Config) -> Conversation:
    return Conversation(store, content, config)


class Chat:
    """Talk to the bot as one woman: ``await chat("text")`` or ``await chat.press("payload")``."""

    def __init__(self, conversation: Conversation, user: str = "amina", channel: str = "test") -> None:
        self.conversation = conversation
        self.user = user
        self.channel = channel
        self._count = 0

    async def __call__(self, text: str, **kwargs: object) -> list[Outgoing]:
        return await self.send(text=text, **kwargs)

    async def press(self, payload: str) -> list[Outgoing]:
        return await self.send(payload=payload)

    async def send(self, **kwargs: object) -> list[Outgoing]:
        from tests.helpers import make_message

        self._count += 1
        kwargs.setdefault("message_id", f"{self.user}-{self._count}")
        kwargs.setdefault("channel", self.channel)
        message: Incoming = make_message(user=self.user, **kwargs)  # type: ignore[arg-type]
        return await self.conversation.handle(message)

    async def onboard(self, language: str = "en") -> list[Outgoing]:
        await self("hello")
        return await self.press(f"lang:{language}")


@pytest.fixture
def chat(conversation: Conversation) -> Chat:
    return Chat(conversation)
