"""Counsellors' canned replies: knowledge/replies/<key>.<lang>.md, sent with `/r <key>` in her language."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.contentfiles import content_files
from bot.errors import ContentError
from bot.knowledge import ENTRY_FILE, REPLIES_DIR, read_front_matter


@dataclass(frozen=True)
class Reply:
    text: str
    title: str
    reviewed: bool


@dataclass(frozen=True)
class Replies:
    by_key: dict[str, dict[str, Reply]] = field(default_factory=dict)

    def keys(self) -> list[str]:
        return sorted(self.by_key)

    def find(self, key: str, languages: list[str]) -> tuple[str, str] | None:
        """(text, language): in the first of ``languages`` (her fallback chain) that has it."""
        versions = self.by_key.get(key.casefold(), {})
        return next(((versions[code].text, code) for code in languages if code in versions), None)


def load_replies(knowledge: Path, languages: list[str]) -> Replies:
    folder = knowledge / REPLIES_DIR
    found: dict[str, dict[str, Reply]] = {}
    for path in content_files(folder, "*.md") if folder.is_dir() else []:
        match = ENTRY_FILE.match(path.name)
        if not match:
            raise ContentError(str(path), None, "name must be <key>.<language>.md, e.g. welcome.ar.md (lower case, dashes)")
        if match["lang"] not in languages:
            raise ContentError(str(path), None, f"'{match['lang']}' is not one of the languages in config.yaml")
        found.setdefault(match["entry"], {})[match["lang"]] = load_reply(path)
    return Replies(found)


def load_reply(path: Path) -> Reply:
    meta, text = read_front_matter(path, required=False)
    if not text.strip():
        raise ContentError(str(path), None, "has no reply text")
    return Reply(text.strip(), str(meta.get("title") or path.name.split(".")[0]), meta.get("reviewed") is True)
