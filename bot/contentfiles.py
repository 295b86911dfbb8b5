"""Which files in knowledge/, flows/ and locales/ are content, and reading one with an error that says how to fix it."""

from __future__ import annotations

from pathlib import Path

from bot.errors import ContentError

UTF16_MARKS = (b"\xff\xfe", b"\xfe\xff")


def is_content(name: str) -> bool:
    """False for what editors and systems leave next to content: hidden files (including Emacs' .#lock
    links and Vim's .name.swp), backups (name~), Emacs' #autosaves# and swap files."""
    return not (name.startswith(".") or name.endswith(("~", ".swp", ".swo")) or (name.startswith("#") and name.endswith("#")))


def content_files(folder: Path, pattern: str) -> list[Path]:
    """``folder.glob(pattern)`` without the editors' files, sorted."""
    return sorted(path for path in folder.glob(pattern) if is_content(path.name))


def present(path: Path) -> bool:
    """The file is there, or a link stands in its place (whose target may be missing: reading says so)."""
    return path.exists() or path.is_symlink()


def read_bytes(path: Path) -> bytes:
    """The file's bytes; a ContentError naming the file when it cannot be read or is empty."""
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise ContentError(str(path), None, "is a folder, not a file: rename the folder or move it out of the content folders") from None
    except FileNotFoundError:
        if path.is_symlink():
            raise ContentError(str(path), None, "is a link to a file that does not exist: remove the link or restore the file it points to") from None
        raise ContentError(str(path), None, "disappeared while it was read: save it again") from None
    except PermissionError:
        raise ContentError(str(path), None, "cannot be read (permission denied): let the bot's user read it, e.g. chmod a+r") from None
    except OSError as exc:
        raise ContentError(str(path), None, f"cannot be read ({exc.strerror or exc}): save it again as a normal file") from None
    if not data.strip():
        raise ContentError(str(path), None, "is empty (perhaps a save that did not finish): write its content again, or remove the file")
    return data


def read_text(path: Path) -> str:
    """The file's text, which must be UTF-8 (a byte-order mark is dropped)."""
    data = read_bytes(path)
    if data.startswith(UTF16_MARKS) or b"\x00" in data[:200]:
        raise ContentError(str(path), None, "is saved as UTF-16: save it as UTF-8 (in most editors: Save as, Encoding UTF-8)")
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ContentError(str(path), line, f"is not UTF-8 text (byte {data[exc.start]:#04x}, perhaps Latin-1 or Windows-1252): "
                                            "save it as UTF-8 (in most editors: Save as, Encoding UTF-8)") from None


def check_readable(path: Path) -> None:
    """For loaders that read a file themselves: a ContentError now when it is there but cannot be read as UTF-8 text."""
    if present(path):
        read_text(path)
