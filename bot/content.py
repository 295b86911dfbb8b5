"""Everything a conversation reads from files: catalogs and knowledge, loaded as one unit."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Config
from bot.i18n import Catalogs
from bot.knowledge import KnowledgeBase
from bot.langdetect import LanguageDetector


@dataclass(frozen=True)
class Content:
    catalogs: Catalogs
    knowledge: KnowledgeBase
    detector: LanguageDetector

    @classmethod
    def load(cls, config: Config) -> Content:
        settings = config.settings
        catalogs = Catalogs.load(config.locales_dir, settings.languages, settings.fallbacks, settings.default_language)
        return cls(catalogs, KnowledgeBase.load(config.knowledge_dir), LanguageDetector(settings.languages))
