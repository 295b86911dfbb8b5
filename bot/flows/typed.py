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
    """Her words, in order, each the start of one of the label's words (whole words when short)."""
    position = 0
    for word in typed:
        while position < len(label) and not (label[position] == word or (len(word) >= 3 and label[position].startswith(word))):
            position += 1
        if position == len(label):
            return False
        position += 1
    return True


def _typos(typed: str) -> int:
    """How many slips a label of this length may have and still be recognised: none in "ja", one in "wel",
    two in "by fone"."""
    letters = len(typed.replace(" ", ""))
    return 0 if letters <= 2 else 1 if letters <= 5 else 2
