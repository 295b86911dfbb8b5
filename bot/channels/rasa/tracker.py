"""Rasa's tracker and dispatcher <-> core messages: her message, her language slot, what she said before,
and Wegwijs' replies and buttons as Rasa messages (a Wegwijs payload travels as ``/wegwijs_button{...}``)."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from rasa_sdk import Tracker

from bot.messages import Incoming, Kind, Outgoing

CHANNEL = "rasa"
BUTTON_INTENT = "wegwijs_button"
PAYLOAD_ENTITY = "wegwijs_payload"
LANGUAGE_SLOT = "language"
TYPED_PAYLOAD = re.compile(r"/" + BUTTON_INTENT + r"(\{.*\})\s*", re.DOTALL)
HISTORY = 12  # lines of the conversation kept for a case card


def rasa_payload(payload: str) -> str:
    """A Wegwijs button as Rasa sends it back: an intent with the payload as its entity."""
    return f"/{BUTTON_INTENT}{json.dumps({PAYLOAD_ENTITY: payload}, ensure_ascii=False)}"


def wegwijs_payload(message: dict[str, Any]) -> str | None:
    """The Wegwijs payload of a button she pressed (parsed by Rasa, or its raw text), or None for her words."""
    if (message.get("intent") or {}).get("name") == BUTTON_INTENT:
        for entity in message.get("entities") or []:
            if isinstance(entity, dict) and entity.get("entity") == PAYLOAD_ENTITY and isinstance(entity.get("value"), str):
                return entity["value"]
    return typed_payload(message.get("text"))


def typed_payload(text: object) -> str | None:
    found = TYPED_PAYLOAD.fullmatch(text) if isinstance(text, str) else None
    if found is None:
        return None
    try:
        value = json.loads(found.group(1)).get(PAYLOAD_ENTITY)
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def incoming(tracker: Tracker, suffix: str = "", *, payload: str | None = None, text: str | None = None) -> Incoming:
    """Her latest message (or ``payload``/``text`` instead) as the core's Incoming; ``suffix`` tells an
    action's own handling of one message from another's (the answer and the hand-over of one message)."""
    message = tracker.latest_message or {}
    pressed = payload if payload is not None else wegwijs_payload(message)
    words = text if text is not None else message.get("text") if isinstance(message.get("text"), str) else ""
    kind = Kind.BUTTON if pressed is not None else Kind.TEXT
    return Incoming(CHANNEL, tracker.sender_id, message_id(tracker) + suffix, kind, "" if pressed is not None else words, pressed,
                    language_hint=language_slot(tracker))


def message_id(tracker: Tracker) -> str:
    """Rasa's id of her latest message; without one, a digest of when and what (a redelivery has the same)."""
    message = tracker.latest_message or {}
    if isinstance(message.get("message_id"), str) and message["message_id"]:
        return message["message_id"]
    for event in reversed(tracker.events or []):
        if isinstance(event, dict) and event.get("event") == "user":
            if isinstance(event.get("message_id"), str) and event["message_id"]:
                return event["message_id"]
            stamp = event.get("timestamp")
            break
    else:
        stamp = None
    digest = hashlib.sha256(json.dumps([tracker.sender_id, stamp, message.get("text")], default=str).encode()).hexdigest()[:24]
    return f"rasa-{digest}"


def language_slot(tracker: Tracker) -> str | None:
    value = tracker.get_slot(LANGUAGE_SLOT)
    return value.split("-")[0].lower() if isinstance(value, str) and value else None


def conversation(tracker: Tracker) -> tuple[tuple[str, str], ...]:
    """The conversation so far as the tracker has it, ("her" | "assistant", text), oldest first, for a case card:
    what she wrote (not her button presses, nor her answers inside a form: those she may not have agreed to share)
    and what the assistant said, since the conversation last started again."""
    lines: list[tuple[str, str]] = []
    in_form = False
    for event in tracker.events or []:
        kind = event.get("event") if isinstance(event, dict) else None
        if kind in ("restart", "session_started"):
            lines, in_form = [], False
        elif kind == "active_loop":
            in_form = bool(event.get("name"))
        elif isinstance(event, dict) and isinstance(event.get("text"), str) and event["text"].strip():
            if kind == "user" and not in_form and not event["text"].startswith("/"):
                lines.append(("her", event["text"]))
            elif kind == "bot":
                lines.append(("assistant", event["text"]))
    return tuple(lines[-HISTORY:])


def rasa_message(reply: Outgoing) -> dict[str, Any]:
    """One reply as the keyword arguments of ``dispatcher.utter_message``."""
    message: dict[str, Any] = {"text": reply.text}
    if reply.buttons:
        message["buttons"] = [{"title": button.label, "payload": rasa_payload(button.payload)} for button in reply.buttons]
    return message
