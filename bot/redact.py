"""Masking what could identify a woman in a text kept without her: e-mail addresses, phone numbers, other digits."""

from __future__ import annotations

import re

EMAIL, PHONE, DATE, NUMBER = "[e-mail]", "[phone]", "[date]", "[number]"
PHONE_DIGITS = 8  # digits (in groups or not) from which a number counts as a phone number

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# a day, month and year standing alone (not a part of a longer number such as "0470.12.03.56")
_DATE = re.compile(r"(?<![\d./-])(?:0?[1-9]|[12]\d|3[01])[./-](?:0?[1-9]|1[0-2])[./-](?:\d{4}|\d{2})(?![./-]?\d)")
# digits in groups joined by a space, dot, slash, dash or bracket: "+32 470 12.34.56", "09/123 45 67"
_DIGITS = re.compile(r"\+?\d+(?:[ ./()-]{1,2}\d+)*")
_DIGIT = re.compile(r"\d")


def mask(text: str) -> str:
    """The text with e-mail addresses, dates, phone numbers and every other run of digits (an id,
    a house number; in any script) replaced by a placeholder. The words stay."""
    text = _EMAIL.sub(EMAIL, text)
    text = _DATE.sub(DATE, text)
    return _DIGITS.sub(_number, text)


def _number(found: re.Match[str]) -> str:
    return PHONE if found.group().startswith("+") or len(_DIGIT.findall(found.group())) >= PHONE_DIGITS else NUMBER
