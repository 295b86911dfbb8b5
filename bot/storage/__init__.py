"""Storage: SQLAlchemy 2 async, SQLite by default, PostgreSQL by URL."""

from bot.storage.repository import Store, UserSession

__all__ = ["Store", "UserSession"]
