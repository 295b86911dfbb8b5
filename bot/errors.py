"""Typed errors that name what is wrong and how to fix it."""

from __future__ import annotations


class WegwijsError(Exception):
    """Base class: every error here carries a message fit for a coordinator."""


class ConfigError(WegwijsError):
    """A config.yaml key or an environment variable is missing or wrong."""

    def __init__(self, key: str, hint: str) -> None:
        self.key = key
        self.hint = hint
        super().__init__(f"Config '{key}' {hint}")


class ContentError(WegwijsError):
    """A content file (knowledge/, flows/, locales/) is broken."""

    def __init__(self, file: str, line: int | None, hint: str) -> None:
        self.file = file
        self.line = line
        self.hint = hint
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {hint}")


class StorageError(WegwijsError):
    """The database cannot be opened or used."""
