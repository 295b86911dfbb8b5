"""Masking what could identify a woman: in a text kept without her (``mask``: e-mail addresses, IBANs,
dates, phone numbers, other digits), and in what the counsellors' desk sees (``hide_contact_details``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

EMAIL, PHONE, DATE, NUMBER, IBAN = "[e-mail]", "[phone]", "[date]", "[number]", "[IBAN]"
PHONE_DIGITS = 8  # digits (in groups or not) from which a number counts as a phone number
DESK_PHONE_DIGITS = 9  # ... on the desk: a Belgian number has 9 ("09 123 45 67") or 10 ("0470 …"); a date has 8
INTERNATIONAL_DIGITS = 8  # ... or this many after a "+" ("+32 9 123 45 67")
TIME_DIGITS = 4  # "14.30" after a date
IBAN_DIGITS = 10  # an IBAN has at least this many digits (NO93 8601 1117 947: 13); "ab12 word word" is no IBAN

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# a country code, check digits, then groups of 4 (with or without spaces): "BE68 5390 0754 7034", "NL91ABNA0417164300"
_IBAN = re.compile(r"(?<![\w])[A-Za-z]{2}[0-9]{2}(?:[ \u00a0-]?[A-Z0-9]{4}){2,7}(?:[ \u00a0-]?[A-Z0-9]{1,3})?(?![\w])")
# a day, month and year standing alone (not a part of a longer number such as "0470.12.03.56")
_DATE = re.compile(r"(?<![\d./-])(?:0?[1-9]|[12]\d|3[01])[./-](?:0?[1-9]|1[0-2])[./-](?:\d{4}|\d{2})(?![./-]?\d)")
# digits (in any script: ٠٤٧٠, ۰۴۷۰) in groups joined by a space, dot, slash, dash or bracket: "+32 470 12.34.56",
# "09/123 45 67", "0032 (0)470 12 34 56"; also the no-break spaces and hyphen a phone's contacts app may copy
_DIGITS = re.compile(r"\+?\d+(?:[ ./()\u00a0\u202f\u2011-]{1,2}\d+)*")
_DIGIT = re.compile(r"\d")


@dataclass(frozen=True)
class Hidden:
    """What stands in the place of each detail the desk may not see (the desk's catalog has the wording)."""

    phone: str = PHONE
    email: str = EMAIL
    iban: str = IBAN


def mask(text: str) -> str:
    """The text with e-mail addresses, IBANs, dates, phone numbers and every other run of digits (an
    id, a house number; in any script) replaced by a placeholder. The words stay."""
    text = _EMAIL.sub(EMAIL, text)
    text = _IBAN.sub(lambda found: IBAN if _is_iban(found.group()) else found.group(), text)
    text = _DATE.sub(DATE, text)
    return _DIGITS.sub(_number, text)


def hide_contact_details(text: str, hidden: Hidden = Hidden()) -> str:
    """The text as the counsellors' desk sees it: phone numbers (in any script, with +32 or 0032),
    e-mail addresses and IBANs replaced by ``hidden``; every other number stays.

    Gentler than ``mask`` on purpose: a counsellor helping her needs "2 children", "9000 Gent", her
    age, "Kerkstraat 12" and the date of an appointment, and these do not reach her. What the desk may
    not see is what lets anyone in the desk group call, write to or pay-trace her without her choosing
    to share it: a run of digits long enough to be a phone number (9 digits, or 8 after "+"; a date,
    also with a time, is kept), an e-mail address, an IBAN. A national register number is hidden too (11
    digits, shown as a phone number)."""
    text = _EMAIL.sub(hidden.email, text)
    text = _IBAN.sub(lambda found: hidden.iban if _is_iban(found.group()) else found.group(), text)
    return _DIGITS.sub(lambda found: hidden.phone if _is_phone(found.group()) else found.group(), text)


def _is_phone(run: str) -> bool:
    """Long enough to be a phone number, and not a date followed by a time ("12.03.2026 14.30")."""
    digits = len(_DIGIT.findall(run))
    if digits < (INTERNATIONAL_DIGITS if run.startswith("+") else DESK_PHONE_DIGITS):
        return False
    date = _DATE.match(run)
    return date is None or len(_DIGIT.findall(run[date.end():])) > TIME_DIGITS


def _is_iban(found: str) -> bool:
    return len(_DIGIT.findall(found)) >= IBAN_DIGITS


def _number(found: re.Match[str]) -> str:
    return PHONE if found.group().startswith("+") or len(_DIGIT.findall(found.group())) >= PHONE_DIGITS else NUMBER
