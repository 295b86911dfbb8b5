"""When `wegwijs` cannot start (folder, file, disk, lock, server, config, Telegram), it says why in one sentence."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.storage import Store, diagnose
from tests.helpers.fake_telegram import TOKEN, FakeTelegram

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("WEGWIJS_TEST_PG_URL")
ROOT_USER = os.geteuid() == 0
# The CLI itself, with SQLite's wait for a lock shortened from 30 s so that the lock test takes a second.
SHORT_LOCK_WAIT = ("-c", "import sys, bot.storage.engine as engine; engine.SQLITE_BUSY_TIMEOUT_MS = 500; "
                         "from bot.cli import main; sys.exit(main(sys.argv[1:]))")


def wegwijs(*args: str, env: dict[str, str] | None = None, entry: tuple[str, ...] = ("-m", "bot")) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "WEGWIJS_CONFIG") and not k.startswith("TELEGRAM")}
    return subprocess.run([sys.executable, *entry, *args], input="", capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**clean, **(env or {})})


def sentence(result: subprocess.CompletedProcess[str], lines: int = 1) -> str:
    """The failure's one line on stderr (after `lines - 1` log lines at most), exit code 2, no traceback."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    output = result.stderr.strip().splitlines()
    assert 1 <= len(output) <= lines and output[-1].startswith("wegwijs: "), result.stderr
    return output[-1]


def mount(*args: str) -> bool:
    return ROOT_USER and shutil.which("mount") is not None and subprocess.run(["mount", *args], capture_output=True).returncode == 0


