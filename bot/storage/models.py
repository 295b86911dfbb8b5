"""SQLAlchemy tables: users, conversation state, message log, processed ids, records, cases, outbox, inbox, tallies."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    """A woman on one channel. ``channel_ref`` is the channel's id for her, never shown to counsellors."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("channel", "channel_ref", name="uq_users_channel_ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(32))
    channel_ref: Mapped[str] = mapped_column(String(128))
    language: Mapped[str | None] = mapped_column(String(8))
    consent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    active: Mapped[bool] = mapped_column(default=True)


class ConversationState(Base):
    """Where a woman is in the conversation (pending confirmation, flow step …) as JSON."""

    __tablename__ = "conversation_states"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    data: Mapped[str] = mapped_column(Text, default="{}")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MessageLog(Base):
    """Messages in both directions, kept for the retention period for counsellor context."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(3))  # "in" or "out"
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text, default="")
    key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ProcessedMessage(Base):
    """Inbound message ids already handled, so a redelivered message is answered once."""

    __tablename__ = "processed_messages"

    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Unanswered(Base):
    """A question the bot could not answer, kept for coordinators. Not linked to the woman."""

    __tablename__ = "unanswered"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    language: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    candidates: Mapped[str] = mapped_column(Text)  # JSON list of [entry, score]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class Feedback(Base):
    """Helpful / not helpful on an answer. Not linked to the woman."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry: Mapped[str] = mapped_column(String(128), index=True)
    language: Mapped[str] = mapped_column(String(8))
    helpful: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Record(Base):
    """What a flow stored with her consent (e.g. a job-shadowing sign-up). Deleted with her."""

    __tablename__ = "records"
    __table_args__ = (Index("ix_records_kind_created", "kind", "created_at"),)  # as migration 0003 made it

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    flow: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    answers: Mapped[str] = mapped_column(Text)  # JSON
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ChatMessage(Base):
    """The id of a message in her chat (hers or the bot's), kept 48 hours so /clear can delete it
    from her phone. Never its text."""

    __tablename__ = "chat_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Case(Base):
    """A woman handed to the counsellors' desk: open -> waiting -> active (with a counsellor) -> closed.
    Deleted with her. ``desk_thread`` is the desk channel's id for the case's topic, ``desk_card`` the ids of
    its card's messages there (so that /forget can replace the card)."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status_opened", "status", "opened_at"),
        # at most one case per woman that is not closed (also across processes)
        Index("uq_cases_one_open", "user_id", unique=True, sqlite_where=text("status != 'closed'"),
              postgresql_where=text("status != 'closed'")),
        {"sqlite_autoincrement": True},  # a case number is never given twice, also after /forget deleted the highest
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8))
    topic: Mapped[str | None] = mapped_column(String(128))
    trigger: Mapped[str] = mapped_column(String(16))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    counsellor: Mapped[str | None] = mapped_column(String(40))
    desk_thread: Mapped[str | None] = mapped_column(String(64))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    taken_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str | None] = mapped_column(String(64))
    emergency: Mapped[str | None] = mapped_column(String(32))          # the kind, for an urgent case
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # last "still waiting" to the desk
    desk_card: Mapped[str | None] = mapped_column(Text)  # the desk's message ids of its card (comma-separated parts)


class Outbox(Base):
    """A message stored before it is relayed (to her, or to the desk), sent by the channel named in
    ``channel`` and retried until Telegram (or another channel) took it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "channel", "sent_at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(128))
    body: Mapped[str] = mapped_column(Text)  # JSON
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivery: Mapped[str | None] = mapped_column(String(16))  # the channel's latest status: sent, delivered, read, failed


class OutboxReceipt(Base):
    """The channel's id of a message an outbox item was sent as (a WhatsApp wamid), so that its status
    webhook finds the item; kept as long as the item (a day once sent)."""

    __tablename__ = "outbox_receipts"

    provider_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"), index=True)


class Inbox(Base):
    """An update as a channel delivered it, stored before the channel is told it arrived (HTTP 200 to
    a webhook, the next polling offset), handled from here, and then emptied: ``body`` is cleared
    once handled, the row stays a day so a redelivered update is recognised. ``chat`` is the
    channel's id of her chat, so /forget can delete what is still waiting."""

    __tablename__ = "inbox"
    __table_args__ = (UniqueConstraint("channel", "update_id", name="uq_inbox_update"),
                      Index("ix_inbox_pending", "handled_at", "id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(32))
    update_id: Mapped[str] = mapped_column(String(64))
    chat: Mapped[str | None] = mapped_column(String(128), index=True)
    body: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Tally(Base):
    """Counts that outlive the women they count: /forget and the retention purge fold what the report
    shows (answers per entry and language; cases per trigger and language, counted as closed) in here
    just before they delete the rows. No user, no text, no chat; a day at most."""

    __tablename__ = "tallies"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    what: Mapped[str] = mapped_column(String(16), primary_key=True)  # "answer", "case" or "case-taken"
    key: Mapped[str] = mapped_column(String(128), primary_key=True)   # the entry; how the case started; minutes to Take over
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
