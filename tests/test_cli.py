"""The `wegwijs` command line: help, db upgrade, clear errors instead of tracebacks."""

from __future__ import annotations

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
    assert "revision 0002" in result.stdout
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
    assert result.returncode == 0, result.stderr
    assert "config.yaml ok" in result.stdout


def test_check_names_a_broken_knowledge_file(tmp_path: Path) -> None:
    (tmp_path / "knowledge" / "childcare").mkdir(parents=True)
    (tmp_path / "knowledge" / "childcare" / "_topic.yaml").write_text("title: {en: Childcare}\n", encoding="utf-8")
    (tmp_path / "knowledge" / "childcare" / "find.en.md").write_text("---\ntitle: [oops\n---\nbody\n", encoding="utf-8")
    (tmp_path / "locales").symlink_to(ROOT / "locales")
    (tmp_path / "config.yaml").write_text("languages: [en]\n", encoding="utf-8")
    result = wegwijs("check", cwd=tmp_path)
    assert result.returncode == 2
    assert "find.en.md:2: front matter is not valid YAML" in result.stderr


def test_python_dash_m_and_console_script_agree() -> None:
    script = Path(sys.executable).parent / "wegwijs"
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0 and "chat" in result.stdout
