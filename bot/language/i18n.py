"""Translations from the gettext catalogs in locales/, language names and fallback chains."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError, dates, numbers
from babel.messages.catalog import Message
from babel.messages.pofile import PoFileError, read_po

from bot.contentfiles import present, read_text
from bot.errors import ContentError

CATALOG = "LC_MESSAGES/messages.po"
TEMPLATE = "messages.pot"  # every key, written by `wegwijs i18n extract`
STRING_LINE = re.compile(r'^(?:msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?)\b|^"')
CLOSED_STRING = re.compile(r'"(?:[^"\\]|\\.)*"\s*$')
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
        messages = {lang: read_catalog(locales_dir / lang / CATALOG) for lang in languages if present(locales_dir / lang / CATALOG)}
        if default not in messages:
            raise ContentError(str(locales_dir / default / CATALOG), None, f"the default language '{default}' has no catalog; create it with `wegwijs i18n update`")
        if present(locales_dir / TEMPLATE):
            _check_complete(locales_dir / default / CATALOG, messages[default], read_catalog(locales_dir / TEMPLATE))
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
    """key -> text of a catalog (of the template: key -> English); a ContentError with the line when it is broken."""
    lines = read_text(path).splitlines()
    for number, line in enumerate(lines, 1):
        if STRING_LINE.match(line.strip()) and not CLOSED_STRING.search(line.strip()):
            raise ContentError(str(path), number, "this line's text is not closed with '\"' (is the file cut off? a save that did not finish?): "
                                                  "restore the end of the file, or end the line with '\"'")
    try:
        catalog = read_po(lines, abort_invalid=True)
    except PoFileError as exc:
        raise ContentError(str(path), getattr(exc, "lineno", None), f"cannot be read as a gettext catalog: {exc}") from None
    if path.name == TEMPLATE:
        return {str(message.context): str(message.id) for message in catalog if message.id and message.context}
    return {_key(message): str(message.string) for message in catalog if message.id and message.string and not message.fuzzy}


def _check_complete(path: Path, messages: dict[str, str], template: dict[str, str]) -> None:
    """The default language must have every key, else some sentence has no text in any language."""
    missing = [key for key in template if key not in messages]
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise ContentError(str(path), None, f"has no text for '{missing[0]}'{more} (listed in {TEMPLATE}): "
                                            "if the file was cut off, restore it; if you removed them on purpose, run `wegwijs i18n`")


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
