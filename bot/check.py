"""`wegwijs check`: every problem in config.yaml, knowledge/ and locales/, with file, line and fix."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from bot import catalogs
from bot.config import Config
from bot.contentfiles import check_readable, content_files, is_content, present, read_text
from bot.emergency import KINDS, Rules
from bot.errors import ContentError
from bot.flows import load_flow
from bot.i18n import CATALOG, TEMPLATE, Catalogs, read_catalog
from bot.places import PLACES_FILE, Places, load_places
from bot.replies import load_replies
from bot.knowledge import (
    EMERGENCY_FILE, ENTRY_FILE, HUMAN_FILE, OFFTOPIC_FILE, REPLIES_DIR, TOPIC_FILE, Answer,
    emergency_rules, load_answer, load_examples, load_topic, normalise, topic_folders,
)

LINK = re.compile(r"\b(?:https?|ftp)://[^\s)\]>\"']+")
TOPIC_IDS = ("childcare", "dutch-courses", "recognition", "job-shadowing", "integration", "work", "money", "safety", "health")


@dataclass(frozen=True)
class Finding:
    level: str  # "error" or "warning"
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{self.level}: {where}: {self.message}"


def check(config: Config, today: date | None = None) -> list[Finding]:
    today = today or date.today()
    findings = list(_knowledge(config, today))
    findings += list(_flows(config))
    findings += list(_replies(config))
    findings += list(_locales(config))
    return [Finding(f.level, _relative(f.file, config.root), f.line, f.message) for f in findings]


def _relative(file: str, root: Path) -> str:
    try:
        return str(Path(file).resolve().relative_to(root))
    except ValueError:
        return file


def _knowledge(config: Config, today: date) -> Iterator[Finding]:
    root = config.knowledge_dir
    languages = config.settings.languages
    if not root.is_dir():
        yield Finding("error", str(root), None, "the knowledge folder is missing; create it or set paths.knowledge in config.yaml")
        return
    variants: dict[tuple[str, str], tuple[Path, str]] = {}
    entries: set[str] = set()
    for folder in topic_folders(root):
        topic_file = folder / TOPIC_FILE
        if not present(topic_file):
            yield Finding("error", str(folder), None, f"unknown topic '{folder.name}': add {TOPIC_FILE} with its titles, or move its files into one of: {', '.join(TOPIC_IDS)}")
        else:
            topic = yield from _guard(lambda: load_topic(folder))
            for lang in languages:
                if topic and lang not in topic.titles:
                    yield Finding("warning", str(topic_file), None, f"no title in '{lang}': add '{lang}: …' under title")
        by_entry: dict[str, dict[str, Answer]] = {}
        broken: set[tuple[str, str]] = set()  # (entry, language) reported already: not also a missing translation
        for path in sorted(folder.iterdir()):
            if path.name == TOPIC_FILE or not is_content(path.name) or (path.is_dir() and path.suffix != ".md"):
                continue  # editors' lock, swap and backup files are not content
            match = ENTRY_FILE.match(path.name)
            if not match:
                yield Finding("error", str(path), None, "name must be <entry>.<language>.md, e.g. find-a-place.en.md (lower case, dashes)")
                continue
            if match["lang"] not in languages:
                yield Finding("error", str(path), None, f"language '{match['lang']}' is not in config.yaml languages")
                continue
            answer = yield from _guard(lambda: load_answer(path))
            if answer is None:
                broken.add((match["entry"], match["lang"]))
                continue
            by_entry.setdefault(match["entry"], {})[match["lang"]] = answer
            yield from _answer(path, answer, today)
            for question in answer.questions:
                key = (match["lang"], normalise(question))
                other = variants.setdefault(key, (path, match["entry"]))
                if other[1] != match["entry"] or other[0].parent != path.parent:
                    yield Finding("error", str(path), _line_of(path, question),
                                  f"question '{question}' is also in {other[0]}; keep it in the one entry it belongs to")
        for entry, answers in by_entry.items():
            entries.add(f"{folder.name}/{entry}")
            for lang in languages:
                if lang not in answers and (entry, lang) not in broken:
                    yield Finding("warning", str(folder / f"{entry}.{lang}.md"), None, f"missing translation: '{entry}' has no {lang} version (women see the fallback language)")
    emergency_file = root / EMERGENCY_FILE
    if present(emergency_file):
        rules = yield from _guard(lambda: emergency_rules(emergency_file))
        if rules:
            yield from _emergency(emergency_file, rules, entries, languages)
    else:
        yield Finding("warning", str(emergency_file), None, "missing: without it emergencies are not recognised before everything else")
    offtopic_file = root / OFFTOPIC_FILE
    if present(offtopic_file):
        yield from _guard(lambda: load_examples(offtopic_file, "off-topic questions"))
    human_file = root / HUMAN_FILE
    if present(human_file):
        yield from _guard(lambda: load_examples(human_file, "ways to ask for a person"))
    else:
        yield Finding("warning", str(human_file), None, "missing: asking for a person in her own words will not open a case (only /human)")


def _emergency(path: Path, rules: Rules, entries: set[str], languages: list[str]) -> Iterator[Finding]:
    """Every kind has an existing entry and its numbers in it; every language has patterns."""
    for kind in KINDS:
        if kind not in rules.kinds:
            yield Finding("warning", str(path), _line_of(path, "kinds:"), f"no kind '{kind}': such emergencies get no help of their own")
    for kind in rules.kinds.values():
        if kind.entry not in entries:
            yield Finding("error", str(path), _line_of(path, kind.entry), f"kind '{kind.id}' names the entry '{kind.entry}', which does not exist; write it as <topic>/<entry>")
        if not rules.examples.get(kind.id):
            yield Finding("warning", str(path), None, f"kind '{kind.id}' has no examples: the classifier cannot learn it")
    having = {language.code.split("-")[0] for language in rules.patterns.languages if language.patterns}
    for code in languages:
        if code not in having:
            yield Finding("warning", str(path), None, f"no patterns in '{code}': emergencies written in it are only caught by the classifier")


def _flows(config: Config) -> Iterator[Finding]:
    """Each flow on its own, then what it refers to: knowledge entries, kinds of places, its topic."""
    folder = config.path(config.settings.paths.flows)
    places: Places | None = None
    try:
        check_readable(config.knowledge_dir / PLACES_FILE)
        places = load_places(config.knowledge_dir)
    except ContentError as error:
        yield Finding("error", error.file, error.line, error.hint)
    except (AttributeError, KeyError, TypeError, ValueError) as error:  # a shape its loader does not expect
        yield Finding("error", str(config.knowledge_dir / PLACES_FILE), None,
                      f"cannot be read ({type(error).__name__}: {error}): it needs 'towns:', 'nearby:' and 'places:', see the README")
    entries = {f"{path.parent.name}/{match['entry']}" for path in config.knowledge_dir.glob("*/*.md") if (match := ENTRY_FILE.match(path.name))}
    for path in content_files(folder, "*.yaml") if folder.is_dir() else []:
        try:
            flow = load_flow(path)
        except ContentError as error:
            yield Finding("error", error.file, error.line, error.hint)
            continue
        if flow.topic is not None and flow.topic not in TOPIC_IDS:
            yield Finding("error", str(path), _line_of(path, "topic:"), f"topic '{flow.topic}' is unknown; use one of {', '.join(TOPIC_IDS)}")
        for step in flow.steps:
            if step.entry and step.entry not in entries:
                yield Finding("error", str(path), step.line, f"step '{step.id}' shows entry '{step.entry}', which does not exist in knowledge/")
            unknown = [kind for kind in step.places if places is not None and kind not in places.kinds]
            if unknown:
                yield Finding("error", str(path), step.line, f"step '{step.id}': no place of kind '{unknown[0]}' in knowledge/places.yaml")


# Most questions arrive in these languages: retrieval needs more examples of how they are asked.
MANY_VARIANTS_LANGUAGES = frozenset({"nl", "en", "fr", "ar"})
MANY_VARIANTS = 5


def _replies(config: Config) -> Iterator[Finding]:
    """Counsellors' canned replies: each file readable, each key in every language."""
    folder = config.knowledge_dir / REPLIES_DIR
    replies = yield from _guard(lambda: load_replies(config.knowledge_dir, config.settings.languages))
    if replies is None:
        return
    for key in replies.keys():
        for lang in config.settings.languages:
            if lang not in replies.by_key[key]:
                yield Finding("warning", str(folder / f"{key}.{lang}.md"), None,
                              f"missing translation: the reply '{key}' has no {lang} version (counsellors are told a fallback was sent)")


