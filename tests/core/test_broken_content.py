"""Broken content files never take the bot down: each kind of broken save into a running bot is reported
with its file, women keep getting the last good answers, and fixing the file reloads; editors' files are ignored."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from bot.tools.check import check
from bot.config import Config, load_config
from bot.core.content import Content
from bot.core.conversation import Conversation
from bot.core.reloader import ContentWatcher
from bot.storage import Store
from tests.conftest import ROOT, Chat, always_open

ENTRY = "knowledge/childcare/find-childcare.en.md"
FLOW = "flows/childcare.yaml"
TOPIC = "knowledge/childcare/_topic.yaml"
EMERGENCY = "knowledge/_emergency.yaml"
ENGLISH = "locales/en/LC_MESSAGES/messages.po"
DUTCH = "locales/nl/LC_MESSAGES/messages.po"
NEW_ENTRY = "knowledge/childcare/new-entry.en.md"
PLACES = "knowledge/places.yaml"


def copy_project(folder: Path) -> Path:
    """The repository's content, config and caches (so reloads need not embed everything again)."""
    for name in ("knowledge", "locales", "flows"):
        shutil.copytree(ROOT / name, folder / name)
    shutil.copytree(ROOT / ".cache", folder / ".cache", ignore=shutil.ignore_patterns("bench*"))
    shutil.copy(ROOT / "config.yaml", folder / "config.yaml")
    return folder / "config.yaml"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Config, Content]:
    """One copy and one content load for the module (loading takes seconds); every test restores what it breaks."""
    config = always_open(load_config(copy_project(tmp_path_factory.mktemp("project")), env={}))
    return config, Content.load(config)


@dataclass
class Bot:
    chat: Chat
    dutch: Chat
    watcher: ContentWatcher

    async def settle(self) -> None:
        """Let the watcher notice the change and finish reloading in its thread."""
        await self.chat("/help")
        while self.watcher._reloading is not None:
            await asyncio.sleep(0.02)
            await self.chat("/help")

    async def answers(self) -> list[tuple[str | None, str]]:
        """What the women get now: her childcare question in English, the menu in English and in Dutch."""
        found = [(reply.key, reply.text) for reply in await self.chat("daycare for my baby")]
        found += [(reply.key, reply.text) for reply in await self.chat("/menu") + await self.dutch("/menu")]
        return found


@pytest.fixture
async def bot(project: tuple[Config, Content], tmp_path: Path):
    config, content = project
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}")
    conversation = Conversation(store, content, config, ContentWatcher(config, interval=0.0))
    chat, dutch = Chat(conversation, "amina"), Chat(conversation, "sanne")
    await chat.onboard("en")
    await dutch.onboard("nl")
    yield Bot(chat, dutch, conversation.watcher)
    await store.close()


def edit(change: Callable[[str], str]) -> Callable[[bytes], bytes]:
    return lambda data: change(data.decode()).encode()


def replace(old: str, new: str) -> Callable[[bytes], bytes]:
    return edit(lambda text: text.replace(old, new, 1))


def cut_in_string(text: str) -> str:
    """A save that stopped in the middle of a line of text (as a crash or a full disk leaves it)."""
    return text[:text.index('msgstr "Choose your language:"') + len('msgstr "Choose')]


