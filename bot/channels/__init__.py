"""Channels: convert raw payloads to and from core messages; no wording, no decisions (Telegram: bot.channels.telegram)."""

from bot.channels.terminal import Terminal

__all__ = ["Terminal"]
