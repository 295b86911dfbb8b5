"""`wegwijs export signups`: what flows stored, as CSV or JSON for coordinators."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, time, timezone
from typing import Any

from sqlalchemy import select

from bot.storage import Store
from bot.storage.models import Record, User


async def records(store: Store, kind: str, since: date | None = None) -> list[dict[str, Any]]:
    """One dict per record: id, created_at, flow, language, channel, woman (internal number), answers."""
    query = (select(Record.id, Record.created_at, Record.flow, Record.language, Record.user_id, Record.answers, User.channel)
             .join(User, User.id == Record.user_id).where(Record.kind == kind).order_by(Record.id))
    if since is not None:
        query = query.where(Record.created_at >= datetime.combine(since, time.min, tzinfo=timezone.utc))
    async with store.engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    found = []
    for row in rows:
        created = row.created_at if isinstance(row.created_at, datetime) else datetime.fromisoformat(str(row.created_at))
        found.append({"id": row.id, "created_at": created.replace(microsecond=0).isoformat(), "flow": row.flow,
                      "language": row.language, "channel": row.channel, "woman": row.user_id, **json.loads(row.answers)})
    return found


def render(items: list[dict[str, Any]], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(items, ensure_ascii=False, indent=2)
    columns = list(dict.fromkeys(key for item in items for key in item))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns or ["id"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(items)
    return out.getvalue()
