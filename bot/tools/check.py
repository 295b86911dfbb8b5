"""`wegwijs check`: every problem in config.yaml, knowledge/ and locales/, with file, line and fix."""

from __future__ import annotations

import contextlib
import difflib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from bot.channels.whatsapp import label_problems
from bot.config import Config
from bot.contentfiles import check_readable, is_content, present, read_text
from bot.desk import load_replies
from bot.errors import ContentError
from bot.flows import flow_files, load_flow, load_intents
from bot.knowledge import (
    EMERGENCY_EXAMPLES_FILE,
    EMERGENCY_FILE,
    ENTRY_FILE,
    HUMAN_FILE,
    KINDS,
    OFFTOPIC_FILE,
    PLACES_FILE,
    REPLIES_DIR,
    SMALLTALK_FILE,
    TOPIC_FILE,
    Answer,
    Places,
    Rules,
    emergency_rules,
    load_answer,
    load_emergency_examples,
    load_examples,
    load_places,
    load_smalltalk,
    load_topic,
    read_front_matter,
    smalltalk_problems,
    topic_folders,
)
from bot.knowledge import smalltalk_fold as fold
from bot.language import CATALOG, TEMPLATE, Catalogs, normalise, read_catalog
from bot.tools import catalogs
from bot.yamlfile import LOADER

MAX_WORDS = 120  # an answer read on a phone
HOME_PATHS = ("nl", "fr", "en", "ar", "index.html", "home")  # a site's front page in a language
LINK = re.compile(r"\b(?:https?|ftp)://[^\s)\]>\"']+")
TOPIC_IDS = ("childcare", "dutch-courses", "recognition", "job-shadowing", "integration", "work", "money", "safety", "health")
# The keys the loaders read (bot/knowledge/entries.py, bot/flows/model.py): any other is a typo whose value is silently ignored.
ENTRY_KEYS = ("title", "questions", "sources", "reviewed", "review_by", "flow")
FLOW_KEYS = ("description", "title", "topic", "consent", "store", "triggers", "steps")
STEP_KEYS = ("id", "ask", "say", "type", "choices", "save", "next", "end", "optional", "entry", "places", "near", "handoff")
# An entry's file named almost right (Find.EN.md, find care.en.md, find.en.md.txt as Windows saves it)
LOOSE_ENTRY_FILE = re.compile(r"^(?P<entry>.+?)\.(?P<lang>[a-z]{2,3})\.(?:md|markdown|txt)(?:\.txt)?$", re.IGNORECASE)


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
    findings += list(_whatsapp_labels(config))
    return [_plain(Finding(f.level, _relative(f.file, config.root), f.line, f.message), config.root) for f in findings]


def _whatsapp_labels(config: Config) -> Iterator[Finding]:
    """Button labels WhatsApp would show shortened (a reply button holds 20 characters): the catalogs' button-… messages
    and the flows' choices, in every language (warnings: she still sees the start of the label, with "…")."""
    folder = config.path(config.settings.paths.flows)
    choices: set[str] = set()
    for path in flow_files(folder) if folder.is_dir() else []:
        with contextlib.suppress(ContentError):
            choices |= {label for step in load_flow(path).steps if step.type == "choice" and len(step.choices) <= 3 for label, _ in step.choices}
    for code in config.settings.languages:
        path = config.locales_dir / code / CATALOG
        try:
            messages = read_catalog(path) if present(path) else {}
        except ContentError:
            continue  # reported with the catalogs
        labels = {key: text for key, text in messages.items() if key.startswith("button-") or key == "whatsapp-list-button"}
        labels |= {source: messages.get(source) or source for source in choices}
        for key, text in sorted(labels.items()):
            problems = [problem for problem in label_problems(text) if "20 characters" in problem or problem.startswith("blank")]
            for problem in problems:
                yield Finding("warning", str(path), _line_of(path, key), f"'{key}' is {problem}; a shorter {code} label fits")


def _relative(file: str, root: Path) -> str:
    """The path from the project folder (that of config.yaml), also through a linked folder."""
    for path in (Path(file).absolute(), Path(file).resolve()):
        if path.is_relative_to(root):
            return str(path.relative_to(root))
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
                yield Finding("error", str(path), None, _bad_name(path.name, broken))
                continue
            if match["lang"] not in languages:
                yield Finding("error", str(path), None, f"language '{match['lang']}' is not in config.yaml languages")
                continue
            answer = yield from _guard(lambda: load_answer(path))
            if answer is None:
                broken.add((match["entry"], match["lang"]))
                continue
            by_entry.setdefault(match["entry"], {})[match["lang"]] = answer
            unknown = list(_unknown_keys(path, read_front_matter(path)[0], ENTRY_KEYS, "the front matter"))
            yield from unknown
            yield from _answer(path, answer, today, questions_misspelt=any("'questions'?" in f.message for f in unknown))
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
                    yield Finding("warning", str(folder / f"{entry}.{lang}.md"), None,
                                  _missing(entry, lang, config.settings.default_language, by_entry))
    emergency_file = root / EMERGENCY_FILE
    if present(emergency_file):
        rules = yield from _guard(lambda: emergency_rules(emergency_file))
        if rules:
            yield from _emergency(emergency_file, rules, entries, languages)
            examples_file = root / EMERGENCY_EXAMPLES_FILE
            if present(examples_file):
                yield from _guard(lambda: load_emergency_examples(examples_file, rules.kinds))
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
    yield from _smalltalk(root / SMALLTALK_FILE, languages, variants)


