"""The inbox: updates as a channel delivered them, stored before they are acknowledged, handled from
here once. Statements on one connection (the Store wraps them in short write transactions)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.models import Inbox

KEPT = timedelta(days=1)  # a handled update's id (its body is emptied at once): Telegram redelivers for 24 hours
GIVE_UP = 5               # attempts before an update that keeps failing is set aside (its id kept, logged)


@dataclass(frozen=True)
class InboxItem:
    id: int
    channel: str
    update_id: str
    chat: str | None
    body: str
    attempts: int


def now() -> datetime:
    return datetime.now(UTC)


async def add(connection: AsyncConnection, rows: list[tuple[str, str, str | None, str]]) -> list[InboxItem]:
    """Store (channel, update_id, chat, body) rows; returns the ones that were new (a redelivered
    update is already there, handled or not, and is not returned)."""
    new = []
    stamp = now()
    make = sqlite_insert if connection.dialect.name == "sqlite" else pg_insert
    for channel, update_id, chat, body in rows:
        statement = make(Inbox).values(channel=channel, update_id=update_id, chat=chat, body=body, attempts=0,
                                       received_at=stamp).on_conflict_do_nothing().returning(Inbox.id)
        found = (await connection.execute(statement)).first()
        if found is not None:
            new.append(InboxItem(int(found[0]), channel, update_id, chat, body, 0))
    return new


async def pending(connection: AsyncConnection, channel: str, after: int, limit: int) -> list[InboxItem]:
    query = (select(Inbox.id, Inbox.channel, Inbox.update_id, Inbox.chat, Inbox.body, Inbox.attempts)
             .where(Inbox.channel == channel, Inbox.handled_at.is_(None), Inbox.id > after).order_by(Inbox.id).limit(limit))
    return [InboxItem(*row) for row in (await connection.execute(query)).all()]


async def done(connection: AsyncConnection, ids: list[int]) -> None:
    """Handled: the body (her message) goes at once, the id stays for a day against redelivery."""
    await connection.execute(update(Inbox).where(Inbox.id.in_(ids)).values(handled_at=now(), body=""))


async def failed(connection: AsyncConnection, item_id: int) -> int:
    """One more failed attempt; returns the attempts so far."""
    row = (await connection.execute(update(Inbox).where(Inbox.id == item_id).values(attempts=Inbox.attempts + 1)
                                    .returning(Inbox.attempts))).first()
    return int(row[0]) if row else GIVE_UP


async def purge(connection: AsyncConnection, at: datetime) -> int:
    return (await connection.execute(delete(Inbox).where(Inbox.handled_at.is_not(None), Inbox.handled_at < at - KEPT))).rowcount
