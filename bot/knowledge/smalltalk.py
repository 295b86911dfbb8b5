"""Small talk: greetings, "how are you", "who are you", thanks, "ok" and goodbyes in every language,
from knowledge/_smalltalk.yaml, however they are typed on a phone.

A message is small talk when ALL of it is made of such phrases (plus a few words that go with them:
"dear", "so much", "sister"): "hiii", "merci beaucoup madame", "salam, kifik?", "👍". Her words are
folded as the emergency patterns fold them (case, accents and harakat, Arabic and Persian letter
variants, repeated letters), emoji and punctuation apart, and a longer word may have a typo
("thnaks", "spasiba"). "thanks, but where is the OCMW" is not small talk: it is a question, and
the greeting or thanks in front of a question is taken off so that retrieval answers the question."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from bot.contentfiles import read_text
from bot.errors import ContentError
from bot.language import tokens
from bot.yamlfile import ContentLoader, parse_yaml

SMALLTALK_FILE = "_smalltalk.yaml"
KINDS = ("greeting", "how", "who", "thanks", "ok", "bye")
REPLY_KEYS = {"greeting": "smalltalk-greeting", "how": "smalltalk-how", "who": "smalltalk-who",   # catalog keys
              "thanks": "smalltalk-thanks", "ok": "smalltalk-ok", "bye": "smalltalk-bye"}
EXTRA = "extra"          # words that go with small talk but are none by themselves ("dear", "so much")
# A message with several kinds ("hi, how are you", "ok thanks bye") is answered as the first of these.
PRIORITY = ("who", "how", "bye", "thanks", "greeting", "ok")
# Small talk in front of a question that is taken off ("hi, where can I learn dutch"); "good schools",
# "ok so how do I register" and "چطوری کار پیدا کنم" ("how do I find work") keep their first word.
STRIPPED = frozenset({"greeting", "thanks"})
MAX_CHARS = 200          # a longer message is never small talk
MAX_TOKENS = 24

_CHUNK = re.compile(r"[^\s,.!?;:،؛؟…¡¿\"“”„«»()\[\]{}<>*~=+|/\\-]+")
_EMOJI_GLUE = frozenset("\ufe0f\ufe0e\u200d\u20e3")  # variation selectors, the joiner inside emoji, keycaps
_LATIN_FOLD = str.maketrans({"ı": "i", "ə": "e", "ß": "ss", "ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d"})
# Tigrinya typed without the right keyboard: letters that sound alike become one (ሠ->ሰ, ፀ->ጸ, ቐ->ቀ, አ->ኣ).
_ETHIOPIC_FOLD = str.maketrans({**{chr(0x1220 + i): chr(0x1230 + i) for i in range(8)},
                                **{chr(0x1340 + i): chr(0x1338 + i) for i in range(8)},
                                **{chr(0x1250 + i): chr(0x1240 + i) for i in range(10)}, "\u12a0": "\u12a3"})


def is_emoji(char: str) -> bool:
    """A pictograph ("👍", "🙏", "❤"): a word of its own in small talk."""
    return unicodedata.category(char) == "So"


def fold(text: str) -> list[str]:
    """Her words as small talk compares them: see :func:`chunks`."""
    return [word for _, words in chunks(text) for word in words]


def chunks(text: str) -> list[tuple[int, list[str]]]:
    """(where it starts in ``text``, its folded words) for each piece between spaces and punctuation;
    an emoji is a word of its own."""
    found = []
    for match in _CHUNK.finditer(text):
        words: list[str] = []
        plain = ""
        for char in match.group():
            if is_emoji(char):
                words += _fold_words(plain)
                words.append(char)
                plain = ""
            elif char not in _EMOJI_GLUE and unicodedata.category(char) != "Sk":  # skin tones, joiners
                plain += char
        words += _fold_words(plain)
        if words:
            found.append((match.start(), words))
    return found


def _fold_words(text: str) -> list[str]:
    if not text:
        return []
    return [word.translate(_ETHIOPIC_FOLD) for word in tokens(text.casefold().translate(_LATIN_FOLD))]


def distance(a: str, b: str, limit: int) -> int:
    """Edits (insert, delete, replace, swap two neighbours) from a to b; ``limit + 1`` once it is more."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        before, previous = previous, current
    return previous[-1]


