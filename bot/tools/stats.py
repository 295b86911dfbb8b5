"""`wegwijs stats`: how complete and how checked the content is, per language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.config import Config
from bot.core import Content
from bot.tools import catalogs


@dataclass(frozen=True)
class LanguageStats:
    language: str
    ui_translated: int
    ui_drafts: int
    entries_present: int
    entries_reviewed: int
    entries_stale: int


def collect(config: Config, content: Content, today: date | None = None) -> tuple[int, int, list[LanguageStats]]:
    today = today or date.today()
    languages = config.settings.languages
    ui_total = sum(1 for message in catalogs.extract(config.locales_dir, config.path(config.settings.paths.flows)) if message.id)
    entries = list(content.knowledge.entries.values())
    drafts = catalogs.draft_counts(config.locales_dir, languages)
    rows = []
    for language in languages:
        answers = [entry.answers[language] for entry in entries if language in entry.answers]
        translated, draft = drafts[language]
        if language == config.settings.default_language:
            translated, draft = ui_total, 0  # the source: interface catalog and flow files
        rows.append(LanguageStats(
            language, translated, draft, len(answers),
            sum(answer.reviewed for answer in answers),
            sum(answer.review_by is not None and answer.review_by < today for answer in answers),
        ))
    return ui_total, len(entries), rows


def render(ui_total: int, entry_total: int, rows: list[LanguageStats]) -> str:
    lines = [
        f"{'lang':<6}{'interface':>12}{'drafts':>8}{'entries':>12}{'reviewed':>10}{'stale':>7}",
    ]
    for row in rows:
        lines.append(f"{row.language:<6}{row.ui_translated:>7}/{ui_total:<4}{row.ui_drafts:>8}"
                     f"{row.entries_present:>7}/{entry_total:<4}{row.entries_reviewed:>10}{row.entries_stale:>7}")
    lines.append("drafts: interface texts no native speaker has checked yet (translator comment '# draft');")
    lines.append("reviewed: entries with 'reviewed: true'; stale: entries past their 'review_by' date.")
    return "\n".join(lines)
