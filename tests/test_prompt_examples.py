"""Examples in what the bot says never show a number somebody may own."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = sorted((ROOT / "locales").glob("*/LC_MESSAGES/messages.po"))
# a Belgian mobile number (045x-049x), national or international, in any grouping (digits made ASCII first)
BELGIAN_MOBILE = re.compile(r"(?:\+32|0032|(?<![0-9])0)[ ./()-]*(?:0\)?[ ./-]*)?4[5-9][0-9](?:[ ./-]*[0-9]){6}(?![0-9])")


def dialable(text: str) -> bool:
    """A Belgian mobile number in the text, in any script's digits (٠٤٧٠, ۰۴۷۰)."""
    return BELGIAN_MOBILE.search("".join(str(unicodedata.digit(c)) if c.isdigit() else c for c in text)) is not None


@pytest.mark.parametrize("text", ["0470 12 34 56", "+32 470 12 34 56", "0032 (0)470.12.34.56", "0499123456", "٠٤٧٠ ١٢ ٣٤ ٥٦"])
def test_the_pattern_finds_a_belgian_mobile_number_however_it_is_written(text: str) -> None:
    assert dialable(f"for example {text}.") and not dialable(f"for example {text[:-2]}.")


@pytest.mark.parametrize("path", CATALOGS, ids=lambda path: path.parent.parent.name)
def test_no_catalog_shows_a_mobile_number_that_can_be_dialled(path: Path) -> None:
    with path.open("rb") as handle:
        catalog = read_po(handle)
    found = [(message.context or message.id, text) for message in catalog if message.id
             for text in (str(message.id), str(message.string)) if dialable(text)]
    assert found == []
    assert any(message.string and "04xx xx xx xx" in str(message.string) for message in catalog)  # the example is still shown
