"""`wegwijs export signups`: what flows stored, as CSV (for Excel) or JSON for coordinators."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import date, datetime, time, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.flows import Flow
from bot.storage import Record, Store, User

BRUSSELS = ZoneInfo("Europe/Brussels")  # config.yaml's desk.office_hours.time_zone unless it says otherwise
COLUMNS = ("id", "created_at", "flow", "language", "channel", "woman")  # before the answers of the flow
EXCEL_ENCODING = "utf-8-sig"  # the byte-order mark tells Excel the file is UTF-8: Arabic, Tigrinya and accents show right


async def records(store: Store, kind: str, since: date | None = None, zone: tzinfo = BRUSSELS) -> list[dict[str, Any]]:
    """One dict per record: id, created_at (in ``zone``, with its offset), flow, language, channel,
    woman (internal number), answers. ``since`` is a day in ``zone``."""
    query = (select(Record.id, Record.created_at, Record.flow, Record.language, Record.user_id, Record.answers, User.channel)
             .join(User, User.id == Record.user_id).where(Record.kind == kind).order_by(Record.id))
    if since is not None:
        query = query.where(Record.created_at >= datetime.combine(since, time.min, tzinfo=zone))
    async with store.engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    return [{"id": row.id, "created_at": _local(row.created_at, zone), "flow": row.flow, "language": row.language,
             "channel": row.channel, "woman": row.user_id, **json.loads(row.answers)} for row in rows]


def columns(kind: str, flows: Iterable[Flow], items: list[dict[str, Any]]) -> list[str]:
    """The header: the fixed columns, what the flows that store ``kind`` save (in step order), then
    any other answer an older version of a flow saved. Known even when nothing was stored yet."""
    saved = [step.save for flow in flows if flow.store == kind for step in flow.steps if step.save]
    return list(dict.fromkeys([*COLUMNS, *saved, *(key for item in items for key in item)]))


def render_csv(items: list[dict[str, Any]], header: list[str], delimiter: str = ",") -> bytes:
    """CSV in UTF-8 with a byte-order mark, a header row even without records, Windows line ends."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, delimiter=delimiter, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(items)
    return out.getvalue().encode(EXCEL_ENCODING)


def render_json(items: list[dict[str, Any]]) -> str:
    return json.dumps(items, ensure_ascii=False, indent=2)


def _local(value: Any, zone: tzinfo) -> str:
    """2026-12-01T17:05:00+01:00: the stored UTC time where the coordinators are."""
    stamp = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if stamp.tzinfo is None:  # SQLite gives UTC back without its zone
        stamp = stamp.replace(tzinfo=ZoneInfo("UTC"))
    return stamp.astimezone(zone).replace(microsecond=0).isoformat()
