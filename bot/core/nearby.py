"""Telling her which services are near her: places from knowledge/places.yaml, in her language."""

from __future__ import annotations

from datetime import datetime, time

from babel import dates, numbers

from bot.core.turn import Turn
from bot.knowledge import DAYS, Nearby
from bot.language import locale_for

# A Monday, to name weekdays through Babel in her language.
MONDAY = datetime(2024, 1, 1)


def show(turn: Turn, area: str, kinds: tuple[str, ...] = ()) -> bool:
    """Say the nearest places of these kinds (all kinds when none); False when none are known."""
    places = turn.content.places
    found = places.near(area, kinds)
    where = area_name(turn, area)
    if not found:
        turn.say("places-none", where=where)
        return False
    lines = [render(turn, item) for item in found]
    turn.say("places-intro", where=where)
    turn.send("\n\n".join(lines), key="places")
    return True


def area_name(turn: Turn, area: str) -> str:
    kind, _, value = area.partition(":")
    if kind == "geo":
        return turn.t("places-your-location")
    town = turn.content.places.town_of(area)
    if kind == "postcode":
        return f"{value} {town.name}" if town else value
    return town.name if town else value


def render(turn: Turn, item: Nearby) -> str:
    place = item.place
    town = turn.content.places.towns[place.town]
    label = turn.t(f"place-kind-{place.kind}")
    lines = [f"📍 **{place.name}**: {label}"]
    where = place.address or town.name
    if item.km is not None:
        km = numbers.format_decimal(round(item.km, 1 if item.km < 10 else 0), locale=locale_for(turn.language))
        key = "place-distance-town" if item.from_town_centre else "place-distance"
        where = f"{where} · {turn.t(key, km=km, town=town.name)}"
    lines.append(where)
    if place.phone:
        lines.append(f"☎ {place.phone}")
    if place.hours:
        lines += [turn.t("place-hours"), *opening_hours(turn.language, place.hours, turn.t("place-closed"))]
    lines.append(place.url)
    return "\n".join(lines)


def opening_hours(language: str, hours: dict[str, tuple[tuple[time, time], ...]], closed: str) -> list[str]:
    """'Monday: 09:00–12:00, 13:00–16:00' lines, weekday names and times in her locale."""
    locale = locale_for(language)
    rows = []
    for index, day in enumerate(DAYS):
        if day not in hours:
            continue
        name = dates.format_date(MONDAY.replace(day=1 + index), "EEEE", locale=locale)
        spans = ", ".join(f"{dates.format_time(start, 'short', locale=locale)}–{dates.format_time(end, 'short', locale=locale)}"
                          for start, end in hours[day]) or closed
        rows.append(f"{name}: {spans}")
    return rows
