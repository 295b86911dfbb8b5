"""Everything a conversation reads from files: catalogs, knowledge and its retrieval index."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from bot.config import Config
from bot.embedder import Embedder, load_embedder
from bot.flows import Flow, load_flows
from bot.i18n import Catalogs
from bot.knowledge import KnowledgeBase
from bot.langdetect import LanguageDetector
from bot.places import Places, load_places
from bot.replies import Replies, load_replies
from bot.retrieval import Retriever


@dataclass(frozen=True)
class Content:
    catalogs: Catalogs
    knowledge: KnowledgeBase
    detector: LanguageDetector
    retriever: Retriever
    flows: dict[str, Flow]
    places: Places
    replies: Replies

    @classmethod
    def load(cls, config: Config) -> Content:
        settings = config.settings
        catalogs = Catalogs.load(config.locales_dir, settings.languages, settings.fallbacks, settings.default_language)
        knowledge = KnowledgeBase.load(config.knowledge_dir)
        cache = config.path(settings.paths.cache) / "embeddings.npz"
        flows = load_flows(config.path(settings.paths.flows))
        retriever = Retriever(knowledge, shared_embedder(), cache, flows={flow.id: flow.triggers for flow in flows.values()})
        places = load_places(config.knowledge_dir)
        replies = load_replies(config.knowledge_dir, settings.languages)
        return cls(catalogs, knowledge, LanguageDetector(settings.languages), retriever, flows, places, replies)


@lru_cache(maxsize=1)
def shared_embedder() -> Embedder | None:
    """One model per process, kept across content reloads."""
    return load_embedder()
