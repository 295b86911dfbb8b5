"""What a WhatsApp webhook carries: its signature checked, its messages and statuses taken out one by one
(as inbox rows), and each message made a core Incoming. Whatever the body holds, nothing here raises."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pywa.utils import webhook_updates_validator

from bot.channels.web import mended
from bot.messages import Incoming, Kind

CHANNEL = "whatsapp"
TEXT_LIMIT = 20_000  # characters of her text kept (WhatsApp allows 4,096)
MEDIA = {"image": Kind.IMAGE, "sticker": Kind.OTHER, "video": Kind.OTHER, "audio": Kind.VOICE, "voice": Kind.VOICE,
         "document": Kind.DOCUMENT}


def signed(app_secret: str, body: bytes, header: str | None) -> bool:
    """X-Hub-Signature-256 is the HMAC-SHA256 of the raw body with the app secret (compared in constant time)."""
    if not header or not header.startswith("sha256="):
        return False
    try:
        return webhook_updates_validator(app_secret, body, header)
    except (TypeError, ValueError):  # a header that is no hex string
        return False


@dataclass(frozen=True)
class Row:
    """One message or status of a webhook, as the inbox stores it."""

    update_id: str  # the message's wamid, or "status:<wamid>:<state>"
    chat: str | None  # her wa_id
    body: str       # JSON: {"message": …} or {"status": …}


def rows(data: Any, phone_number_id: str | None = None) -> list[Row]:
    """The messages and statuses of a webhook body for our number (others, and anything misshapen, are left out).
    Lone surrogates (valid JSON, never valid text) become U+FFFD, and an id keeps no NUL: every row can be stored."""
    found: list[Row] = []
    for change in _changes(mended(data)):
        value = change.get("value")
        if change.get("field") != "messages" or not isinstance(value, dict):
            continue
        metadata = value.get("metadata")
        number = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
        if phone_number_id is not None and number is not None and str(number) != phone_number_id:
            continue
        for message in _dicts(value.get("messages")):
            wamid, sender = _id(message.get("id")), _id(message.get("from"))
            if wamid and sender:
                message = {**message, "id": wamid, "from": sender}
                found.append(Row(wamid[:200], sender[:64], json.dumps({"message": message}, ensure_ascii=False)))
        for status in _dicts(value.get("statuses")):
            wamid, state, recipient = _id(status.get("id")), _id(status.get("status")), _id(status.get("recipient_id"))
            if wamid and state:
                status = {**status, "recipient_id": recipient}
                found.append(Row(f"status:{wamid[:150]}:{state[:20]}", recipient[:64] or None, json.dumps({"status": status}, ensure_ascii=False)))
    return found


def _id(value: Any) -> str:
    """An id as the database can keep it (no NUL), or "" when it is no string."""
    return value.replace("\x00", "") if isinstance(value, str) else ""


def _changes(data: Any) -> list[dict[str, Any]]:
    if not isinstance(data, dict) or data.get("object") != "whatsapp_business_account":
        return []
    return [change for entry in _dicts(data.get("entry")) for change in _dicts(entry.get("changes"))]


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def incoming(message: dict[str, Any]) -> Incoming | None:
    """Her message as the core reads it; None for what needs no answer (a reaction)."""
    kind = message.get("type") if isinstance(message.get("type"), str) else None
    user, wamid = str(message.get("from", "")), str(message.get("id", ""))
    if kind == "reaction" or not user or not wamid:
        return None
    if kind == "text":
        return Incoming(CHANNEL, user, wamid, Kind.TEXT, _text(_get(message, "text", "body")))
    if kind == "interactive":
        reply = _get(message, "interactive", "button_reply") or _get(message, "interactive", "list_reply")
        payload = reply.get("id") if isinstance(reply, dict) else None
        if isinstance(payload, str) and payload:
            return Incoming(CHANNEL, user, wamid, Kind.BUTTON, _text(reply.get("title")), payload[:256])
        return Incoming(CHANNEL, user, wamid, Kind.OTHER)
    if kind == "button":  # a quick-reply button of a template
        payload, text = _get(message, "button", "payload"), _text(_get(message, "button", "text"))
        if isinstance(payload, str) and payload:
            return Incoming(CHANNEL, user, wamid, Kind.BUTTON, text, payload[:256])
        return Incoming(CHANNEL, user, wamid, Kind.TEXT, text)
    if kind == "location":
        latitude, longitude = _get(message, "location", "latitude"), _get(message, "location", "longitude")
        if _number(latitude) and _number(longitude) and -90 <= latitude <= 90 and -180 <= longitude <= 180:
            return Incoming(CHANNEL, user, wamid, Kind.LOCATION, location=(float(latitude), float(longitude)))
        return Incoming(CHANNEL, user, wamid, Kind.OTHER)
    if kind == "contacts":  # a contact card she shared: its first phone number, as a number shared on Telegram
        cards = _dicts(message.get("contacts"))
        phones = _dicts(cards[0].get("phones")) if cards else []
        number = phones[0].get("phone") if phones else None
        if isinstance(number, str) and number:
            return Incoming(CHANNEL, user, wamid, Kind.CONTACT, number[:64])
        return Incoming(CHANNEL, user, wamid, Kind.OTHER)
    if kind in MEDIA:
        media = message.get(kind)
        media_id = media.get("id") if isinstance(media, dict) else None
        caption = _text(media.get("caption")) if isinstance(media, dict) else ""
        reference = f"wa:{media_id}" if isinstance(media_id, str) and media_id else None
        return Incoming(CHANNEL, user, wamid, MEDIA[kind], caption, reference=reference)
    return Incoming(CHANNEL, user, wamid, Kind.OTHER)  # unsupported, and kinds WhatsApp adds later


def _get(data: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)  # type: ignore[assignment]
    return data


def _text(value: Any) -> str:
    return value[:TEXT_LIMIT] if isinstance(value, str) else ""


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value  # not NaN
