"""One message being handled: who she is, her language, and helpers to build replies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from bot.config import Settings
from bot.core.content import Content
from bot.desk import CASE
from bot.knowledge import Detection, Evidence, detect
from bot.language import outgoing
from bot.messages import Button, Incoming, Kind, Outgoing
from bot.storage import UserSession

NOT_TRANSLATED = "note-not-translated"


@dataclass
class Standing:
    """Where she stands after a message: for an assistant that keeps its own state of her (Rasa slots)."""

    language: str
    flow: str | None  # the flow of Wegwijs she is in (not paused), or None
    case: str | None  # the status of her open case (waiting, active), or None


@dataclass
class Assist:
    """A message handled for an assistant that runs the conversation itself (a Rasa assistant): its
    stages (bot/core/assistant.py), what it knows of her, and, afterwards, where she stands."""

    stages: tuple[Callable[[Turn], Awaitable[bool]], ...]
    language: str | None = None          # the assistant's language for her (its `language` slot), when set
    forms: frozenset[str] = frozenset()  # flows the assistant runs as its own form: started there, not here
    history: tuple[tuple[str, str], ...] | None = None  # the conversation there, ("her" | "assistant", text): for a case card
    standing: Standing | None = None


@dataclass
class Turn:
    incoming: Incoming
    session: UserSession
    content: Content
    settings: Settings
    text: str = ""
    replies: list[Outgoing] = field(default_factory=list)
    fallback_used: bool = False
    assist: Assist | None = None

    @property
    def state(self) -> dict:
        return self.session.state

    @property
    def language(self) -> str:
        chosen = self.session.user.language
        if chosen in self.settings.languages:
            return chosen
        return self.written_language or self.script_language or self.hinted_language or self.word_language or self.settings.default_language

    @property
    def hinted_language(self) -> str | None:
        """The client's language (e.g. Telegram's language_code 'ar' or 'pt-br') when supported."""
        hint = (self.incoming.language_hint or "").split("-")[0].lower()
        return hint if hint in self.settings.languages else None

    @cached_property
    def written_language(self) -> str | None:
        """The supported language her text is clearly written in (None for short or unclear text, and
        for text that may well be in the language she chose: "i need creche for my baby" is English)."""
        if self.incoming.kind is not Kind.TEXT or self.text.startswith("/"):
            return None
        chosen = self.session.user.language
        return self.content.detector.detect(self.text, chosen if chosen in self.settings.languages else None)

    @cached_property
    def word_language(self) -> str | None:
        """The one language whose words the bot knows are all of hers ("bonjour", "goeiedag"), for a Latin-script
        first message; after the script and her phone's language."""
        if self.incoming.kind is not Kind.TEXT or self.text.startswith("/"):
            return None
        return self.content.detector.by_known_words(self.text)

    @cached_property
    def script_language(self) -> str | None:
        """The language the script of her text points to, even for two words ("السلام عليكم": Arabic,
        Persian or Pashto letters, Cyrillic, Ethiopic); None for Latin script."""
        if self.incoming.kind is not Kind.TEXT or self.text.startswith("/"):
            return None
        return self.content.detector.by_script(self.text)

    @cached_property
    def evidence(self) -> Evidence | None:
        """Retrieval evidence for her text, computed once per message (embedding costs milliseconds)."""
        return self.content.retriever.evidence(self.text)

    @cached_property
    def emergency(self) -> Detection | None:
        """The emergency she writes about (patterns over her whole message, or the classifier), or None."""
        if self.incoming.kind in (Kind.BUTTON, Kind.CONTACT, Kind.LOCATION) or self.incoming.text.lstrip().startswith("/"):
            return None
        evidence = self.evidence if self.incoming.kind is Kind.TEXT and self.text else None
        signal = (evidence.emergency, evidence.emergency_kind) if evidence is not None else (0.0, None)
        return detect(self.content.knowledge.emergency, self.incoming.text, signal, self.content.retriever.thresholds.emergency)

    @property
    def languages(self) -> list[str]:
        return self.content.catalogs.chain(self.language)

    @property
    def search_languages(self) -> list[str]:
        """Her languages, plus the one she is writing in when that is another."""
        written = self.written_language
        return self.languages if written is None or written in self.languages else [written, *self.languages]

    def t(self, key: str, /, **params: object) -> str:
        found = self.content.catalogs.get(self.language, key, **params)
        self.fallback_used |= found.fallback
        return found.text

    def button(self, key: str, payload: str, /, **params: object) -> Button:
        return Button(self.t(key, **params), payload)

    def say(self, key: str, /, *buttons: Button, **params: object) -> None:
        self.send(self.t(key, **params), *buttons, key=key)

    def send(self, text: str, *buttons: Button, key: str | None = None, language: str | None = None) -> None:
        self.replies.append(outgoing(self.incoming.user, text, buttons, key, language or self.language))

    def finish(self) -> list[Outgoing]:
        """Add the 'not translated yet' note once when any text came from a fallback language."""
        if self.fallback_used:
            self.send(self.content.catalogs.get(self.language, NOT_TRANSLATED).text, key=NOT_TRANSLATED)
        return self.replies



def standing(turn: Turn) -> Standing:
    return standing_of(turn.language, turn.state)


def standing_of(language: str, state: dict[str, Any]) -> Standing:
    flow = state.get("flow")  # flowrun.FLOW
    case = state.get(CASE)
    return Standing(language, flow["id"] if flow and not flow.get("paused") else None, case.get("status") if case else None)
