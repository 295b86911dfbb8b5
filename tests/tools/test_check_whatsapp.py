"""`wegwijs check` warns about button labels WhatsApp would shorten (20 characters on a reply button)."""

from __future__ import annotations

from pathlib import Path

from bot.config import load_config
from bot.tools.check import check
from tests.core.test_broken_content import copy_project


def test_a_button_label_too_long_for_whatsapp_is_a_warning_with_file_and_line(tmp_path: Path) -> None:
    config_file = copy_project(tmp_path)
    catalog = tmp_path / "locales" / "nl" / "LC_MESSAGES" / "messages.po"
    text = catalog.read_text(encoding="utf-8")
    assert 'msgstr "Praat met een mens"' in text
    catalog.write_text(text.replace('msgstr "Praat met een mens"', 'msgstr "Praat met een echte mens van de desk"'), encoding="utf-8")
    findings = [f for f in check(load_config(config_file, env={})) if "WhatsApp" in f.message]
    assert [(f.level, f.file) for f in findings] == [("warning", "locales/nl/LC_MESSAGES/messages.po")]
    assert "button-human" in findings[0].message and "Praat met een echte…" in findings[0].message
    assert findings[0].line is not None and "button-human" in catalog.read_text(encoding="utf-8").splitlines()[findings[0].line - 1]


def test_the_repository_labels_all_fit_on_whatsapp_buttons() -> None:
    assert [f for f in check(load_config()) if "WhatsApp" in f.message] == []
