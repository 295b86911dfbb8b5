"""Crash a real `wegwijs telegram --webhook` process with SIGKILL while women write, restart it, and
check that nothing was lost or sent twice — shared by tests/channels/telegram/test_crash.py and bench/crash_bench.py.

Telegram's side of a webhook is played here: one sender thread per group of chats POSTs each
update (in order per chat) until the bot answers 200, retrying after refused connections and
errors, as Telegram does. Replies are what the fake Bot API recorded."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.channels.telegram.render import split, to_html
from tests.helpers.fake_telegram import TOKEN, FakeTelegram

ROOT = Path(__file__).resolve().parents[2]
SECRET = "crash-test-secret"
HOOK = "/tg/hook"
SCRIPT = ["hello", "lang:en", "/help", "how can I find a creche for my baby", "/menu", "where can I learn Dutch",
          "thank you", "/language", "lang:en", "what is the agentschap integratie"]


def text_update(update_id: int, chat_id: int, text: str, message_id: int) -> dict[str, Any]:
    message: dict[str, Any] = {"message_id": message_id, "date": 1733000000, "text": text,
                               "chat": {"id": chat_id, "type": "private", "first_name": "A"},
                               "from": {"id": chat_id, "is_bot": False, "first_name": "A", "language_code": "en"}}
    if text.startswith("/"):
        message["entities"] = [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}]
    return {"update_id": update_id, "message": message}


def press_update(update_id: int, chat_id: int, data: str) -> dict[str, Any]:
    person = {"id": chat_id, "is_bot": False, "first_name": "A", "language_code": "en"}
    return {"update_id": update_id, "callback_query": {
        "id": f"cb-{update_id}", "from": person, "chat_instance": "1", "data": data,
        "message": {"message_id": 1, "date": 1733000000, "chat": {"id": chat_id, "type": "private", "first_name": "A"},
                    "from": {"id": 1000, "is_bot": True, "first_name": "Wegwijs"}, "text": "…"}}}


def script(women: int, messages: int) -> list[dict[str, Any]]:
    """``messages`` updates for each woman, interleaved as if they wrote at the same time."""
    updates = []
    for step in range(messages):
        for woman in range(women):
            chat = 7_000_000 + woman
            said = SCRIPT[step % len(SCRIPT)]
            update_id = len(updates) + 1
            if said.startswith("lang:"):
                updates.append(press_update(update_id, chat, said))
            else:
                updates.append(text_update(update_id, chat, said, 10 + step))
    return updates


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Sender:
    """Telegram delivering a webhook: each update until it got a 200."""

    port: int
    updates: list[dict[str, Any]]
    threads: int = 8
    acknowledged: int = 0
    refused: int = 0      # answers other than 200 (e.g. 503 while the database is down)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> list[threading.Thread]:
        groups: list[list[dict[str, Any]]] = [[] for _ in range(self.threads)]
        for update in self.updates:
            groups[chat_id(update) % self.threads].append(update)
        workers = [threading.Thread(target=self._deliver, args=(group,), daemon=True) for group in groups]
        for worker in workers:
            worker.start()
        return workers

    def _deliver(self, group: list[dict[str, Any]]) -> None:
        for update in group:
            body = json.dumps(update).encode()
            while True:
                request = urllib.request.Request(f"http://127.0.0.1:{self.port}{HOOK}", body,
                                                 {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET})
                try:
                    with urllib.request.urlopen(request, timeout=10) as response:
                        if response.status == 200:
                            break
                except urllib.error.HTTPError:
                    with self.lock:
                        self.refused += 1
                except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                    pass
                time.sleep(0.05)
            with self.lock:
                self.acknowledged += 1


def chat_id(update: dict[str, Any]) -> int:
    part = update.get("message") or update["callback_query"]["message"]
    return int(part["chat"]["id"])


class BotProcess:
    """`python -m bot telegram --webhook …` (or long polling: ``webhook=False``) against the fake, on
    SQLite (--db) or PostgreSQL."""

    def __init__(self, fake: FakeTelegram, port: int, db: str, config: Path, log: Path, webhook: bool = True) -> None:
        self.fake, self.port, self.db, self.config, self.log, self.webhook = fake, port, db, config, log, webhook
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        env = {**os.environ, "TELEGRAM_TOKEN": TOKEN, "TELEGRAM_API_URL": self.fake.api_url, "TELEGRAM_WEBHOOK_SECRET": SECRET}
        if "://" in self.db:  # PostgreSQL
            env["DATABASE_URL"], database = self.db, []
        else:
            env.pop("DATABASE_URL", None)
            database = ["--db", self.db]
        ready = "setWebhook" if self.webhook else "getUpdates"  # the webhook is set, or the first page is asked for
        before = len(self.fake.called(ready))
        mode = ["--webhook", f"https://example.org{HOOK}", "--port", str(self.port)] if self.webhook else []
        with self.log.open("ab") as log:
            verbose = ["-v"] if os.environ.get("WEGWIJS_CRASH_VERBOSE") else []
            self.process = subprocess.Popen([sys.executable, "-m", "bot", *verbose, "--config", str(self.config), "telegram", *database, *mode],
                                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.starts += 1
        deadline = time.monotonic() + 180
        while len(self.fake.called(ready)) <= before:
            if self.process.poll() is not None:
                raise AssertionError(f"the bot exited with {self.process.returncode}: {self.log.read_text(errors='replace')[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError("the bot did not start in 180 s")
            time.sleep(0.05)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def __enter__(self) -> BotProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        """Never leave a bot running after a failed test (it would go on using the database)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(60)


