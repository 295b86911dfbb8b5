"""Cases of the counsellors' desk and the outbox of relayed messages: statements on one connection."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.messages import DESK
from bot.storage.models import Case, MessageLog, Outbox, OutboxReceipt

OPEN, WAITING, ACTIVE, CLOSED = "open", "waiting", "active", "closed"
NOT_CLOSED = (OPEN, WAITING, ACTIVE)
RETRY_AFTER = (2.0, 5.0, 15.0, 60.0, 300.0)  # seconds before the next attempt after a failed relay
DELIVERY = ("sent", "delivered", "read")     # a channel's statuses, in the order they can only go (WhatsApp's may arrive out of it)


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class CaseRow:
    id: int
    user_id: int
    status: str
    language: str
    topic: str | None
    trigger: str
    urgent: bool
    counsellor: str | None
    desk_thread: str | None
    opened_at: datetime
    taken_at: datetime | None
    closed_at: datetime | None
    closed_by: str | None
    emergency: str | None = None
    reminded_at: datetime | None = None

    @classmethod
    def of(cls, row: Any) -> CaseRow:
        values = {field.name: row[field.name] for field in fields(cls)}
        for name in ("opened_at", "taken_at", "closed_at", "reminded_at"):  # SQLite gives naive datetimes back
            if values[name] is not None and values[name].tzinfo is None:
                values[name] = values[name].replace(tzinfo=UTC)
        return cls(**values)


@dataclass(frozen=True)
class OutboxItem:
    id: int
    case_id: int | None
    channel: str
    recipient: str
    body: dict[str, Any]
    attempts: int
    # the channel's ids of the messages it was sent as (WhatsApp's wamids), filled in while it is sent:
    # an item with receipts is kept a day once sent, so that a status ("failed: her window closed") finds it
    receipts: list[str] = field(default_factory=list, compare=False)


async def insert_case(connection: AsyncConnection, user_id: int, language: str, topic: str | None, trigger: str, urgent: bool,
                      emergency: str | None = None) -> int:
    result = await connection.execute(insert(Case).values(
        user_id=user_id, status=OPEN, language=language, topic=topic, trigger=trigger, urgent=urgent, emergency=emergency,
        opened_at=now()).returning(Case.id))
    return int(result.scalar_one())


async def claim_reminders(connection: AsyncConnection, before: datetime) -> list[CaseRow]:
    """Urgent cases nobody has taken, posted (or last reminded) before ``before``: marked reminded
    now, so that of several processes only one reminds the desk."""
    stamp = now()
    claimed = await connection.execute(
        update(Case).where(Case.urgent.is_(True), Case.status.in_((OPEN, WAITING)),
                           func.coalesce(Case.reminded_at, Case.opened_at) < before)
        .values(reminded_at=stamp).returning(Case.id))
    ids = [row[0] for row in claimed]
    if not ids:
        return []
    rows = (await connection.execute(select(Case.__table__).where(Case.id.in_(ids)).order_by(Case.id))).mappings()
    return [CaseRow.of(row) for row in rows]


async def get_case(connection: AsyncConnection, case_id: int | None = None, thread: str | None = None) -> CaseRow | None:
    query = select(Case.__table__).where(Case.id == case_id if case_id is not None else Case.desk_thread == thread)
    row = (await connection.execute(query)).mappings().first()
    return CaseRow.of(row) if row else None


async def change_case(connection: AsyncConnection, case_id: int, expect: tuple[str, ...] | None = None, **values: Any) -> bool:
    """Update a case; with ``expect``, only while its status is one of those (False otherwise)."""
    statement = update(Case).where(Case.id == case_id)
    if expect:
        statement = statement.where(Case.status.in_(expect))
    return (await connection.execute(statement.values(**values))).rowcount == 1


async def list_cases(connection: AsyncConnection, statuses: tuple[str, ...], counsellor: str | None = None) -> list[CaseRow]:
    """Urgent cases first, then the oldest."""
    query = select(Case.__table__).where(Case.status.in_(statuses))
    if counsellor is not None:
        query = query.where(func.lower(Case.counsellor) == counsellor.lower())
    query = query.order_by(Case.urgent.desc(), Case.opened_at, Case.id)
    return [CaseRow.of(row) for row in (await connection.execute(query)).mappings()]


async def queue_position(connection: AsyncConnection, case: CaseRow) -> int:
    """1 + the waiting cases served before this one (urgent ones first, then by age)."""
    older = or_(Case.opened_at < case.opened_at, and_(Case.opened_at == case.opened_at, Case.id < case.id))
    ahead = and_(Case.urgent.is_(True), older) if case.urgent else or_(Case.urgent.is_(True), older)
    query = select(func.count()).select_from(Case).where(Case.status.in_((OPEN, WAITING)), Case.id != case.id, ahead)
    return int((await connection.execute(query)).scalar_one()) + 1


async def recent_messages(connection: AsyncConnection, user_id: int, limit: int) -> list[dict[str, Any]]:
    query = (select(MessageLog.direction, MessageLog.kind, MessageLog.text, MessageLog.key)
             .where(MessageLog.user_id == user_id).order_by(MessageLog.id.desc()).limit(limit))
    return [dict(row) for row in reversed((await connection.execute(query)).mappings().all())]


def outbox_row(case_id: int | None, channel: str, recipient: str, body: dict[str, Any]) -> dict[str, Any]:
    stamp = now()
    return {"case_id": case_id, "channel": channel, "recipient": recipient, "body": json.dumps(body, ensure_ascii=False),
            "attempts": 0, "created_at": stamp, "next_attempt_at": stamp}


async def due(connection: AsyncConnection, channels: tuple[str, ...], limit: int) -> list[OutboxItem]:
    """Unsent items that are due, in order. A recipient whose earlier item waits for a retry (or is
    being sent elsewhere) gets nothing now: her messages arrive in order. Only reads."""
    stamp = now()
    query = (select(Outbox.id, Outbox.case_id, Outbox.channel, Outbox.recipient, Outbox.body, Outbox.attempts,
                    Outbox.next_attempt_at, Outbox.claimed_until)
             .where(Outbox.channel.in_(channels), Outbox.sent_at.is_(None)).order_by(Outbox.id).limit(limit * 4))
    blocked: set[tuple[str, str]] = set()
    chosen: list[OutboxItem] = []
    for row in (await connection.execute(query)).mappings():
        target = (row["channel"], row["recipient"])
        if target in blocked:
            continue
        if _aware(row["next_attempt_at"]) > stamp or (row["claimed_until"] is not None and _aware(row["claimed_until"]) > stamp):
            blocked.add(target)
            continue
        chosen.append(OutboxItem(row["id"], row["case_id"], row["channel"], row["recipient"], json.loads(row["body"]), row["attempts"]))
        if len(chosen) == limit:
            break
    return chosen


async def claim(connection: AsyncConnection, items: list[OutboxItem], lease: timedelta) -> list[OutboxItem]:
    """Lease the items; only rows nobody claimed meanwhile (another process) are ours."""
    stamp = now()
    claimed = await connection.execute(
        update(Outbox).where(Outbox.id.in_([item.id for item in items]), Outbox.sent_at.is_(None),
                             or_(Outbox.claimed_until.is_(None), Outbox.claimed_until <= stamp))
        .values(claimed_until=stamp + lease).returning(Outbox.id))
    ours = {row[0] for row in claimed}
    return [item for item in items if item.id in ours]


async def mark_sent(connection: AsyncConnection, items: list[OutboxItem]) -> None:
    """A message to her is deleted once her channel took it (the message log keeps what counsellors may
    see); one to the desk is kept a day, marked sent."""
    kept = [item.id for item in items if item.channel == DESK or item.receipts]
    hers = [item.id for item in items if item.channel != DESK and not item.receipts]
    if kept:
        await connection.execute(update(Outbox).where(Outbox.id.in_(kept)).values(sent_at=now(), claimed_until=None))
    receipts = [{"provider_id": receipt, "outbox_id": item.id} for item in items for receipt in dict.fromkeys(item.receipts) if receipt]
    if receipts:
        await connection.execute(update(Outbox).where(Outbox.id.in_([r["outbox_id"] for r in receipts])).values(delivery=DELIVERY[0]))
        await connection.execute(delete(OutboxReceipt).where(OutboxReceipt.provider_id.in_([r["provider_id"] for r in receipts])))
        await connection.execute(insert(OutboxReceipt), receipts)
    if hers:
        await connection.execute(delete(Outbox).where(Outbox.id.in_(hers)))


async def receipt(connection: AsyncConnection, provider_id: str) -> tuple[OutboxItem, str | None] | None:
    """The item sent as ``provider_id`` and its delivery so far, or None (not ours, or its day is over). Only reads."""
    row = (await connection.execute(
        select(Outbox.id, Outbox.case_id, Outbox.channel, Outbox.recipient, Outbox.body, Outbox.attempts, Outbox.delivery)
        .join(OutboxReceipt, OutboxReceipt.outbox_id == Outbox.id).where(OutboxReceipt.provider_id == provider_id))).first()
    if row is None:
        return None
    return OutboxItem(row.id, row.case_id, row.channel, row.recipient, json.loads(row.body), row.attempts), row.delivery


def moves_on(before: str | None, status: str) -> bool:
    """Whether a status changes what is recorded: sent → delivered → read only forward; "failed" whatever came before."""
    if status == before:
        return False
    if status == "failed":
        return True
    return before != "failed" and (before not in DELIVERY or status not in DELIVERY or DELIVERY.index(status) > DELIVERY.index(before))


async def set_delivery(connection: AsyncConnection, item_id: int, status: str) -> None:
    await connection.execute(update(Outbox).where(Outbox.id == item_id).values(delivery=status))


async def resend(connection: AsyncConnection, item: OutboxItem, at: datetime) -> None:
    """The channel reported an item it had taken as failed: it is due again at ``at`` (one attempt more)."""
    await connection.execute(delete(OutboxReceipt).where(OutboxReceipt.outbox_id == item.id))
    await connection.execute(update(Outbox).where(Outbox.id == item.id).values(
        sent_at=None, claimed_until=None, next_attempt_at=at, attempts=item.attempts + 1))


async def release(connection: AsyncConnection, item_id: int) -> None:
    """Not attempted this round (an earlier message to the same recipient failed)."""
    await connection.execute(update(Outbox).where(Outbox.id == item_id).values(claimed_until=None))


async def unclaim(connection: AsyncConnection, channels: tuple[str, ...]) -> None:
    await connection.execute(update(Outbox).where(Outbox.channel.in_(channels), Outbox.sent_at.is_(None),
                                                  Outbox.claimed_until.is_not(None)).values(claimed_until=None))


async def mark_failed(connection: AsyncConnection, item: OutboxItem) -> None:
    delay = RETRY_AFTER[min(item.attempts, len(RETRY_AFTER) - 1)]
    await connection.execute(update(Outbox).where(Outbox.id == item.id).values(
        attempts=item.attempts + 1, next_attempt_at=now() + timedelta(seconds=delay), claimed_until=None))


async def defer(connection: AsyncConnection, item_id: int, until: datetime) -> None:
    """Not before ``until`` (her channel cannot take it now); she writing again wakes it (see ``wake``)."""
    await connection.execute(update(Outbox).where(Outbox.id == item_id).values(next_attempt_at=until, claimed_until=None))


async def wake(connection: AsyncConnection, channel: str, recipient: str) -> int:
    """Her deferred items are due now (she wrote: her channel takes them again); how many."""
    result = await connection.execute(update(Outbox).where(Outbox.channel == channel, Outbox.recipient == recipient,
                                                           Outbox.sent_at.is_(None), Outbox.next_attempt_at > now())
                                      .values(next_attempt_at=now()))
    return int(result.rowcount or 0)


async def take(connection: AsyncConnection, channel: str, recipient: str) -> list[OutboxItem]:
    """Her unsent items, in order, deleted as they are handed over (the channel delivers them in its reply)."""
    taken = await connection.execute(
        delete(Outbox).where(Outbox.channel == channel, Outbox.recipient == recipient, Outbox.sent_at.is_(None))
        .returning(Outbox.id, Outbox.case_id, Outbox.body, Outbox.attempts))
    rows = sorted(taken.mappings(), key=lambda row: row["id"])
    return [OutboxItem(row["id"], row["case_id"], channel, recipient, json.loads(row["body"]), row["attempts"]) for row in rows]


async def unsent(connection: AsyncConnection, item_id: int) -> bool:
    found = await connection.execute(select(Outbox.id).where(Outbox.id == item_id, Outbox.sent_at.is_(None)))
    return found.first() is not None


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
