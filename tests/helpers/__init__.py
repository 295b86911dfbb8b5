"""Factories shared by the tests."""

from __future__ import annotations

import itertools

from bot.messages import Incoming, Kind

_ids = itertools.count(1)


def make_message(text: str = "", *, user: str = "amina", payload: str | None = None, kind: Kind | None = None,
                 message_id: str | None = None, channel: str = "test", language_hint: str | None = None,
                 location: tuple[float, float] | None = None, reference: str | None = None) -> Incoming:
    if kind is None:
        kind = Kind.BUTTON if payload is not None else Kind.TEXT
    return Incoming(channel, user, message_id or f"m{next(_ids)}", kind, text, payload, location, language_hint, reference)


def keys(replies) -> list[str | None]:
    return [reply.key for reply in replies]


def payloads(reply) -> list[str]:
    return [button.payload for button in reply.buttons]
