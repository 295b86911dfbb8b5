"""Services near her (knowledge/places.yaml): towns, postcodes, places, and the nearest ones to an area.

An area is what she gives: a shared location ("geo:51.22,4.40"), a postcode ("postcode:2060") or a
known town ("town:antwerpen"). Places carry an address, coordinates, phone or opening hours only
where a coordinator verified them; otherwise the town's centre stands in for distance and the
official link says where to look."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any

import yaml

from bot.errors import ContentError
from bot.language import normalise

PLACES_FILE = "places.yaml"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOURS = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


@dataclass(frozen=True)
class Town:
    id: str
    name: str
    location: tuple[float, float]
    postcodes: tuple[tuple[int, int], ...]
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Place:
    id: str
    name: str
    kind: str
    town: str
    url: str
    topics: tuple[str, ...] = ()
    address: str | None = None
    location: tuple[float, float] | None = None
    phone: str | None = None
    hours: dict[str, tuple[tuple[time, time], ...]] = field(default_factory=dict)
    languages: tuple[str, ...] = ()


@dataclass(frozen=True)
class Nearby:
    place: Place
    km: float | None          # None: she gave a postcode or town, not a location
    from_town_centre: bool    # the place has no verified coordinates: distance to its town's centre


class Places:
    def __init__(self, towns: dict[str, Town], places: list[Place], nearby: list[tuple[tuple[int, int], tuple[str, ...]]]) -> None:
        self.towns = towns
        self.places = places
        self._nearby = nearby
        self._names = {normalise(name): town.id for town in towns.values() for name in (town.name, town.id, *town.aliases)}

    @property
    def kinds(self) -> set[str]:
        return {place.kind for place in self.places}

    def parse_area(self, text: str) -> str | None:
        """'2060', 'Antwerpen', 'in gent' -> an area string; None when it is neither a postcode nor a known town."""
        folded = normalise(text)
        postcode = re.fullmatch(r"(?:b\s*)?([1-9]\d{3})", folded.replace("-", " ").strip())
        if postcode:
            return f"postcode:{postcode[1]}"
        words = folded.split()
        for size in (3, 2, 1):
            for start in range(len(words) - size + 1):
                found = self._names.get(" ".join(words[start:start + size]))
                if found:
                    return f"town:{found}"
        return None

    def town_of(self, area: str) -> Town | None:
        kind, _, value = area.partition(":")
        if kind == "town":
            return self.towns.get(value)
        if kind == "postcode":
            code = int(value)
            return next((town for town in self.towns.values() if any(low <= code <= high for low, high in town.postcodes)), None)
        return None

    def near(self, area: str, kinds: tuple[str, ...] = (), per_kind: int = 1) -> list[Nearby]:
        """The nearest places of each kind (all kinds when none are given), in the order of ``kinds``."""
        wanted = kinds or tuple(sorted(self.kinds))
        kind, _, value = area.partition(":")
        if kind == "geo":
            lat, lon = (float(part) for part in value.split(","))
            return self._by_distance((lat, lon), wanted, per_kind)
        town = self.town_of(area)
        towns = [town.id] if town else list(self._nearby_towns(int(value)) if kind == "postcode" else [])
        found: list[Nearby] = []
        for wanted_kind in wanted:
            picked = [p for town_id in towns for p in self.places if p.kind == wanted_kind and p.town == town_id][:per_kind]
            found += [Nearby(place, None, place.location is None) for place in picked]
        return found

    def _nearby_towns(self, code: int) -> tuple[str, ...]:
        return next((towns for (low, high), towns in self._nearby if low <= code <= high), ())

    def _by_distance(self, point: tuple[float, float], kinds: tuple[str, ...], per_kind: int) -> list[Nearby]:
        found: list[Nearby] = []
        for wanted_kind in kinds:
            scored = []
            for place in (p for p in self.places if p.kind == wanted_kind):
                where = place.location or self.towns[place.town].location
                scored.append((distance_km(point, where), place))
            scored.sort(key=lambda item: item[0])
            found += [Nearby(place, km, place.location is None) for km, place in scored[:per_kind]]
        return found


def geo_area(location: tuple[float, float]) -> str:
    """The area of a shared location."""
    return "geo:%.5f,%.5f" % location


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine), Earth radius 6371 km."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371 * math.asin(math.sqrt(h))


def load_places(root: Path) -> Places:
    path = root / PLACES_FILE
    if not path.exists():
        return Places({}, [], [])
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ContentError(str(path), mark.line + 1 if mark else None, f"is not valid YAML: {getattr(exc, 'problem', exc)}") from None
    lines = _lines(path)
    if not isinstance(data, dict):
        raise ContentError(str(path), 1, "needs 'towns:' (towns by key), 'places:' (a list of places) and 'nearby:' (a list)")
    for key, shape, what in (("towns", dict, "towns by key (gent: {name: …})"), ("places", list, "a list of places ('- id: …')"),
                             ("nearby", list, "a list ('- postcodes: …')")):
        if data.get(key) is not None and not isinstance(data[key], shape):
            raise ContentError(str(path), lines.get(key), f"'{key}:' must be {what}")
    towns = {key: _town(path, lines, key, raw) for key, raw in (data.get("towns") or {}).items()}
    places = [_place(path, lines, raw, towns) for raw in data.get("places") or []]
    ids = [place.id for place in places]
    for place_id in {i for i in ids if ids.count(i) > 1}:
        raise ContentError(str(path), lines.get(place_id), f"place id '{place_id}' is used twice: give each place its own id")
    nearby = [_nearby(path, raw, towns) for raw in data.get("nearby") or []]
    return Places(towns, places, nearby)


def _lines(path: Path) -> dict[str, int]:
    """First line on which each `id: x` or `x:` key appears, for error messages."""
    found: dict[str, int] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        match = re.match(r"^\s*(?:-\s*)?(?:id:\s*)?([\w-]+)\s*:?", line)
        if match:
            found.setdefault(match[1], number)
    return found


def _town(path: Path, lines: dict[str, int], key: str, raw: Any) -> Town:
    line = lines.get(key)
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise ContentError(str(path), line, f"town '{key}' needs 'name:', 'location: [lat, lon]' and 'postcodes:'")
    return Town(key, raw["name"], _point(path, line, f"town '{key}'", raw.get("location")),
                tuple(_range(path, line, item) for item in raw.get("postcodes") or []),
                tuple(str(alias) for alias in raw.get("aliases") or []))


def _place(path: Path, lines: dict[str, int], raw: Any, towns: dict[str, Town]) -> Place:
    place_id = raw.get("id") if isinstance(raw, dict) else None
    line = lines.get(str(place_id)) if place_id else None
    if not place_id or not all(isinstance(raw.get(key), str) for key in ("name", "kind", "town", "url")):
        raise ContentError(str(path), line, "every place needs 'id:', 'name:', 'kind:', 'town:' and 'url:' (the official page)")
    if raw["town"] not in towns:
        raise ContentError(str(path), line, f"place '{place_id}': town '{raw['town']}' is not listed under 'towns:'")
    if not raw["url"].startswith("https://"):
        raise ContentError(str(path), line, f"place '{place_id}': url must be the https:// address of the official page")
    location = _point(path, line, f"place '{place_id}'", raw["location"]) if raw.get("location") is not None else None
    return Place(place_id, raw["name"], raw["kind"], raw["town"], raw["url"], tuple(raw.get("topics") or ()),
                 raw.get("address"), location, str(raw["phone"]) if raw.get("phone") else None,
                 _hours(path, line, place_id, raw.get("hours") or {}), tuple(raw.get("languages") or ()))


def _point(path: Path, line: int | None, what: str, raw: Any) -> tuple[float, float]:
    if (isinstance(raw, list) and len(raw) == 2 and all(isinstance(x, (int, float)) for x in raw)
            and -90 <= raw[0] <= 90 and -180 <= raw[1] <= 180):
        return float(raw[0]), float(raw[1])
    raise ContentError(str(path), line, f"{what}: location must be [latitude, longitude], e.g. [51.05, 3.72]")


def _range(path: Path, line: int | None, raw: Any) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d{4})\s*(?:-\s*(\d{4}))?\s*", str(raw))
    if not match:
        raise ContentError(str(path), line, f"postcode '{raw}' must be 4 digits or a range like 1000-1299")
    return int(match[1]), int(match[2] or match[1])


def _nearby(path: Path, raw: Any, towns: dict[str, Town]) -> tuple[tuple[int, int], tuple[str, ...]]:
    if not isinstance(raw, dict) or not raw.get("towns"):
        raise ContentError(str(path), None, "each 'nearby:' item is {postcodes: 2000-2999, towns: [antwerpen, mechelen]}")
    unknown = [town for town in raw["towns"] if town not in towns]
    if unknown:
        raise ContentError(str(path), None, f"nearby: town '{unknown[0]}' is not listed under 'towns:'")
    return _range(path, None, raw.get("postcodes")), tuple(raw["towns"])


def _hours(path: Path, line: int | None, place_id: str, raw: Any) -> dict[str, tuple[tuple[time, time], ...]]:
    hours: dict[str, tuple[tuple[time, time], ...]] = {}
    for day, spans in (raw.items() if isinstance(raw, dict) else []):
        if day not in DAYS:
            raise ContentError(str(path), line, f"place '{place_id}': day '{day}' must be one of {', '.join(DAYS)}")
        parsed = []
        for span in [spans] if isinstance(spans, str) else spans or []:
            match = HOURS.match(str(span).replace(" ", ""))
            if not match:
                raise ContentError(str(path), line, f"place '{place_id}': hours '{span}' must look like 09:00-12:30")
            parsed.append((time(int(match[1]), int(match[2])), time(int(match[3]), int(match[4]))))
        hours[day] = tuple(parsed)
    return hours
