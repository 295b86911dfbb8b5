"""`wegwijs chat`: the JSON-lines scripting interface and the interactive chat, as subprocesses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bot.channels.terminal import parse_json_line

ROOT = Path(__file__).resolve().parents[2]


def dutch(key: str) -> str:
    from bot.config import load_config
    from bot.language.i18n import Catalogs

    settings = load_config(ROOT / "config.yaml", env={}).settings
    return Catalogs.load(ROOT / "locales", settings.languages, settings.fallbacks, settings.default_language).get("nl", key).text


def run_chat(tmp_path: Path, lines: list, *args: str) -> list[dict]:
    stdin = "".join((line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)) + "\n" for line in lines)
    result = subprocess.run([sys.executable, "-m", "bot", "chat", "--json", "--db", str(tmp_path / "chat.db"), *args],
                            input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=120, encoding="utf-8")
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_json_chat_onboarding_by_button_label_and_payload(tmp_path: Path) -> None:
    out = run_chat(tmp_path, [{"text": "hello"}, {"button": "English"}, {"button": "cmd:help"}])
    assert [line["key"] for line in out] == ["welcome", "privacy-notice", "main-menu", "help"]
    assert set(out[0]) == {"to", "text", "buttons", "key"}
    assert out[0]["to"] == "local"
    assert {"label": "العربية", "payload": "lang:ar"} in out[0]["buttons"]


def test_json_chat_keeps_women_apart(tmp_path: Path) -> None:
    out = run_chat(tmp_path, [
        {"text": "hi", "user": "a"}, {"text": "hi", "user": "b"},
        {"button": "lang:nl", "user": "a"}, {"button": "lang:en", "user": "b"},
        {"text": "/menu", "user": "a"}, {"text": "/menu", "user": "b"},
    ])
    menus = [line for line in out if line["key"] == "main-menu"]
    assert [line["to"] for line in menus[-2:]] == ["a", "b"]
    assert menus[-2]["text"] != menus[-1]["text"]


def test_json_chat_malformed_lines_get_errors_and_the_session_goes_on(tmp_path: Path) -> None:
    out = run_chat(tmp_path, ["{not json", "[1, 2]", {"text": 5}, {"location": [500, 1]}, {"nothing": 1},
                              {"user": "", "text": "x"}, {"text": "hello"}])
    errors = [line["error"] for line in out if "error" in line]
    assert len(errors) == 6
    assert "not valid JSON" in errors[0]
    assert out[-1]["key"] == "welcome"


def test_json_chat_same_id_twice_answers_once(tmp_path: Path) -> None:
    out = run_chat(tmp_path, [{"text": "hi", "id": "x1"}, {"text": "hi", "id": "x1"}])
    assert [line["key"] for line in out] == ["welcome"]


def test_json_chat_state_survives_a_restart(tmp_path: Path) -> None:
    run_chat(tmp_path, [{"text": "hello"}, {"button": "lang:nl"}])
    out = run_chat(tmp_path, [{"text": "/menu"}])
    assert out[0]["key"] == "main-menu"
    assert out[0]["text"] == dutch("main-menu")


def test_json_chat_language_hint(tmp_path: Path) -> None:
    out = run_chat(tmp_path, [{"text": "hi", "lang": "uk"}])
    assert out[0]["buttons"][0]["payload"] == "lang:uk"


def test_interactive_chat_numbers_buttons_and_accepts_numbers(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "bot", "chat", "--db", str(tmp_path / "i.db")],
                            input="2\n/help\n/quit\n", capture_output=True, text=True, cwd=ROOT, timeout=120, encoding="utf-8")
    assert result.returncode == 0, result.stderr
    assert "[2] English" in result.stdout and "[4] \u2068العربية\u2069" in result.stdout
    assert "/forget" in result.stdout  # the privacy notice and the help both explain it
    assert "**" not in result.stdout


def test_interactive_chat_takes_digits_after_a_question_without_buttons_as_her_answer(tmp_path: Path) -> None:
    """Failed before: the terminal kept the previous question's buttons, so '0499999999' at the phone question was
    taken as a press of a button that no longer showed, and the phone number could never be typed."""
    lines = ["2", "👀 Job shadowing", "🧭 Sign up now", "1", "Amina", "2", "0499999999", "/quit"]
    result = subprocess.run([sys.executable, "-m", "bot", "chat", "--db", str(tmp_path / "i.db")],
                            input="\n".join(lines) + "\n", capture_output=True, text=True, cwd=ROOT, timeout=120, encoding="utf-8")
    assert result.returncode == 0, result.stderr
    assert "What is your phone number?" in result.stdout
    assert "Which languages do you speak?" in result.stdout
    assert "does not look like a phone number" not in result.stdout


def test_parse_json_line_rejects_bad_types() -> None:
    for line, fragment in [('{"button": 3}', "button"), ('{"id": 3, "text": "x"}', "id"), ('{"location": [1]}', "location")]:
        try:
            parse_json_line(line)
        except ValueError as exc:
            assert fragment in str(exc)
        else:
            raise AssertionError(line)


def test_interactive_chat_can_reorder_rtl_for_terminals_without_bidi(tmp_path: Path) -> None:
    from bidi import get_display

    result = subprocess.run([sys.executable, "-m", "bot", "chat", "--reorder-rtl", "--db", str(tmp_path / "r.db")],
                            input="/quit\n", capture_output=True, text=True, cwd=ROOT, timeout=120, encoding="utf-8")
    assert result.returncode == 0, result.stderr
    assert f"[4] {get_display('العربية')}" in result.stdout
    assert "\u2068" not in result.stdout


def test_json_chat_scripts_a_whole_handoff_with_a_counsellor(tmp_path: Path) -> None:
    """Lines with "user": "desk:<name>" act as a counsellor; what goes to the desk is written "to": "desk"."""
    from tests.conftest import always_open_file

    lines = [{"user": "amina", "text": "hello"}, {"user": "amina", "button": "lang:en"}, {"user": "amina", "text": "/human"},
             {"user": "desk:Amal", "text": "/queue"},
             {"user": "desk:Amal", "button": "Take over"},                     # the card's button, by its label
             {"user": "desk:Lotte", "button": "take:1"},
             {"user": "desk:Amal", "case": 1, "text": "Hello, I am Amal."},
             {"user": "amina", "text": "I got a letter I do not understand"},
             {"user": "desk:Amal", "case": 1, "text": "/r send-photo"},
             {"user": "amina", "text": "/bot"},
             {"user": "desk:Amal", "case": 1, "text": "still there?"},
             {"user": "desk:Amal", "case": "one", "text": "x"}]
    config = always_open_file(tmp_path)
    stdin = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    result = subprocess.run([sys.executable, "-m", "bot", "--config", str(config), "chat", "--json", "--db", str(tmp_path / "chat.db")],
                            input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=120, encoding="utf-8")
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    flow = [(line.get("to"), line.get("key"), line.get("case")) for line in out if "error" not in line]
    assert flow[3:] == [
        ("amina", "handoff-waiting", None), ("desk", "desk-card", 1),
        ("desk", "desk-queue", None),
        ("desk", "desk-taken", 1), ("amina", "handoff-connected", None),
        ("desk", "desk-already-taken", 1),
        ("amina", "counsellor", None),
        ("desk", "her-message", 1),
        ("desk", "desk-reply-sent", 1), ("amina", "canned-reply", None),
        ("amina", "handoff-back", None), ("amina", "main-menu", None), ("desk", "desk-she-left", 1),
        ("desk", "desk-case-closed", 1),
    ]
    texts = {line.get("key"): line["text"] for line in out if "text" in line}
    assert texts["counsellor"] == "**Amal**: Hello, I am Amal."
    assert texts["her-message"] == "💬 I got a letter I do not understand"
    assert "amina" not in texts["desk-card"]
    assert out[-1] == {"error": "\"case\" (a case number) is for counsellor lines, e.g. {\"user\": \"desk:Amal\", \"case\": 3, \"text\": \"Hello\"}"}
