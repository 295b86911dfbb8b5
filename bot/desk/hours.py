"""Office hours of the counsellors' desk: open now, when it opens next, when it closes, and that day in her words."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError, dates

from bot.config import WEEKDAYS, OfficeHours

HORIZON_DAYS = 366       # next_opening looks at today and this many local days after it, then gives up
FALLBACK_LOCALE = "en"   # for a locale Babel cannot format
DAY_SKELETON = "MMMMEEEEd"  # weekday, day and month, no year: each locale picks its own order
# Babel matches the skeleton but keeps the matched pattern's widths ('E d MMMM'): widen names to full words.
_FIELDS = re.compile(r"'(?:[^']|'')*'|E+|c+|M+|L+")

Opening = tuple[datetime, datetime]  # (opens, closes), both in UTC


def is_open(hours: OfficeHours, at: datetime) -> bool:
    """`at` is timezone-aware (any zone, usually UTC); evaluated in hours.time_zone."""
    current = _first_not_over(hours, at)
    return current is not None and current[0] <= at


def next_opening(hours: OfficeHours, at: datetime) -> datetime | None:
    """The first moment at or after `at` when the desk is open (== `at` itself when open now),
    as an aware datetime in hours.time_zone; None when no opening within the next 366 days
    (e.g. weekly empty)."""
    upcoming = _first_not_over(hours, at)
    if upcoming is None:
        return None
    return max(upcoming[0], at.astimezone(UTC)).astimezone(ZoneInfo(hours.time_zone))


def closes_at(hours: OfficeHours, at: datetime) -> datetime | None:
    """When the current opening range ends (aware, local zone), or None when closed at `at`.

    Ranges that touch (12:00-14:00 and 14:00-17:00, or 24:00 and the next day's 00:00) count as one."""
    current = _first_not_over(hours, at)
    if current is None or current[0] > at:
        return None
    return current[1].astimezone(ZoneInfo(hours.time_zone))


def describe_opening(when: datetime, locale: str) -> str:
    """The weekday, day, month and time in the woman's locale, for a sentence such as
    "The desk opens again on {when}." (nl 'maandag 7 december, 09:00'). No year, no seconds,
    no time zone name; `when` is shown in its own zone (next_opening gives the desk's)."""
    try:
        return _describe(when, Locale.parse(locale))
    except (UnknownLocaleError, ValueError, LookupError):
        return _describe(when, Locale.parse(FALLBACK_LOCALE))


def _first_not_over(hours: OfficeHours, at: datetime) -> Opening | None:
    """The opening that `at` falls in, else the next one; None when there is none in the horizon."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"office hours need a timezone-aware moment, got {at.isoformat()}")
    moment = at.astimezone(UTC)
    today = at.astimezone(ZoneInfo(hours.time_zone)).date()
    return next((opening for opening in _openings(hours, today) if opening[1] > moment), None)


def _openings(hours: OfficeHours, first: date) -> Iterator[Opening]:
    """The desk's openings from the local day `first` on, in order, touching ranges merged."""
    zone = ZoneInfo(hours.time_zone)
    holidays = set(hours.holidays)
    pending: Opening | None = None
    for offset in range(HORIZON_DAYS + 1):
        day = first + timedelta(days=offset)
        if day in holidays:
            continue
        for start, end in _ranges(hours, day):
            opens, closes = _moment(day, start, zone), _moment(day, end, zone)
            if pending is not None and opens <= pending[1]:
                pending = (pending[0], max(pending[1], closes))
                continue
            if pending is not None:
                yield pending
            pending = (opens, closes)
    if pending is not None:
        yield pending


def _ranges(hours: OfficeHours, day: date) -> list[tuple[int, int]]:
    """That weekday's ranges as (start, end) minutes after local midnight, in order."""
    return sorted((_minutes(span[:5]), _minutes(span[6:])) for span in hours.weekly.get(WEEKDAYS[day.weekday()], []))


def _minutes(clock: str) -> int:
    return int(clock[:2]) * 60 + int(clock[3:])


def _moment(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    """Local wall-clock time on `day` (1440 minutes: the next midnight) as a UTC moment, daylight saving included."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
    return (midnight + timedelta(minutes=minutes)).astimezone(UTC)


def _describe(when: datetime, locale: Locale) -> str:
    day = dates.format_datetime(when, _day_pattern(locale), locale=locale)
    clock = dates.format_time(when, "short", locale=locale)
    glue = str(locale.datetime_formats.get("medium", "{1} {0}")).replace("'", "")
    return glue.format(clock, day)


def _day_pattern(locale: Locale) -> str:
    skeleton = dates.match_skeleton(DAY_SKELETON, locale.datetime_skeletons)
    if skeleton is None:
        raise LookupError(f"Babel has no weekday-day-month pattern for {locale}")
    return _FIELDS.sub(_widen, str(locale.datetime_skeletons[skeleton]))


def _widen(field: re.Match[str]) -> str:
    """Full weekday and month names ('EEEE', 'MMMM'); quoted text and numeric months stay as they are."""
    text = field.group()
    if text.startswith("'") or (text[0] in "ML" and len(text) < 3):
        return text
    return text[0] * 4
