"""Translator workflow: extract -> update -> compile, and the checks a catalog must pass.

The English catalog (locales/en) is the source: msgid = a stable key, msgstr = the English text.
Translators get standard bilingual catalogs: msgctxt = the key, msgid = the English text,
msgstr = the translation, so Poedit or Weblate show them the English sentence, and a changed
English sentence comes back to them marked fuzzy."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from bot.i18n import CATALOG, DRAFT_MARK

TEMPLATE = "messages.pot"
PLACEHOLDER = re.compile(r"{(\w+)}")
BUTTON_PREFIX = "button-"
BUTTON_LIMIT = 20  # WhatsApp reply buttons


@dataclass(frozen=True)
class Problem:
    file: str
    key: str
    hint: str

    def __str__(self) -> str:
        return f"{self.file}: '{self.key}' {self.hint}"


def source_catalog(locales: Path, source: str = "en") -> Catalog:
    with (locales / source / CATALOG).open("rb") as handle:
        return read_po(handle, locale=source)


def extract(locales: Path, source: str = "en") -> Catalog:
    """The template translators start from: every English sentence with its key as context."""
    english = source_catalog(locales, source)
    template = Catalog(project="wegwijs", fuzzy=False)
    for message in english:
        if message.id:
            template.add(message.string, context=str(message.id), auto_comments=message.auto_comments)
    _write(locales / TEMPLATE, template)
    return template


def update(locales: Path, languages: list[str], template: Catalog, source: str = "en") -> list[Path]:
    """Merge the template into each language's catalog; new sentences arrive untranslated."""
    written = []
    for language in languages:
        if language == source:
            continue
        path = locales / language / CATALOG
        if path.exists():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=language)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=language, project="wegwijs", fuzzy=False)
        catalog.update(template, no_fuzzy_matching=True)
        _write(path, catalog)
        written.append(path)
    return written


def compile_mo(locales: Path, languages: list[str]) -> list[Path]:
    """Write .mo files for tools that want them (the bot itself reads the .po files)."""
    written = []
    for language in languages:
        path = locales / language / CATALOG
        if path.exists():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=language)
            target = path.with_suffix(".mo")
            with target.open("wb") as handle:
                write_mo(handle, catalog)
            written.append(target)
    return written


def problems(locales: Path, languages: list[str], source: str = "en") -> list[Problem]:
    """Missing or fuzzy translations, placeholders that differ from English, buttons over 20 characters."""
    english = {str(message.id): str(message.string) for message in source_catalog(locales, source) if message.id}
    found: list[Problem] = []
    for language in languages:
        path = locales / language / CATALOG
        if not path.exists():
            found.append(Problem(str(path), "*", "catalog is missing: run `wegwijs i18n` to create it"))
            continue
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=language)
        messages = {(str(m.context) if m.context else str(m.id)): m for m in catalog if m.id}
        for key, text in english.items():
            message = messages.get(key)
            if message is None or not message.string:
                found.append(Problem(str(path), key, "is not translated"))
                continue
            if message.fuzzy:
                found.append(Problem(str(path), key, "is marked fuzzy: the English changed; check the translation and remove the flag"))
            if sorted(PLACEHOLDER.findall(str(message.string))) != sorted(PLACEHOLDER.findall(text)):
                found.append(Problem(str(path), key, f"must keep the placeholders {sorted(set(PLACEHOLDER.findall(text)))} exactly"))
            if key.startswith(BUTTON_PREFIX) and len(str(message.string)) > BUTTON_LIMIT:
                found.append(Problem(str(path), key, f"is {len(str(message.string))} characters; buttons allow {BUTTON_LIMIT}"))
    return found


def draft_counts(locales: Path, languages: list[str]) -> dict[str, tuple[int, int]]:
    """Per language: (translated, of which drafts no native speaker has checked)."""
    counts = {}
    for language in languages:
        path = locales / language / CATALOG
        if not path.exists():
            counts[language] = (0, 0)
            continue
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=language)
        translated = [m for m in catalog if m.id and m.string and not m.fuzzy]
        drafts = [m for m in translated if any(comment.startswith(DRAFT_MARK) for comment in m.user_comments)]
        counts[language] = (len(translated), len(drafts))
    return counts


def _write(path: Path, catalog: Catalog) -> None:
    with path.open("wb") as handle:
        write_po(handle, catalog, width=100, ignore_obsolete=True, include_previous=True)
