"""Which supported language a message is written in, or None when that is not clear."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cached_property

from bot.language.fold import tokens

ETHIOPIC = re.compile(r"[\u1200-\u137f\u1380-\u139f\u2d80-\u2ddf\uab00-\uab2f]")
ARABIC_SCRIPT = re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")
PASHTO_ONLY = re.compile(r"[ټډړږښګڼۍېځڅ]")
PERSIAN_ONLY = re.compile(r"[پچژگیکۀ]")     # letters Persian (and Pashto) write and Arabic does not
CYRILLIC = re.compile(r"[\u0400-\u04ff]")
UKRAINIAN_ONLY = re.compile(r"[іїєґІЇЄҐ]")
RUSSIAN_ONLY = re.compile(r"[ыэъёЫЭЪЁ]")
# The languages a script can be written in; the first is taken when nothing tells them apart.
SCRIPTS = ((ETHIOPIC, ("ti",)), (ARABIC_SCRIPT, ("ar", "fa", "ps")), (CYRILLIC, ("ru", "uk")))
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
# Before offering her another language than the one she chose: the message is long enough, lingua
# gives her language little chance, and fewer of her words are words the bot itself uses in her
# language ("i need creche for my baby" is English with a Dutch word, not Dutch).
OFFER_MIN_WORDS = 4
OFFER_MIN_LETTERS = 16
CHOSEN_PLAUSIBLE = 0.1    # lingua's confidence for her language from which it is plausible
KNOWN_PLAUSIBLE = 0.6     # share of her words the bot uses in her language from which it is plausible


class LanguageDetector:
    """lingua for the languages it knows, script rules for Tigrinya and Pashto; ``texts``: per
    language, what the bot itself says and knows in it (titles, questions, small talk), whose words
    make a message plausible in that language."""

    def __init__(self, supported: Iterable[str], texts: Mapping[str, Iterable[str]] | None = None) -> None:
        self.supported = tuple(supported)
        self._texts = texts or {}

    @cached_property
    def _known(self) -> dict[str, frozenset[str]]:
        return {code: frozenset(word for text in texts for word in tokens(text)) for code, texts in self._texts.items()}

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

    def detect(self, text: str, chosen: str | None = None) -> str | None:
        """The supported language ``text`` is clearly written in; with ``chosen`` (her language), only
        another one when the text is not plausible in hers (see :meth:`plausible`)."""
        found = self._detect(text)
        if found is None or chosen is None or found == chosen or not self.plausible(text, chosen, found):
            return found
        return None

    def plausible(self, text: str, chosen: str, other: str) -> bool:
        """``text`` may well be in ``chosen``, though it looks like ``other``: it is short, lingua gives
        ``chosen`` a fair chance, or as many of its words are words the bot uses in ``chosen``."""
        words = [word for word in NOISE.sub(" ", text).split() if len(word) > 1]
        if len(words) < OFFER_MIN_WORDS or sum(map(len, words)) < OFFER_MIN_LETTERS:
            return True
        if self._confidence(" ".join(words), chosen) >= CHOSEN_PLAUSIBLE:
            return True
        mine, theirs = self.known_share(text, chosen), self.known_share(text, other)
        return mine >= KNOWN_PLAUSIBLE or mine >= theirs

    def known_share(self, text: str, language: str) -> float:
        """The share of the words of ``text`` that the bot itself uses in ``language``."""
        words = tokens(NOISE.sub(" ", text))
        known = self._known.get(language, frozenset())
        return sum(word in known for word in words) / len(words) if words else 0.0

    def by_script(self, text: str) -> str | None:
        """The language the script of ``text`` points to, even for one or two words: Ethiopic is
        Tigrinya; Arabic script is Pashto with its own letters, Persian with پ چ ژ گ ی ک, else the
        language whose words it uses (خداحافظ), else Arabic; Cyrillic is Ukrainian with і ї є ґ,
        Russian with ы э ъ ё, else the language whose words it uses, else what lingua says. None for
        Latin script and mixed or unclear text (see :meth:`by_known_words`)."""
        letters = [char for char in text if char.isalpha()]
        for script, languages in SCRIPTS:
            if letters and len(script.findall(text)) * 2 > len(letters):
                return self._within(text, languages)
        return None

    def by_known_words(self, text: str) -> str | None:
        """The one language whose words the bot knows are all of hers ("bonjour", "goeiedag", "iska warran");
        None when no language, or more than one, has them all ("ok", "salam"). Weaker than the script and
        than the language her phone announces."""
        if not any(char.isalpha() for char in text):
            return None
        complete = [code for code in self.supported if self.known_share(text, code) == 1.0]
        return complete[0] if len(complete) == 1 else None

    def _within(self, text: str, languages: tuple[str, ...]) -> str | None:
        """Which of the languages of one script ``text`` is in: its letters, else the words the bot
        uses in each, else lingua, else the first of them."""
        for letters, code in ((PASHTO_ONLY, "ps"), (PERSIAN_ONLY, "fa"), (UKRAINIAN_ONLY, "uk"), (RUSSIAN_ONLY, "ru")):
            if code in languages and code in self.supported and letters.search(text):
                return code
        candidates = [code for code in languages if code in self.supported]
        for score in (lambda code: self.known_share(text, code), lambda code: self._confidence(text, code)):
            scores = {code: score(code) for code in candidates}
            best = max(scores.values(), default=0.0)
            if best > 0 and list(scores.values()).count(best) == 1:
                return max(scores, key=scores.__getitem__)
        return candidates[0] if candidates else None

    def _confidence(self, text: str, language: str) -> float:
        """lingua's confidence that ``text`` is in ``language`` (0.0 for languages it does not know)."""
        detector = self._lingua
        if detector is None:
            return 0.0
        for value in detector.compute_language_confidence_values(text):
            if value.language.iso_code_639_1.name.lower() == language:
                return value.value
        return 0.0

    def _detect(self, text: str) -> str | None:
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
