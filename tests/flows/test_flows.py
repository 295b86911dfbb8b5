"""Flow files: loading, the checks coordinators get, and the answer validators."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.errors import ContentError
from bot.flows.model import load_flow, validate

ROOT = Path(__file__).resolve().parents[2]


def flow(tmp_path: Path, steps: str) -> Path:
    path = tmp_path / "sample.yaml"
    path.write_text(f"description: sample\nsteps:\n{steps}", encoding="utf-8")
    return path


def test_repository_flows_load() -> None:
    loaded = load_flow(ROOT / "flows" / "job-shadowing.yaml")
    assert loaded.steps[0].id == "consent" and loaded.consent == "consent" and loaded.store == "signup"
    assert loaded.triggers
    for flow_id, topic in (("childcare", "childcare"), ("dutch-courses", "dutch-courses"), ("recognition", "recognition")):
        advice = load_flow(ROOT / "flows" / f"{flow_id}.yaml")
        assert advice.topic == topic and advice.title and advice.consent == "share" and advice.store == "request"
        assert any(step.handoff for step in advice.steps) and any(step.type == "area" for step in advice.steps) != (flow_id == "recognition")


@pytest.mark.parametrize("steps, message", [
    ("  - {id: a, ask: Name, save: name, next: [{else: nowhere}]}\n", "goes to 'nowhere', which is not a step id"),
    ("  - {id: a, say: Hi, end: true}\n  - {id: b, say: Never}\n", "step 'b' can never be reached"),
    ("  - {id: a, ask: Name, save: n, next: [{else: b}]}\n  - {id: b, ask: Age, save: m, next: [{else: a}]}\n", "can never end"),
    ("  - {id: a, ask: Name}\n", "has no 'save:'"),
    ("  - {id: a, ask: Name, save: n, type: colour}\n", "type 'colour' is unknown"),
    ("  - {id: a, ask: Name, save: n}\n  - {id: a, say: Bye}\n", "step ids used twice"),
    ("  - {id: a, ask: Name, save: n, next: [{when: x}]}\n", "each 'next' item is"),
    ("  - {id: a, ask: Sure, save: n, choices: [{label: Yes, value: yes}]}\n", "put the choice's value in quotes"),
    ("  - {id: a, places: [ligo]}\n", "no 'type: area' step saves 'area'"),
    ("  - {id: a, save: n}\n", "needs 'ask:' .* 'entry:' .* 'places:'"),
    ("  - {id: a, ask: Where, save: area, type: area, entry: childcare/find-childcare}\n", "a step that asks cannot also"),
])
def test_broken_flows_are_explained(tmp_path: Path, steps: str, message: str) -> None:
    with pytest.raises(ContentError, match=message):
        load_flow(flow(tmp_path, steps))


def test_check_reports_a_broken_flow_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "bad.yaml").write_text("description: x\nsteps:\n  - {id: a, say: Hi, end: true}\n  - {id: b, say: Never}\n", encoding="utf-8")
    for folder in ("knowledge", "locales"):
        (tmp_path / folder).symlink_to(ROOT / folder)
    (tmp_path / "config.yaml").write_text((ROOT / "config.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "bot", "check"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "error: flows/bad.yaml:4: step 'b' can never be reached" in result.stdout


@pytest.mark.parametrize("kind, text, expected", [
    ("phone", "0470 12 34 56", "0470123456"), ("phone", "+32 470 12 34 56", "+32470123456"), ("phone", "12", None),
    ("phone", "call me", None), ("postcode", "9000", "9000"), ("postcode", "0900", None), ("postcode", "90000", None),
    ("date", "25/12/2026", "2026-12-25"), ("date", "2026-12-25", "2026-12-25"), ("date", "31/02/2026", None),
    ("email", "amina@example.org", "amina@example.org"), ("email", "amina@", None), ("number", "3", "3"), ("number", "three", None),
    ("text", "  Amina  ", "Amina"), ("text", "   ", None),
])
def test_validators(kind: str, text: str, expected: str | None) -> None:
    assert validate(kind, text) == expected