def _smalltalk(path: Path, languages: list[str], variants: dict[tuple[str, str], tuple[Path, str]]) -> Iterator[Finding]:
    """knowledge/_smalltalk.yaml read as the bot reads it, its languages, and no phrase that is an entry's question."""
    if not present(path):
        return
    talk = yield from _guard(lambda: load_smalltalk(path))
    if talk is not None:
        asked = {" ".join(fold(text)): (f"{where.parent.name}/{entry}", where) for (_, text), (where, entry) in variants.items()}
        for level, line, message in smalltalk_problems(talk, languages, asked):
            yield Finding(level, str(path), line, message)


def _bad_name(name: str, broken: set[tuple[str, str]]) -> str:
    """What is wrong with an entry's file name; one named almost right counts as that entry's translation
    (so that it is not also reported missing)."""
    loose = LOOSE_ENTRY_FILE.match(name)
    if loose is None:
        return "name must be <entry>.<language>.md, e.g. find-a-place.en.md (lower case, dashes)"
    entry, lang = "-".join(re.findall(r"[a-z0-9]+", loose["entry"].lower())), loose["lang"].lower()
    broken.add((entry, lang))
    return f"name must be <entry>.<language>.md in lower case with dashes: rename it to {entry}.{lang}.md"


def _missing(entry: str, lang: str, default: str, by_entry: dict[str, dict[str, Answer]]) -> str:
    """A missing translation; without the default language women in most languages get nothing, and it
    is often the translation of another entry saved under a name of its own."""
    if lang != default:
        return f"missing translation: '{entry}' has no {lang} version (women see the fallback language)"
    ours = set(by_entry[entry])
    others = [other for other, answers in by_entry.items() if default in answers and not ours & set(answers)]
    hint = f"; if it translates '{others[0]}', rename its files to {others[0]}.<language>.md" if len(others) == 1 else ""
    return (f"missing translation: '{entry}' has no {lang} version, the default language: women whose language "
            f"lacks it get no answer from it{hint}")


def _unknown_keys(path: Path, found: Iterable[Any], known: tuple[str, ...], where: str,
                  line_of: Callable[[str], int | None] | None = None, prefix: str = "") -> Iterator[Finding]:
    """An error for each key the loader does not read, with the known key it most looks like."""
    for key in found:
        if key in known:
            continue
        close = difflib.get_close_matches(str(key).casefold(), known, n=1, cutoff=0.6)
        fix = f"; did you mean '{close[0]}'?" if close else f": {where} knows {', '.join(known)}: remove it or use one of those"
        line = line_of(str(key)) if line_of else _key_line(path, str(key))
        yield Finding("error", str(path), line, f"{prefix}unknown key '{key}'{fix}")


def _flow_keys(path: Path) -> Iterator[Finding]:
    """Unknown keys at the top of a flow file and in its steps (a flow that loaded, so it composes)."""
    root = yaml.compose(read_text(path), Loader=LOADER)
    if not isinstance(root, yaml.MappingNode):
        return
    lines = {str(key.value): key.start_mark.line + 1 for key, _ in root.value}
    yield from _unknown_keys(path, lines, FLOW_KEYS, "a flow", lines.get)
    for key, value in root.value:
        if key.value != "steps" or not isinstance(value, yaml.SequenceNode):
            continue
        for step in value.value:
            if isinstance(step, yaml.MappingNode):
                keys = {str(k.value): k.start_mark.line + 1 for k, _ in step.value}
                ids = [v.value for k, v in step.value if k.value == "id" and isinstance(v, yaml.ScalarNode)]
                yield from _unknown_keys(path, keys, STEP_KEYS, "a step", keys.get, f"step '{ids[0] if ids else '?'}': ")


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
    try:
        load_intents(folder)
    except ContentError as error:
        yield Finding("error", error.file, error.line, error.hint)
    for path in flow_files(folder) if folder.is_dir() else []:
        try:
            flow = load_flow(path)
        except ContentError as error:
            yield Finding("error", error.file, error.line, error.hint)
            continue
        yield from _flow_keys(path)
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


