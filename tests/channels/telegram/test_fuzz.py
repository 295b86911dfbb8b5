"""Hostile and broken webhook requests (hypothesis): update shapes built from the recorded payloads
of tests/data/telegram with fields replaced by wrong types, odd strings and deep nesting, posted to
the real webhook server of a running channel. No request may get a 5xx, no exception may reach the
library's error handler, nothing logged may contain her text, and the bot still answers afterwards."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import json
import logging
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.channels.telegram.run import run
from bot.config import Environment
from bot.core.conversation import Conversation
from bot.storage import Store
from tests.helpers.fake_telegram import TOKEN, FakeTelegram

DATA = Path(__file__).resolve().parents[2] / "data" / "telegram"
SECRET = "fuzz-secret"
MARK = "Zq9Fuzzmark"  # in every fuzzed text: must never appear in a log line
RECORDED = [json.loads(path.read_text(encoding="utf-8")) for path in sorted(DATA.glob("update_*.json"))
            if not path.name.endswith("raw_body.json")]


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclasses.dataclass
class Running:
    port: int
    fake: FakeTelegram
    loop: asyncio.AbstractEventLoop
    errors: list[BaseException]
    log: Captured

    def post(self, body: bytes, secret: str | None = SECRET, headers: dict[str, str] | None = None) -> int:
        sent = {"Content-Type": "application/json", **({"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}), **(headers or {})}
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/hook", body, sent)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory, config, content) -> Iterator[Running]:
    """The Telegram channel on a webhook, in its own thread and event loop, for the whole module."""
    folder = tmp_path_factory.mktemp("fuzz")
    port = _free_port()
    errors: list[BaseException] = []
    captured = Captured()
    logging.getLogger().addHandler(captured)
    with FakeTelegram() as fake:
        env = Environment(telegram_token=TOKEN, telegram_api_url=fake.api_url, telegram_webhook_secret=SECRET)
        configured = dataclasses.replace(config, env=env)
        loop = asyncio.new_event_loop()
        stop = asyncio.Event()
        started = threading.Event()

        async def serve() -> None:
            store = await Store.open(f"sqlite+aiosqlite:///{folder / 'fuzz.db'}")
            conversation = Conversation(store, content, configured)
            task = asyncio.create_task(run(conversation, configured, webhook="https://example.org/hook", port=port, stop=stop))
            while not fake.called("setWebhook"):
                await asyncio.sleep(0.02)
            started.set()
            try:
                channel = await task
                del channel
            finally:
                await store.close()

        def error_handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
            errors.append(context.get("exception") or RuntimeError(context.get("message")))

        def thread() -> None:
            asyncio.set_event_loop(loop)
            loop.set_exception_handler(error_handler)
            loop.run_until_complete(serve())

        worker = threading.Thread(target=thread, daemon=True)
        worker.start()
        assert started.wait(120), "the bot did not start"
        try:
            yield Running(port, fake, loop, errors, captured)
        finally:
            loop.call_soon_threadsafe(stop.set)
            worker.join(60)
            loop.close()
            logging.getLogger().removeHandler(captured)


# Strategies ------------------------------------------------------------------------------------

odd_text = st.one_of(
    st.text(max_size=50).map(lambda text: MARK + text),
    st.just(MARK + "\ud800"),                   # a lone surrogate (JSON allows "\ud800")
    st.just(MARK + "x" * 5000),
    st.just(MARK + "‮‏​"),       # bidi and zero-width
)
scalar = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=False), odd_text)
anything = st.recursive(scalar, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                        max_leaves=8)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += _paths(inner, (*prefix, index))
    return found


@st.composite
def fuzzed_update(draw: st.DrawFn) -> dict[str, Any]:
    """A recorded update with one to four fields replaced (or removed), and an update id."""
    update = copy.deepcopy(draw(st.sampled_from(RECORDED)))
    paths = _paths(update)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(paths))
        holder = update
        try:
            for key in path[:-1]:
                holder = holder[key]
            if draw(st.booleans()) and isinstance(holder, dict):
                holder.pop(path[-1], None)
            else:
                holder[path[-1]] = draw(anything)
        except (KeyError, IndexError, TypeError):
            continue
    if not isinstance(update.get("update_id"), int) or draw(st.integers(0, 9)) > 0:
        update["update_id"] = draw(st.integers(1, 2**31))
    return update


# Properties ------------------------------------------------------------------------------------

def _problems(running: Running, since: int) -> list[str]:
    found = []
    for record in running.log.records[since:]:
        message = record.getMessage()
        if MARK in message or (record.exc_text and MARK in record.exc_text):
            found.append(f"her text in a log line: {record.name} {record.levelname}")
        if record.levelno >= logging.ERROR:
            found.append(f"{record.levelname} {record.name}: {message[:200]}")
    return found


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(update=fuzzed_update())
def test_no_fuzzed_update_gets_a_5xx_raises_or_logs_her_text(running: Running, update: dict[str, Any]) -> None:
    since = len(running.log.records)
    status = running.post(json.dumps(update).encode())
    assert status == 200, status
    time.sleep(0.01)
    assert not running.errors, running.errors
    assert not _problems(running, since)


@pytest.mark.parametrize("body", [
    b"[" * 100_000 + b"]" * 100_000,                        # nested too deeply for json
    b'{"update_id": 5, "message": ' + b'{"a":' * 5000 + b"1" + b"}" * 5000 + b"}",
    b'{"update_id": 6, "message": {"text": "\xff\xfe caf\xe9"}}',  # not UTF-8
    b"", b"null", b"[]", b'"text"', b"{}", b'{"update_id": "7"}', b'{"update_id": true}', b"{not json",
])
def test_a_body_that_is_no_update_is_acknowledged_and_dropped(running: Running, body: bytes) -> None:
    since = len(running.log.records)
    assert running.post(body) == 200
    assert not _problems(running, since)


def test_wrong_or_missing_secret_and_oversized_bodies_are_refused_before_reading(running: Running) -> None:
    assert running.post(b"{}", secret="wrong") == 403
    assert running.post(b"{}", secret=None) == 403
    assert running.post(b"{}", secret="wr\u00f6ng".encode().decode("latin-1")) == 403
    assert running.post(b'{"update_id": 1, "x": "' + b"a" * (1 << 20) + b'"}') == 413


def test_after_the_fuzz_a_woman_still_gets_an_answer(running: Running) -> None:
    before = len(running.fake.called("sendMessage"))
    update = copy.deepcopy(next(u for u in RECORDED if "message" in u and "text" in u["message"] and u["message"]["chat"]["type"] == "private"))
    update["update_id"] = 2**31 + 5
    update["message"]["message_id"] = 999_999
    update["message"]["chat"]["id"] = update["message"]["from"]["id"] = 31337
    update["message"]["text"] = "hello"
    assert running.post(json.dumps(update).encode()) == 200
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if any(call["chat_id"] == "31337" for call in running.fake.called("sendMessage")[before:]):
            return
        time.sleep(0.05)
    raise AssertionError("no answer after the fuzz")


def test_many_idle_and_slow_connections_do_not_keep_a_real_update_out(running: Running) -> None:
    idle = []
    try:
        for _ in range(200):  # connections that never send a byte, and some that stop mid-body
            sock = socket.create_connection(("127.0.0.1", running.port))
            idle.append(sock)
        for sock in idle[:20]:
            sock.sendall(b"POST /hook HTTP/1.1\r\nHost: x\r\nX-Telegram-Bot-Api-Secret-Token: " + SECRET.encode()
                         + b"\r\nContent-Length: 1000\r\n\r\n{\"update_id\":")
        update = copy.deepcopy(next(u for u in RECORDED if "message" in u and "text" in u["message"]))
        update["update_id"] = 2**31 + 9
        assert running.post(json.dumps(update).encode()) == 200
    finally:
        for sock in idle:
            sock.close()
