"""The Rasa channel: Wegwijs' knowledge, sign-up form and desk as rasa-sdk custom actions (`wegwijs rasa-actions`)."""

from bot.channels.rasa.actions import Host, wegwijs_actions
from bot.channels.rasa.server import running, serve

__all__ = ["Host", "wegwijs_actions", "running", "serve"]
