"""knowledge/replies/: loading the counsellors' canned replies, and mistakes named with the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import ContentError
from bot.desk.replies import load_replies

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = ["nl", "en", "fr", "ar", "tr", "fa", "ps", "ti", "so", "uk", "ru"]


def write(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "replies"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_repository_replies_exist_in_every_language() -> None:
    replies = load_replies(ROOT / "knowledge", LANGUAGES)
    assert replies.keys() == ["closing", "one-moment", "send-photo", "short-sentences", "welcome"]
    assert all(set(replies.by_key[key]) == set(LANGUAGES) for key in replies.keys())


def test_find_follows_her_fallback_chain(tmp_path: Path) -> None:
    write(tmp_path, "leaflet.en.md", "Here is the leaflet.")
    write(tmp_path, "leaflet.fa.md", "---\ntitle: بروشور\nreviewed: false\n---\nاین بروشور است.\n")
    replies = load_replies(tmp_path, LANGUAGES)
    assert replies.find("leaflet", ["ps", "fa", "en"]) == ("این بروشور است.", "fa")
    assert replies.find("LEAFLET", ["nl", "en"]) == ("Here is the leaflet.", "en")
    assert replies.find("nothing", ["en"]) is None
    assert replies.by_key["leaflet"]["fa"].title == "بروشور" and replies.by_key["leaflet"]["en"].title == "leaflet"


@pytest.mark.parametrize(("name", "text", "message"), [
    ("Welcome.EN.md", "Hi", "name must be <key>.<language>.md"),
    ("welcome.de.md", "Hallo", "'de' is not one of the languages in config.yaml"),
    ("welcome.en.md", "---\ntitle: x\n---\n  \n", "has no reply text"),
    ("welcome.en.md", "---\ntitle: x\nHello", "front matter is not closed"),
    ("welcome.en.md", "---\ntitle: [x\n---\nHello", "front matter is not valid YAML"),
])
def test_mistakes_name_the_file_and_the_fix(tmp_path: Path, name: str, text: str, message: str) -> None:
    write(tmp_path, name, text)
    with pytest.raises(ContentError) as error:
        load_replies(tmp_path, LANGUAGES)
    assert name in str(error.value) and message in str(error.value)
