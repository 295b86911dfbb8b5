"""Places near her: knowledge/places.yaml, areas from postcodes, towns and locations, opening hours."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from bot.errors import ContentError
from bot.core.nearby import opening_hours
from bot.knowledge.places import distance_km, load_places

ROOT = Path(__file__).resolve().parents[2]
PLACES = load_places(ROOT / "knowledge")
TOWNS = ("antwerpen", "gent", "brussel", "leuven", "mechelen", "genk")
KINDS = ("intake", "ligo", "cvo", "ocmw", "vdab", "caw")


def test_every_main_provider_is_listed_in_the_six_towns_with_an_official_https_link() -> None:
    for town in TOWNS:
        kinds = {place.kind for place in PLACES.places if place.town == town}
        assert kinds == set(KINDS), town
    assert all(place.url.startswith("https://") for place in PLACES.places)


def test_no_unverified_address_phone_or_hours() -> None:
    """Facts rule: addresses, phones and hours only where a coordinator verified them (none yet)."""
    assert [p.id for p in PLACES.places if p.address or p.phone or p.hours or p.location] == []


@pytest.mark.parametrize("text, area", [
    ("9000", "postcode:9000"), ("B-2060", "postcode:2060"), ("Antwerpen", "town:antwerpen"), ("i live in gent", "town:gent"),
    ("Bruxelles", "town:brussel"), ("LEUVEN", "town:leuven"), ("гент", "town:gent"), ("بروكسل", "town:brussel"),
    ("xyzzy", None), ("12345", None), ("0900", None), ("", None),
])
def test_parse_area(text: str, area: str | None) -> None:
    assert PLACES.parse_area(text) == area


def test_a_postcode_of_a_town_gives_that_towns_places() -> None:
    found = PLACES.near("postcode:2060", ("ligo", "ocmw"))
    assert [item.place.id for item in found] == ["ligo-antwerpen", "ocmw-antwerpen"]
    assert all(item.km is None for item in found)


def test_a_postcode_without_a_town_of_its_own_gives_the_nearest_known_town() -> None:
    assert [item.place.id for item in PLACES.near("postcode:8500", ("vdab",))] == ["vdab-gent"]
    assert [item.place.id for item in PLACES.near("postcode:3500", ("caw",))] == ["caw-genk"]
    assert [item.place.id for item in PLACES.near("postcode:1050", ("intake",))] == ["intake-brussel"]  # Brussels region


def test_a_shared_location_gives_the_nearest_places_by_distance() -> None:
    found = PLACES.near("geo:50.8794,4.7010", ("cvo", "vdab"))
    assert [item.place.id for item in found] == ["cvo-leuven", "vdab-leuven"]
    assert found[0].km is not None and found[0].km < 1 and found[0].from_town_centre
    mechelen = PLACES.near("geo:51.03,4.48")  # every kind, nearest first
    assert {item.place.town for item in mechelen} == {"mechelen"} and len(mechelen) == len(KINDS)


def test_distance_between_gent_and_antwerpen_is_about_50_km() -> None:
    assert 48 < distance_km((51.0543, 3.7174), (51.2194, 4.4025)) < 52


def test_opening_hours_are_written_in_her_locale() -> None:
    hours = {"mon": ((time(9), time(12)), (time(13), time(16))), "sat": ()}
    assert opening_hours("nl", hours, "gesloten") == ["maandag: 09:00–12:00, 13:00–16:00", "zaterdag: gesloten"]
    assert opening_hours("en", hours, "closed")[0].startswith("Monday: 9:00")
    assert opening_hours("ar", hours, "مغلق")[0].startswith("الاثنين")


def write(tmp_path: Path, places: str) -> Path:
    (tmp_path / "places.yaml").write_text(
        "towns:\n  gent: {name: Gent, location: [51.05, 3.72], postcodes: [9000]}\nplaces:\n" + places, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("places, message", [
    ("  - {id: a, name: A, kind: ocmw, town: gent, url: 'http://stad.gent'}\n", "url must be the https://"),
    ("  - {id: a, name: A, kind: ocmw, town: brugge, url: 'https://x.be'}\n", "town 'brugge' is not listed"),
    ("  - {id: a, name: A, kind: ocmw, town: gent}\n", "needs 'id:', 'name:', 'kind:', 'town:' and 'url:'"),
    ("  - {id: a, name: A, kind: ocmw, town: gent, url: 'https://x.be', hours: {mon: '9-12'}}\n", "must look like 09:00-12:30"),
    ("  - {id: a, name: A, kind: ocmw, town: gent, url: 'https://x.be', location: [200, 3]}\n", "location must be"),
    ("  - {id: a, name: A, kind: ocmw, town: gent, url: 'https://x.be'}\n  - {id: a, name: B, kind: cvo, town: gent, url: 'https://x.be'}\n", "used twice"),
])
def test_a_broken_places_file_is_explained(tmp_path: Path, places: str, message: str) -> None:
    with pytest.raises(ContentError, match=message):
        load_places(write(tmp_path, places))


@pytest.mark.parametrize("body, says", [
    ("- a\n- b\n", "needs 'towns:'"),
    ("places: 5\n", "'places:' must be a list"),
    ("towns: [1, 2]\n", "'towns:' must be towns by key"),
    ("nearby: 3\n", "'nearby:' must be a list"),
])
def test_a_places_file_of_the_wrong_shape_names_the_file_and_what_to_write(tmp_path: Path, body: str, says: str) -> None:
    """Before: AttributeError or TypeError, with no file named (the watcher's log said nothing useful)."""
    (tmp_path / "places.yaml").write_text(body, encoding="utf-8")
    with pytest.raises(ContentError, match=says) as error:
        load_places(tmp_path)
    assert error.value.file == str(tmp_path / "places.yaml")