@pytest.fixture
async def read_only_folder(tmp_path: Path) -> AsyncIterator[Path]:
    """A folder with a Wegwijs database in it that this process cannot write to: chmod for a user,
    a read-only bind mount for root (whom chmod does not stop)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    await (await Store.open(f"sqlite+aiosqlite:///{folder / 'existing.db'}")).close()
    if not ROOT_USER:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    if not mount("--bind", "-o", "ro", str(folder), str(folder)):
        pytest.skip("root, and a read-only bind mount is not allowed here")
    try:
        assert not os.access(folder, os.W_OK)
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A folder on a 64 KB file system: a new database fills it."""
    folder = tmp_path / "small"
    folder.mkdir()
    if not mount("-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)):
        pytest.skip("a tiny tmpfs needs root and mount rights (the sentence is tested with a real SQLite error below)")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


DB_COMMANDS = [["chat", "--json"], ["telegram"], ["db", "upgrade"], ["db", "purge"]]  # report and export refuse a missing database (test_cli)


@pytest.mark.parametrize("command", DB_COMMANDS, ids=" ".join)
def test_every_command_with_storage_says_the_folder_is_read_only(read_only_folder: Path, command: list[str]) -> None:
    env = {"TELEGRAM_TOKEN": TOKEN, "TELEGRAM_API_URL": "http://127.0.0.1:9/bot"}  # never reached: storage opens first
    line = sentence(wegwijs(*command, "--db", str(read_only_folder / "sub" / "new.db"), env=env))
    assert line == (f"wegwijs: The folder {read_only_folder} is read-only, so the database {read_only_folder / 'sub' / 'new.db'} "
                    "cannot be created: pass --db with a path in a writable folder, or make the folder writable for this user.")


def test_existing_database_in_a_read_only_folder_is_refused_at_start(read_only_folder: Path) -> None:
    line = sentence(wegwijs("chat", "--json", "--db", str(read_only_folder / "existing.db")))
    assert "existing.db" in line and "is read-only" in line and "pass --db with a" in line


def test_database_under_a_regular_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a folder\n", encoding="utf-8")
    line = sentence(wegwijs("db", "upgrade", "--db", str(tmp_path / "notes.txt" / "wegwijs.db")))
    assert line == (f"wegwijs: The database {tmp_path / 'notes.txt' / 'wegwijs.db'} cannot be created because "
                    f"{tmp_path / 'notes.txt'} is a file, not a folder: pass --db with a path inside a folder.")


async def test_read_only_database_file_fails_at_start_not_at_the_first_write(tmp_path: Path) -> None:
    path = tmp_path / "wegwijs.db"
    await (await Store.open(f"sqlite+aiosqlite:///{path}")).close()
    if not ROOT_USER:
        path.chmod(0o444)
    elif shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("root, and chattr +i is not available to make the file read-only")
    try:
        line = sentence(wegwijs("chat", "--json", "--db", str(path)))
    finally:
        if ROOT_USER:
            subprocess.run(["chattr", "-i", str(path)], check=True)
    assert line == f"wegwijs: The database file {path} is read-only: make it writable for this user, or pass --db with a writable copy."


def test_full_disk_says_so(full_disk: Path) -> None:
    line = sentence(wegwijs("db", "upgrade", "--db", str(full_disk / "wegwijs.db")))
    assert line == (f"wegwijs: The disk that holds {full_disk / 'wegwijs.db'} is full: free some space there, "
                    "or pass --db with a path on another disk, and start again.")


def test_a_real_disk_full_error_from_sqlite_names_the_disk(tmp_path: Path) -> None:
    connection = sqlite3.connect(tmp_path / "tiny.db")
    connection.execute("PRAGMA max_page_count = 2")
    with pytest.raises(sqlite3.OperationalError) as caught:
        connection.execute("CREATE TABLE t (x)")
        connection.execute("INSERT INTO t VALUES (zeroblob(100000))")
    connection.close()
    assert "database or disk is full" in str(caught.value)
    assert diagnose.explain(f"sqlite+aiosqlite:///{tmp_path / 'tiny.db'}", caught.value).startswith(f"The disk that holds {tmp_path / 'tiny.db'} is full")


async def test_database_locked_by_another_program_says_so(tmp_path: Path) -> None:
    path = tmp_path / "wegwijs.db"
    await (await Store.open(f"sqlite+aiosqlite:///{path}")).close()
    holder = sqlite3.connect(path, isolation_level=None)  # another program, e.g. an sqlite3 shell after BEGIN EXCLUSIVE
    holder.execute("BEGIN EXCLUSIVE")
    try:
        line = sentence(wegwijs("report", "--db", str(path), entry=SHORT_LOCK_WAIT))
    finally:
        holder.close()
    assert line == (f"wegwijs: The database {path} is locked by another program (Wegwijs waited 0.5 s): close the program "
                    "that holds it (an sqlite3 shell, a database browser, a backup) and start again.")


def test_postgres_that_is_down_says_nothing_answers_and_hides_the_password() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    line = sentence(wegwijs("db", "purge", env={"DATABASE_URL": f"postgresql://wegwijs:s3cret-pw@127.0.0.1:{port}/wegwijs"}))
    assert line.startswith(f"wegwijs: Cannot reach the database in DATABASE_URL: nothing answers at 127.0.0.1:{port} (")
    assert line.endswith("start PostgreSQL there, or correct the host and port.") and "s3cret-pw" not in line


@pytest.mark.postgres
def test_postgres_wrong_password_names_the_user_and_hides_the_password() -> None:
    if not PG_URL:
        pytest.skip("PostgreSQL tests skipped: set WEGWIJS_TEST_PG_URL (`.ci/run` does) to run them")
    from sqlalchemy.engine import make_url

    url = make_url(PG_URL).set(password="not-the-password")
    line = sentence(wegwijs("report", env={"DATABASE_URL": url.render_as_string(hide_password=False)}))
    assert line.startswith(f"wegwijs: PostgreSQL at {url.host}:{url.port or 5432} refused the user '{url.username}' (")
    assert "correct the user and password in DATABASE_URL" in line and "not-the-password" not in line


def test_missing_config_file_says_how_to_get_one(tmp_path: Path) -> None:
    line = sentence(wegwijs("--config", str(tmp_path / "nope.yaml"), "report"))
    assert line == f"wegwijs: Config '{tmp_path / 'nope.yaml'}' is missing: copy config.yaml from the repository or pass --config PATH"


def test_config_that_is_a_folder_is_one_line(tmp_path: Path) -> None:
    line = sentence(wegwijs("--config", str(tmp_path), "chat", "--json"))
    assert line.startswith(f"wegwijs: {tmp_path}: Is a directory: check the path")


def test_telegram_token_in_a_wrong_format_is_refused_without_showing_it() -> None:
    line = sentence(wegwijs("telegram", env={"TELEGRAM_TOKEN": "'123456:secret-part'"}))
    assert line.startswith("wegwijs: Config 'TELEGRAM_TOKEN' is not a bot token, which looks like 123456789:AAE...")
    assert "copy it again from @BotFather, without quotes or spaces" in line and "secret-part" not in line


def test_telegram_webhook_port_in_use_names_the_port() -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        line = sentence(wegwijs("telegram", "--webhook", "https://bot.example.org/telegram", "--port", str(port),
                                env={"TELEGRAM_TOKEN": TOKEN}))
    assert line == (f"wegwijs: Config '--port' {port} on 127.0.0.1 is already in use by another program: "
                    "stop that program or pass another --port")


def test_telegram_token_refused_by_telegram_is_one_sentence(tmp_path: Path) -> None:
    with FakeTelegram() as fake:
        fake.fail("getMe", {"error_code": 401, "description": "Unauthorized"})
        result = wegwijs("telegram", "--db", str(tmp_path / "t.db"), env={"TELEGRAM_TOKEN": TOKEN, "TELEGRAM_API_URL": fake.api_url})
    line = sentence(result, lines=2)  # after the warning that desk.chat_id is not set
    assert line.startswith("wegwijs: Telegram refused TELEGRAM_TOKEN (revoked, or from another bot)")
    assert TOKEN.split(":")[1] not in result.stderr and "Unclosed" not in result.stderr


def test_rasa_actions_port_in_use_names_the_port() -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        line = sentence(wegwijs("rasa-actions", "--port", str(port)))
    assert line == (f"wegwijs: Config '--port' {port} on 127.0.0.1 is already in use by another program: "
                    "stop that program or pass another --port")


def test_rasa_actions_refuses_a_rasa_url_that_is_no_address() -> None:
    line = sentence(wegwijs("rasa-actions", env={"RASA_URL": "localhost:5005"}))
    assert line.startswith("wegwijs: Config 'RASA_URL' 'localhost:5005' must be the address of Rasa's HTTP API")


def test_rasa_actions_serves_until_sigterm(tmp_path: Path) -> None:
    """The real command: rasa-sdk's /health and /actions answer, and a SIGTERM ends it cleanly (exit 0)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "WEGWIJS_CONFIG") and not k.startswith(("TELEGRAM", "RASA"))}
    process = subprocess.Popen([sys.executable, "-m", "bot", "rasa-actions", "--port", str(port), "--db", str(tmp_path / "r.db")],
                               cwd=ROOT, env=clean, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                    assert json.loads(response.read()) == {"status": "ok"}
                    break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, process.stderr.read() if process.stderr else ""
                time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/actions", timeout=5) as response:
            assert {"name": "action_wegwijs_answer"} in json.loads(response.read())
    finally:
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=60)
    assert process.returncode == 0, errors
    assert "Traceback" not in errors