def allowed_typos(word: str) -> int:
    """How many typos a word of the lists may have in her message (never in its first letter): none
    below 6 letters ("salam" is not "salat"), one from 6, two from 9."""
    return 0 if len(word) < 6 else 1 if len(word) < 9 else 2


@dataclass(frozen=True)
class Phrase:
    """One line of the file, as written and where."""

    language: str
    kind: str
    text: str
    line: int | None


@dataclass(frozen=True)
class Found:
    kind: str                       # greeting, how, who, thanks, ok or bye


@dataclass(frozen=True)
class _Cover:
    phrases: int                    # how many phrases make up the words so far (fewer is better)
    kinds: tuple[str, ...]


@dataclass
class SmallTalk:
    """The phrases of knowledge/_smalltalk.yaml, folded, by their first word."""

    phrases: list[Phrase] = field(default_factory=list)
    path: Path | None = None

    def __post_init__(self) -> None:
        self._by_words: dict[tuple[str, ...], Phrase] = {}
        for phrase in self.phrases:
            first = self._by_words.setdefault(tuple(fold(phrase.text)), phrase)
            if first.kind != phrase.kind:
                raise ContentError(str(self.path), phrase.line, f"'{phrase.text}' ({phrase.language}: {phrase.kind}) is also "
                                   f"'{first.text}' under {first.language}: {first.kind}; keep it in one kind")
        self._starts: dict[str, list[tuple[str, ...]]] = {}
        for words in self._by_words:
            self._starts.setdefault(words[0], []).append(words)
        self._words = frozenset(word for words in self._by_words for word in words)
        self._near = lru_cache(maxsize=4096)(self._similar)

    @property
    def languages(self) -> list[str]:
        return list(dict.fromkeys(phrase.language for phrase in self.phrases))

    def words(self, language: str) -> list[str]:
        """The phrases of one language (what a woman writing it may say to begin with)."""
        return [phrase.text for phrase in self.phrases if phrase.language == language]

    def match(self, text: str) -> Found | None:
        """Her whole message is small talk: which kind."""
        if len(text) > MAX_CHARS:
            return None
        words = fold(text)
        if not words or len(words) > MAX_TOKENS:
            return None
        cover = self._covers(words).get(len(words))
        return _found(cover)

    def strip(self, text: str) -> str:
        """Her message without the greeting or thanks it starts with, when a question
        follows ("hi, where can I learn dutch" -> "where can I learn dutch"); else the message itself."""
        pieces = chunks(text[:MAX_CHARS])
        if len(pieces) < 2:
            return text
        words = [word for _, found in pieces for word in found][:MAX_TOKENS]
        covers = self._covers(words)
        if len(words) in covers:  # all of it is small talk: nothing to answer
            return text
        position, keep = 0, None
        for index, (_, found) in enumerate(pieces[:-1]):
            position += len(found)
            cover = covers.get(position)
            if cover is None:
                continue
            kinds = {kind for kind in cover.kinds if kind != EXTRA}
            if kinds and kinds <= STRIPPED:
                keep = pieces[index + 1][0]
        return text[keep:] if keep is not None else text

    def _covers(self, words: list[str]) -> dict[int, _Cover]:
        """For each position in her words: the fewest phrases that make up everything before it."""
        covers: dict[int, _Cover] = {0: _Cover(0, ())}
        for start in range(len(words)):
            here = covers.get(start)
            if here is None:
                continue
            for first in self._near(words[start]):
                for phrase in self._starts.get(first, ()):
                    end = start + len(phrase)
                    if end > len(words) or any(phrase[i] not in self._near(words[start + i]) for i in range(1, len(phrase))):
                        continue
                    cover = _Cover(here.phrases + 1, (*here.kinds, self._by_words[phrase].kind))
                    if end not in covers or cover.phrases < covers[end].phrases:
                        covers[end] = cover
        return covers

    def _similar(self, word: str) -> frozenset[str]:
        """The words of the lists her word is (the same, or one with a typo or two)."""
        found = {word} & self._words
        if len(word) >= 5:  # a typo, but not in the first letter ("banana" is not the Pashto "manana")
            found |= {known for known in self._words if allowed_typos(known) and known[0] == word[0]
                      and distance(word, known, allowed_typos(known)) <= allowed_typos(known)}
        return frozenset(found)


