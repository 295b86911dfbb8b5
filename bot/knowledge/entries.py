"""The knowledge base: topics, answers, emergency phrases and off-topic examples from knowledge/."""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import tempfile
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.contentfiles import content_files, present, read_bytes, read_text
from bot.errors import ContentError
from bot.knowledge import emergency as emergency_module
from bot.knowledge.emergency import Match, Rules, load_rules
from bot.knowledge.emergency import load_examples as load_emergency_examples
from bot.knowledge.smalltalk import SMALLTALK_FILE, SmallTalk, load_smalltalk
from bot.yamlfile import load_yaml, parse_yaml

ENTRY_FILE = re.compile(r"^(?P<entry>[a-z0-9][a-z0-9-]*)\.(?P<lang>[a-z]{2,3})\.md$")
TOPIC_FILE = "_topic.yaml"
EMERGENCY_FILE = "_emergency.yaml"
EMERGENCY_EXAMPLES_FILE = "_emergency_examples.yaml"   # more training sentences for the alarm classifier
OFFTOPIC_FILE = "_offtopic.yaml"
HUMAN_FILE = "_human.yaml"
REPLIES_DIR = "replies"     # knowledge/replies/<key>.<lang>.md: counsellors' canned replies  # ways of asking for a person; such a question opens a case at the desk
WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Topic:
    id: str
    order: int
    icon: str
    titles: dict[str, str]


@dataclass(frozen=True)
class Answer:
    """One entry in one language."""

    title: str
    questions: tuple[str, ...]
    body: str
    sources: tuple[str, ...]
    reviewed: bool
    path: Path
    review_by: date | None = None
    flow: str | None = None  # a flow this answer offers to start ("Sign up now")


@dataclass
class Entry:
    topic: str
    id: str
    answers: dict[str, Answer] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.topic}/{self.id}"


class KnowledgeBase:
    def __init__(self, topics: list[Topic], entries: list[Entry], emergency: Rules | None,
                 offtopic: tuple[str, ...] = (), human: tuple[str, ...] = (), smalltalk: SmallTalk | None = None) -> None:
        self.topics = sorted(topics, key=lambda topic: (topic.order, topic.id))
        self.entries = {entry.key: entry for entry in entries}
        self.emergency = emergency
        self.offtopic = offtopic
        self.human = human
        self.smalltalk = smalltalk or SmallTalk()

    @classmethod
    def load(cls, root: Path) -> KnowledgeBase:
        if not root.is_dir():
            raise ContentError(str(root), None, "the knowledge folder is missing; set paths.knowledge in config.yaml")
        topics, entries = [], []
        for folder in topic_folders(root):
            topics.append(load_topic(folder))
            entries.extend(load_entries(folder))
        emergency_file = root / EMERGENCY_FILE
        emergency = emergency_rules(emergency_file) if present(emergency_file) else None
        examples_file = root / EMERGENCY_EXAMPLES_FILE
        if emergency is not None and present(examples_file):
            emergency = emergency.with_examples(*load_emergency_examples(examples_file, emergency.kinds))
        offtopic_file = root / OFFTOPIC_FILE
        offtopic = load_examples(offtopic_file, "off-topic questions") if present(offtopic_file) else ()
        human_file = root / HUMAN_FILE
        human = load_examples(human_file, "ways to ask for a person") if present(human_file) else ()
        smalltalk_file = root / SMALLTALK_FILE
        smalltalk = load_smalltalk(smalltalk_file) if present(smalltalk_file) else None
        return cls(topics, entries, emergency, offtopic, human, smalltalk)

    def topic(self, topic_id: str) -> Topic | None:
        return next((topic for topic in self.topics if topic.id == topic_id), None)

    def entries_of(self, topic_id: str) -> list[Entry]:
        return [entry for entry in self.entries.values() if entry.topic == topic_id]

    def emergencies(self, text: str) -> list[Match]:
        """What the patterns of knowledge/_emergency.yaml find in her text (most serious kind first)."""
        return self.emergency.find(text) if self.emergency is not None else []


def emergency_rules(path: Path) -> Rules:
    """load_rules, compiled once per version of the file: it takes seconds, and most edits are to answers."""
    return _compiled_rules(str(path), hashlib.sha1(read_bytes(path)).hexdigest())


