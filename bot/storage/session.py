"""Her unit of work: everything stored about one woman, read and written inside one locked transaction
(her state, message log, records, feedback, her cases and what is relayed, /forget)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from bot import redact
from bot.storage import cases, tallies
from bot.storage.cases import CaseRow
from bot.storage.models import (
    Case,
    ChatMessage,
    ConversationState,
    Feedback,
    Inbox,
    MessageLog,
    Outbox,
    ProcessedMessage,
    Record,
    Unanswered,
    User,
)

FORGET_BATCH = 500  # her messages per statement when /forget looks for her unanswered questions


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
        self._wake = False
        self.woke = 0  # her outbox items made due by her message (see wake_waiting), once committed

    async def mark_processed(self, channel: str, message_id: str) -> bool:
        """Record an inbound message id; False when it was handled before."""
        statement = insert_for(self._connection, ProcessedMessage).values(
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

    async def take_waiting(self) -> list[cases.OutboxItem]:
        """Everything the outbox holds for her, handed over once: for a channel that delivers it in its
        reply to her assistant (Rasa) rather than from the outbox."""
        return await cases.take(self._connection, self.user.channel, self.user.channel_ref)

    def remember_chat_message(self, message_id: str) -> None:
        """The id (never the text) of her message in her chat, for /clear; stored with the rest."""
        self._chat_messages.append(message_id)

    def wake_waiting(self) -> None:
        """She wrote: her outbox items that wait for her (a closed WhatsApp window) are due again, in
        this unit of work rather than a write of its own."""
        self._wake = True

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
        if self._wake:
            self.woke = await cases.wake(self._connection, self.user.channel, self.user.channel_ref)
        if self._chat_messages:
            await self._connection.execute(insert(ChatMessage), [{"user_id": self.user.id, "message_id": m, "created_at": stamp}
                                                                 for m in self._chat_messages])
        await self._connection.execute(
            update(User).where(User.id == self.user.id).values(
                language=self.user.language, consent_at=self.user.consent_at, last_seen=stamp, active=True)  # she wrote: reachable
        )
        data = json.dumps(self.state, ensure_ascii=False, sort_keys=True)
        if data != self._saved_state:
            statement = insert_for(self._connection, ConversationState).values(user_id=self.user.id, data=data, updated_at=stamp)
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


def insert_for(connection: AsyncConnection, model: type) -> Any:
    """INSERT with ON CONFLICT support for the dialect in use."""
    return (sqlite_insert if connection.dialect.name == "sqlite" else pg_insert)(model)