@dataclass
class Outcome:
    updates: int
    stored: int           # distinct updates in the message log ("in" rows)
    handled_twice: int    # "in" rows beyond one per update
    replies: int          # replies the bot stored ("out" rows)
    sent: int             # sendMessage calls Telegram took for them
    lost: int             # stored replies never sent
    duplicated: int       # messages sent again (the documented window: sent, then killed before marked)
    extra: int            # messages sent that match no stored reply
    out_of_order: int     # chats whose messages arrived in another order than stored
    pending_inbox: int
    pending_outbox: int
    notes: list[str] = field(default_factory=list)  # what was lost, for the assertion message

    def lines(self) -> str:
        return ", ".join(f"{name} {value}" for name, value in self.__dict__.items())


def outcome(updates: list[dict[str, Any]], fake: FakeTelegram, rows: list[tuple[str, str, str, str]], pending_inbox: int,
            pending_outbox: int) -> Outcome:
    """``rows``: (chat, direction, kind, text) of the message log in order of id."""
    expected_in: dict[str, int] = {}
    for update in updates:
        expected_in[str(chat_id(update))] = expected_in.get(str(chat_id(update)), 0) + 1
    stored_in: dict[str, int] = {}
    out: dict[str, list[list[str]]] = {}
    for chat, direction, _kind, text in rows:
        if direction == "in":
            stored_in[chat] = stored_in.get(chat, 0) + 1
        else:
            out.setdefault(chat, []).append([to_html(part) for part in split(text)] if text else [])
    sent: dict[str, list[str]] = {}
    for call in fake.succeeded("sendMessage"):
        sent.setdefault(str(call["chat_id"]), []).append(call["text"])
    lost = duplicated = disorder = extra = 0
    notes: list[str] = []
    for chat, items in out.items():
        got = sent.get(chat, [])
        position = 0
        for parts in items:
            found = _match(got, position, parts)
            if found is None:
                if any(_match(got, p, parts) is not None for p in range(position, len(got))):
                    disorder += 1
                lost += 1
                notes.append(f"chat {chat}: {[part[:40] for part in parts]} not at {position} of {[text[:40] for text in got]}")
                continue
            position, again = found
            duplicated += again
        extra += len(got) - position
    stored = sum(min(count, expected_in.get(chat, 0)) for chat, count in stored_in.items())
    twice = sum(max(0, count - expected_in.get(chat, 0)) for chat, count in stored_in.items())
    return Outcome(len(updates), stored, twice, sum(len(items) for items in out.values()),
                   sum(len(texts) for texts in sent.values()), lost, duplicated, extra, disorder, pending_inbox, pending_outbox, notes)


