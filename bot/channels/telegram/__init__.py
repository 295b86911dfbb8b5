"""Telegram: the women's channel and the counsellors' desk group, our update receiver, HTML rendering; `run` starts it."""

from bot.channels.telegram.run import run

__all__ = ["run"]
