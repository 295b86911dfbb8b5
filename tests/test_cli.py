"""The `wegwijs` command line: help, db upgrade, clear errors instead of tracebacks."""

from __future__ import annotations

import asyncio
import codecs
import csv
import io
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import pytest
from sqlalchemy import update

from bot.storage import Store
from bot.storage.models import Record

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ["daycare for my baby", "creche near me", "a place for my child", "childcare while i learn dutch", "kids care"]
QUESTIONS_NL = ["opvang voor mijn baby", "creche in de buurt", "een plaats voor mijn kind", "kinderopvang tijdens de les", "kribbe"]


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
    assert "revision 0010" in result.stdout
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
    assert "index ready" in result.stdout  # the suite built it (a fresh clone's check says "not complete yet": test_index.py)
    assert "question variants, fewer than" not in result.stdout


def test_check_says_so_when_content_that_passed_the_checks_does_not_load(monkeypatch: pytest.MonkeyPatch,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """The index status loads the content once more: a failure no check foresaw is a sentence, not a traceback."""
    from bot.cli import main
    from bot.core import Content

    def broken(config: object, build: str = "now") -> Content:
        raise RuntimeError("a shape no check foresaw")

    monkeypatch.setattr(Content, "load", broken)
    assert main(["--config", str(ROOT / "config.yaml"), "check"]) == 0
    assert "index not known: the content did not load (RuntimeError: a shape no check foresaw)" in capsys.readouterr().out


def make_content(tmp_path: Path) -> Path:
    """A one-topic copy of the project's content to break on purpose."""
    (tmp_path / "knowledge" / "childcare").mkdir(parents=True)
    (tmp_path / "knowledge" / "childcare" / "_topic.yaml").write_text("title: {en: Childcare, nl: Kinderopvang}\n", encoding="utf-8")
    (tmp_path / "locales").symlink_to(ROOT / "locales")
    (tmp_path / "config.yaml").write_text("languages: [nl, en]\n", encoding="utf-8")
    return tmp_path / "knowledge" / "childcare"


def entry(title: str, questions: list[str], extra: str = "", body: str = "Ask Opgroeien: https://www.opgroeien.be") -> str:
    lines = "".join(f"  - {q}\n" for q in questions)
    return f"---\ntitle: {title}\nquestions:\n{lines}sources: [https://www.opgroeien.be/kinderopvang]\n{extra}---\n{body}\n"


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


def test_version_prints_the_installed_package_version() -> None:
    result = wegwijs("--version")
    assert result.returncode == 0
    assert result.stdout == f"wegwijs {metadata.version('wegwijs')}\n"


@pytest.mark.parametrize("command", [["chat"], ["telegram"], ["db", "upgrade"], ["db", "purge"], ["check"], ["stats"], ["report"],
                                     ["export", "signups"], ["ask", "hi"], ["i18n", "compile"]], ids=" ".join)
def test_config_is_accepted_after_every_subcommand(tmp_path: Path, command: list[str]) -> None:
    result = wegwijs(*command, "--config", str(tmp_path / "other.yaml"))
    assert result.returncode == 2
    assert result.stderr == f"wegwijs: Config '{tmp_path / 'other.yaml'}' is missing: copy config.yaml from the repository or pass --config PATH\n"


def test_check_names_an_unknown_front_matter_key_with_its_fix(tmp_path: Path) -> None:
    topic = make_content(tmp_path)
    (topic / "find.en.md").write_text(entry("Find care", QUESTIONS).replace("questions:", "question:"), encoding="utf-8")
    (topic / "find.nl.md").write_text(entry("Opvang", QUESTIONS_NL, "Reviewed: true\nsource: [https://www.opgroeien.be]\nowner: Amal\n"),
                                      encoding="utf-8")
    out = wegwijs("check", cwd=tmp_path).stdout
    assert "error: knowledge/childcare/find.en.md:3: unknown key 'question'; did you mean 'questions'?" in out
    assert "find.en.md: 0 question variants" not in out  # the typo says it already
    assert "error: knowledge/childcare/find.nl.md:10: unknown key 'Reviewed'; did you mean 'reviewed'?" in out
    assert "error: knowledge/childcare/find.nl.md:11: unknown key 'source'; did you mean 'sources'?" in out
    assert ("error: knowledge/childcare/find.nl.md:12: unknown key 'owner': the front matter knows title, questions, sources, reviewed, "
            "review_by, flow: remove it or use one of those") in out


def test_check_names_unknown_keys_in_a_flow(tmp_path: Path) -> None:
    make_content(tmp_path)
    (tmp_path / "flows").mkdir()
    flow = "description: Sign up\ntitel: Sign up\nsteps:\n  - id: name\n    aks: What is your name?\n    ask: What is your name?\n    save: name\n    end: true\n"
    (tmp_path / "flows" / "signup.yaml").write_text(flow, encoding="utf-8")
    out = wegwijs("check", cwd=tmp_path).stdout
    assert "error: flows/signup.yaml:2: unknown key 'titel'; did you mean 'title'?" in out
    assert "error: flows/signup.yaml:5: step 'name': unknown key 'aks'; did you mean 'ask'?" in out


@pytest.mark.parametrize(("front_matter", "line", "advice"), [
    ("title: Cost: what do I pay?\n", 2, "a colon inside a value needs quotes"),
    ("title: Cost\nquestions:\n  - price\n - cost\n", 5, "indentation: use spaces, line up items under the same key"),
    ("title: Cost\nquestions:\n\t- price\n", 4, "a tab character: indent with spaces only"),
    ('title: "Cost\nquestions:\n  - price\n', 2, "a quote is not closed"),
    ('title: "Cost" of care\n', 2, "a quote is not closed, or the value goes on after its closing quote"),
    ("title: Cost\nsources: [https://www.opgroeien.be\n", 3, "a list in [ ] or { } is not closed on its line"),
    ("title: @home\n", 2, "a value that starts with @"),
], ids=["colon", "indentation", "tab", "open quote", "text after quote", "bracket", "at sign"])
def test_check_says_what_to_do_with_a_yaml_mistake(tmp_path: Path, front_matter: str, line: int, advice: str) -> None:
    topic = make_content(tmp_path)
    (topic / "cost.en.md").write_text(f"---\n{front_matter}---\nAsk Opgroeien.\n", encoding="utf-8")
    out = wegwijs("check", cwd=tmp_path).stdout
    assert f"error: knowledge/childcare/cost.en.md:{line}: front matter is not valid YAML: {advice}" in out, out
    assert "(the YAML reader says: " in out


def test_check_counts_one_error_and_one_warning_in_the_singular(tmp_path: Path) -> None:
    topic = make_content(tmp_path)
    (tmp_path / "knowledge" / "_human.yaml").write_text("examples:\n  en: [i want to talk to a person]\n", encoding="utf-8")
    (topic / "find.en.md").write_text(entry("Find care", QUESTIONS), encoding="utf-8")
    (topic / "find.nl.md").write_text(entry("Opvang", QUESTIONS_NL, "titel: Opvang\n"), encoding="utf-8")
    out = wegwijs("check", cwd=tmp_path).stdout
    assert out.splitlines()[-1].endswith("; 1 error, 1 warning"), out  # the error: 'titel'; the warning: no _emergency.yaml


def test_check_does_not_call_a_misnamed_file_a_missing_translation(tmp_path: Path) -> None:
    topic = make_content(tmp_path)
    (topic / "find.nl.md").write_text(entry("Opvang", QUESTIONS_NL), encoding="utf-8")
    (topic / "Find.en.md.txt").write_text(entry("Find care", QUESTIONS), encoding="utf-8")  # as Windows saves it
    out = wegwijs("check", cwd=tmp_path).stdout
    assert "error: knowledge/childcare/Find.en.md.txt: name must be <entry>.<language>.md in lower case with dashes: rename it to find.en.md" in out
    assert "has no en version" not in out


def test_check_says_an_entry_without_the_default_language_may_be_another_entrys_translation(tmp_path: Path) -> None:
    topic = make_content(tmp_path)
    (topic / "find-care.en.md").write_text(entry("Find care", QUESTIONS), encoding="utf-8")
    (topic / "opvang-zoeken.nl.md").write_text(entry("Opvang", QUESTIONS_NL), encoding="utf-8")
    out = wegwijs("check", cwd=tmp_path).stdout
    assert ("warning: knowledge/childcare/opvang-zoeken.en.md: missing translation: 'opvang-zoeken' has no en version, the default "
            "language: women whose language lacks it get no answer from it; if it translates 'find-care', rename its files to "
            "find-care.<language>.md") in out


def test_check_prints_paths_from_the_project_folder_wherever_it_runs(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    topic = make_content(tmp_path / "elsewhere")
    (project / "knowledge").symlink_to(topic.parent)  # the content kept in another folder, linked in
    (project / "locales").symlink_to(ROOT / "locales")
    (project / "config.yaml").write_text("languages: [nl, en]\n", encoding="utf-8")
    (topic / "find.en.md").write_text(entry("Find care", QUESTIONS, body="See http://example.org"), encoding="utf-8")
    result = wegwijs("check", "--config", str(project / "config.yaml"), cwd=tmp_path)
    assert "error: knowledge/childcare/find.en.md:11: link 'http://example.org' is not https" in result.stdout, result.stdout
    assert str(tmp_path) not in result.stdout


def export(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "bot", "export", *args], capture_output=True, cwd=ROOT, timeout=120)


async def stored_signups(path: Path, *created_at: datetime) -> None:
    store = await Store.open(f"sqlite+aiosqlite:///{path}")
    try:
        async with store.user_session("test", "u1") as session:
            for _ in created_at:
                await session.store_record("signup", "job-shadowing", "ar", {"first_name": "أمل", "phone": "0499000000"})
        async with store.engine.begin() as connection:
            for number, stamp in enumerate(created_at, 1):
                await connection.execute(update(Record).where(Record.id == number).values(created_at=stamp))
    finally:
        await store.close()


def test_export_writes_csv_that_excel_opens_with_times_in_brussels(tmp_path: Path) -> None:
    asyncio.run(stored_signups(tmp_path / "w.db", datetime(2026, 12, 1, 16, 5, tzinfo=UTC), datetime(2026, 7, 1, 8, 0, tzinfo=UTC)))
    result = export("signups", "--db", str(tmp_path / "w.db"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(codecs.BOM_UTF8)
    rows = list(csv.DictReader(io.StringIO(result.stdout.decode("utf-8-sig"))))
    assert [row["created_at"] for row in rows] == ["2026-12-01T17:05:00+01:00", "2026-07-01T10:00:00+02:00"]
    assert rows[0]["first_name"] == "أمل"
    semicolons = export("signups", "--semicolon", "--db", str(tmp_path / "w.db")).stdout.decode("utf-8-sig")
    assert semicolons.startswith("id;created_at;flow;language;channel;woman;")
    later = export("signups", "--since", "2026-12-01", "--format", "json", "--db", str(tmp_path / "w.db"))
    assert [item["created_at"] for item in json.loads(later.stdout)] == ["2026-12-01T17:05:00+01:00"]


def test_export_with_no_records_still_writes_the_header(tmp_path: Path) -> None:
    assert wegwijs("db", "upgrade", "--db", str(tmp_path / "w.db")).returncode == 0
    result = export("signups", "--db", str(tmp_path / "w.db"))
    assert result.returncode == 0, result.stderr
    header = result.stdout.decode("utf-8-sig")
    assert header.startswith("id,created_at,flow,language,channel,woman,") and "first_name" in header and header.count("\n") == 1


def test_export_without_what_lists_the_choices(tmp_path: Path) -> None:
    result = wegwijs("export", cwd=tmp_path)  # no config here: the choices come first
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines()[1:3] == ["  signups   job-shadowing sign-ups",
                                               "  requests  advice flows where she asked a counsellor to contact her"]


def test_export_from_a_database_that_does_not_exist_creates_none(tmp_path: Path) -> None:
    result = export("signups", "--db", str(tmp_path / "typo.db"))
    assert result.returncode == 2 and result.stdout == b""
    assert b"There is no database at" in result.stderr and list(tmp_path.iterdir()) == []
