"""`wegwijs check` warns about a source that is only a site's home page, and an answer too long for a phone."""

from __future__ import annotations

from pathlib import Path

from bot.config import load_config
from bot.tools.check import check
from tests.core.test_broken_content import copy_project

ENTRY = Path("knowledge") / "childcare" / "after-school-care.en.md"


def findings(tmp_path: Path, edit) -> list:  # noqa: ANN001 - a str -> str function
    config_file = copy_project(tmp_path)
    path = tmp_path / ENTRY
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    return [f for f in check(load_config(config_file, env={})) if f.file == str(ENTRY)]


def test_a_home_page_as_source_is_a_warning_a_specific_page_is_not(tmp_path: Path) -> None:
    found = findings(tmp_path, lambda text: text.replace("sources: [https://www.opgroeien.be]",
                                                         "sources: [https://www.opgroeien.be/, https://www.opgroeien.be/kinderopvang/buitenschoolse-opvang]"))
    homes = [f for f in found if "home page" in f.message]
    assert [f.message.split("'")[1] for f in homes] == ["https://www.opgroeien.be/"]
    assert homes[0].level == "warning" and homes[0].line is not None


def test_an_answer_over_120_words_is_a_warning(tmp_path: Path) -> None:
    found = findings(tmp_path, lambda text: text + "\n" + " ".join(["word"] * 130) + "\n")
    assert any(f.level == "warning" and "more than 120" in f.message for f in found)
