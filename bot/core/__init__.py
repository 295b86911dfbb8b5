"""What Wegwijs decides for one message: the conversation, its router and stages, and the content it answers from."""

from bot.core.content import Content, shared_embedder
from bot.core.conversation import Conversation
from bot.core.reloader import ContentWatcher

__all__ = ["Content", "ContentWatcher", "Conversation", "shared_embedder"]
