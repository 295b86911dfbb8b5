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

from bot.contentfiles import present, read_text
from bot.errors import ContentError
from bot.flows import BUTTON_NOTE, extract_flow, flow_files
from bot.language import CATALOG, DRAFT_MARK, TEMPLATE, read_catalog

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
    return read(locales / source / CATALOG, source)


def read(path: Path, locale: str | None = None) -> Catalog:
    """A catalog file, with the bot's checks first (encoding, a cut-off file): a broken one is a ContentError."""
    read_catalog(path)
    return read_po(read_text(path).splitlines(), locale=locale)


def extract(locales: Path, flows: Path | None = None, source: str = "en") -> Catalog:
    """The template translators start from: every interface sentence (its key as context) and
    every prompt and button label of the flows (the English text is the key)."""
    english = source_catalog(locales, source)
    template = Catalog(project="wegwijs", fuzzy=False)
    for message in english:
        if message.id:
            template.add(message.string, context=str(message.id), auto_comments=message.auto_comments)
    for path in flow_files(flows) if flows and flows.is_dir() else []:
        try:
            handle = path.open("rb")
        except OSError:
            continue  # `wegwijs check` reports unreadable flow files
        with handle:
            for line, _, text, comments in extract_flow(handle, (), (), {"flow_id": path.stem}):
                existing = template.get(text)
                if existing is None:
                    template.add(text, locations=[(f"{flows.name}/{path.name}", line)], auto_comments=comments)
                else:
                    existing.locations.append((f"{flows.name}/{path.name}", line))
                    existing.auto_comments.extend(c for c in comments if c not in existing.auto_comments)
    return template


def write_template(locales: Path, template: Catalog) -> bool:
    """Write locales/messages.pot when its messages changed (so its date changes only then)."""
    path = locales / TEMPLATE
    try:
        if path.exists() and _signature(read(path)) == _signature(template):
            return False
    except ContentError:
        pass  # a broken template is simply written again
    _write(path, template)
    return True


def _signature(catalog: Catalog) -> list[tuple[object, ...]]:
    return [(m.id, m.context, tuple(m.auto_comments), tuple(m.locations)) for m in catalog if m.id]


def update(locales: Path, languages: list[str], template: Catalog, source: str = "en") -> list[Path]:
    """Merge the template into each language's catalog; new sentences arrive untranslated."""
    written = []
    for language in languages:
        if language == source:
            continue
        path = locales / language / CATALOG
        if present(path):
            catalog = read(path, language)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=language, project="wegwijs", fuzzy=False)
        _carry_over_changed_english(catalog, template)
        catalog.update(template, no_fuzzy_matching=True, update_creation_date=False)
        _write(path, catalog)
        written.append(path)
    return written


def _carry_over_changed_english(catalog: Catalog, template: Catalog) -> None:
    """When the English sentence behind a key changed, keep the translation but mark it fuzzy,
    so the translator sees the old and the new English and checks it (gettext's usual way)."""
    english_by_key = {str(message.context): message.id for message in template if message.id and message.context}
    for message in list(catalog):
        new_id = english_by_key.get(str(message.context)) if message.context else None
        if new_id is None or message.id == new_id:
            continue
        catalog.delete(message.id, context=message.context)
        catalog.add(new_id, message.string, context=message.context, flags=[*message.flags, "fuzzy"],
                    auto_comments=message.auto_comments, user_comments=message.user_comments, previous_id=message.id)


def compile_mo(locales: Path, languages: list[str]) -> list[Path]:
    """Write .mo files for tools that want them (the bot itself reads the .po files)."""
    written = []
    for language in languages:
        path = locales / language / CATALOG
        if present(path):
            catalog = read(path, language)
            target = path.with_suffix(".mo")
            with target.open("wb") as handle:
                write_mo(handle, catalog)
            written.append(target)
    return written


def problems(locales: Path, languages: list[str], template: Catalog, source: str = "en") -> list[Problem]:
    """Missing or fuzzy translations, placeholders that differ from English, buttons over 20 characters."""
    found: list[Problem] = []
    for language in languages:
        if language == source:
            continue
        path = locales / language / CATALOG
        if not path.exists():
            found.append(Problem(str(path), "*", "catalog is missing: run `wegwijs i18n` to create it"))
            continue
        catalog = read(path, language)
        for wanted in template:
            if not wanted.id:
                continue
            key = str(wanted.context or wanted.id)
            message = catalog.get(wanted.id, context=wanted.context)
            if message is None or not message.string:
                found.append(Problem(str(path), key, "is not translated"))
                continue
            if message.fuzzy:
                found.append(Problem(str(path), key, "is marked fuzzy: the English changed; check the translation and remove the flag"))
            if sorted(PLACEHOLDER.findall(str(message.string))) != sorted(PLACEHOLDER.findall(str(wanted.id))):
                found.append(Problem(str(path), key, f"must keep the placeholders {sorted(set(PLACEHOLDER.findall(str(wanted.id))))} exactly"))
            is_button = key.startswith(BUTTON_PREFIX) or BUTTON_NOTE in wanted.auto_comments
            if is_button and len(str(message.string)) > BUTTON_LIMIT:
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