BROKEN = [  # what, which file, how it is broken (bytes -> bytes), what the watcher must say
    ("impossible review date", ENTRY, replace("review_by: 2027-06-01", "review_by: 2027-02-30"), "'2027-02-30' is not a real date"),
    ("impossible date in a flow", FLOW, edit(lambda text: text + "\nreviewed_on: 2027-13-01\n"), "is not a real date"),
    ("entry cut in its front matter", ENTRY, edit(lambda text: text[:text.index("sources:") + 5]), "front matter is not closed"),
    ("flow cut in the middle", FLOW, edit(lambda text: text[:len(text) // 2]), FLOW),
    ("catalog cut in a line", ENGLISH, edit(cut_in_string), "is not closed"),
    ("catalog cut between lines", ENGLISH, edit(lambda text: text[:text.index("\n\n", len(text) // 2)]), "has no text for"),
    ("empty entry", ENTRY, lambda data: b"", "is empty"),
    ("empty topic", TOPIC, lambda data: b"\n", "is empty"),
    ("empty emergency patterns", EMERGENCY, lambda data: b"", "is empty"),
    ("empty catalog", DUTCH, lambda data: b"", "is empty"),
    ("entry in Latin-1", ENTRY, lambda data: data.decode().replace("Start early", "Commencez tôt").encode("latin-1", "replace"), "is not UTF-8 text"),
    ("topic in UTF-16", TOPIC, lambda data: data.decode().encode("utf-16"), "is saved as UTF-16"),
    ("catalog in Latin-1", DUTCH, lambda data: data.decode().encode("latin-1", "replace"), "is not UTF-8 text"),
    ("places in the wrong shape", PLACES, lambda data: b"- towns\n- places\n", "places.yaml:1: needs 'towns:'"),
]


@pytest.mark.parametrize("name, file, breaks, says", BROKEN, ids=[case[0] for case in BROKEN])
async def test_a_broken_save_is_reported_the_last_good_content_serves_and_a_fix_reloads(
        bot: Bot, project: tuple[Config, Content], name: str, file: str, breaks: Callable[[bytes], bytes], says: str) -> None:
    config, _ = project
    path = config.root / file
    good = path.read_bytes()
    before, last_good = await bot.answers(), bot.chat.conversation.content
    assert before[0][0] == "entry:childcare/find-childcare"
    path.write_bytes(breaks(good))
    try:
        await bot.settle()
        assert bot.watcher.last_error is not None and says in bot.watcher.last_error
        assert file in bot.watcher.last_error or file == PLACES  # its loader's own error names no file
        assert await bot.answers() == before
        assert bot.chat.conversation.content is last_good
    finally:
        path.write_bytes(good)
    await bot.settle()
    assert bot.watcher.last_error is None and bot.chat.conversation.content is not last_good
    assert await bot.answers() == before


def test_the_impossible_date_is_reported_on_its_line(project: tuple[Config, Content]) -> None:
    config, _ = project
    path = config.root / ENTRY
    good = path.read_text(encoding="utf-8")
    path.write_text(good.replace("review_by: 2027-06-01", "review_by: 2027-02-30"), encoding="utf-8")
    try:
        with pytest.raises(Exception, match=rf"{ENTRY}:{good.splitlines().index('review_by: 2027-06-01') + 1}: '2027-02-30' is not a real date"
                                             r" \(day is out of range for month\): write it as YYYY-MM-DD"):
            Content.load(config)
    finally:
        path.write_text(good, encoding="utf-8")


def make_folder(path: Path) -> None:
    path.mkdir()


def make_dangling_link(path: Path) -> None:
    path.symlink_to(path.parent / "gone.en.md")


def make_unreadable(path: Path) -> None:
    path.write_text((ROOT / ENTRY).read_text(encoding="utf-8"), encoding="utf-8")
    path.chmod(0)


UNREADABLE = [
    ("folder named like an entry", make_folder, "is a folder, not a file"),
    ("link to a file that is gone", make_dangling_link, "is a link to a file that does not exist"),
    pytest.param("file nobody may read", make_unreadable, "permission denied",
                 marks=pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file: the folder case stands in for it")),
]


@pytest.mark.parametrize("name, make, says", UNREADABLE)
async def test_an_unreadable_new_file_is_reported_and_removing_it_reloads(
        bot: Bot, project: tuple[Config, Content], name: str, make: Callable[[Path], None], says: str) -> None:
    config, _ = project
    path = config.root / NEW_ENTRY
    before, last_good = await bot.answers(), bot.chat.conversation.content
    make(path)
    try:
        await bot.settle()
        assert bot.watcher.last_error is not None and NEW_ENTRY in bot.watcher.last_error and says in bot.watcher.last_error
        assert await bot.answers() == before and bot.chat.conversation.content is last_good
    finally:
        shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
    await bot.settle()
    assert bot.watcher.last_error is None and bot.chat.conversation.content is not last_good


EDITORS_FILES = {  # what Emacs, Vim and others leave next to the file being edited
    "knowledge/childcare/.#find-childcare.en.md": "root@host.4242:1700000000",  # Emacs' lock: a link to nowhere
    "flows/.#childcare.yaml": "root@host.4242:1700000000",
    "locales/en/LC_MESSAGES/.#messages.po": "root@host.4242:1700000000",
    "knowledge/childcare/.find-childcare.en.md.swp": b"b0VIM 9.0\x00\xff\xfe",
    "knowledge/childcare/find-childcare.en.md.swo": b"b0VIM 9.0\x00\xff\xfe",
    "knowledge/childcare/find-childcare.en.md~": b"---\ntitle: [half",
    "knowledge/childcare/#find-childcare.en.md#": b"---\ntitle: [half",
    "flows/childcare.yaml~": b"steps: [",
    "knowledge/.DS_Store": b"\x00\x00\x00\x01Bud1",
}


def make_editors_files(root: Path) -> list[Path]:
    made = []
    for name, content in EDITORS_FILES.items():
        path = root / name
        if isinstance(content, str):
            path.symlink_to(content)
        else:
            path.write_bytes(content)
        made.append(path)
    return made


async def test_editors_lock_swap_and_backup_files_are_ignored_by_the_running_bot_and_by_check(
        bot: Bot, project: tuple[Config, Content]) -> None:
    config, _ = project
    before, last_good = await bot.answers(), bot.chat.conversation.content
    made = make_editors_files(config.root)
    try:
        await bot.settle()
        assert bot.watcher._reloading is None and bot.watcher.last_error is None
        assert await bot.answers() == before and bot.chat.conversation.content is last_good
        findings = [str(finding) for finding in check(config)]
        assert not [finding for finding in findings if any(Path(name).name in finding for name in EDITORS_FILES)], findings
        assert not [finding for finding in findings if finding.startswith("error")], findings
    finally:
        for path in made:
            path.unlink()


def test_check_reports_every_broken_file_with_its_line(project: tuple[Config, Content]) -> None:
    config, _ = project
    entry, flow, dutch, places, new = (config.root / name for name in (ENTRY, FLOW, DUTCH, PLACES, NEW_ENTRY))
    good = {path: path.read_bytes() for path in (entry, flow, dutch, places)}
    places.write_text("- towns\n- places\n", encoding="utf-8")
    entry.write_text(good[entry].decode().replace("review_by: 2027-06-01", "review_by: 2027-02-30"), encoding="utf-8")
    flow.write_bytes(good[flow].decode().encode("utf-16"))
    dutch.write_bytes(good[dutch].decode().replace("Kies je taal", "Kies jé taal").encode("latin-1", "replace"))
    new.mkdir()
    try:
        findings = [str(finding) for finding in check(config)]
    finally:
        new.rmdir()
        for path, data in good.items():
            path.write_bytes(data)
    line = good[entry].decode().splitlines().index("review_by: 2027-06-01") + 1
    dutch_line = good[dutch].decode().splitlines().index(next(text for text in good[dutch].decode().splitlines() if "Kies je taal" in text)) + 1
    assert f"error: {ENTRY}:{line}: '2027-02-30' is not a real date (day is out of range for month): write it as YYYY-MM-DD, e.g. 2027-06-01" in findings
    assert f"error: {FLOW}: is saved as UTF-16: save it as UTF-8 (in most editors: Save as, Encoding UTF-8)" in findings
    assert any(finding.startswith(f"error: {DUTCH}:{dutch_line}: is not UTF-8 text (byte 0xe9") for finding in findings), findings
    assert any(finding.startswith(f"error: {NEW_ENTRY}: is a folder, not a file") for finding in findings), findings
    assert any(finding.startswith(f"error: {PLACES}:1: needs 'towns:'") for finding in findings), findings  # was "cannot be read (AttributeError…)"


def wegwijs(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_start_up_and_check_on_broken_content_end_with_one_clear_sentence(project: tuple[Config, Content]) -> None:
    config, _ = project
    entry = config.root / ENTRY
    good = entry.read_bytes()
    entry.write_text(good.decode().replace("review_by: 2027-06-01", "review_by: 2027-02-30"), encoding="utf-8")
    try:
        chat = subprocess.run([sys.executable, "-m", "bot", "chat", "--json", "--db", str(config.root / "start.db")], cwd=config.root,
                              input='{"text": "hello"}\n', capture_output=True, text=True, timeout=300)
        checked = wegwijs("check", cwd=config.root)
    finally:
        entry.write_bytes(good)
    line = good.decode().splitlines().index("review_by: 2027-06-01") + 1
    assert chat.returncode == 2 and "Traceback" not in chat.stderr and chat.stdout == ""
    assert chat.stderr.strip().splitlines() == [f"wegwijs: {entry}:{line}: '2027-02-30' is not a real date (day is out of range for month): "
                                                "write it as YYYY-MM-DD, e.g. 2027-06-01"]
    assert checked.returncode == 1 and "Traceback" not in checked.stderr + checked.stdout
    assert f"error: {ENTRY}:{line}: '2027-02-30' is not a real date" in checked.stdout and "1 error," in checked.stdout


def test_the_copy_is_the_repository_content(project: tuple[Config, Content]) -> None:
    """The cases above break these files; they must exist and load as they are."""
    config, content = project
    for name in (ENTRY, FLOW, TOPIC, EMERGENCY, ENGLISH, DUTCH):
        assert (config.root / name).read_bytes() == (ROOT / name).read_bytes()
    assert "review_by: 2027-06-01" in (config.root / ENTRY).read_text(encoding="utf-8")
    assert yaml.safe_load((config.root / FLOW).read_text(encoding="utf-8"))["steps"] and content.knowledge.emergency is not None
