"""The store: a small async API over the tables, with one locked unit of work per woman."""

from __future__ import annotations

import asyncio
import hashlib
import json
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import DatabaseError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.errors import StorageError
from bot.storage import migrate
from bot.storage.engine import create_engine, is_sqlite
from bot.storage.models import ConversationState, MessageLog, ProcessedMessage, User


def now() -> datetime:
    return datetime.now(UTC)


class UserSession:
    """Everything stored about one woman, read and written inside one locked transaction."""

    def __init__(self, session: AsyncSession, user: User, state: dict[str, Any]) -> None:
        self._session = session
        self.user = user
        self.state = state
        self.is_new = user.consent_at is None and user.language is None
        self._forgotten = False

    async def mark_processed(self, channel: str, message_id: str) -> bool:
        """Record an inbound message id; False when it was handled before."""
        found = await self._session.get(ProcessedMessage, (channel, message_id))
        if found is not None:
            return False
        self._session.add(ProcessedMessage(channel=channel, message_id=message_id, user_id=self.user.id, created_at=now()))
        await self._session.flush()
        return True

    def log(self, direction: str, kind: str, text: str, key: str | None = None) -> None:
        if self._forgotten:  # nothing more is stored about a woman who asked to be forgotten
            return
        self._session.add(MessageLog(user_id=self.user.id, direction=direction, kind=kind, text=text, key=key, created_at=now()))

    def set_language(self, language: str) -> None:
        self.user.language = language

    def give_consent(self) -> None:
        self.user.consent_at = now()

    async def forget(self) -> None:
        """Delete the woman and, through ON DELETE CASCADE, everything stored about her."""
        await self._session.execute(delete(User).where(User.id == self.user.id))
        self._forgotten = True

    async def _save(self) -> None:
        if self._forgotten:
            return
        self.user.last_seen = now()
        row = await self._session.get(ConversationState, self.user.id)
        data = json.dumps(self.state, ensure_ascii=False, sort_keys=True)
        if row is None:
            self._session.add(ConversationState(user_id=self.user.id, data=data, updated_at=now()))
        elif row.data != data:
            row.data = data
            row.updated_at = now()


class Store:
    """Owns the engine. ``user_session`` serialises the messages of one woman, also across processes."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = weakref.WeakValueDictionary()

    @classmethod
    async def open(cls, url: str, *, upgrade: bool = True) -> Store:
        engine = create_engine(url)
        store = cls(engine)
        try:
            if upgrade:
                await migrate.upgrade(engine)
            else:
                await store.ping()
        except (DatabaseError, OperationalError, OSError) as exc:
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
        async with lock, self._sessions() as session, session.begin():
            if not self.sqlite:
                await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(channel, channel_ref)})
            user = await self._load_or_create(session, channel, channel_ref)
            row = await session.get(ConversationState, user.id)
            unit = UserSession(session, user, json.loads(row.data) if row else {})
            yield unit
            await unit._save()

    async def _load_or_create(self, session: AsyncSession, channel: str, channel_ref: str) -> User:
        query = select(User).where(User.channel == channel, User.channel_ref == channel_ref)
        user = (await session.execute(query)).scalar_one_or_none()
        if user is not None:
            return user
        stamp = now()
        user = User(channel=channel, channel_ref=channel_ref, first_seen=stamp, last_seen=stamp, active=True)
        try:
            async with session.begin_nested():
                session.add(user)
        except IntegrityError:  # created meanwhile by a process that did not hold our lock
            user = (await session.execute(query)).scalar_one()
        return user

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
            for name, model in (("users", User), ("messages", MessageLog), ("processed", ProcessedMessage), ("states", ConversationState)):
                result[name] = (await session.execute(select(func.count()).select_from(model))).scalar_one()
            return result

    async def purge_expired(self, messages_days: int, inactive_user_days: int, at: datetime | None = None) -> dict[str, int]:
        """Delete messages and processed ids past retention, and women silent for too long."""
        at = at or now()
        message_cutoff = at - timedelta(days=messages_days)
        user_cutoff = at - timedelta(days=inactive_user_days)
        async with self._sessions() as session, session.begin():
            messages = await session.execute(delete(MessageLog).where(MessageLog.created_at < message_cutoff))
            processed = await session.execute(delete(ProcessedMessage).where(ProcessedMessage.created_at < message_cutoff))
            users = await session.execute(delete(User).where(User.last_seen < user_cutoff))
        return {"messages": messages.rowcount, "processed": processed.rowcount, "users": users.rowcount}


def _lock_key(channel: str, channel_ref: str) -> int:
    digest = hashlib.blake2b(f"{channel}\x00{channel_ref}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _explain_open_error(url: str, exc: Exception) -> str:
    detail = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
    if is_sqlite(url):
        path = url.split("///", 1)[-1]
        if "not a database" in detail or "malformed" in detail:
            return (f"The file {path} is not a Wegwijs database (SQLite says: {detail}). "
                    "It was left untouched. Move it away or pass --db with another path.")
        return f"Cannot open the SQLite database {path} ({detail}). Check that the folder exists and is writable."
    return f"Cannot reach the database in DATABASE_URL ({detail}). Check the host, port, user and password."
