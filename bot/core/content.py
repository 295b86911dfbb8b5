"""Everything a conversation reads from files: catalogs, knowledge and its retrieval index."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from bot.config import Config
from bot.contentfiles import check_readable
from bot.desk import Replies, load_replies
from bot.flows import Flow, Intents, load_flows, load_intents
from bot.knowledge import PLACES_FILE, Embedder, KnowledgeBase, Places, Retriever, load_embedder, load_places
from bot.language import Catalogs, LanguageDetector


@dataclass(frozen=True)
class Content:
    catalogs: Catalogs
    knowledge: KnowledgeBase
    detector: LanguageDetector
    retriever: Retriever
    flows: dict[str, Flow]
    places: Places
    replies: Replies
    intents: Intents = Intents()

    @classmethod
    def load(cls, config: Config, build: str = "now") -> Content:
        """Every content file, the quick ones first; any file that cannot be read or is wrong is a ContentError.
        ``build``: when the retrieval index is not on disk, "now" waits for it; "background" answers with
        lexical matching while a thread builds it (a bot's start); "never" leaves it (see Retriever)."""
        settings = config.settings
        catalogs = Catalogs.load(config.locales_dir, settings.languages, settings.fallbacks, settings.default_language)
        flows = load_flows(config.path(settings.paths.flows))
        intents = load_intents(config.path(settings.paths.flows))
        check_readable(config.knowledge_dir / PLACES_FILE)  # load_places reads it itself
        places = load_places(config.knowledge_dir)
        replies = load_replies(config.knowledge_dir, settings.languages)
        knowledge = KnowledgeBase.load(config.knowledge_dir)
        cache = config.path(settings.paths.cache) / "embeddings.npz"
        retriever = Retriever(knowledge, shared_embedder(), cache, flows={flow.id: flow.triggers for flow in flows.values()}, build=build)
        return cls(catalogs, knowledge, LanguageDetector(settings.languages, known_texts(knowledge)), retriever, flows, places, replies, intents)


def known_texts(knowledge: KnowledgeBase) -> dict[str, list[str]]:
    """Per language, what the bot knows in it: titles and questions of the answers, and small talk
    (a message made of these words is plausible in that language, see LanguageDetector)."""
    texts: dict[str, list[str]] = {}
    for entry in knowledge.entries.values():
        for code, answer in entry.answers.items():
            texts.setdefault(code, []).extend((answer.title, *answer.questions))
    for code in knowledge.smalltalk.languages:
        texts.setdefault(code, []).extend(knowledge.smalltalk.words(code))
    return texts


@lru_cache(maxsize=1)
def shared_embedder() -> Embedder | None:
    """One model per process, kept across content reloads."""
    return load_embedder()
