"""Masking what could identify her in a text kept without her (the unanswered-question log)."""

from __future__ import annotations

import pytest

from bot.redact import Hidden, hide_contact_details, mask


@pytest.mark.parametrize(("text", "masked"), [
    ("call me on 0470 12 34 56 please", "call me on [phone] please"),
    ("my number is +32470123456", "my number is [phone]"),
    ("bel 09/123.45.67 of 0470-12-34-56", "bel [phone] of [phone]"),
    ("write to zeynep.k+1@mail.example.org about it", "write to [e-mail] about it"),
    ("my son was born 12/03/2021 and is 3", "my son was born [date] and is [number]"),
    ("I live at Kerkstraat 12, 9000 Gent", "I live at Kerkstraat [number], [number] Gent"),
    ("rijksregisternummer 85.07.30-033.61", "rijksregisternummer [phone]"),  # 8 digits or more: a phone number
    ("رقمي ٠٤٧٠١٢٣٤٥٦ من فضلك", "رقمي [phone] من فضلك"),  # Arabic-Indic digits are digits too
    ("where can I learn Dutch?", "where can I learn Dutch?"),
])
def test_mask_replaces_numbers_and_addresses_and_keeps_the_words(text: str, masked: str) -> None:
    assert mask(text) == masked


def test_mask_leaves_no_digit_and_is_stable() -> None:
    text = "Amina, 0470 12 34 56, amina@example.org, huisnummer 7b, dossier 2024-118877"
    once = mask(text)
    assert not any(character.isdigit() for character in once) and "@" not in once
    assert "Amina" in once and "huisnummer" in once  # coordinators need the question: words stay
    assert mask(once) == once


@pytest.mark.parametrize(("text", "masked"), [
    ("pay to BE68 5390 0754 7034 please", "pay to [IBAN] please"),
    ("BE68539007547034", "[IBAN]"),
    ("mijn rekening: nl91 ABNA 0417 1643 00.", "mijn rekening: [IBAN]."),
    ("IBAN:GB29NWBK60161331926819", "IBAN:[IBAN]"),
    ("رقمي ٠٤٧٠ ١٢ ٣٤ ٥٦", "رقمي [phone]"),  # Eastern Arabic digits with spaces
    ("شماره من ۰۴۷۰ ۱۲ ۳۴ ۵۶ است", "شماره من [phone] است"),  # Persian digits
    ("+۳۲ ۴۷۰ ۱۲ ۳۴ ۵۶", "[phone]"),
    ("0032 470 12 34 56 or +32 (0)470 12.34.56", "[phone] or [phone]"),
    ("+32\u00a0470\u00a012\u00a034\u00a056", "[phone]"),  # no-break spaces, as a contacts app copies it
])
def test_mask_also_hides_ibans_and_phone_numbers_in_any_script_and_form(text: str, masked: str) -> None:
    assert mask(text) == masked


DESK = Hidden("<phone>", "<e-mail>", "<iban>")


@pytest.mark.parametrize(("text", "shown"), [
    ("my number is 0470 12 34 56, call me", "my number is <phone>, call me"),
    ("0470123456", "<phone>"),
    ("+32 470 12 34 56 / 0032 470 12 34 56 / 09/123.45.67", "<phone> / <phone> / <phone>"),
    ("+32 9 123 45 67", "<phone>"),
    ("٠٤٧٠ ١٢ ٣٤ ٥٦ و ۰۴۷۰۱۲۳۴۵۶", "<phone> و <phone>"),
    ("write to zeynep.k+1@mail.example.org", "write to <e-mail>"),
    ("BE68 5390 0754 7034 or BE68539007547034", "<iban> or <iban>"),
    ("0470 12.03.56", "<phone>"),  # a phone number whose end looks like a date is still a phone number
])
def test_the_desk_never_sees_a_phone_number_an_e_mail_address_or_an_iban(text: str, shown: str) -> None:
    assert hide_contact_details(text, DESK) == shown


@pytest.mark.parametrize("text", [
    "I have 2 children of 3 and 5, we live in 9000 Gent, Kerkstraat 12",
    "I am 34 and my appointment is on 12/03/2026 at 14.30, or 12.03.2026 14.30",
    "rent is 750 euro, 1.250 with costs; open 9-12 and 13-17",
    "ab12 this that",  # shaped a little like an IBAN, but words
])
def test_the_desk_keeps_the_numbers_a_counsellor_needs(text: str) -> None:
    assert hide_contact_details(text, DESK) == text


def test_hiding_for_the_desk_is_stable() -> None:
    once = hide_contact_details("0470 12 34 56, a@b.org, BE68 5390 0754 7034, 2 kids")
    assert once == "[phone], [e-mail], [IBAN], 2 kids" and hide_contact_details(once) == once
