"""One core reply as WhatsApp Cloud API message bodies: light Markdown as WhatsApp formatting, within WhatsApp's limits."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from bot.channels.text import split_rendered
from bot.messages import Button, Outgoing

TEXT_LIMIT = 4096      # characters of a text message body
BODY_LIMIT = 1024      # characters of an interactive message body (reply buttons; kept for lists too)
BUTTON_TITLE = 20      # characters of a reply button title, and of the button that opens a list
ROW_TITLE = 24         # characters of a list row title (and of a section title)
ROW_DESCRIPTION = 72   # characters of a list row description
MAX_BUTTONS = 3        # reply buttons in one message
MAX_ROWS = 10          # rows in one list message, all sections together
BUTTON_ID = 256        # characters of a reply button id
ROW_ID = 200           # characters of a list row id
ELLIPSIS = "…"
LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^\s)]+)\)")
BOLD = re.compile(r"\*\*(.+?)\*\*", re.S)
ITALIC = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])")
BULLET = re.compile(r"^(\s*)[-*] ", re.M)
WORD_END = re.compile(r"\s(?=\S*$)")


def to_whatsapp(text: str) -> str:
    """**bold** -> *bold*, *italic* -> _italic_, [label](url) -> "label: url", "- " lists -> "• "; the rest as is."""
    urls: list[str] = []

    def keep_link(match: re.Match[str]) -> str:
        urls.append(match[2])
        url = f"\x00{len(urls) - 1}\x00"
        return url if match[1].strip() == match[2] else f"{match[1]}: {url}"

    text = LINK.sub(keep_link, text)
    text = BULLET.sub(lambda m: f"{m[1]}• ", text)
    text = ITALIC.sub(r"_\1_", text)
    text = BOLD.sub(r"*\1*", text)
    return re.sub(r"\x00(\d+)\x00", lambda m: urls[int(m[1])], text)


def split(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Markdown cut at paragraphs (then lines, then spaces) into parts of at most ``limit`` characters once rendered."""
    parts = split_rendered(text, limit, to_whatsapp, limit)  # rendering never makes text longer: whole-limit pieces
    return [part for part in parts if part.strip()] or [text[:limit]]


def shorten(label: str, limit: int) -> str:
    """The label if it fits in ``limit`` characters, else cut at its last word boundary and ended with "…"."""
    if len(label) <= limit:
        return label
    if limit < 1:
        return ""
    head = label[:limit - 1]
    if not label[limit - 1].isspace() and (boundary := WORD_END.search(head)) and head[:boundary.start()].strip():
        head = head[:boundary.start()]
    return head.rstrip().rstrip("\u200d") + ELLIPSIS


def label_problems(label: str) -> list[str]:
    """What WhatsApp does to this button label, in English for `wegwijs check`; empty when it fits everywhere."""
    label = label.strip()
    if not label:
        return ["blank: WhatsApp rejects an empty title, the button is left out"]
    places = ((BUTTON_TITLE, "on a WhatsApp button"), (ROW_TITLE, "on a WhatsApp list row"))
    return [f"longer than {limit} characters: shown as '{shorten(label, limit)}' {where}"
            for limit, where in places if len(label) > limit]


def messages(to: str, reply: Outgoing, *, list_button: str, more: str,
             long_payloads: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The request bodies for ``POST /{phone-number-id}/messages``, in order, that together say this reply."""
    long_payloads = {} if long_payloads is None else long_payloads
    buttons = _usable(reply.buttons)
    if not buttons:
        return [_envelope(to, "text", _text_body(part)) for part in split(reply.text) if part.strip()]
    before, body = _last_body(reply.text)
    bodies = [_envelope(to, "text", _text_body(part)) for part in before]
    body = to_whatsapp(body).strip() or more
    titles = [shorten(button.label.strip(), BUTTON_TITLE) for button in buttons]
    if len(buttons) <= MAX_BUTTONS and len(set(titles)) == len(titles):  # WhatsApp wants distinct button titles
        replies = [{"type": "reply", "reply": {"id": _reply_id(button.payload, BUTTON_ID, long_payloads), "title": title}}
                   for button, title in zip(buttons, titles)]
        return bodies + [_interactive(to, "button", body, {"buttons": replies})]
    for index, group in enumerate(_spread(buttons)):
        section = {"title": shorten(list_button.strip(), ROW_TITLE), "rows": [_row(button, long_payloads) for button in group]}
        action = {"button": shorten(list_button.strip(), BUTTON_TITLE), "sections": [section]}
        bodies.append(_interactive(to, "list", body if index == 0 else more, action))
    return bodies


def _envelope(to: str, kind: str, content: dict[str, Any]) -> dict[str, Any]:
    """One request body around a message of this type."""
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": kind, kind: content}


def _interactive(to: str, kind: str, body: str, action: dict[str, Any]) -> dict[str, Any]:
    """One interactive message (reply buttons or a list) with this body text."""
    return _envelope(to, "interactive", {"type": kind, "body": {"text": body}, "action": action})


def _text_body(markdown: str) -> dict[str, Any]:
    """A text message's content, rendered for WhatsApp, without a link preview."""
    return {"body": to_whatsapp(markdown), "preview_url": False}


def _usable(buttons: tuple[Button, ...]) -> list[Button]:
    """The buttons WhatsApp can show: a label that is not blank, and a payload not used by an earlier button."""
    seen: set[str] = set()
    kept: list[Button] = []
    for button in buttons:
        if button.label.strip() and button.payload not in seen:
            seen.add(button.payload)
            kept.append(button)
    return kept


def _last_body(text: str) -> tuple[list[str], str]:
    """The Markdown said in text messages before an interactive message, and its body (BODY_LIMIT once rendered)."""
    parts = split(text) if text.strip() else [""]
    body = split(parts[-1], BODY_LIMIT)[-1]
    rest = parts[-1][:parts[-1].rfind(body)].rstrip()
    return parts[:-1] + (split(rest) if rest.strip() else []), body


def _spread(buttons: list[Button]) -> list[list[Button]]:
    """The buttons in as few lists as MAX_ROWS allows, spread evenly (11 -> 6 + 5)."""
    count = -(-len(buttons) // MAX_ROWS)
    size, extra = divmod(len(buttons), count)
    groups: list[list[Button]] = []
    start = 0
    for index in range(count):
        end = start + size + (1 if index < extra else 0)
        groups.append(buttons[start:end])
        start = end
    return groups


def _row(button: Button, long_payloads: dict[str, str]) -> dict[str, str]:
    """A list row; a label too long for the title is shown whole (up to ROW_DESCRIPTION) as its description."""
    label = button.label.strip()
    item = {"id": _reply_id(button.payload, ROW_ID, long_payloads), "title": shorten(label, ROW_TITLE)}
    if len(label) > ROW_TITLE:
        item["description"] = shorten(label, ROW_DESCRIPTION)
    return item


def _reply_id(payload: str, limit: int, long_payloads: dict[str, str]) -> str:
    """The payload as a button or row id; a longer one travels as "h:" + a hash, remembered in ``long_payloads``."""
    if len(payload) <= limit:
        return payload
    data = "h:" + hashlib.sha1(payload.encode()).hexdigest()[:32]
    long_payloads[data] = payload
    return data
