"""The store: the engine, one locked unit of work per woman (bot.storage.session), the desk's case queries,
the outbox and inbox queues, and the retention purge (bot.storage.retention)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import sqlite3
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DatabaseError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker

from bot.errors import StorageError
from bot.storage import cases, diagnose, inbox, migrate, retention
from bot.storage.cases import CaseRow, OutboxItem
from bot.storage.engine import SQLITE_BUSY_TIMEOUT_MS, create_engine
from bot.storage.inbox import InboxItem
from bot.storage.models import Case, ChatMessage, ConversationState, MessageLog, Outbox, ProcessedMessage, Record, User
from bot.storage.session import UserRow, UserSession, insert_for, now

T = TypeVar("T")
log = logging.getLogger(__name__)
CHECKPOINT_BUSY_MS = 2_000                # how long a WAL checkpoint after /forget waits for other connections


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
        if unit.relayed or unit.woke:  # committed: whoever sends the outbox in this process can send it now
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

    async def outbox_sent(self, items: list[OutboxItem]) -> None:
        """Delivered: in one write, however many (the outbox collects them while it sends)."""
        await self._apply(cases.mark_sent, items)

    async def outbox_delivery(self, provider_id: str, status: str) -> OutboxItem | None:
        """A status webhook: the item sent as ``provider_id``, its ``delivery`` moved on when the status
        does (see ``cases.moves_on``: a write only then, not for each "sent"); None when it is not kept."""
        async with self.engine.connect() as connection:
            found = await cases.receipt(connection, provider_id)
        if found is None:
            return None
        item, before = found
        if cases.moves_on(before, status):
            await self._apply(cases.set_delivery, item.id, status)
        return item

    async def outbox_resend(self, item: OutboxItem, at: datetime) -> None:
        """A message the channel took but then could not deliver is due again at ``at``."""
        await self._apply(cases.resend, item, at)
        for listener in self._outbox_listeners:
            listener()

    async def outbox_release(self, item: OutboxItem) -> None:
        await self._apply(cases.release, item.id)

    async def outbox_failed(self, item: OutboxItem) -> None:
        await self._apply(cases.mark_failed, item)

    async def outbox_defer(self, item: OutboxItem, until: datetime) -> None:
        await self._apply(cases.defer, item.id, until)

    async def outbox_unsent(self, item: OutboxItem) -> bool:
        """Whether ``item`` still waits (not taken by her channel meanwhile)."""
        async with self.engine.connect() as connection:
            return await cases.unsent(connection, item.id)

    async def last_message_from(self, channel: str, channel_ref: str) -> datetime | None:
        """When she last wrote (the newest message of hers in the log), or None."""
        async with self.engine.connect() as connection:
            query = (select(func.max(MessageLog.created_at)).join(User, User.id == MessageLog.user_id)
                     .where(User.channel == channel, User.channel_ref == channel_ref, MessageLog.direction == "in"))
            found = (await connection.execute(query)).scalar_one_or_none()
            return found if found is None or found.tzinfo is not None else found.replace(tzinfo=UTC)

    async def _apply(self, statements: Callable[..., Awaitable[T]], /, *args: Any, **values: Any) -> T:
        """One short write transaction (SQLite: behind the one writer)."""
        async with self._writer(), self.engine.begin() as connection:
            return await statements(connection, *args, **values)

    async def outbox_unclaim(self, channels: tuple[str, ...]) -> None:
        """At start: items a killed process had claimed are due again (one process sends a channel)."""
        await self._apply(cases.unclaim, channels)

    async def case_counts(self) -> dict[str, int]:
        """How many cases are in each state (for /metrics)."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(select(Case.status, func.count()).group_by(Case.status))
            return {str(status): int(count) for status, count in rows}

    async def outbox_counts(self) -> dict[str, int]:
        """Unsent outbox items, and how many of them failed at least once (for /metrics and /healthz)."""
        async with self.engine.connect() as connection:
            pending = Outbox.sent_at.is_(None)
            total = (await connection.execute(select(func.count()).select_from(Outbox).where(pending))).scalar_one()
            retrying = (await connection.execute(select(func.count()).select_from(Outbox).where(pending, Outbox.attempts > 0))).scalar_one()
            return {"pending": int(total), "retrying": int(retrying)}

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
            await connection.execute(insert_for(connection, User).values(**values).on_conflict_do_nothing())
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
        """Delete what is past retention (see :func:`bot.storage.retention.purge`), in one transaction."""
        async with self._writer(), self._sessions() as session, session.begin():
            return await retention.purge(await session.connection(), messages_days, inactive_user_days, at or now())


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
