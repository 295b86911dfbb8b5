"""Emergencies: the patterns of knowledge/_emergency.yaml, how a message is folded before they are
matched, and which kind of emergency a message is.

Coordinators write patterns as words, not regular expressions (see the file's header):
``hit*`` a word starting with "hit", ``*slag`` one ending with "slag", ``*ضرب*`` one containing
"ضرب", ``~drbn*`` a Latin-script word whose consonants start with d-r-b-n (Arabic or Persian typed
in Latin letters: "yadrabni", "ydrbni" and "yedrebni" all have the consonants y-d-r-b-n),
``a|b`` either word, ``{name}`` any item of a named word list, and ``...`` up to a few other words.
Text and patterns are folded the same way (:func:`bot.language.fold.tokens`), so accents, harakat, letter variants,
zero-width joiners, apostrophes, Eastern Arabic digits and repeated letters never matter."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path

from bot.errors import ContentError
from bot.language import REPEATS, tokens
from bot.yamlfile import load_yaml

# Kinds in the order that decides when a message matches several ("he beat me, I want to die": suicide).
KINDS = ("suicide", "medical", "sexual", "child", "violence", "threat", "confined", "forced-marriage")
DEFAULT_GAP = 3           # "..." in a pattern: at most this many other words

_ARABIZI = str.maketrans({"2": "", "3": "", "5": "kh", "6": "t", "7": "h", "8": "gh", "9": "q"})
_VOWELS = re.compile(r"[aeiou]+")
_LATIN = re.compile(r"[a-z]")


def skeleton(word: str) -> str:
    """The consonants of a Latin-script word (arabizi digits read as letters): how Arabic and Persian
    typed in Latin letters are compared, whatever vowels she chose."""
    if not _LATIN.search(word):
        return word
    return REPEATS.sub(r"\1", _VOWELS.sub("", word.translate(_ARABIZI)))


class PatternError(ValueError):
    """A pattern that cannot be read; the message says what to change."""


@dataclass(frozen=True)
class Match:
    kind: str
    language: str
    pattern: str
    words: str


# A pattern is compiled to slots of alternatives; an alternative is a tuple of atoms (one per word:
# a phrase from a word list has several); an atom is (how, on_skeleton, stem), how in = ^ $ *.
Atom = tuple[str, bool, str]
Phrase = tuple[frozenset[int], ...]  # per word of an alternative: the atoms any of which it may match
_JOIN = re.compile(r"(?<!\S)(ن?م[یيى])[\s\u200c]+(?=[^\s{~*.|])")  # "می زند" in a pattern, as in her text


class _Slot:
    """One position of a pattern: the atoms a single word may match, and the longer phrases by the
    atom their first word must match (so that a position is checked by lookups, not by a loop)."""

    def __init__(self, alternatives: tuple[Phrase, ...]) -> None:
        self.single = frozenset(atom for phrase in alternatives if len(phrase) == 1 for atom in phrase[0])
        self.phrases: dict[int, list[Phrase]] = {}
        for phrase in alternatives:
            if len(phrase) > 1:
                for atom in phrase[0]:
                    self.phrases.setdefault(atom, []).append(phrase)

        self.first_atoms = self.single | frozenset(self.phrases)

    def ends(self, atoms: list[frozenset[int]], position: int) -> list[int]:
        """Where this slot ends when it starts at ``position`` (several ends for phrases)."""
        if position >= len(atoms):
            return []
        here = atoms[position]
        found = [position + 1] if not here.isdisjoint(self.single) else []
        for atom in here:
            for phrase in self.phrases.get(atom, ()):
                end = _follows(atoms, position, phrase)
                if end is not None:
                    found.append(end)
        return found


@dataclass(frozen=True)
class _Pattern:
    source: str
    kind: str
    slots: tuple[_Slot, ...]
    gaps: tuple[int, ...]                   # words allowed before each slot (0 for the first)


class Language:
    """The compiled patterns of one language (or script variant, e.g. "ar-latn")."""

    def __init__(self, code: str, patterns: dict[str, list[str]], calm: list[str],
                 words: dict[str, list[str]] | None = None, gap: int = DEFAULT_GAP) -> None:
        self.code, self.patterns, self.calm, self.words, self.gap = code, patterns, calm, words or {}, gap
        self._atoms: dict[Atom, int] = {}
        self._words_seen: dict[str, Phrase] = {}
        self._lists_seen: dict[str, tuple[Phrase, ...]] = {}
        self._slots_seen: dict[str, _Slot] = {}
        compiled = [self._compile(p, kind) for kind, found in patterns.items() for p in found]
        self._calm = [self._compile(p, "calm") for p in calm]
        self._index = _AtomIndex(self._atoms)
        self._starts: dict[int, list[_Pattern]] = {}
        self._calm_starts: dict[int, list[_Pattern]] = {}
        for found, starts in ((compiled, self._starts), (self._calm, self._calm_starts)):
            for pattern in found:
                for atom in pattern.slots[0].first_atoms:
                    starts.setdefault(atom, []).append(pattern)

    def _compile(self, source: str, kind: str) -> _Pattern:
        try:
            parts = _JOIN.sub(r"\1", source).split()
            if not parts or all(part == "..." for part in parts):
                raise PatternError("is empty; write at least one word")
            if parts[0] == "..." or parts[-1] == "...":
                raise PatternError("'...' goes between two words, not at the start or the end")
            if any(a == b == "..." for a, b in zip(parts, parts[1:])):
                raise PatternError("has '... ...'; one '...' already allows several words")
            slots, gaps, gap = [], [], 0
            for part in parts:
                if part == "...":
                    gap = self.gap
                    continue
                if part not in self._slots_seen:  # one _Slot per distinct position ("{husband}" recurs in hundreds of patterns)
                    self._slots_seen[part] = _Slot(self._slot(part))
                slots.append(self._slots_seen[part])
                gaps.append(gap)
                gap = 0
            return _Pattern(source, kind, tuple(slots), tuple(gaps))
        except PatternError as error:
            raise PatternError(f"'{source}': {error}") from None

    def _slot(self, part: str) -> tuple[Phrase, ...]:
        """One position: a word, a {list}, or alternatives of both ("{me}|us|her")."""
        alternatives: list[Phrase] = []
        for alternative in part.split("|"):
            if alternative.startswith("{"):
                if not alternative.endswith("}") or "{" in alternative[1:]:
                    raise PatternError(f"'{alternative}': a word list is written {{name}}")
                name = alternative[1:-1]
                if name not in self.words:
                    raise PatternError(f"uses {{{name}}}, but there is no word list '{name}' under 'words:'")
                if not self.words[name]:
                    raise PatternError(f"the word list '{name}' is empty")
                if name not in self._lists_seen:
                    self._lists_seen[name] = tuple(self._phrase(item) for item in self.words[name])
                alternatives += self._lists_seen[name]
            else:
                alternatives.append(self._word(alternative))
        return tuple(dict.fromkeys(alternatives))  # a list used twice in one slot counts once

    def _phrase(self, item: str) -> Phrase:
        """A word list item: words, each of which may have alternatives ("my|our husband*")."""
        parts = _JOIN.sub(r"\1", item).split()
        if not parts or "..." in parts or any("{" in p for p in parts):
            raise PatternError(f"the word list item '{item}' must be words (no '...' or {{lists}})")
        phrase: list[frozenset[int]] = []
        for part in parts:
            choices = [self._word(alternative) for alternative in part.split("|")]
            if len(choices) == 1 or all(len(choice) == 1 for choice in choices):
                phrase += [frozenset(atom for choice in choices for atom in choice[0])] if len(choices) > 1 else list(choices[0])
            else:
                raise PatternError(f"in '{item}', '{part}': alternatives must be single words")
        return tuple(phrase)

    def _word(self, alternative: str) -> Phrase:
        """One word: exact, prefix*, *suffix, *infix*, or ~skeleton (with the same stars); a word that
        folds to several ("l-enfant") is a phrase."""
        if alternative not in self._words_seen:
            self._words_seen[alternative] = self._fold_word(alternative)
        return self._words_seen[alternative]

    def _fold_word(self, alternative: str) -> Phrase:
        if "{" in alternative or "}" in alternative:
            raise PatternError(f"'{alternative}': a word list is written {{name}}")
        on_skeleton = alternative.startswith("~")
        core = alternative[1:] if on_skeleton else alternative
        starts, ends = core.startswith("*"), core.endswith("*") and len(core) > 1
        folded = tokens(core.strip("*"))
        if on_skeleton:
            folded = [skeleton(word) for word in folded]
        if not folded or not all(folded):
            raise PatternError(f"'{alternative}' has no letters")
        if (starts and len(folded[0]) < 2) or (ends and len(folded[-1]) < 2):
            raise PatternError(f"'{alternative}' is too short for a '*': it would match almost any word")
        atoms = []
        for index, word in enumerate(folded):
            first, last = index == 0, index == len(folded) - 1
            how = {(True, True): "*", (True, False): "$", (False, True): "^", (False, False): "="}[(starts and first, ends and last)]
            atoms.append(frozenset({self._atoms.setdefault((how, on_skeleton, word), len(self._atoms))}))
        return tuple(atoms)

    def spans(self, words: list[tuple[str, str]], calm: bool = False, skip: frozenset[str] = frozenset(),
              inside: list[tuple[int, int]] | None = None) -> list[tuple[str, str, int, int]]:
        """(kind, pattern, first word, end) of the matches in her folded words: every calm one, or
        the first emergency of each kind not in ``skip`` that does not lie ``inside`` a calm span."""
        atoms = [self._index.of(word, skeleton_) for word, skeleton_ in words]
        present = frozenset().union(*atoms)
        viable: dict[int, bool] = {}  # a pattern some of whose words are nowhere in her text is skipped
        starts = self._calm_starts if calm else self._starts
        found, done = [], set(skip)
        for position, here in enumerate(atoms):
            candidates = {id(p): p for atom in here for p in starts.get(atom, ()) if p.kind not in done}
            for key, pattern in candidates.items():
                if pattern.kind in done:
                    continue
                if key not in viable:
                    viable[key] = all(not slot.first_atoms.isdisjoint(present) for slot in pattern.slots)
                if not viable[key]:
                    continue
                for end in pattern.slots[0].ends(atoms, position):
                    stop = _rest(pattern, 1, atoms, end, longest=calm)
                    if stop is None or any(c_start <= position and stop <= c_end for c_start, c_end in inside or ()):
                        continue
                    found.append((pattern.kind, pattern.source, position, stop))
                    if not calm:
                        done.add(pattern.kind)
                        break
        return found


class _AtomIndex:
    """Which atoms a word matches: dictionary lookups of the word, its prefixes, suffixes and infixes."""

    def __init__(self, atoms: dict[Atom, int]) -> None:
        self._by: dict[tuple[str, bool], dict[str, list[int]]] = {}
        self._lengths: dict[tuple[str, bool], list[int]] = {}
        for (how, on_skeleton, stem), atom in atoms.items():
            self._by.setdefault((how, on_skeleton), {}).setdefault(stem, []).append(atom)
        for key, stems in self._by.items():
            self._lengths[key] = sorted({len(stem) for stem in stems})
        self._cache: dict[tuple[str, str], frozenset[int]] = {}

    def of(self, word: str, skeleton_: str) -> frozenset[int]:
        found = self._cache.get((word, skeleton_))
        if found is None:
            found = frozenset(self._lookup(word, False) + self._lookup(skeleton_, True))
            if len(self._cache) < 100_000:
                self._cache[(word, skeleton_)] = found
        return found

    def _lookup(self, word: str, on_skeleton: bool) -> list[int]:
        found: list[int] = []
        for how in ("=", "^", "$", "*"):
            stems = self._by.get((how, on_skeleton))
            if not stems:
                continue
            if how == "=":
                found += stems.get(word, ())
                continue
            for length in self._lengths[(how, on_skeleton)]:
                if length > len(word):
                    break
                if how == "^":
                    found += stems.get(word[:length], ())
                elif how == "$":
                    found += stems.get(word[-length:], ())
                else:
                    for start in range(len(word) - length + 1):
                        found += stems.get(word[start:start + length], ())
        return found


def _follows(atoms: list[frozenset[int]], position: int, alternative: Phrase) -> int | None:
    """Where an alternative (one word, or a phrase) that starts at ``position`` ends, if it matches."""
    end = position + len(alternative)
    if end > len(atoms) or any(atoms[position + i].isdisjoint(choices) for i, choices in enumerate(alternative)):
        return None
    return end


def _rest(pattern: _Pattern, slot: int, atoms: list[frozenset[int]], position: int, longest: bool = False) -> int | None:
    """The end of the pattern's slots from ``slot`` on, the first of them starting at ``position``
    (or up to its gap later); None when they do not match. ``longest``: the furthest end (a calm
    phrase covers as much as it can), else the first found."""
    if slot == len(pattern.slots):
        return position
    best = None
    for start in range(position, min(position + pattern.gaps[slot], len(atoms) - 1) + 1):
        for end in pattern.slots[slot].ends(atoms, start):
            stop = _rest(pattern, slot + 1, atoms, end, longest)
            if stop is not None and not longest:
                return stop
            if stop is not None and (best is None or stop > best):
                best = stop
    return best


class Patterns:
    """Every language's patterns; a message is searched with all of them (women mix languages)."""

    def __init__(self, languages: list[Language]) -> None:
        self.languages = languages

    def find(self, text: str) -> list[Match]:
        """The emergencies in her text, by kind priority; a match inside a calm phrase does not count."""
        words = [(word, skeleton(word)) for word in tokens(text)]
        if not words:
            return []
        calm = [(start, end) for language in self.languages for _, _, start, end in language.spans(words, calm=True)]
        found: dict[str, Match] = {}
        for language in self.languages:
            for kind, source, start, end in language.spans(words, skip=frozenset(found), inside=calm):
                found[kind] = Match(kind, language.code, source, " ".join(word for word, _ in words[start:end]))
        return sorted(found.values(), key=lambda match: KINDS.index(match.kind) if match.kind in KINDS else len(KINDS))


