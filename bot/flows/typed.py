"""What she typed instead of pressing a button: a label without its emoji, case and accents, or with a small typo."""

from __future__ import annotations

from collections.abc import Sequence

from rapidfuzz.distance import DamerauLevenshtein

from bot.language import normalise

MIN_PREFIX = 5  # "second" for "Secondary school": a label's start counts from this many letters


def typed_choice(text: str, labels: Sequence[str]) -> int | None:
    """The index of the one label she meant, or None when it is none of them or could be two."""
    typed = normalise(text)
    names = [normalise(label) for label in labels]
    if not typed:
        return None
    exact = [index for index, name in enumerate(names) if name == typed]
    if exact:
        return exact[0] if len(exact) == 1 else None
    allowed = _typos(typed)
    scored = sorted((DamerauLevenshtein.distance(typed, name), index) for index, name in enumerate(names) if name)
    if scored and scored[0][0] <= allowed and (len(scored) == 1 or scored[1][0] > scored[0][0]):
        return scored[0][1]
    if len(typed.replace(" ", "")) >= MIN_PREFIX:  # "learn dutch" for "Learning Dutch", "weet niet" for "Ik weet het niet"
        within = [index for index, name in enumerate(names) if _within(typed.split(), name.split())]
        if len(within) == 1:
            return within[0]
    return None


def _within(typed: list[str], label: list[str]) -> bool:
    """Her words, in order, each the start of one of the label's words (whole words when short), an Arabic
    word also with its article and a prefix of its own ("بالهاتف", by phone, for "عبر الهاتف")."""
    position = 0
    for word in typed:
        while position < len(label) and not (label[position] == word or (len(word) >= 3 and label[position].startswith(word))
                                             or _bare(label[position]) == _bare(word)):
            position += 1
        if position == len(label):
            return False
        position += 1
    return True


ARABIC_PREFIXES = ("و", "ف", "ب", "ك", "ل")  # and, so, by/with, like, for: written together with the next word


def _bare(word: str) -> str:
    """An Arabic word without one prefix and the article: "بالهاتف", "الهاتف" and "هاتف" alike; other words as they are."""
    bare = word
    if len(bare) > 4 and bare[0] in ARABIC_PREFIXES and bare[1:3] == "ال":
        bare = bare[1:]
    if bare.startswith("لل") and len(bare) > 4:  # li + al: "للأطفال"
        bare = bare[2:]
    elif bare.startswith("ال") and len(bare) > 4:
        bare = bare[2:]
    return bare if len(bare) >= 3 else word


def _typos(typed: str) -> int:
    """How many slips a label of this length may have and still be recognised: none in "ja", one in "wel",
    two in "by fone"."""
    letters = len(typed.replace(" ", ""))
    return 0 if letters <= 2 else 1 if letters <= 5 else 2
