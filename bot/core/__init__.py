"""What Wegwijs decides for one message: the conversation, its router and stages, the content it answers from, and `assistant`: the same for an assistant that runs the conversation itself (Rasa)."""

from bot.core import assistant
from bot.core.content import Content, shared_embedder
from bot.core.conversation import Conversation
from bot.core.flowrun import START_FORM
from bot.core.menus import HUMAN
from bot.core.reloader import ContentWatcher
from bot.core.turn import Standing

__all__ = ["HUMAN", "START_FORM", "Content", "ContentWatcher", "Conversation", "Standing", "assistant", "shared_embedder"]
