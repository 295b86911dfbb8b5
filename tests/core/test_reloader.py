"""Edited content is picked up without a restart; a broken edit keeps the last good content."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from bot.config import load_config
from bot.core.content import Content
from bot.core.conversation import Conversation
from bot.core.reloader import ContentWatcher, fingerprint
from bot.storage import Store
from tests.conftest import Chat
from tests.helpers import keys

ROOT = Path(__file__).resolve().parents[2]


async def settle(chat: Chat, watcher: ContentWatcher) -> None:
    """Let the watcher notice the change and finish reloading in its thread."""
    watcher._checked = 0.0
    await chat("/help")
    while watcher._reloading is not None:
        await asyncio.sleep(0.05)
        await chat("/help")


async def test_edited_and_broken_content_while_running(tmp_path: Path) -> None:
    for folder in ("knowledge", "locales"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    shutil.copytree(ROOT / ".cache", tmp_path / ".cache", ignore=shutil.ignore_patterns("bench*"))  # else minutes of embedding
    shutil.copy(ROOT / "config.yaml", tmp_path / "config.yaml")
    config = load_config(tmp_path / "config.yaml", env={})
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}")
    watcher = ContentWatcher(config, interval=0.0)
    chat = Chat(Conversation(store, Content.load(config), config, watcher))
    await chat.onboard("en")
    menu_po = tmp_path / "locales" / "en" / "LC_MESSAGES" / "messages.po"
    menu_po.write_text(menu_po.read_text(encoding="utf-8").replace("What would you like to know?", "What do you want to know today?"), encoding="utf-8")
    await settle(chat, watcher)
    assert (await chat("/menu"))[0].text.startswith("What do you want to know today?")

    entry = next((tmp_path / "knowledge").glob("childcare/*.en.md"))
    entry.write_text("---\ntitle: [broken\n---\nx\n", encoding="utf-8")
    await settle(chat, watcher)
    assert "front matter is not valid YAML" in (watcher.last_error or "")
    replies = await chat("/menu")
    assert keys(replies) == ["main-menu"] and replies[0].text.startswith("What do you want to know today?")
    assert any(button.payload == "topic:childcare" for button in replies[0].buttons)
    await store.close()


def test_fingerprint_ignores_editors_files_and_survives_links_to_nowhere(tmp_path: Path) -> None:
    topic = tmp_path / "knowledge" / "childcare"
    topic.mkdir(parents=True)
    (topic / "find.en.md").write_text("---\ntitle: Find\n---\nx\n", encoding="utf-8")
    seen = fingerprint([tmp_path / "knowledge"])
    (topic / ".#find.en.md").symlink_to("root@host.4242:1700000000")  # Emacs' lock while the file is edited
    (topic / ".find.en.md.swp").write_bytes(b"b0VIM")
    (topic / "find.en.md~").write_text("old", encoding="utf-8")
    (topic / "#find.en.md#").write_text("autosave", encoding="utf-8")
    (topic / ".git").mkdir()
    (topic / ".git" / "x.md").write_text("x", encoding="utf-8")
    assert fingerprint([tmp_path / "knowledge"]) == seen
    (topic / "lost.en.md").symlink_to(topic / "gone.en.md")  # content, but nothing behind it: loading will say so
    assert fingerprint([tmp_path / "knowledge"]) != seen


def test_fingerprint_changes_when_a_folder_is_named_like_a_content_file(tmp_path: Path) -> None:
    seen = fingerprint([tmp_path])
    (tmp_path / "new.en.md").mkdir()
    assert fingerprint([tmp_path]) != seen
