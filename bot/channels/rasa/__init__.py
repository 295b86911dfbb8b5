"""The Rasa channel: Wegwijs' knowledge, sign-up form and desk as rasa-sdk custom actions (`wegwijs rasa-actions`)."""

from bot.channels.rasa.actions import Host, actions
from bot.channels.rasa.server import running, serve

__all__ = ["Host", "actions", "running", "serve"]