def _found(cover: _Cover | None) -> Found | None:
    if cover is None:
        return None
    kinds = [kind for kind in PRIORITY if kind in cover.kinds]
    return Found(kinds[0]) if kinds else None


def load_smalltalk(path: Path) -> SmallTalk:
    """knowledge/_smalltalk.yaml: ``languages:``, per language, lists of phrases by kind."""
    text = read_text(path)
    parse_yaml(text, path)  # a YAML mistake is reported with its line first
    root = yaml.compose(text, Loader=ContentLoader)
    languages = _value(root, "languages")
    if not isinstance(languages, yaml.MappingNode):
        raise ContentError(str(path), 1, f"needs 'languages:' with, per language, lists of phrases by kind ({', '.join(KINDS)}, {EXTRA})")
    return SmallTalk(list(_phrases(path, languages)), path)


def _phrases(path: Path, languages: yaml.MappingNode) -> Iterator[Phrase]:
    for code_node, kinds in languages.value:
        code = str(code_node.value)
        if not isinstance(kinds, yaml.MappingNode):
            raise ContentError(str(path), _line(code_node), f"'{code}' needs its kinds under it, e.g. 'greeting: [hello, hi]'")
        for kind_node, items in kinds.value:
            kind = str(kind_node.value)
            if kind not in (*KINDS, EXTRA):
                close = difflib.get_close_matches(kind, (*KINDS, EXTRA), n=1)
                hint = f"did you mean '{close[0]}'? " if close else ""
                raise ContentError(str(path), _line(kind_node), f"'{kind}' is not a kind of small talk: {hint}kinds are {', '.join((*KINDS, EXTRA))}")
            if not isinstance(items, yaml.SequenceNode) or not all(isinstance(item, yaml.ScalarNode) for item in items.value):
                raise ContentError(str(path), _line(kind_node), f"'{code}: {kind}' must be a list of phrases, one per line starting with '- '")
            for item in items.value:
                phrase = Phrase(code, kind, str(item.value).strip(), _line(item))
                if not fold(phrase.text):
                    raise ContentError(str(path), phrase.line, f"'{item.value}' has no letters or emoji: write the words as women type them")
                yield phrase


def _value(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    return next((value for name, value in node.value if name.value == key), None)


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def problems(talk: SmallTalk, languages: Iterable[str], questions: dict[str, tuple[str, Path]]) -> Iterator[tuple[str, int | None, str]]:
    """What `wegwijs check` says about the file besides reading it: (level, line, message) for languages
    that are not configured or have no phrases, and phrases that are a question an entry answers
    (``questions``: folded question -> (entry, its file))."""
    configured = list(languages)
    for phrase in talk.phrases:
        if phrase.language not in configured:
            yield "error", phrase.line, f"'{phrase.language}' is not one of the languages in config.yaml"
            break
    for code in configured:
        if code not in talk.languages:
            yield "warning", None, f"no phrases in '{code}': greetings and thanks in it get \"I do not know\""
    for phrase in talk.phrases:
        if phrase.kind != EXTRA and " ".join(fold(phrase.text)) in questions:
            entry, _ = questions[" ".join(fold(phrase.text))]
            yield "error", phrase.line, f"'{phrase.text}' is also a question of {entry}: as small talk it would never get that answer; remove one"