@dataclass(frozen=True)
class Detection:
    """She wrote about an emergency: which kind, and which signal said so."""

    kind: str
    signal: str                  # "pattern" or "classifier"
    score: float = 1.0           # the classifier's probability (1.0 for a pattern)
    match: Match | None = None


def detect(rules: Rules | None, text: str, classifier: tuple[float, str | None] = (0.0, None),
           threshold: float = 1.0) -> Detection | None:
    """An emergency when a pattern matches or the classifier's emergency probability reaches
    ``threshold``; a pattern decides the kind when both speak."""
    if rules is None:
        return None
    found = rules.find(text)
    if found:
        return Detection(found[0].kind, "pattern", 1.0, found[0])
    score, kind = classifier
    if kind in rules.kinds and score >= threshold:
        return Detection(kind, "classifier", score)
    return None


@dataclass(frozen=True)
class Kind:
    id: str
    entry: str                      # the knowledge entry she is shown first, e.g. safety/suicide
    numbers: tuple[str, ...] = ()   # the numbers that entry gives (said once per reply)


@dataclass
class Rules:
    """knowledge/_emergency.yaml: the kinds, their patterns in every language, and the example
    sentences the classifier learns the emergency classes from."""

    kinds: dict[str, Kind]
    patterns: Patterns
    examples: dict[str, list[str]]       # kind -> sentences (all languages)
    calm_examples: list[str]             # sentences with dangerous words that are not emergencies

    def find(self, text: str) -> list[Match]:
        """Pattern matches of known kinds, in the order of `kinds:` (most serious first)."""
        order = list(self.kinds)
        return sorted((match for match in self.patterns.find(text) if match.kind in self.kinds), key=lambda match: order.index(match.kind))

    @property
    def entries(self) -> set[str]:
        return {kind.entry for kind in self.kinds.values()}

    def with_examples(self, examples: dict[str, list[str]], calm_examples: list[str]) -> Rules:
        """These rules with more training sentences for the classifier (knowledge/_emergency_examples.yaml)."""
        merged = {kind: self.examples.get(kind, []) + examples.get(kind, []) for kind in self.kinds}
        return dataclasses.replace(self, examples=merged, calm_examples=self.calm_examples + calm_examples)


