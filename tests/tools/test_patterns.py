"""`python -m bot.tools.patterns`: what the emergency patterns find, for coordinators trying a pattern."""

from __future__ import annotations

import pytest

from bot.tools import patterns


def test_patterns_names_the_kind_and_the_words_that_matched(capsys: pytest.CaptureFixture[str]) -> None:
    assert patterns.main(["my husband beat me yesterday", "this course is killing me"]) == 0
    found, calm = capsys.readouterr().out.splitlines()
    assert found.startswith("EMERGENCY violence [") and found.endswith("| my husband beat me yesterday")
    assert calm.startswith("calm") and calm.endswith("| this course is killing me")


def test_patterns_reports_a_broken_file_instead_of_a_traceback(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "_emergency.yaml"
    broken.write_text("languages: [unclosed\n", encoding="utf-8")
    assert patterns.main(["--file", str(broken), "help"]) == 2
    assert "_emergency.yaml" in capsys.readouterr().out
