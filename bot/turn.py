"""One message being handled: who she is, her language, and helpers to build replies."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.config import Settings
from bot.content import Content
from bot.i18n import is_rtl
from bot.messages import Button, Incoming, Outgoing
from bot.storage import UserSession

NOT_TRANSLATED = "note-not-translated"


@dataclass
class Turn:
    incoming: Incoming
    session: UserSession
    content: Content
    settings: Settings
    text: str = ""
    replies: list[Outgoing] = field(default_factory=list)
    fallback_used: bool = False

    @property
    def state(self) -> dict:
        return self.session.state

    @property
    def language(self) -> str:
        chosen = self.session.user.language
        if chosen in self.settings.languages:
            return chosen
        return self.hinted_language or self.settings.default_language

    @property
    def hinted_language(self) -> str | None:
        """The client's language (e.g. Telegram's language_code 'ar' or 'pt-br') when supported."""
        hint = (self.incoming.language_hint or "").split("-")[0].lower()
        return hint if hint in self.settings.languages else None

    @property
    def languages(self) -> list[str]:
        return self.content.catalogs.chain(self.language)

    def t(self, key: str, /, **params: object) -> str:
        found = self.content.catalogs.get(self.language, key, **params)
        self.fallback_used |= found.fallback
        return found.text

    def button(self, key: str, payload: str, /, **params: object) -> Button:
        return Button(self.t(key, **params), payload)

    def say(self, key: str, /, *buttons: Button, **params: object) -> None:
        self.send(self.t(key, **params), *buttons, key=key)

    def send(self, text: str, *buttons: Button, key: str | None = None) -> None:
        self.replies.append(Outgoing(self.incoming.user, text, tuple(buttons), key, is_rtl(self.language)))

    def finish(self) -> list[Outgoing]:
        """Add the 'not translated yet' note once when any text came from a fallback language."""
        if self.fallback_used:
            self.send(self.content.catalogs.get(self.language, NOT_TRANSLATED).text, key=NOT_TRANSLATED)
        return self.replies
