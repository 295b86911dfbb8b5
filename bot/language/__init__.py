"""Languages: gettext catalogs and fallback chains, which language a text is in, folding, right-to-left text."""

from bot.language.bidi import outgoing
from bot.language.detection import LanguageDetector
from bot.language.fold import REPEATS, letters, normalise, tokens
from bot.language.i18n import CATALOG, DRAFT_MARK, TEMPLATE, Catalogs, locale_for, native_name, read_catalog

__all__ = ["CATALOG", "DRAFT_MARK", "REPEATS", "TEMPLATE", "Catalogs", "LanguageDetector", "letters", "locale_for", "native_name",
           "normalise", "outgoing", "read_catalog", "tokens"]
