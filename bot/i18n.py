"""Translations from the gettext catalogs in locales/, language names and fallback chains."""

from __future__ import annotations

import functools

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError, dates, numbers
from babel.messages.catalog import Message
from babel.messages.pofile import PoFileError, read_po

from bot.errors import ContentError

CATALOG = "LC_MESSAGES/messages.po"
DRAFT_MARK = "draft"  # translator comment on entries no native speaker has checked yet


@dataclass(frozen=True)
class Text:
    """A translated message and the language it was actually found in."""

    text: str
    language: str
    fallback: bool


class Catalogs:
    """All catalogs in memory, read straight from the .po files (so nothing can be stale)."""

    def __init__(self, messages: dict[str, dict[str, str]], languages: list[str], fallbacks: dict[str, list[str]], default: str) -> None:
        self._messages = messages
        self.languages = languages
        self._fallbacks = fallbacks
        self.default = default

    @classmethod
    def load(cls, locales_dir: Path, languages: list[str], fallbacks: dict[str, list[str]], default: str) -> Catalogs:
        messages = {lang: read_catalog(locales_dir / lang / CATALOG) for lang in languages if (locales_dir / lang / CATALOG).exists()}
        if default not in messages:
            raise ContentError(str(locales_dir / default / CATALOG), None, f"the default language '{default}' has no catalog; create it with `wegwijs i18n update`")
        return cls(messages, languages, fallbacks, default)

    def chain(self, language: str) -> list[str]:
        """The languages to try, in order, for a woman who chose ``language``."""
        order = [language, *self._fallbacks.get(language, []), self.default]
        return list(dict.fromkeys(code for code in order if code in self.languages))

    def get(self, language: str, key: str, /, **params: object) -> Text:
        for code in self.chain(language):
            found = self._messages.get(code, {}).get(key)
            if found:
                return Text(_format(found, params, key), code, code != language)
        raise KeyError(f"message '{key}' is in no catalog of the chain {self.chain(language)}")

    def translate(self, language: str, source: str, /, **params: object) -> Text:
        """A flow sentence (its English text is the key): the first translation in her chain, else English."""
        for code in self.chain(language):
            found = self._messages.get(code, {}).get(source)
            if found:
                return Text(_format(found, params, source), code, code != language)
        return Text(_format(source, params, source), "en", language != "en")


def read_catalog(path: Path) -> dict[str, str]:
    try:
        with path.open("rb") as handle:
            catalog = read_po(handle, abort_invalid=True)
    except (PoFileError, UnicodeDecodeError, OSError) as exc:
        raise ContentError(str(path), getattr(exc, "lineno", None), f"cannot be read as a gettext catalog: {exc}") from None
    return {_key(message): str(message.string) for message in catalog if message.id and message.string and not message.fuzzy}


def _key(message: Message) -> str:
    """The English catalog is keyed by msgid; translations carry the key as msgctxt."""
    return str(message.context) if message.context else str(message.id)


def _format(template: str, params: dict[str, object], key: str) -> str:
    if not params:
        return template
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        raise ContentError("locales", None, f"message '{key}' has a placeholder that does not match {sorted(params)}") from None


def native_name(code: str) -> str:
    """The language's own name for itself (العربية, ትግርኛ …), capitalised as its speakers do."""
    try:
        name = Locale.parse(code).get_display_name(code) or code
    except (UnknownLocaleError, ValueError):
        return code
    return name[:1].upper() + name[1:]


@functools.lru_cache(maxsize=64)
def is_rtl(code: str) -> bool:
    try:
        return Locale.parse(code).character_order == "right-to-left"
    except (UnknownLocaleError, ValueError):
        return False


TIME_ZONE = "Europe/Brussels"


def format_datetime(value: datetime, language: str, fmt: str = "full") -> str:
    """A moment in her language and in Belgian time.

    fmt: "full" ('maandag 23 november 2026 om 09:00'), "day" ('maandag 23 november 2026'), "time" ('09:00')."""
    local = value.astimezone(ZoneInfo(TIME_ZONE)) if value.tzinfo else value.replace(tzinfo=ZoneInfo(TIME_ZONE))
    locale = _locale(language)
    time = dates.format_time(local, "short", locale=locale)
    if fmt == "time":
        return time
    day = dates.format_date(local, "full", locale=locale)
    if fmt == "day":
        return day
    pattern = str(locale.datetime_formats.get("full", "{1} {0}")).replace("'", "")
    return pattern.format(time, day)


def format_number(value: float | int, language: str) -> str:
    return numbers.format_decimal(value, locale=_locale(language))


def locale_for(language: str) -> Locale:
    """Babel's locale for a language code (English when Babel does not know it)."""
    return _locale(language)


def _locale(language: str) -> Locale:
    try:
        return Locale.parse(language)
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")