def load_examples(path: Path, kinds: dict[str, Kind]) -> tuple[dict[str, list[str]], list[str]]:
    """knowledge/_emergency_examples.yaml: more sentences for the classifier only (patterns never see
    them): per language, `emergency:` sentences by kind and `calm:` sentences."""
    data = load_yaml(path)
    where = str(path)
    if not isinstance(data, dict) or not isinstance(data.get("languages"), dict):
        raise ContentError(where, 1, "needs 'languages:', and under each language 'emergency:' (sentences by kind) and 'calm:'")
    examples: dict[str, list[str]] = {kind: [] for kind in kinds}
    calm: list[str] = []
    for code, spec in data["languages"].items():
        if not isinstance(spec, dict) or not isinstance(spec.get("emergency") or {}, dict):
            raise ContentError(where, _line(path, f"{code}:"), f"under '{code}', 'emergency:' lists sentences by kind and 'calm:' is a list")
        for kind, sentences in (spec.get("emergency") or {}).items():
            if kind not in kinds:
                hint = get_close_matches(str(kind), list(kinds), n=1)
                raise ContentError(where, _line(path, f"{kind}:"), f"sentences of '{code}' name the kind '{kind}'"
                                   + (f"; did you mean '{hint[0]}'?" if hint else f"; kinds are {', '.join(kinds)}"))
            examples[kind] += _strings(path, sentences, f"{code}: emergency: {kind}")
        calm += _strings(path, spec.get("calm") or [], f"{code}: calm")
    return examples, calm


