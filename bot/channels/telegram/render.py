"""The core's light Markdown as Telegram HTML, long texts split for Telegram, buttons laid out for a phone."""

from __future__ import annotations

import hashlib
import html
import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.channels.text import split_rendered
from bot.messages import Button

LIMIT = 4096               # Telegram's maximum message length (after entities are parsed)
CALLBACK_LIMIT = 64        # bytes of callback_data
SHORT_LABEL = 18           # labels up to this length may share a row, two by two
LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^\s)]+)\)")
BOLD = re.compile(r"\*\*(.+?)\*\*", re.S)
ITALIC = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])")
BULLET = re.compile(r"^(\s*)[-*] ", re.M)


def to_html(text: str) -> str:
    """**bold**, *italic*, [label](https://…) and "- " lists; everything else escaped."""
    links: list[str] = []

    def keep_link(match: re.Match[str]) -> str:
        links.append(f'<a href="{html.escape(match[2], quote=True)}">{html.escape(match[1], quote=False)}</a>')
        return f"\x00{len(links) - 1}\x00"

    text = LINK.sub(keep_link, text)
    text = html.escape(text, quote=False)
    text = BULLET.sub(lambda m: f"{m[1]}• ", text)
    text = BOLD.sub(r"<b>\1</b>", text)
    text = ITALIC.sub(r"<i>\1</i>", text)
    return re.sub(r"\x00(\d+)\x00", lambda m: links[int(m[1])], text)


def split(text: str, limit: int = LIMIT) -> list[str]:
    """Split Markdown at paragraph boundaries (then lines, then spaces) into parts of at most
    ``limit`` characters once rendered; bold or links are never cut in half at a paragraph."""
    return split_rendered(text, limit, to_html, limit // 2)  # HTML escaping can double a word's length


def callback_data(payload: str) -> str:
    """Telegram allows 64 bytes of callback data; longer payloads travel as a hash (see `resolve`)."""
    if len(payload.encode()) <= CALLBACK_LIMIT:
        return payload
    return "h:" + hashlib.sha1(payload.encode()).hexdigest()[:32]


def keyboard(buttons: tuple[Button, ...], long_payloads: dict[str, str]) -> InlineKeyboardMarkup | None:
    """Short labels two per row, long ones alone on their row (readable on a narrow phone)."""
    if not buttons:
        return None
    rows: list[list[InlineKeyboardButton]] = []
    for button in buttons:
        data = callback_data(button.payload)
        if data != button.payload:
            long_payloads[data] = button.payload
        item = InlineKeyboardButton(button.label, callback_data=data)
        short = len(button.label) <= SHORT_LABEL
        if short and rows and len(rows[-1]) == 1 and len(rows[-1][0].text) <= SHORT_LABEL:
            rows[-1].append(item)
        else:
            rows.append([item])
    return InlineKeyboardMarkup(rows)
