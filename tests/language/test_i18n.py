"""Catalogs, fallbacks, native names, right-to-left text and local dates."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po

from bot.tools import catalogs
from bot.language.bidi import LRI, PDI, isolate_ltr
from bot.config import Config
from bot.language.i18n import Catalogs, format_datetime, format_number, is_rtl, native_name
from bot.language.bidi import outgoing

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = ["nl", "en", "fr", "ar", "tr", "fa", "ps", "ti", "so", "uk", "ru"]


def copy_locales(tmp_path: Path) -> Path:
    target = tmp_path / "locales"
    shutil.copytree(ROOT / "locales", target)
    return target


def edit(path: Path, context: str, **changes: object) -> None:
    with path.open("rb") as handle:
        catalog = read_po(handle)
    message = next(m for m in catalog if m.context == context)
    for name, value in changes.items():
        setattr(message, name, value)
    with path.open("wb") as handle:
        write_po(handle, catalog)


def test_every_message_is_translated_in_every_language_with_valid_placeholders_and_buttons(config: Config) -> None:
    template = catalogs.extract(config.locales_dir, config.path(config.settings.paths.flows))
    assert catalogs.problems(config.locales_dir, config.settings.languages, template) == []
    assert {message.context for message in template if message.id} >= {"privacy-notice", "button-menu", "offer-language"}


def test_problems_name_missing_translation_broken_placeholder_and_long_button(tmp_path: Path) -> None:
    locales = copy_locales(tmp_path)
    ar = locales / "ar" / "LC_MESSAGES" / "messages.po"
    edit(ar, "main-menu", string="")
    edit(ar, "privacy-notice", string="خصوصيتك محفوظة.")
    edit(ar, "button-human", string="التحدث مع شخص من الفريق الآن")
    template = catalogs.extract(locales)
    found = [(problem.key, problem.hint.split()[0]) for problem in catalogs.problems(locales, ["ar"], template)]
    assert found == [("privacy-notice", "must"), ("main-menu", "is"), ("button-human", "is")]


def test_changed_english_keeps_the_translation_but_marks_it_for_review(tmp_path: Path) -> None:
    locales = copy_locales(tmp_path)
    with (locales / "en" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        english = read_po(handle)
    english.get("cancelled").string = "Okay, we stopped."
    with (locales / "en" / "LC_MESSAGES" / "messages.po").open("wb") as handle:
        write_po(handle, english)
    template = catalogs.extract(locales)
    catalogs.update(locales, ["nl"], template)
    with (locales / "nl" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        message = read_po(handle).get("Okay, we stopped.", context="cancelled")
    assert message.string == "Oké, gestopt." and message.fuzzy
    assert [p.key for p in catalogs.problems(locales, ["nl"], template)] == ["cancelled"]


def test_i18n_command_extracts_flow_prompts_and_labels_with_translator_notes(tmp_path: Path) -> None:
    locales = copy_locales(tmp_path)
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "childcare.yaml").write_text(
        "description: childcare\nsteps:\n  - id: age\n    ask: How old is your youngest child?\n"
        "    choices:\n      - label: Under 3\n        value: baby\n", encoding="utf-8")
    (tmp_path / "config.yaml").write_text((ROOT / "config.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "bot", "i18n"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1  # the new sentences are not translated yet, and it says so
    assert "'How old is your youngest child?' is not translated" in result.stdout
    pot = (locales / "messages.pot").read_text(encoding="utf-8")
    assert "#. flow childcare, step age: ask" in pot and "#: flows/childcare.yaml:4" in pot
    assert "#. button label: at most 20 characters (WhatsApp)" in pot
    with (locales / "ar" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        assert read_po(handle).get("Under 3") is not None
    assert (locales / "ar" / "LC_MESSAGES" / "messages.mo").exists()


def test_drafts_are_counted_and_shown_like_any_translation(config: Config, content) -> None:
    counts = catalogs.draft_counts(config.locales_dir, config.settings.languages)
    assert counts["ar"][0] == counts["ar"][1] > 0  # all Arabic texts are drafts for now
    assert content.catalogs.get("ar", "main-menu").text.startswith("ماذا")


def test_fallback_chain_ps_fa_en_and_the_note() -> None:
    messages = {"en": {"hello": "Hello", "only-en": "English only"}, "fa": {"hello": "سلام"}, "ps": {}}
    texts = Catalogs(messages, ["en", "fa", "ps"], {"ps": ["fa"]}, "en")
    assert texts.chain("ps") == ["ps", "fa", "en"]
    found = texts.get("ps", "hello")
    assert (found.text, found.language, found.fallback) == ("سلام", "fa", True)
    assert texts.get("ps", "only-en").language == "en"
    assert texts.get("fa", "hello").fallback is False


async def test_missing_text_in_her_language_is_said_in_the_fallback_with_a_note(chat, content, monkeypatch) -> None:
    await chat.onboard("ps")
    monkeypatch.delitem(content.catalogs._messages["ps"], "main-menu")
    replies = await chat("/menu")
    assert replies[0].text == outgoing("x", content.catalogs.get("fa", "main-menu").text, (), None, "fa").text
    assert replies[-1].key == "note-not-translated"


def test_native_names_and_direction() -> None:
    assert [native_name(code) for code in LANGUAGES] == [
        "Nederlands", "English", "Français", "العربية", "Türkçe", "فارسی", "پښتو", "ትግርኛ", "Soomaali", "Українська", "Русский"]
    assert [code for code in LANGUAGES if is_rtl(code)] == ["ar", "fa", "ps"]


@pytest.mark.parametrize("text, expected", [
    ("اتصلي بالرقم 0800 30 700 الآن.", f"اتصلي بالرقم {LRI}0800 30 700{PDI} الآن."),
    ("زوري https://www.vdab.be/jobs للمزيد.", f"زوري {LRI}https://www.vdab.be/jobs{PDI} للمزيد."),
    ("اذهبي إلى Huis van het Nederlands في Gent.", f"اذهبي إلى {LRI}Huis van het Nederlands{PDI} في {LRI}Gent{PDI}."),
    ("أرسلي /forget لحذف كل شيء", f"أرسلي {LRI}/forget{PDI} لحذف كل شيء"),
    ("المستوى A2 ضروري", f"المستوى {LRI}A2{PDI} ضروري"),
    ("بدون أي كلمة لاتينية", "بدون أي كلمة لاتينية"),
])
def test_rtl_text_isolates_latin_numbers_and_links(text: str, expected: str) -> None:
    assert isolate_ltr(text) == expected


def test_outgoing_isolates_only_right_to_left_messages_and_their_buttons() -> None:
    from bot.messages import Button

    arabic = outgoing("u", "اتصلي بـ 112", (Button("VDAB", "entry:work/x"),), None, "ar")
    assert arabic.rtl and arabic.text.endswith(f"{LRI}112{PDI}") and arabic.buttons[0].label == f"{LRI}VDAB{PDI}"
    dutch = outgoing("u", "Bel 112", (Button("VDAB", "x"),), None, "nl")
    assert not dutch.rtl and dutch.text == "Bel 112" and dutch.buttons[0].label == "VDAB"


async def test_arabic_privacy_notice_keeps_the_command_readable(chat) -> None:
    replies = await chat.onboard("ar")
    assert f"{LRI}/forget{PDI}" in replies[0].text


def test_dates_in_her_language_and_belgian_time() -> None:
    winter = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)   # 09:00 in Brussels
    summer = datetime(2026, 7, 6, 7, 30, tzinfo=UTC)    # 09:30 in Brussels
    assert format_datetime(winter, "nl") == "maandag 23 november 2026, 09:00"
    assert format_datetime(summer, "nl", "time") == "09:30"
    assert format_datetime(winter, "fr", "day") == "lundi 23 novembre 2026"
    assert format_datetime(winter, "ar", "day").startswith("الاثنين")
    assert format_datetime(winter, "uk", "time") == "09:00"
    assert format_datetime(winter, "en", "time") == "9:00\u202fAM"
    assert format_number(1234.5, "nl") == "1.234,5" and format_number(1234.5, "en") == "1,234.5"


def test_stats_counts_drafts_and_reviews_per_language(tmp_path: Path, config: Config) -> None:
    from bot.tools import stats
    from bot.config import load_config
    from bot.core.content import Content

    locales = copy_locales(tmp_path)
    shutil.copytree(ROOT / "knowledge", tmp_path / "knowledge")
    shutil.copytree(ROOT / "flows", tmp_path / "flows")
    shutil.copytree(ROOT / ".cache", tmp_path / ".cache", ignore=shutil.ignore_patterns("bench*"))  # else minutes of embedding
    (tmp_path / "config.yaml").write_text((ROOT / "config.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    edit(locales / "fr" / "LC_MESSAGES" / "messages.po", "main-menu", user_comments=[])  # a native speaker checked it
    entry = next(path for path in sorted((tmp_path / "knowledge").glob("*/*.nl.md")) if path.parent.name != "replies")
    entry.write_text(entry.read_text(encoding="utf-8").replace("reviewed: false", "reviewed: true"), encoding="utf-8")
    local = load_config(tmp_path / "config.yaml", env={})
    ui_total, entry_total, rows = stats.collect(local, Content.load(local))
    by_language = {row.language: row for row in rows}
    assert by_language["fr"].ui_translated == ui_total and by_language["fr"].ui_drafts == ui_total - 1
    assert by_language["nl"].entries_reviewed == 1 and by_language["en"].entries_present == entry_total
    result = subprocess.run([sys.executable, "-m", "bot", "stats"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.splitlines()[0].split() == ["lang", "interface", "drafts", "entries", "reviewed", "stale"]
