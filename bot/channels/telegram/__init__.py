"""Telegram: the women's channel and the counsellors' desk group, our update receiver, HTML rendering; the module `run` starts it."""

import os

# Opt in to python-telegram-bot's coming behaviour (time periods as timedelta) instead of a deprecation warning on every
# RetryAfter; set here, before any module of this package imports the library.
os.environ.setdefault("PTB_TIMEDELTA", "true")

__all__ = ["run"]  # a module, imported when Telegram runs (python-telegram-bot is not loaded for `wegwijs chat`)
