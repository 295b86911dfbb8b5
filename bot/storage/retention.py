"""Retention: what is deleted once its time is up (messages, processed ids, unanswered questions, chat
message ids, sent outbox rows, old inbox rows, women silent for too long); what the report counts of
them is folded into the anonymous tallies first."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage import inbox, tallies
from bot.storage.models import Case, ChatMessage, MessageLog, Outbox, ProcessedMessage, Unanswered, User

CHAT_MESSAGES_KEPT = timedelta(hours=48)  # Telegram lets a bot delete messages of the last 48 hours only
OUTBOX_KEPT = timedelta(days=1)           # relayed messages, once sent (the message log keeps what matters)


async def purge(connection: AsyncConnection, messages_days: int, inactive_user_days: int, at: datetime) -> dict[str, int]:
    """Delete messages and processed ids past retention, and women silent for too long (what the
    report counts of them folded into the anonymous tallies first)."""
    message_cutoff = at - timedelta(days=messages_days)
    user_cutoff = at - timedelta(days=inactive_user_days)
    leaving = select(User.id).where(User.last_seen < user_cutoff).scalar_subquery()
    await tallies.fold(connection, or_(MessageLog.created_at < message_cutoff, MessageLog.user_id.in_(leaving)),
                       Case.user_id.in_(leaving))
    messages = await connection.execute(delete(MessageLog).where(MessageLog.created_at < message_cutoff))
    processed = await connection.execute(delete(ProcessedMessage).where(ProcessedMessage.created_at < message_cutoff))
    await connection.execute(delete(Unanswered).where(Unanswered.created_at < message_cutoff))
    await connection.execute(delete(ChatMessage).where(ChatMessage.created_at < at - CHAT_MESSAGES_KEPT))
    await connection.execute(delete(Outbox).where(Outbox.sent_at < at - OUTBOX_KEPT))
    await inbox.purge(connection, at)
    users = await connection.execute(delete(User).where(User.last_seen < user_cutoff))
    return {"messages": messages.rowcount, "processed": processed.rowcount, "users": users.rowcount}
