"""Storage: SQLAlchemy 2 async (SQLite by default, PostgreSQL by URL): her data, cases and outbox, inbox, tallies, migrations."""

from bot.storage import tallies
from bot.storage.cases import ACTIVE, CLOSED, NOT_CLOSED, OPEN, RETRY_AFTER, WAITING, CaseRow, OutboxItem
from bot.storage.engine import is_sqlite
from bot.storage.inbox import GIVE_UP, InboxItem
from bot.storage.migrate import current_revision
from bot.storage.models import Feedback, MessageLog, Record, Unanswered, User
from bot.storage.repository import Store, UserSession

__all__ = ["ACTIVE", "CLOSED", "GIVE_UP", "NOT_CLOSED", "OPEN", "RETRY_AFTER", "WAITING", "CaseRow", "Feedback", "InboxItem", "MessageLog",
           "OutboxItem", "Record", "Store", "Unanswered", "User", "UserSession", "current_revision", "is_sqlite", "tallies"]
