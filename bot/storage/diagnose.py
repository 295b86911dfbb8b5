"""Why the database cannot be opened or written, in one sentence that says what to do."""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path

from alembic.util import CommandError
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError

from bot.storage import engine as engines

OPEN_ERRORS = (DBAPIError, OSError, CommandError)  # what opening a store raises when the database, not the code, is wrong
_CANNOT_WRITE = {errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOTDIR, errno.EEXIST, errno.EISDIR}


def explain(url: str, error: BaseException) -> str:
    """Never shows the password of a database URL."""
    cause = getattr(error, "orig", None) or error
    detail = next(iter(str(cause).strip().splitlines()), "") or type(cause).__name__
    parsed = make_url(url)
    if isinstance(error, CommandError):
        where = parsed.database if parsed.get_backend_name() == "sqlite" else "in DATABASE_URL"
        return (f"The database {where} has a schema this version of Wegwijs does not know ({detail}): "
                "update Wegwijs to the version that last used it, or use another database.")
    if parsed.get_backend_name() == "sqlite":
        return _sqlite(Path(parsed.database or ":memory:"), cause, detail)
    return _postgres(parsed, cause, detail)


def _sqlite(path: Path, cause: BaseException, detail: str) -> str:
    name = getattr(cause, "sqlite_errorname", "") or ""
    code = getattr(cause, "errno", None)
    if name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")) or "not a database" in detail or "malformed" in detail:
        return (f"The file {path} is not a Wegwijs database (SQLite says: {detail}) and was left untouched: "
                "move it away or pass --db with another path.")
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "database is locked" in detail:
        return (f"The database {path} is locked by another program (Wegwijs waited {engines.SQLITE_BUSY_TIMEOUT_MS / 1000:g} s): "
                "close the program that holds it (an sqlite3 shell, a database browser, a backup) and start again.")
    if name.startswith("SQLITE_FULL") or code in (errno.ENOSPC, errno.EDQUOT) or "disk is full" in detail:
        return (f"The disk that holds {path} is full: free some space there, "
                "or pass --db with a path on another disk, and start again.")
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM")) or code in _CANNOT_WRITE:
        return _not_writable(path, detail)
    if name.startswith("SQLITE_IOERR") or code == errno.EIO:
        return (f"SQLite could not read or write {path} ({detail}): check that its disk has free space "
                "and works, and start again.")
    return f"Cannot open the SQLite database {path} ({detail}): check that the folder exists and is writable."


def _not_writable(path: Path, detail: str) -> str:
    if os.path.isdir(path):
        return f"{path} is a folder, not a database file: pass --db with a file name, such as {path / 'wegwijs.db'}."
    existing = next(folder for folder in [path, *path.absolute().parents] if os.path.lexists(folder))
    if existing != path and not os.path.isdir(existing):
        return f"The database {path} cannot be created because {existing} is a file, not a folder: pass --db with a path inside a folder."
    if existing == path and not os.access(path, os.W_OK):
        return f"The database file {path} is read-only: make it writable for this user, or pass --db with a writable copy."
    folder = path.parent if existing == path else existing
    if not os.access(folder, os.W_OK | os.X_OK):
        return (f"The folder {folder} is read-only, so the database {path} cannot be "
                f"{'written (SQLite keeps its -wal and -shm files next to it)' if existing == path else 'created'}: "
                "pass --db with a path in a writable folder, or make the folder writable for this user.")
    return f"Cannot open the SQLite database {path} ({detail}): check that the folder exists and is writable."


def _postgres(url: URL, cause: BaseException, detail: str) -> str:
    where = f"{url.host or 'localhost'}:{url.port or 5432}"
    user, database = url.username or "the user", url.database or "the database"
    state = getattr(cause, "sqlstate", None)
    if isinstance(cause, socket.gaierror):
        return f"Cannot reach the database in DATABASE_URL: the host '{url.host}' is unknown; check its spelling."
    if isinstance(cause, TimeoutError):
        return f"Cannot reach the database in DATABASE_URL: {where} did not answer in time; check the host, the port and the firewall."
    if isinstance(cause, OSError):
        return (f"Cannot reach the database in DATABASE_URL: nothing answers at {where} ({detail}); "
                "start PostgreSQL there, or correct the host and port.")
    if state in ("28P01", "28000"):
        return (f"PostgreSQL at {where} refused the user '{user}' ({detail}): "
                "correct the user and password in DATABASE_URL (or the server's pg_hba.conf).")
    if state == "3D000":
        return f"The database '{database}' does not exist on {where}: create it (createdb -O {user} {database}) or correct DATABASE_URL."
    if state == "42501":
        return (f"The user '{user}' may not create or change tables in '{database}' on {where}: "
                "make it the owner of the database, or put the owner in DATABASE_URL.")
    if state == "53300":
        return f"PostgreSQL at {where} has no free connections: stop idle clients or raise max_connections, and start again."
    if state == "25006":
        return f"PostgreSQL at {where} is read-only (a standby?): point DATABASE_URL at the primary server."
    if state == "53100":
        return f"The disk of PostgreSQL at {where} is full: free some space on that server and start again."
    return f"Cannot reach the database in DATABASE_URL at {where} ({detail}): check the host, port, user and password."
