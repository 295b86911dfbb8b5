"""The `wegwijs` command line: help, db upgrade, clear errors instead of tracebacks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def wegwijs(*args: str, cwd: Path = ROOT, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True, cwd=cwd, timeout=120)


def test_help_lists_the_commands() -> None:
    result = wegwijs("--help")
    assert result.returncode == 0
    for command in ("chat", "db", "check"):
        assert command in result.stdout


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    result = wegwijs("db", "upgrade", "--db", str(tmp_path / "x.db"))
    assert result.returncode == 0, result.stderr
    assert "revision 0008" in result.stdout
    assert (tmp_path / "x.db").exists()


def test_db_purge_reports_counts(tmp_path: Path) -> None:
    result = wegwijs("db", "purge", "--db", str(tmp_path / "x.db"))
    assert result.returncode == 0, result.stderr
    assert "purged 0 messages, 0 processed, 0 users" in result.stdout


def test_chat_refuses_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0 not a database" * 100)
    before = path.read_bytes()
    result = wegwijs("chat", "--json", "--db", str(path), stdin='{"text": "hi"}\n')
    assert result.returncode == 2
    assert "is not a Wegwijs database" in result.stderr and "Traceback" not in result.stderr
    assert path.read_bytes() == before


def test_broken_config_names_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "config.yaml"
    bad.write_text("languages: [en]\ndesk:\n  chat_id: 5\n", encoding="utf-8")
    result = wegwijs("--config", str(bad), "chat", "--json")
    assert result.returncode == 2
    assert result.stderr.strip() == "wegwijs: Config 'desk.chat_id' must be a negative integer (the supergroup id)"


def test_config_that_is_not_yaml_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "config.yaml"
    bad.write_text("languages: [en\n", encoding="utf-8")
    result = wegwijs("--config", str(bad), "check")
    assert result.returncode == 2
    assert "is not valid YAML at line" in result.stderr and "Traceback" not in result.stderr


def test_check_passes_on_the_repository_content() -> None:
    result = wegwijs("check")
    assert result.returncode == 0, result.stdout
    assert "retrieval: hybrid" in result.stdout and " 0 errors" in result.stdout
    assert "question variants, fewer than" not in result.stdout


def make_content(tmp_path: Path) -> Path:
    """A one-topic copy of the project's content to break on purpose."""
    (tmp_path / "knowledge" / "childcare").mkdir(parents=True)
    (tmp_path / "knowledge" / "childcare" / "_topic.yaml").write_text("title: {en: Childcare, nl: Kinderopvang}\n", encoding="utf-8")
    (tmp_path / "locales").symlink_to(ROOT / "locales")
    (tmp_path / "config.yaml").write_text("languages: [nl, en]\n", encoding="utf-8")
    return tmp_path / "knowledge" / "childcare"


def entry(title: str, questions: list[str], extra: str = "", body: str = "Ask Opgroeien: https://www.opgroeien.be") -> str:
    lines = "".join(f"  - {q}\n" for q in questions)
    return f"---\ntitle: {title}\nquestions:\n{lines}sources: [https://www.opgroeien.be]\n{extra}---\n{body}\n"


def test_check_names_each_problem_with_file_line_and_fix(tmp_path: Path) -> None:
    topic = make_content(tmp_path)
    (topic / "broken.en.md").write_text("---\ntitle: [oops\n---\nbody\n", encoding="utf-8")
    (topic / "find.en.md").write_text(entry("Find care", ["daycare baby", "creche"], "review_by: 2020-01-01\n"), encoding="utf-8")
    (topic / "find.nl.md").write_text(entry("Opvang", ["opvang baby", "creche"]), encoding="utf-8")
    (topic / "cost.en.md").write_text(entry("Cost", ["price of daycare", "creche"], body="See http://example.org/prices"), encoding="utf-8")
    (tmp_path / "knowledge" / "stray").mkdir()
    (tmp_path / "knowledge" / "stray" / "x.en.md").write_text(entry("X", ["x y"]), encoding="utf-8")
    result = wegwijs("check", cwd=tmp_path)
    out = result.stdout
    assert result.returncode == 1
    assert "error: knowledge/childcare/broken.en.md:2: front matter is not valid YAML" in out
    assert "error: knowledge/childcare/find.en.md:5: question 'creche' is also in" in out
    assert "error: knowledge/childcare/cost.en.md:8: link 'http://example.org/prices' is not https" in out
    assert "warning: knowledge/childcare/find.en.md:7: review date 2020-01-01 has passed" in out
    assert "warning: knowledge/childcare/cost.nl.md: missing translation: 'cost' has no nl version" in out
    assert "error: knowledge/stray: unknown topic 'stray'" in out
    assert "warning: knowledge/childcare/find.en.md:3: 2 question variants, fewer than 5" in out  # en, nl, fr, ar want 5


def test_check_with_warnings_only_exits_zero(tmp_path: Path) -> None:
    topic = make_content(tmp_path)
    (topic / "find.en.md").write_text(entry("Find care", ["daycare baby", "creche"]), encoding="utf-8")
    result = wegwijs("check", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert "missing translation: 'find' has no nl version" in result.stdout and "0 errors" in result.stdout


def test_check_reports_a_broken_catalog(tmp_path: Path) -> None:
    make_content(tmp_path)
    (tmp_path / "locales").unlink()
    shutil.copytree(ROOT / "locales", tmp_path / "locales")
    po = tmp_path / "locales" / "nl" / "LC_MESSAGES" / "messages.po"
    po.write_text(po.read_text(encoding="utf-8").replace("{days} dagen", "dagen"), encoding="utf-8")
    result = wegwijs("check", cwd=tmp_path)
    assert result.returncode == 1
    assert "error: locales/nl/LC_MESSAGES/messages.po:" in result.stdout and "'help' must keep the placeholders ['days']" in result.stdout


def test_python_dash_m_and_console_script_agree() -> None:
    script = Path(sys.executable).parent / "wegwijs"
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0 and "chat" in result.stdout


def test_telegram_without_a_token_says_which_variable_to_set(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TELEGRAM")}
    result = subprocess.run([sys.executable, "-m", "bot", "telegram", "--db", str(tmp_path / "t.db")], cwd=ROOT,
                            capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 2 and "TELEGRAM_TOKEN" in result.stderr and "Traceback" not in result.stderr


def test_telegram_webhook_must_be_https(tmp_path: Path) -> None:
    env = {**os.environ, "TELEGRAM_TOKEN": "1:x"}
    result = subprocess.run([sys.executable, "-m", "bot", "telegram", "--webhook", "http://example.org/x", "--db", str(tmp_path / "t.db")],
                            cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 2 and "https://" in result.stderr