def _answer(path: Path, answer: Answer, today: date) -> Iterator[Finding]:
    text = read_text(path)
    for link in LINK.findall(text):
        if not link.startswith("https://"):
            yield Finding("error", str(path), _line_of(path, link), f"link '{link}' is not https: use the https:// address of the official page")
    if not answer.sources:
        yield Finding("warning", str(path), 2, "no sources: list the official pages this answer relies on under 'sources:'")
    if answer.review_by is not None and answer.review_by < today:
        yield Finding("warning", str(path), _line_of(path, "review_by"), f"review date {answer.review_by} has passed: check the facts, then set a new review_by")
    wanted = MANY_VARIANTS if path.name.split(".")[-2] in MANY_VARIANTS_LANGUAGES else 2
    if len(answer.questions) < wanted:
        yield Finding("warning", str(path), _line_of(path, "questions"),
                      f"{len(answer.questions)} question variants, fewer than {wanted}: add ways women ask this (short, as typed on a phone)")


def _locales(config: Config) -> Iterator[Finding]:
    """Each catalog readable first (file and line of what is broken), then what the translations miss."""
    locales, settings = config.locales_dir, config.settings
    broken = False
    for path in [locales / TEMPLATE, *(locales / language / CATALOG for language in settings.languages)]:
        if present(path) and (yield from _guard(lambda: read_catalog(path))) is None:
            broken = True
    if broken:
        return
    if (yield from _guard(lambda: Catalogs.load(locales, settings.languages, settings.fallbacks, settings.default_language))) is None:
        return  # the default language lacks keys, or has no catalog
    try:
        template = catalogs.extract(locales, config.path(settings.paths.flows))
        problems = catalogs.problems(locales, settings.languages, template)
    except (ContentError, OSError, ValueError) as exc:
        yield Finding("error", str(locales), None, f"cannot read the catalogs ({exc})")
        return
    for problem in problems:
        yield Finding("error", problem.file, _line_of(Path(problem.file), f'msgctxt "{problem.key}"'), f"'{problem.key}' {problem.hint}")


def _guard(load: Callable[[], Any]) -> Iterator[Finding]:
    """Run a loader; turn its ContentError into a finding and return None instead of stopping."""
    try:
        return load()
    except ContentError as error:
        yield Finding("error", error.file, error.line, error.hint)
        return None


def _line_of(path: Path, needle: str) -> int | None:
    try:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if needle in line:
                return number
    except (OSError, UnicodeDecodeError):
        return None
    return None
