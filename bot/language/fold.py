"""Folding what she types so that the way she typed it does not matter: case, accents and harakat,
the Arabic-script letters that Arabic, Persian and Pashto keyboards write differently, zero-width
characters, apostrophes, Eastern Arabic and Persian digits and repeated letters. One place for the
emergency patterns, small talk, language detection, wishes and retrieval."""

from __future__ import annotations

import re
import unicodedata

SCAN_LIMIT = 20_000       # characters of a message that are folded into tokens, half at its start and half at its end
                          # (Telegram and WhatsApp allow 4,096)
WORD = re.compile(r"\w+")

_REMOVED = dict.fromkeys(map(ord, "\u200b\u200e\u200f\u2060\ufeff\u061c\u202a\u202b\u202c\u202d\u202e"
                                  "\u2066\u2067\u2068\u2069\u0640\u0621'\u2019\u2018\u02bc\u02bb`\u00b4\u2032\u02b9\u201b\uff07"))
_SPACED = dict.fromkeys(map(ord, "\u200c\u200d"), " ")   # Persian half-space: like a space
LETTERS = str.maketrans({  # the letters that Arabic, Persian and Pashto keyboards write differently
    "\u06cc": "\u064a", "\u0649": "\u064a", "\u06d0": "\u064a", "\u06cd": "\u064a",   # ی ى ې ۍ -> ي
    "\u06a9": "\u0643",                                                               # ک -> ك
    "\u0629": "\u0647", "\u06d5": "\u0647", "\u06c1": "\u0647", "\u06c0": "\u0647",   # ة ە ہ ۀ -> ه
    "\u0671": "\u0627",                                                               # ٱ -> ا
    "\u06ab": "\u06af", "\u067c": "\u062a", "\u0689": "\u062f", "\u0693": "\u0631",   # ګ->گ ټ->ت ډ->د ړ->ر
    "\u06bc": "\u0646", "\u069a": "\u0634", "\u0696": "\u0698",                       # ڼ->ن ښ->ش ږ->ژ
    **{chr(0x0660 + d): str(d) for d in range(10)}, **{chr(0x06f0 + d): str(d) for d in range(10)},
})
_JOINED_PREFIXES = frozenset({"مي", "نمي"})  # Persian "می زند" = "می‌زند" = "میزند"
REPEATS = re.compile(r"([^\W\d_])\1+")


def tokens(text: str) -> list[str]:
    """Her words, folded: NFKC, case, accents and harakat, tatweel and hamza, Arabic and Persian letter
    variants, zero-width characters, apostrophes, Eastern digits and repeated letters do not matter."""
    if len(text) > SCAN_LIMIT:  # the start and the end: where she says what happened
        text = text[:SCAN_LIMIT // 2] + " " + text[-SCAN_LIMIT // 2:]
    text = unicodedata.normalize("NFKC", text).translate(_SPACED).translate(_REMOVED).casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    text = unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c))).translate(LETTERS)
    words = [REPEATS.sub(r"\1", word) for word in WORD.findall(text.replace("_", " "))]
    joined: list[str] = []
    for word in words:
        if joined and joined[-1] in _JOINED_PREFIXES:
            joined[-1] += word
        else:
            joined.append(word)
    return joined


def normalise(text: str) -> str:
    """Case-fold, drop accents and punctuation: how women type should not matter."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(WORD.findall(unicodedata.normalize("NFC", stripped)))


def letters(text: str) -> str:
    """:func:`normalise`, and one spelling of each Arabic-script letter (ی ى -> ي, ک -> ك, ة ۀ -> ه, …)."""
    return normalise(text).translate(LETTERS)
