"""flows/_intents.yaml: the words of a wish ("I want to ...") and of a question ("where ...") per language."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.contentfiles import present
from bot.errors import ContentError
from bot.flows.model import Flow
from bot.knowledge import Decision
from bot.language import letters
from bot.yamlfile import load_yaml

INTENTS_FILE = "_intents.yaml"
KINDS = ("wish", "question")
@dataclass(frozen=True)
class Intents:
    phrases: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)  # kind -> language -> folded phrases

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(code for table in self.phrases.values() for code in table))

    def wishes(self, text: str, languages: Iterable[str]) -> bool:
        """She asks to do something ("i want to sign up", "بدي سجل"): one of the wish phrases, anywhere."""
        words = f" {letters(text)} "
        return any(f" {phrase} " in words for phrase in self._of("wish", languages))

    def asks(self, text: str, languages: Iterable[str]) -> bool:
        """A question: a question mark, or a question word first or last ("where is ...", "ocmw nerede")."""
        if text.rstrip().endswith(("?", "؟", ";")):
            return True
        words = letters(text).split()
        if not words:
            return False
        found = self._of("question", languages)
        return any(" ".join(words[:len(phrase.split())]) == phrase or " ".join(words[-len(phrase.split()):]) == phrase
                   for phrase in found)

    def mentions_question(self, text: str, languages: Iterable[str]) -> bool:
        """A question word anywhere: "i want to know how much it costs" asks, it does not wish."""
        words = f" {letters(text)} "
        return "?" in text or "؟" in text or any(f" {phrase} " in words for phrase in self._of("question", languages))

    def _of(self, kind: str, languages: Iterable[str]) -> set[str]:
        table = self.phrases.get(kind, {})
        return {phrase for code in dict.fromkeys(languages) for phrase in table.get(code, ())}


def load_intents(folder: Path) -> Intents:
    path = folder / INTENTS_FILE
    if not present(path):
        return Intents()
    data = load_yaml(path)
    if not isinstance(data, dict) or set(data) - set(KINDS):
        raise ContentError(str(path), 1, f"needs only {' and '.join(repr(k + ':') for k in KINDS)}, each with a list of phrases per language, e.g. 'en: [i want]'")
    phrases: dict[str, dict[str, tuple[str, ...]]] = {}
    for kind, table in data.items():
        if not isinstance(table, dict) or not all(isinstance(items, list) for items in table.values()):
            raise ContentError(str(path), 1, f"'{kind}:' maps languages to lists of phrases, e.g. 'en: [i want, help me]'")
        phrases[kind] = {str(code): tuple(p for p in (letters(str(item)) for item in items) if p) for code, items in table.items()}
    return Intents(phrases)


def wanted_flow(intents: Intents, flows: dict[str, Flow], decision: Decision, text: str, languages: Iterable[str]) -> Flow | None:
    """The flow she asks to start in her own words: a wish ("I want to sign up for job shadowing", "help me find a
    creche") without a question word, where the best match is the flow itself, or an entry of a topic whose
    flow is among the best matches or is the topic's own journey (flows/childcare.yaml for knowledge/childcare/). Wish words count in every language; question words in ``languages``."""
    if not decision.candidates or not intents.wishes(text, intents.languages) or intents.mentions_question(text, languages):
        return None
    best = decision.candidates[0].entry
    topic = best.split("/")[0]
    for candidate in decision.candidates:
        flow = flows.get(candidate.entry[5:]) if candidate.entry.startswith("flow:") else None
        if flow is not None and (candidate.entry == best or flow.topic == topic):
            return flow
    return flows.get(topic) if topic in flows and flows[topic].topic == topic else None  # the topic's own journey
