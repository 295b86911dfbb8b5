"""The store: a small async API over the tables, with one locked unit of work per woman."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import sqlite3
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import delete, func, insert, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DatabaseError
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker

from bot import redact
from bot.errors import StorageError
from bot.storage import cases, diagnose, inbox, migrate, tallies
from bot.storage.cases import CaseRow, OutboxItem
from bot.storage.inbox import InboxItem
from bot.storage.engine import SQLITE_BUSY_TIMEOUT_MS, create_engine
from bot.storage.models import (Case, ChatMessage, ConversationState, Feedback, Inbox, MessageLog, Outbox, ProcessedMessage, Record,
                                Unanswered, User)

T = TypeVar("T")
log = logging.getLogger(__name__)
CHAT_MESSAGES_KEPT = timedelta(hours=48)  # Telegram lets a bot delete messages of the last 48 hours only
OUTBOX_KEPT = timedelta(days=1)           # relayed messages, once sent (the message log keeps what matters)
FORGET_BATCH = 500                        # her messages per statement when /forget looks for her unanswered questions
CHECKPOINT_BUSY_MS = 2_000                # how long a WAL checkpoint after /forget waits for other connections


def now() -> datetime:
    return datetime.now(UTC)


class UserSession:
    """Everything stored about one woman, read and written inside one locked transaction.

    Writes are collected and sent in as few statements as possible when the unit of work ends:
    the per-message path is a handful of round trips, whatever the handler did."""

    def __init__(self, connection: AsyncConnection, user: UserRow, state: dict[str, Any]) -> None:
        self._connection = connection
        self.user = user
        self.state = state
        self._saved_state = json.dumps(state, sort_keys=True)
        self._logs: list[dict[str, Any]] = []
        self._relays: list[dict[str, Any]] = []
        self._chat_messages: list[str] = []
        self._forgotten = False

    async def mark_processed(self, channel: str, message_id: str) -> bool:
        """Record an inbound message id; False when it was handled before."""
        statement = _insert(self._connection, ProcessedMessage).values(
            channel=channel, message_id=message_id, user_id=self.user.id, created_at=now()
        ).on_conflict_do_nothing()
        return (await self._connection.execute(statement)).rowcount == 1

    def log(self, direction: str, kind: str, text: str, key: str | None = None) -> None:
        if self._forgotten:  # nothing more is stored about a woman who asked to be forgotten
            return
        self._logs.append({"user_id": self.user.id, "direction": direction, "kind": kind, "text": text, "key": key, "created_at": now()})

    def mark_last_in(self, key: str) -> None:
        """Name what her message of this turn was (e.g. "answer:job-shadowing": an answer to a flow's question)."""
        for entry in reversed(self._logs):
            if entry["direction"] == "in":
                entry["key"] = key
                return

    def set_language(self, language: str) -> None:
        self.user.language = language

    async def log_unanswered(self, language: str, text: str, candidates: list[tuple[str, float]]) -> None:
        """Kept for coordinators without any link to her (purged with the message log), its numbers and
        e-mail addresses masked; /forget deletes it too (it finds it by her message in the log)."""
        await self._connection.execute(insert(Unanswered).values(
            language=language, text=redact.mask(text), candidates=json.dumps(candidates), created_at=now()))

    async def store_record(self, kind: str, flow: str, language: str, answers: dict[str, Any]) -> int:
        """Store what a flow collected with her consent; returns the record id."""
        result = await self._connection.execute(insert(Record).values(
            user_id=self.user.id, kind=kind, flow=flow, language=language,
            answers=json.dumps(answers, ensure_ascii=False), created_at=now()).returning(Record.id))
        return int(result.scalar_one())

    async def log_feedback(self, entry: str, language: str, helpful: bool) -> None:
        await self._connection.execute(insert(Feedback).values(entry=entry, language=language, helpful=helpful, created_at=now()))

    # The desk: her case and the messages relayed for it ---------------------------------------

    async def open_case(self, language: str, topic: str | None, trigger: str, urgent: bool, emergency: str | None = None) -> CaseRow:
        case_id = await cases.insert_case(self._connection, self.user.id, language, topic, trigger, urgent, emergency)
        return await self.case(case_id)  # type: ignore[return-value]

    async def case(self, case_id: int) -> CaseRow | None:
        found = await cases.get_case(self._connection, case_id)
        return found if found is not None and found.user_id == self.user.id else None

    async def change_case(self, case_id: int, expect: tuple[str, ...] | None = None, **values: Any) -> bool:
        return await cases.change_case(self._connection, case_id, expect, **values)

    async def queue_position(self, case: CaseRow) -> int:
        return await cases.queue_position(self._connection, case)

    async def recent_messages(self, limit: int = 12) -> list[dict[str, Any]]:
        """Her last messages and the bot's, oldest first (for a counsellor's case card)."""
        stored = await cases.recent_messages(self._connection, self.user.id, limit)
        pending = [{name: log[name] for name in ("direction", "kind", "text", "key")} for log in self._logs]
        return (stored + pending)[-limit:]

    @property
    def relayed(self) -> bool:
        """Messages for the outbox were stored in this unit of work."""
        return bool(self._relays)

    def relay(self, case_id: int | None, channel: str, recipient: str, body: dict[str, Any]) -> None:
        """Store a message for the outbox; it is committed with everything else, then sent."""
        self._relays.append(cases.outbox_row(case_id, channel, recipient, body))

    def remember_chat_message(self, message_id: str) -> None:
        """The id (never the text) of her message in her chat, for /clear; stored with the rest."""
        self._chat_messages.append(message_id)

    def give_consent(self) -> None:
        self.user.consent_at = now()

    async def cases_on_desk(self) -> list[CaseOnDesk]:
        """All her cases, open or closed, oldest first: where each shows on the desk."""
        query = select(Case.id, Case.status, Case.desk_thread, Case.desk_card).where(Case.user_id == self.user.id).order_by(Case.id)
        return [CaseOnDesk(row.id, row.status, row.desk_thread, tuple(int(m) for m in (row.desk_card or "").split(",") if m))
                for row in await self._connection.execute(query)]

    async def forget(self) -> None:
        """Delete the woman and, through ON DELETE CASCADE, everything stored about her; then what is
        kept without a link to her but came from her: the unanswered questions she asked (found by her
        messages in the log, masked as they were logged), her updates still in the inbox, and messages
        to her that belong to no case. The report's counts of her answers and cases are folded into
        the anonymous tallies first."""
        user = self.user
        await tallies.fold(self._connection, MessageLog.user_id == user.id, Case.user_id == user.id)
        stored = await self._connection.execute(select(MessageLog.text).where(MessageLog.user_id == user.id, MessageLog.direction == "in"))
        said = [*stored.scalars(), *(entry["text"] for entry in self._logs if entry["direction"] == "in")]
        asked = sorted({form for text in said if text for form in (text, redact.mask(text))})  # unmasked: logged before masking
        for start in range(0, len(asked), FORGET_BATCH):
            await self._connection.execute(delete(Unanswered).where(Unanswered.text.in_(asked[start:start + FORGET_BATCH])))
        await self._connection.execute(delete(Inbox).where(Inbox.channel == user.channel, Inbox.chat == user.channel_ref))
        await self._connection.execute(delete(Outbox).where(
            Outbox.channel == user.channel, Outbox.recipient == user.channel_ref, Outbox.case_id.is_(None)))
        await self._connection.execute(delete(User).where(User.id == user.id))
        self._forgotten = True
        self._logs.clear()

    @property
    def forgotten(self) -> bool:
        return self._forgotten

    async def _save(self) -> None:
        if self._forgotten:  # only what is not about her: the desk's notice that her case is gone
            notices = [relay for relay in self._relays if relay["case_id"] is None]
            if notices:
                await self._connection.execute(insert(Outbox), notices)
            return
        stamp = now()
        if self._logs:
            await self._connection.execute(insert(MessageLog), self._logs)
        if self._relays:
            await self._connection.execute(insert(Outbox), self._relays)
        if self._chat_messages:
            await self._connection.execute(insert(ChatMessage), [{"user_id": self.user.id, "message_id": m, "created_at": stamp}
                                                                 for m in self._chat_messages])
        await self._connection.execute(
            update(User).where(User.id == self.user.id).values(
                language=self.user.language, consent_at=self.user.consent_at, last_seen=stamp, active=True)  # she wrote: reachable
        )
        data = json.dumps(self.state, ensure_ascii=False, sort_keys=True)
        if data != self._saved_state:
            statement = _insert(self._connection, ConversationState).values(user_id=self.user.id, data=data, updated_at=stamp)
            statement = statement.on_conflict_do_update(index_elements=["user_id"], set_={"data": data, "updated_at": stamp})
            await self._connection.execute(statement)


@dataclass(frozen=True)
class CaseOnDesk:
    """Where one of her cases shows on the desk: its topic and the messages of its card."""

    id: int
    status: str
    thread: str | None
    card: tuple[int, ...]


@dataclass
class UserRow:
    """The stored facts about a woman that a conversation reads and changes."""

    id: int
    channel: str
    channel_ref: str
    language: str | None
    consent_at: datetime | None
    first_seen: datetime
    last_seen: datetime
    active: bool


class Store:
    """Owns the engine. ``user_session`` serialises the messages of one woman, also across processes."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = weakref.WeakValueDictionary()
        self._sqlite_writer = asyncio.Lock()  # SQLite has one writer: queue here rather than in its busy handler
        self._outbox_listeners: list[Callable[[], None]] = []
        self._checkpoint_due = False  # a WAL checkpoint after /forget could not be done yet

    @classmethod
    async def open(cls, url: str, *, upgrade: bool = True) -> Store:
        """Every reason the database cannot be used (folder, file, disk, lock, server, password)
        becomes a StorageError with one sentence that says what to do."""
        engine: AsyncEngine | None = None
        try:
            engine = create_engine(url)
            store = cls(engine)
            if upgrade:
                await migrate.upgrade(engine)
                async with engine.begin() as connection:  # a read-only file fails now, not at her first message
                    await connection.execute(text("UPDATE alembic_version SET version_num = version_num"))
            else:
                await store.ping()
        except diagnose.OPEN_ERRORS as exc:
            if engine is not None:
                await engine.dispose()
            raise StorageError(_explain_open_error(url, exc)) from exc
        return store

    async def close(self) -> None:
        await self.engine.dispose()

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    @asynccontextmanager
    async def user_session(self, channel: str, channel_ref: str) -> AsyncIterator[UserSession]:
        """Lock the woman (in this process, then in the database), load her, commit on exit."""
        key = (channel, channel_ref)
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        async with lock, self._writer(), self.engine.begin() as connection:
            if not self.sqlite:
                await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(channel, channel_ref)})
            user, state = await self._load_or_create(connection, channel, channel_ref)
            unit = UserSession(connection, user, state)
            yield unit
            await unit._save()
        if unit.relayed:  # committed: whoever sends the outbox in this process can send it now
            for listener in self._outbox_listeners:
                listener()
        if unit.forgotten or self._checkpoint_due:  # a retry does not wait: her messages come first
            await self.checkpoint(CHECKPOINT_BUSY_MS if unit.forgotten else 0)

    async def checkpoint(self, wait_ms: int = CHECKPOINT_BUSY_MS) -> bool:
        """SQLite: copy the WAL into the database file and empty it, so that what /forget deleted does
        not stay on disk in the WAL (secure_delete zeroes it in the file). Another connection may hold
        what it needs (``wait_ms`` at most): then it is tried again after the next unit of work. True when done."""
        if not self.sqlite:
            return True
        try:
            async with self._writer(), self.engine.connect() as connection:
                busy = await connection.run_sync(_truncate_wal, wait_ms)
        except (sqlite3.Error, DatabaseError) as error:
            log.debug("WAL checkpoint failed (%s): tried again later", error)
            busy = True
        if busy:
            log.debug("WAL checkpoint not done (the database is busy): tried again later")
        self._checkpoint_due = busy
        return not busy

    def on_outbox(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after a woman's unit of work stored messages for the outbox."""
        self._outbox_listeners.append(listener)

    @asynccontextmanager
    async def case_session(self, case_id: int) -> AsyncIterator[tuple[UserSession, CaseRow] | None]:
        """The woman of a case, locked like one of her own messages (a counsellor's action and her
        messages never interleave), with the case as it is under that lock; None when it is gone."""
        async with self.engine.connect() as connection:
            found = await cases.get_case(connection, case_id)
            owner = None if found is None else (await connection.execute(
                select(User.channel, User.channel_ref).where(User.id == found.user_id))).first()
        if owner is None:
            yield None
            return
        async with self.user_session(owner.channel, owner.channel_ref) as session:
            case = await session.case(case_id)
            yield (session, case) if case is not None else None

    async def find_case(self, case_id: int | None = None, thread: str | None = None) -> CaseRow | None:
        async with self.engine.connect() as connection:
            return await cases.get_case(connection, case_id, thread)

    async def list_cases(self, statuses: tuple[str, ...], counsellor: str | None = None) -> list[CaseRow]:
        async with self.engine.connect() as connection:
            return await cases.list_cases(connection, statuses, counsellor)

    async def set_desk_thread(self, case_id: int, thread: str) -> None:
        """The desk channel made the case's topic."""
        await self._apply(cases.change_case, case_id, None, desk_thread=thread)

    async def card_posted(self, case_id: int, message_id: int) -> None:
        """A part of a case's card is on the desk: its message id, so that /forget can replace the card."""
        async with self._writer(), self.engine.begin() as connection:
            await connection.execute(update(Case).where(Case.id == case_id).values(
                desk_card=func.coalesce(Case.desk_card + ",", "") + str(message_id)))

    async def case_on_desk(self, case_id: int) -> None:
        """Her case's card reached the desk: a case that was only opened is now waiting."""
        await self._apply(cases.change_case, case_id, (cases.OPEN,), status=cases.WAITING)

    async def remind_urgent(self, before: datetime, message: Callable[[CaseRow], tuple[str, str, dict[str, Any]]]) -> list[int]:
        """Urgent cases still waiting since before ``before``: a reminder for each into the outbox, in
        the same transaction that marks them reminded (a crash never loses or doubles one).
        ``message`` gives (channel, recipient, body) of a case's reminder."""
        async with self._writer(), self.engine.begin() as connection:
            due = await cases.claim_reminders(connection, before)
            if due:
                await connection.execute(insert(Outbox), [cases.outbox_row(case.id, *message(case)) for case in due])
        if due:
            for listener in self._outbox_listeners:
                listener()
        return [case.id for case in due]

    async def claim_outbox(self, channels: tuple[str, ...], limit: int = 50, lease: timedelta = timedelta(seconds=60)) -> list[OutboxItem]:
        """Due items for these channels, leased to this process; nothing is locked when none is due."""
        async with self.engine.connect() as connection:
            found = await cases.due(connection, channels, limit)
        return await self._apply(cases.claim, found, lease) if found else []

    async def outbox_sent(self, item: OutboxItem) -> None:
        await self._apply(cases.mark_sent, item)

    async def outbox_release(self, item: OutboxItem) -> None:
        await self._apply(cases.release, item.id)

    async def outbox_failed(self, item: OutboxItem) -> None:
        await self._apply(cases.mark_failed, item)

    async def _apply(self, statements: Callable[..., Awaitable[T]], /, *args: Any, **values: Any) -> T:
        """One short write transaction (SQLite: behind the one writer)."""
        async with self._writer(), self.engine.begin() as connection:
            return await statements(connection, *args, **values)

    async def outbox_unclaim(self, channels: tuple[str, ...]) -> None:
        """At start: items a killed process had claimed are due again (one process sends a channel)."""
        await self._apply(cases.unclaim, channels)

    async def outbox_pending(self) -> int:
        async with self.engine.connect() as connection:
            return int((await connection.execute(select(func.count()).select_from(Outbox).where(Outbox.sent_at.is_(None)))).scalar_one())

    # The inbox (bot/storage/inbox.py) ---------------------------------------------------------

    async def inbox_add(self, rows: list[tuple[str, str, str | None, str]]) -> list[InboxItem]:
        """Store updates before they are acknowledged; the new ones (not redelivered) come back."""
        return await self._apply(inbox.add, rows) if rows else []

    async def inbox_pending(self, channel: str, after: int = 0, limit: int = 200) -> list[InboxItem]:
        async with self.engine.connect() as connection:
            return await inbox.pending(connection, channel, after, limit)

    async def inbox_done(self, ids: list[int]) -> None:
        if ids:
            await self._apply(inbox.done, ids)

    async def inbox_failed(self, item_id: int) -> int:
        return await self._apply(inbox.failed, item_id)

    def _writer(self) -> asyncio.Lock | nullcontext[None]:
        return self._sqlite_writer if self.sqlite else nullcontext()

    async def _load_or_create(self, connection: AsyncConnection, channel: str, channel_ref: str) -> tuple[UserRow, dict[str, Any]]:
        query = (
            select(*User.__table__.columns, ConversationState.data)
            .outerjoin(ConversationState, ConversationState.user_id == User.id)
            .where(User.channel == channel, User.channel_ref == channel_ref)
        )
        row = (await connection.execute(query)).mappings().first()
        if row is None:
            stamp = now()
            values = {"channel": channel, "channel_ref": channel_ref, "first_seen": stamp, "last_seen": stamp, "active": True}
            await connection.execute(_insert(connection, User).values(**values).on_conflict_do_nothing())
            row = (await connection.execute(query)).mappings().one()
        fields = {name: row[name] for name in UserRow.__dataclass_fields__}
        return UserRow(**fields), json.loads(row["data"]) if row["data"] else {}

    async def recent_messages(self, channel: str, channel_ref: str, limit: int = 20) -> list[MessageLog]:
        async with self._sessions() as session:
            query = (
                select(MessageLog)
                .join(User, User.id == MessageLog.user_id)
                .where(User.channel == channel, User.channel_ref == channel_ref)
                .order_by(MessageLog.id.desc())
                .limit(limit)
            )
            return list(reversed((await session.execute(query)).scalars().all()))

    async def get_user(self, channel: str, channel_ref: str) -> User | None:
        async with self._sessions() as session:
            query = select(User).where(User.channel == channel, User.channel_ref == channel_ref)
            return (await session.execute(query)).scalar_one_or_none()

    async def counts(self) -> dict[str, int]:
        async with self._sessions() as session:
            result = {}
            for name, model in (("users", User), ("messages", MessageLog), ("processed", ProcessedMessage), ("states", ConversationState), ("records", Record)):
                result[name] = (await session.execute(select(func.count()).select_from(model))).scalar_one()
            return result

    async def set_active(self, channel: str, channel_ref: str, active: bool) -> None:
        """False when she blocked the bot (nothing is sent to her until she writes again)."""
        async with self._writer(), self._sessions() as session, session.begin():
            await session.execute(update(User).where(User.channel == channel, User.channel_ref == channel_ref).values(active=active))

    async def remember_chat_messages(self, channel: str, channel_ref: str, message_ids: list[str]) -> None:
        """Ids (never texts) of messages in her chat, so that /clear can delete them from her phone."""
        if not message_ids:
            return
        async with self._writer(), self._sessions() as session, session.begin():
            user_id = (await session.execute(select(User.id).where(User.channel == channel, User.channel_ref == channel_ref))).scalar()
            if user_id is not None:
                stamp = now()
                await session.execute(insert(ChatMessage), [{"user_id": user_id, "message_id": m, "created_at": stamp} for m in message_ids])

    async def chat_messages(self, channel: str, channel_ref: str, since: datetime) -> list[str]:
        async with self._sessions() as session:
            query = (select(ChatMessage.message_id).join(User, User.id == ChatMessage.user_id)
                     .where(User.channel == channel, User.channel_ref == channel_ref, ChatMessage.created_at >= since)
                     .order_by(ChatMessage.id))
            return list((await session.execute(query)).scalars().all())

    async def forget_chat_messages(self, channel: str, channel_ref: str) -> None:
        async with self._writer(), self._sessions() as session, session.begin():
            user_id = select(User.id).where(User.channel == channel, User.channel_ref == channel_ref).scalar_subquery()
            await session.execute(delete(ChatMessage).where(ChatMessage.user_id == user_id))

    async def purge_expired(self, messages_days: int, inactive_user_days: int, at: datetime | None = None) -> dict[str, int]:
        """Delete messages and processed ids past retention, and women silent for too long (what the
        report counts of them folded into the anonymous tallies first)."""
        at = at or now()
        message_cutoff = at - timedelta(days=messages_days)
        user_cutoff = at - timedelta(days=inactive_user_days)
        async with self._writer(), self._sessions() as session, session.begin():
            leaving = select(User.id).where(User.last_seen < user_cutoff).scalar_subquery()
            await tallies.fold(await session.connection(), or_(MessageLog.created_at < message_cutoff, MessageLog.user_id.in_(leaving)),
                               Case.user_id.in_(leaving))
            messages = await session.execute(delete(MessageLog).where(MessageLog.created_at < message_cutoff))
            processed = await session.execute(delete(ProcessedMessage).where(ProcessedMessage.created_at < message_cutoff))
            await session.execute(delete(Unanswered).where(Unanswered.created_at < message_cutoff))
            await session.execute(delete(ChatMessage).where(ChatMessage.created_at < at - CHAT_MESSAGES_KEPT))
            await session.execute(delete(Outbox).where(Outbox.sent_at < at - OUTBOX_KEPT))
            await inbox.purge(await session.connection(), at)
            users = await session.execute(delete(User).where(User.last_seen < user_cutoff))
        return {"messages": messages.rowcount, "processed": processed.rowcount, "users": users.rowcount}


def _insert(connection: AsyncConnection, model: type) -> Any:
    """INSERT with ON CONFLICT support for the dialect in use."""
    return (sqlite_insert if connection.dialect.name == "sqlite" else pg_insert)(model)


def _truncate_wal(connection: Connection, wait_ms: int) -> bool:
    """PRAGMA wal_checkpoint(TRUNCATE) outside any transaction, waiting ``wait_ms`` at most for other
    connections; True when it was busy (not done)."""
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(f"PRAGMA busy_timeout={int(wait_ms)}")
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        busy = bool(cursor.fetchone()[0])
    finally:
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()
    return busy


def _lock_key(channel: str, channel_ref: str) -> int:
    digest = hashlib.blake2b(f"{channel}\x00{channel_ref}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _explain_open_error(url: str, exc: BaseException) -> str:
    return diagnose.explain(url, exc)