@lru_cache(maxsize=2)
def _compiled_rules(path: str, digest: str) -> Rules:
    """From the compiled copy in knowledge/.cache/ when there is one for this file and this code
    (1.8 s instead of 5 s at start), else compiled and saved there (a read-only folder just skips it)."""
    code = hashlib.sha1(Path(emergency_module.__file__).read_bytes()).hexdigest()[:12]
    cached = Path(path).parent / ".cache" / f"emergency-{digest[:16]}-{code}.pickle"
    try:
        rules = pickle.loads(cached.read_bytes())
        if isinstance(rules, Rules):
            return rules
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, ValueError):
        pass
    rules = load_rules(Path(path))
    try:
        cached.parent.mkdir(exist_ok=True)
        for old in cached.parent.glob("emergency-*.pickle"):
            old.unlink(missing_ok=True)
        handle, temporary = tempfile.mkstemp(dir=cached.parent, suffix=".tmp")
        with os.fdopen(handle, "wb") as file:
            pickle.dump(rules, file, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, cached)
    except OSError:
        pass
    return rules


def topic_folders(root: Path) -> list[Path]:
    """The topic folders of knowledge/ (not the counsellors' canned replies, nor hidden ones)."""
    return sorted(path for path in root.iterdir() if path.is_dir() and not path.name.startswith((".", "_")) and path.name != REPLIES_DIR)


def load_topic(folder: Path) -> Topic:
    path = folder / TOPIC_FILE
    if not present(path):
        raise ContentError(str(path), None, f"is missing: every topic folder needs {TOPIC_FILE} with its title per language")
    data = load_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("title"), dict) or not data["title"]:
        raise ContentError(str(path), 1, "needs 'title:' with one line per language, e.g. 'en: Childcare'")
    order = data.get("order", 100)
    if not isinstance(order, int):
        raise ContentError(str(path), None, f"'order' must be a whole number, not {order!r}")
    return Topic(folder.name, order, str(data.get("icon", "")), {str(k): str(v) for k, v in data["title"].items()})


def load_entries(folder: Path) -> list[Entry]:
    entries: dict[str, Entry] = {}
    for path in content_files(folder, "*.md"):
        match = ENTRY_FILE.match(path.name)
        if not match:
            raise ContentError(str(path), None, "name must be <entry>.<language>.md, e.g. find-a-place.en.md (lower case, dashes)")
        entry = entries.setdefault(match["entry"], Entry(folder.name, match["entry"]))
        entry.answers[match["lang"]] = load_answer(path)
    return list(entries.values())


def read_front_matter(path: Path, required: bool = True) -> tuple[dict[str, Any], str]:
    """(front matter, body) of a Markdown file that starts with '---' YAML '---'."""
    text = read_text(path).replace("\r\n", "\n")
    if not text.startswith("---\n"):
        if not required:
            return {}, text
        raise ContentError(str(path), 1, "must start with a '---' line and the front matter (title, questions, sources)")
    head, separator, body = text[4:].partition("\n---\n")
    if not separator:
        raise ContentError(str(path), 1, "front matter is not closed: add a line with only '---' after it")
    meta = parse_yaml(head, path, first_line=2, what="front matter is not valid YAML") or {}
    if not isinstance(meta, dict):
        raise ContentError(str(path), 2, "front matter must be 'key: value' lines")
    return meta, body


def load_answer(path: Path) -> Answer:
    meta, body = read_front_matter(path)
    if not isinstance(meta.get("title"), str) or not meta["title"].strip():
        raise ContentError(str(path), 2, "front matter needs 'title:' with the question this entry answers")
    questions = meta.get("questions") or []
    if not isinstance(questions, list) or not all(isinstance(item, str) for item in questions):
        raise ContentError(str(path), 2, "'questions:' must be a list of lines starting with '- '")
    if not body.strip():
        raise ContentError(str(path), None, "has no answer text after the front matter")
    sources = meta.get("sources") or []
    review_by = meta.get("review_by")
    if review_by is not None and not isinstance(review_by, date):
        raise ContentError(str(path), 2, f"'review_by' must be a date like 2027-06-01, not {review_by!r}")
    return Answer(meta["title"].strip(), tuple(questions), body.strip(), tuple(map(str, sources)),
                  meta.get("reviewed") is True, path, review_by, meta.get("flow"))


def load_examples(path: Path, what: str) -> tuple[str, ...]:
    data = load_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("examples"), dict):
        raise ContentError(str(path), 1, f"needs 'examples:' with a list of {what} per language")
    return tuple(str(text) for items in data["examples"].values() for text in items or [])
