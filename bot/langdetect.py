"""Which supported language a message is written in, or None when that is not clear."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cached_property

ETHIOPIC = re.compile(r"[\u1200-\u137f\u1380-\u139f\u2d80-\u2ddf\uab00-\uab2f]")
ARABIC_SCRIPT = re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")
PASHTO_ONLY = re.compile(r"[ټډړږښګڼۍېځڅ]")
# Frequent Pashto words written only with letters Persian shares: "of", "in", "you", "I", "for" …
PASHTO_WORDS = frozenset("د په ته کې چې دی دي ده سره لپاره تاسو زه یې يې کوي وي شي هلته نن".split())
# Northern Kurdish (Kurmanji) is not in lingua and looks like Turkish or French to it; these words
# are frequent in Kurmanji and rare in both, so a message with two of them gets no offer.
KURMANJI_WORDS = frozenset("û ji jî xwe heye hene yên ên dikare dibe nabe divê bûye kir kirin me ku bi li wê wî".split())
# Languages lingua knows that women here may also write (or that look like ours): a message in one
# of them must not trigger an offer to switch to a supported language it resembles.
DISTRACTORS = ("es", "pt", "it", "de", "pl", "ro", "sq", "bs", "hr", "sr", "ur", "am")
NOISE = re.compile(r"https?://\S+|www\.\S+|\S+@\S+|[@#/]\S+|[\d\W_]+", re.UNICODE)

MIN_LETTERS = 12   # fewer letters than this (after removing names, numbers, links) is never "clear"
MIN_WORDS = 3
MIN_CONFIDENCE = 0.6


class LanguageDetector:
    """lingua for the languages it knows, script rules for Tigrinya and Pashto."""

    def __init__(self, supported: Iterable[str]) -> None:
        self.supported = tuple(supported)

    @cached_property
    def _lingua(self):  # type: ignore[no-untyped-def]
        try:
            from lingua import IsoCode639_1, Language, LanguageDetectorBuilder
        except ImportError:
            return None
        known = {language.iso_code_639_1.name.lower(): language for language in Language.all()}
        languages = [known[code] for code in dict.fromkeys((*self.supported, *DISTRACTORS)) if code in known]
        if len([code for code in self.supported if code in known]) < 2:
            return None
        del IsoCode639_1
        return LanguageDetectorBuilder.from_languages(*languages).with_low_accuracy_mode().with_preloaded_language_models().build()

    def detect(self, text: str) -> str | None:
        words = [word for word in NOISE.sub(" ", text).split() if len(word) > 1]
        letters = sum(len(word) for word in words)
        if letters < MIN_LETTERS or len(words) < MIN_WORDS:
            return None
        cleaned = " ".join(words)
        ethiopic = len(ETHIOPIC.findall(cleaned))
        if ethiopic * 2 > letters:
            return "ti" if "ti" in self.supported else None
        arabic = len(ARABIC_SCRIPT.findall(cleaned))
        if arabic * 2 > letters and "ps" in self.supported and (
                PASHTO_ONLY.search(cleaned) or len(PASHTO_WORDS.intersection(words)) >= 2):
            return "ps"
        if len(KURMANJI_WORDS.intersection(word.casefold() for word in words)) >= 3:
            return None
        return self._by_model(cleaned)

    def _by_model(self, text: str) -> str | None:
        detector = self._lingua
        if detector is None:
            return None
        values = detector.compute_language_confidence_values(text)
        if not values or values[0].value < MIN_CONFIDENCE:
            return None
        code = values[0].language.iso_code_639_1.name.lower()
        return code if code in self.supported else None