def load_rules(path: Path) -> Rules:
    data = load_yaml(path)
    where = str(path)
    if not isinstance(data, dict) or not isinstance(data.get("kinds"), dict) or not isinstance(data.get("languages"), dict):
        raise ContentError(where, 1, "needs 'kinds:' (each kind with its 'entry:') and 'languages:' (patterns per language)")
    kinds = {}
    for kind_id, spec in data["kinds"].items():
        if not isinstance(spec, dict) or not isinstance(spec.get("entry"), str):
            raise ContentError(where, _line(path, f"{kind_id}:"), f"kind '{kind_id}' needs 'entry: safety/<entry>'")
        kinds[str(kind_id)] = Kind(str(kind_id), spec["entry"], tuple(str(n) for n in spec.get("numbers") or []))
    gap = data.get("gap", DEFAULT_GAP)
    if not isinstance(gap, int) or not 0 <= gap <= 10:
        raise ContentError(where, _line(path, "gap:"), f"'gap' must be a whole number from 0 to 10, not {gap!r}")
    languages, examples, calm_examples = [], {kind: [] for kind in kinds}, []
    for code, spec in data["languages"].items():
        languages.append(_language(path, str(code), spec, kinds, gap))
        for kind, sentences in (spec.get("examples") or {}).items():
            if kind not in kinds:
                raise ContentError(where, _line(path, f"{kind}:"), f"examples of '{code}' name the kind '{kind}'; kinds are {', '.join(kinds)}")
            examples[kind] += _strings(path, sentences, f"{code}: examples: {kind}")
        calm_examples += _strings(path, spec.get("calm_examples") or [], f"{code}: calm_examples")
    return Rules(kinds, Patterns(languages), examples, calm_examples)


