"""Anonymous counts that outlive the rows they count: folded in just before /forget or the retention
purge deletes answers and cases, read back by `wegwijs report` next to what is still stored.

A tally holds a day, what is counted, a key (an entry, a trigger, whole minutes), a language and a
count: never a user, a text or a chat."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.models import Case, MessageLog, Tally, User

ANSWER = "answer"          # key: the entry shown ("childcare/find-a-place"); language: hers
CASE = "case"              # key: how it started (command, emergency …); a case deleted with her counts as closed
CASE_TAKEN = "case-taken"  # key: whole minutes from her request to a counsellor's Take over
ENTRY_KEY = "entry:"       # how the message log marks an answer from the knowledge base
UNKNOWN = "?"              # a language never chosen

Counts = Counter[tuple[date, str, str, str]]  # (day, what, key, language) -> count


async def fold(connection: AsyncConnection, messages: ColumnElement[bool], cases: ColumnElement[bool]) -> None:
    """Count the answers among the ``messages`` and the ``cases`` about to be deleted."""
    counts = await _answers(connection, messages)
    counts.update(await _cases(connection, cases))
    await add(connection, counts)


async def add(connection: AsyncConnection, counts: Counts) -> None:
    """Add to the tallies (a new row, or a higher count)."""
    if not counts:
        return
    rows = [{"day": day, "what": what, "key": key, "language": language, "count": count}
            for (day, what, key, language), count in counts.items()]
    statement = (sqlite_insert if connection.dialect.name == "sqlite" else pg_insert)(Tally).values(rows)
    statement = statement.on_conflict_do_update(index_elements=["day", "what", "key", "language"],
                                                set_={"count": Tally.count + statement.excluded.count})
    await connection.execute(statement)


async def read(connection: AsyncConnection, what: str) -> list[tuple[str, str, int]]:
    """(key, language, count) of every tally of this kind, all days together."""
    query = select(Tally.key, Tally.language, func.sum(Tally.count)).where(Tally.what == what).group_by(Tally.key, Tally.language)
    return [(key, language, int(count)) for key, language, count in await connection.execute(query)]


async def _answers(connection: AsyncConnection, messages: ColumnElement[bool]) -> Counts:
    day = func.date(MessageLog.created_at)
    query = (select(day, MessageLog.key, User.language, func.count())
             .join(User, User.id == MessageLog.user_id)
             .where(messages, MessageLog.direction == "out", MessageLog.key.like(f"{ENTRY_KEY}%"))
             .group_by(day, MessageLog.key, User.language))
    counts: Counts = Counter()
    for when, key, language, count in await connection.execute(query):
        counts[(_day(when), ANSWER, key.removeprefix(ENTRY_KEY), language or UNKNOWN)] += count
    return counts


async def _cases(connection: AsyncConnection, cases: ColumnElement[bool]) -> Counts:
    query = select(Case.trigger, Case.language, Case.opened_at, Case.taken_at).where(cases)
    counts: Counts = Counter()
    for trigger, language, opened_at, taken_at in await connection.execute(query):
        day = _day(opened_at)
        counts[(day, CASE, trigger, language)] += 1
        if taken_at is not None:
            minutes = round((taken_at.replace(tzinfo=None) - opened_at.replace(tzinfo=None)).total_seconds() / 60)
            counts[(day, CASE_TAKEN, str(minutes), language)] += 1
    return counts


def _day(value: Any) -> date:
    """A day as SQLite (text) or PostgreSQL (a date or a timestamp) gives it back."""
    return value if type(value) is date else date.fromisoformat(str(value)[:10])