def _answer(path: Path, answer: Answer, today: date, questions_misspelt: bool = False) -> Iterator[Finding]:
    text = read_text(path)
    for link in LINK.findall(text):
        if not link.startswith("https://"):
            yield Finding("error", str(path), _line_of(path, link), f"link '{link}' is not https: use the https:// address of the official page")
    if not answer.sources:
        yield Finding("warning", str(path), 2, "no sources: list the official pages this answer relies on under 'sources:'")
    for source in answer.sources:
        if _home_page(source):
            yield Finding("warning", str(path), _line_of(path, source),
                          f"source '{source}' is a site's home page: cite the page the facts of this answer are on")
    words = len(answer.body.split())
    if words > MAX_WORDS:
        yield Finding("warning", str(path), None,
                      f"{words} words, more than {MAX_WORDS} for a phone: keep the action first and one idea per paragraph, link the rest")
    if answer.review_by is not None and answer.review_by < today:
        yield Finding("warning", str(path), _line_of(path, "review_by"), f"review date {answer.review_by} has passed: check the facts, then set a new review_by")
    wanted = MANY_VARIANTS if path.name.split(".")[-2] in MANY_VARIANTS_LANGUAGES else 2
    if len(answer.questions) < wanted and not questions_misspelt:  # 'question:' is reported as an error already
        yield Finding("warning", str(path), _line_of(path, "questions"),
                      f"{len(answer.questions)} question variants, fewer than {wanted}: add ways women ask this (short, as typed on a phone)")


def _home_page(url: str) -> bool:
    """https://www.caw.be or https://www.caw.be/ (or /nl, /fr ...): a home page, not the page of the facts."""
    parts = urlsplit(url)
    return bool(parts.netloc) and not parts.query and parts.path.strip("/").lower() in ("", *HOME_PATHS)


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


YAML_PROBLEM = re.compile(r"^(?P<what>.*is not valid YAML): (?P<problem>.+)$")
COLON = "a colon inside a value needs quotes: put the whole value in double quotes, e.g. title: \"Cost: what do I pay?\""
INDENT = ("indentation: use spaces, line up items under the same key (every '- ' of a list at the same column, "
          "each key at the column of the keys before it)")
KEY_UNDER_VALUE = ("a key is indented under a value, or the line before has no ':': write each line as key: value, "
                   "with its key at the column of the keys before it")
TAB = "a tab character: indent with spaces only"
QUOTE = ("a quote is not closed, or the value goes on after its closing quote: put the whole value in one pair of "
         "double quotes, e.g. title: \"Where is the 'OCMW'?\"")
BRACKET = "a list in [ ] or { } is not closed on its line: add the closing bracket, and put an item that has a comma in quotes"
SPECIAL = "a value that starts with @, `, %, *, &, !, |, > or ? needs quotes: put the whole value in double quotes"
OTHER = "put a value with special characters (: # [ ] { } or quotes) in double quotes, and indent with spaces only"


def _plain(finding: Finding, root: Path) -> Finding:
    """A YAML reader's words, with what to do in plain words and the line where the mistake starts."""
    match = YAML_PROBLEM.match(finding.message)
    if match is None or finding.line is None:
        return finding
    path = Path(finding.file) if Path(finding.file).is_absolute() else root / finding.file
    try:
        lines = read_text(path).splitlines()
    except ContentError:
        lines = []
    line, advice = _yaml_advice(match["problem"], lines, finding.line)
    return Finding(finding.level, finding.file, line, f"{match['what']}: {advice} (the YAML reader says: {match['problem']})")


def _yaml_advice(problem: str, lines: list[str], line: int) -> tuple[int, str]:
    """(line, what to do) for a YAML reader's problem at ``line`` of ``lines``."""
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    value = _value(text)
    quoted = value[:1] in ("'", '"')
    if "cannot start any token" in problem:
        return line, TAB if "\t" in text else SPECIAL
    if "end of stream" in problem:
        return _unclosed_quote(lines, line) or line, QUOTE
    if "did not find expected ',' or" in problem:
        return line, BRACKET
    if "mapping values are not allowed" in problem:
        return line, COLON if re.search(r":(\s|$)", value) else KEY_UNDER_VALUE
    if "expected key" in problem or "'-' indicator" in problem or "<block end>" in problem:
        return line, QUOTE if quoted else INDENT
    if any(words in problem for words in ("undefined alias", "alphabetic or numeric", "comment or line break", "mapping keys")):
        return line, QUOTE if quoted else SPECIAL
    return line, OTHER


def _value(text: str) -> str:
    """What follows 'key:' (or '- ') on a YAML line."""
    text = text.strip().removeprefix("- ")
    key, colon, rest = text.partition(": ")
    return rest.strip() if colon and re.fullmatch(r"[\w -]+", key) else text


def _unclosed_quote(lines: list[str], line: int) -> int | None:
    """The last line at or before ``line`` whose value opens a quote it does not close."""
    for number in range(min(line, len(lines)), 0, -1):
        value = _value(lines[number - 1])
        if value[:1] in ("'", '"') and (len(value) == 1 or not value.endswith(value[0])):
            return number
    return None


def _key_line(path: Path, key: str) -> int | None:
    """The line where a top-level ``key:`` is written."""
    pattern = re.compile(rf"^{re.escape(key)}\s*:")
    try:
        return next((number for number, line in enumerate(read_text(path).splitlines(), 1) if pattern.match(line)), None)
    except ContentError:
        return None


def _line_of(path: Path, needle: str) -> int | None:
    try:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if needle in line:
                return number
    except (OSError, UnicodeDecodeError):
        return None
    return None
