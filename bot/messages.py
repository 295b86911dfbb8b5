"""The core's message contract: what channels hand in and what they get back."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    TEXT = "text"
    BUTTON = "button"
    LOCATION = "location"
    CONTACT = "contact"      # a phone number she chose to share (text = the number)
    EDITED = "edited"        # she changed a message she sent earlier (its new text is not read)
    VOICE = "voice"
    IMAGE = "image"
    DOCUMENT = "document"
    OTHER = "other"


DESK = "desk"  # the counsellors' desk: a recipient, and the channel name of its outbox


@dataclass(frozen=True)
class Button:
    label: str
    payload: str


@dataclass(frozen=True)
class Incoming:
    """One message from a woman, as a channel saw it."""

    channel: str
    user: str
    message_id: str
    kind: Kind = Kind.TEXT
    text: str = ""
    payload: str | None = None
    location: tuple[float, float] | None = None
    language_hint: str | None = None
    reference: str | None = None  # the channel's handle of a photo, voice or document, to copy it to the desk
    chat_message: str | None = None  # the channel's id of her message in her chat (for /clear)


@dataclass(frozen=True)
class Outgoing:
    """One message to send. ``key`` names the catalog message it came from (for tests and logs)."""

    recipient: str
    text: str
    buttons: tuple[Button, ...] = field(default_factory=tuple)
    key: str | None = None
    rtl: bool = False
    action: str | None = None  # something for the channel to do instead of saying: "clear-chat"
    case: int | None = None    # for the desk: the case (its topic) this message belongs to
    mentions: tuple[int, ...] = ()  # for the desk: Telegram ids of counsellors to notify
    queued: bool = False       # stored in the outbox with her message: the outbox sends it, not the caller