def _match(got: list[str], position: int, parts: list[str]) -> tuple[int, int] | None:
    """Where ``parts`` (one reply, split) ends in ``got`` from ``position``, and how many messages
    were repeats of it (a prefix sent before a crash, or the whole reply again)."""
    size = len(parts)
    for prefix in range(size + 1):
        if got[position:position + prefix] == parts[:prefix] and got[position + prefix:position + prefix + size] == parts:
            end, again = position + prefix + size, prefix
            while got[end:end + size] == parts and size:
                end, again = end + size, again + size
            return end, again
    return None


async def burst(fake: FakeTelegram, bot: BotProcess, updates: list[dict[str, Any]], kills_at: list[int] | tuple[int, ...],
                on_kill: Any = None) -> Sender:
    """Start the bot, deliver every update, SIGKILL and restart it after each count of acknowledged
    updates in ``kills_at``; returns when every update was acknowledged."""
    import asyncio

    await asyncio.to_thread(bot.start)
    sender = Sender(bot.port, updates)
    threads = sender.start()
    for threshold in kills_at:
        while sender.acknowledged < threshold:
            await asyncio.sleep(0.01)
        bot.kill()
        if on_kill is not None:
            on_kill(sender)
        await asyncio.to_thread(bot.start)
    for thread in threads:
        await asyncio.to_thread(thread.join, 900)
    return sender


def confirmed(fake: FakeTelegram) -> int:
    """How many updates long polling has confirmed: the highest offset asked for, minus one."""
    return max((int(params.get("offset") or 0) for params in fake.called("getUpdates")), default=1) - 1


async def polled(fake: FakeTelegram, bot: BotProcess, updates: list[dict[str, Any]], kills_at: list[int] | tuple[int, ...]) -> None:
    """Long polling's burst: every update waits at the fake; SIGKILL and restart the bot after each
    count of confirmed updates in ``kills_at``; returns when the last one is confirmed."""
    import asyncio

    fake.push(*updates)
    await asyncio.to_thread(bot.start)
    for threshold in kills_at:
        while confirmed(fake) < threshold:
            await asyncio.sleep(0.01)
        bot.kill()
        await asyncio.to_thread(bot.start)
    deadline = time.monotonic() + 900
    while confirmed(fake) < updates[-1]["update_id"]:
        if time.monotonic() > deadline:
            raise AssertionError(f"long polling confirmed {confirmed(fake)} of {len(updates)} updates")
        await asyncio.sleep(0.05)


async def settle(fake: FakeTelegram, store: Any, quiet: float = 2.0, timeout: float = 300.0) -> tuple[list[tuple[str, str, str, str]], int, int]:
    """Wait until nothing waits in the inbox or the outbox and Telegram saw nothing new for ``quiet``
    seconds; returns the message log (chat, direction, kind, text) and what still waits."""
    import asyncio

    from sqlalchemy import func, select

    from bot.storage.models import Inbox, MessageLog, User

    async def waiting() -> tuple[int, int]:
        async with store.engine.connect() as connection:
            inbox = (await connection.execute(select(func.count()).select_from(Inbox).where(Inbox.handled_at.is_(None)))).scalar_one()
        return int(inbox), await store.outbox_pending()

    deadline = time.monotonic() + timeout
    last, since = -1, time.monotonic()
    while True:
        count = len(fake.called("sendMessage"))
        if count != last:
            last, since = count, time.monotonic()
        pending = await waiting()
        if time.monotonic() - since >= quiet and pending == (0, 0):
            break
        if time.monotonic() > deadline:
            raise AssertionError(f"the bot did not finish its work: {pending[0]} updates and {pending[1]} replies waiting, {last} messages sent")
        await asyncio.sleep(0.2)
    async with store.engine.connect() as connection:
        query = (select(User.channel_ref, MessageLog.direction, MessageLog.kind, MessageLog.text)
                 .join(User, User.id == MessageLog.user_id).order_by(MessageLog.id))
        rows = [tuple(row) for row in (await connection.execute(query)).all()]
    return rows, *await waiting()
