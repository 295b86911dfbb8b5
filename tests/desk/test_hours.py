"""Office hours of the desk: open or closed, next opening, closing time, daylight saving, the day in her words."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import OfficeHours
from bot.desk.hours import HORIZON_DAYS, closes_at, describe_opening, is_open, next_opening

BRUSSELS = ZoneInfo("Europe/Brussels")
LOCALES = ["nl", "en", "fr", "ar", "tr", "fa", "ps", "ti", "so", "uk", "ru"]
ENGLISH_WEEKDAYS = re.compile(r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|\bmon\b", re.IGNORECASE)
# As in config.yaml: Wednesday mornings only, Friday until 16:00, closed at the weekend.
WEEKLY = {
    "mon": ["09:00-12:30", "13:30-17:00"],
    "tue": ["09:00-12:30", "13:30-17:00"],
    "wed": ["09:00-12:30"],
    "thu": ["09:00-12:30", "13:30-17:00"],
    "fri": ["09:00-12:30", "13:30-16:00"],
}
DESK = OfficeHours(time_zone="Europe/Brussels", weekly=WEEKLY, holidays=[])


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BRUSSELS)


def test_monday_ten_local_is_open_until_half_past_twelve() -> None:
    at = local(2026, 12, 7, 10)
    assert is_open(DESK, at)
    assert next_opening(DESK, at) == at
    assert closes_at(DESK, at) == local(2026, 12, 7, 12, 30)


def test_open_now_next_opening_is_the_same_moment_in_the_desk_zone() -> None:
    at = datetime(2026, 12, 7, 9, 15, tzinfo=UTC)  # 10:15 in Brussels
    found = next_opening(DESK, at)
    assert found == at
    assert found is not None and found.tzinfo == BRUSSELS and (found.hour, found.minute) == (10, 15)


def test_lunch_gap_is_closed_and_next_opening_is_half_past_one_same_day() -> None:
    at = local(2026, 12, 7, 12, 45)
    assert not is_open(DESK, at)
    assert next_opening(DESK, at) == local(2026, 12, 7, 13, 30)
    assert closes_at(DESK, at) is None


def test_closing_minute_is_closed_and_opening_minute_is_open() -> None:
    assert not is_open(DESK, local(2026, 12, 7, 12, 30))
    assert is_open(DESK, local(2026, 12, 7, 13, 30))
    assert not is_open(DESK, local(2026, 12, 7, 8, 59))
    assert is_open(DESK, local(2026, 12, 7, 9, 0))


def test_wednesday_afternoon_closed_next_opening_is_thursday_morning() -> None:
    at = local(2026, 12, 9, 14)
    assert not is_open(DESK, at)
    assert next_opening(DESK, at) == local(2026, 12, 10, 9)


def test_friday_after_closing_next_opening_is_monday_morning() -> None:
    at = local(2026, 12, 11, 16, 30)
    assert not is_open(DESK, at)
    assert next_opening(DESK, at) == local(2026, 12, 14, 9)


def test_christmas_friday_holiday_is_closed_and_next_opening_is_monday_28_december() -> None:
    desk = OfficeHours(time_zone="Europe/Brussels", weekly=WEEKLY, holidays=[date(2026, 12, 25)])
    at = local(2026, 12, 25, 10)
    assert not is_open(desk, at)
    assert closes_at(desk, at) is None
    assert next_opening(desk, at) == local(2026, 12, 28, 9)


def test_holiday_weekend_and_holiday_next_opening_is_tuesday_morning_in_summer_time() -> None:
    """Good Friday, the weekend the clocks go forward, Easter Monday: Thursday evening -> Tuesday 09:00 (07:00 UTC)."""
    desk = OfficeHours(time_zone="Europe/Brussels", weekly=WEEKLY, holidays=[date(2027, 3, 26), date(2027, 3, 29)])
    found = next_opening(desk, local(2027, 3, 25, 18))
    assert found == local(2027, 3, 30, 9)
    assert found == datetime(2027, 3, 30, 7, tzinfo=UTC)


def test_sunday_evening_before_summer_time_next_opening_is_monday_nine_local_seven_utc() -> None:
    at = datetime(2027, 3, 28, 19, tzinfo=UTC)  # Sunday 21:00 in Brussels, clocks went forward that night
    found = next_opening(DESK, at)
    assert found == local(2027, 3, 29, 9)
    assert found == datetime(2027, 3, 29, 7, tzinfo=UTC)
    assert found is not None and (found.hour, found.utcoffset()) == (9, timedelta(hours=2))


def test_monday_nine_in_december_is_eight_utc() -> None:
    assert not is_open(DESK, datetime(2026, 12, 7, 7, 59, tzinfo=UTC))
    assert is_open(DESK, datetime(2026, 12, 7, 8, 0, tzinfo=UTC))
    assert next_opening(DESK, datetime(2026, 12, 6, 20, tzinfo=UTC)) == datetime(2026, 12, 7, 8, tzinfo=UTC)


def test_monday_nine_in_summer_time_is_seven_utc() -> None:
    assert not is_open(DESK, datetime(2027, 3, 29, 6, 59, tzinfo=UTC))
    assert is_open(DESK, datetime(2027, 3, 29, 7, 0, tzinfo=UTC))
    assert closes_at(DESK, datetime(2027, 3, 29, 7, tzinfo=UTC)) == datetime(2027, 3, 29, 10, 30, tzinfo=UTC)


@pytest.mark.parametrize("moment", [
    datetime(2026, 12, 7, 9, 30, tzinfo=UTC),    # Monday 10:30 local, open
    datetime(2026, 12, 7, 11, 45, tzinfo=UTC),   # lunch gap
    datetime(2026, 12, 11, 23, 30, tzinfo=UTC),  # Saturday 00:30 local, still Friday in UTC
    datetime(2027, 3, 28, 22, 30, tzinfo=UTC),   # Monday 00:30 local, Sunday in UTC, summer time
])
def test_moment_in_utc_local_or_another_zone_gives_the_same_answers(moment: datetime) -> None:
    answers = {(is_open(DESK, at), next_opening(DESK, at), closes_at(DESK, at))
               for at in (moment, moment.astimezone(BRUSSELS), moment.astimezone(ZoneInfo("America/New_York")))}
    assert len(answers) == 1


def test_saturday_half_past_midnight_local_is_a_saturday_not_friday_next_opening_is_monday() -> None:
    at = datetime(2026, 12, 11, 23, 30, tzinfo=UTC)
    assert next_opening(DESK, at) == local(2026, 12, 14, 9)


def test_empty_week_is_never_open_and_has_no_next_opening() -> None:
    desk = OfficeHours(time_zone="Europe/Brussels", weekly={}, holidays=[])
    at = local(2026, 12, 7, 10)
    assert not is_open(desk, at)
    assert next_opening(desk, at) is None
    assert closes_at(desk, at) is None


def test_every_day_a_holiday_for_the_whole_horizon_has_no_next_opening() -> None:
    start = date(2026, 12, 7)
    desk = OfficeHours(time_zone="Europe/Brussels", weekly=WEEKLY,
                       holidays=[start + timedelta(days=offset) for offset in range(HORIZON_DAYS + 1)])
    at = local(2026, 12, 7, 10)
    assert not is_open(desk, at)
    assert next_opening(desk, at) is None


def test_last_day_of_the_horizon_is_still_found_as_next_opening() -> None:
    start = date(2026, 12, 7)
    last = start + timedelta(days=HORIZON_DAYS)  # 2027-12-08, a Wednesday
    desk = OfficeHours(time_zone="Europe/Brussels", weekly=WEEKLY,
                       holidays=[start + timedelta(days=offset) for offset in range(HORIZON_DAYS)])
    assert next_opening(desk, local(2026, 12, 7, 10)) == local(last.year, last.month, last.day, 9)


def test_closes_at_is_end_of_current_range_and_none_when_closed() -> None:
    assert closes_at(DESK, local(2026, 12, 7, 14)) == local(2026, 12, 7, 17)
    assert closes_at(DESK, local(2026, 12, 11, 15, 59)) == local(2026, 12, 11, 16)
    assert closes_at(DESK, local(2026, 12, 11, 16)) is None
    assert closes_at(DESK, local(2026, 12, 12, 10)) is None  # Saturday


def test_closes_at_is_in_the_desk_zone_when_asked_in_utc() -> None:
    found = closes_at(DESK, datetime(2026, 12, 7, 13, tzinfo=UTC))
    assert found is not None and found.tzinfo == BRUSSELS and found.hour == 17


def test_range_ending_at_24_00_closes_at_midnight_at_the_end_of_that_day() -> None:
    desk = OfficeHours(time_zone="Europe/Brussels", weekly={"sat": ["20:00-24:00"]}, holidays=[])
    assert is_open(desk, local(2026, 12, 12, 23, 59))
    assert closes_at(desk, local(2026, 12, 12, 21)) == local(2026, 12, 13, 0)
    assert not is_open(desk, local(2026, 12, 13, 0))
    assert next_opening(desk, local(2026, 12, 13, 0)) == local(2026, 12, 19, 20)


def test_range_ending_at_24_00_and_next_day_from_00_00_close_as_one_range() -> None:
    desk = OfficeHours(time_zone="Europe/Brussels", weekly={"sat": ["20:00-24:00"], "sun": ["00:00-02:00"]}, holidays=[])
    assert closes_at(desk, local(2026, 12, 12, 22)) == local(2026, 12, 13, 2)
    assert is_open(desk, local(2026, 12, 13, 1))


def test_ranges_in_any_order_or_touching_give_the_same_answers() -> None:
    reversed_week = {day: list(reversed(ranges)) for day, ranges in WEEKLY.items()}
    desk = OfficeHours(time_zone="Europe/Brussels", weekly=reversed_week, holidays=[])
    assert next_opening(desk, local(2026, 12, 7, 12, 45)) == local(2026, 12, 7, 13, 30)
    assert next_opening(desk, local(2026, 12, 7, 7)) == local(2026, 12, 7, 9)
    touching = OfficeHours(time_zone="Europe/Brussels", weekly={"mon": ["12:00-17:00", "09:00-12:00"]}, holidays=[])
    assert closes_at(touching, local(2026, 12, 7, 10)) == local(2026, 12, 7, 17)


def test_whole_sunday_when_clocks_go_back_lasts_25_hours() -> None:
    desk = OfficeHours(time_zone="Europe/Brussels", weekly={"sun": ["00:00-24:00"]}, holidays=[])
    opens = next_opening(desk, datetime(2026, 10, 24, 12, tzinfo=UTC))
    closes = closes_at(desk, datetime(2026, 10, 25, 12, tzinfo=UTC))
    assert opens == local(2026, 10, 25, 0) and closes == local(2026, 10, 26, 0)
    assert opens is not None and closes is not None
    assert closes.astimezone(UTC) - opens.astimezone(UTC) == timedelta(hours=25)  # same-zone subtraction is wall-clock


def test_other_time_zone_is_evaluated_in_its_own_local_hours() -> None:
    desk = OfficeHours(time_zone="America/New_York", weekly={"mon": ["09:00-17:00"]}, holidays=[])
    assert not is_open(desk, datetime(2026, 12, 7, 10, tzinfo=UTC))   # 05:00 in New York
    assert next_opening(desk, datetime(2026, 12, 7, 10, tzinfo=UTC)) == datetime(2026, 12, 7, 14, tzinfo=UTC)


def test_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        is_open(DESK, datetime(2026, 12, 7, 10))


def test_describe_opening_in_dutch_says_maandag_7_december_09_00() -> None:
    text = describe_opening(local(2026, 12, 7, 9), "nl")
    assert "maandag" in text and "7 december" in text and "09:00" in text


def test_describe_opening_in_english_names_monday_and_december() -> None:
    text = describe_opening(local(2026, 12, 7, 9), "en")
    assert "Monday" in text and "December" in text and "7" in text


@pytest.mark.parametrize("locale", ["ar", "fa"])
def test_describe_opening_in_arabic_and_farsi_has_no_english_weekday(locale: str) -> None:
    text = describe_opening(local(2026, 12, 7, 9), locale)
    assert text.strip()
    assert not ENGLISH_WEEKDAYS.search(text)
    assert not re.search(r"[A-Za-z]{3,}", text)


@pytest.mark.parametrize("locale", LOCALES)
def test_describe_opening_in_every_language_gives_day_and_time_without_year_seconds_or_zone(locale: str) -> None:
    text = describe_opening(local(2026, 12, 7, 9), locale)
    assert text.strip()
    assert "7" in text and "9:00" in text
    assert "2026" not in text and "9:00:00" not in text
    assert not re.search(r"CET|GMT|UTC|Europe|Brussels", text)


def test_describe_opening_uses_full_weekday_names_not_abbreviations() -> None:
    when = local(2026, 12, 7, 9)
    assert "lundi" in describe_opening(when, "fr")
    assert "понеділок" in describe_opening(when, "uk")
    assert "Pazartesi" in describe_opening(when, "tr")


def test_describe_opening_of_next_opening_after_summer_time_shows_local_nine() -> None:
    found = next_opening(DESK, datetime(2027, 3, 28, 19, tzinfo=UTC))
    assert found is not None
    assert describe_opening(found, "nl") == describe_opening(local(2027, 3, 29, 9), "nl")
    assert "09:00" in describe_opening(found, "nl")


@pytest.mark.parametrize("locale", ["xx", "", "not a locale"])
def test_describe_opening_in_unknown_locale_falls_back_to_english(locale: str) -> None:
    when = local(2026, 12, 7, 9)
    assert describe_opening(when, locale) == describe_opening(when, "en")
