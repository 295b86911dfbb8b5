"""Channels: convert raw payloads to and from core messages; no wording, no decisions (bot.channels.telegram, .whatsapp; `server` is `wegwijs serve`)."""

from bot.channels.terminal import Terminal

__all__ = ["Terminal", "server"]  # server: imported when `wegwijs serve` runs