def _language(path: Path, code: str, spec: object, kinds: dict[str, Kind], gap: int) -> Language:
    where = str(path)
    if not isinstance(spec, dict):
        raise ContentError(where, _line(path, f"{code}:"), f"'{code}' needs 'words:', 'patterns:' and 'calm:' under it")
    words = spec.get("words") or {}
    patterns = spec.get("patterns") or {}
    if not isinstance(words, dict) or not isinstance(patterns, dict):
        raise ContentError(where, _line(path, f"{code}:"), f"under '{code}', 'words:' and 'patterns:' are lists by name")
    for kind in patterns:
        if kind not in kinds:
            raise ContentError(where, _line(path, f"{kind}:"), f"patterns of '{code}' name the kind '{kind}'; kinds are {', '.join(kinds)}")
    lists = {str(name): _strings(path, items, f"{code}: words: {name}") for name, items in words.items()}
    found = {str(kind): _strings(path, items, f"{code}: patterns: {kind}") for kind, items in patterns.items()}
    calm = _strings(path, spec.get("calm") or [], f"{code}: calm")
    try:
        return Language(code, found, calm, lists, gap)
    except PatternError as error:
        text = str(error).split("'")[1] if "'" in str(error) else ""
        raise ContentError(where, _line(path, text) if text else None, f"pattern {error}") from None
    except re.error as error:
        raise ContentError(where, None, f"a pattern of '{code}' cannot be read ({error}); remove brackets and backslashes") from None


def _strings(path: Path, items: object, what: str) -> list[str]:
    if not isinstance(items, list) or not all(isinstance(item, (str, int)) for item in items):
        raise ContentError(str(path), _line(path, what.rsplit(": ", 1)[-1] + ":"), f"'{what}' must be a list of lines starting with '- ' (or [a, b])")
    return [str(item) for item in items]


def _line(path: Path, needle: str) -> int | None:
    try:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if needle and needle in line:
                return number
    except (OSError, UnicodeDecodeError):
        return None
    return None
