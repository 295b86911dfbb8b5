"""Pick up edited content without a restart; a broken edit is reported and the last good content stays."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import time
from pathlib import Path

from bot.config import Config
from bot.contentfiles import is_content
from bot.core.content import Content
from bot.errors import WegwijsError

log = logging.getLogger(__name__)


def fingerprint(folders: list[Path]) -> str:
    """Names, sizes and modification times of every content file (and the folders' names): changes when
    a file does. Editors' lock, swap and backup files are not content; a file that cannot be read counts too."""
    digest = hashlib.sha1()
    for folder in folders:
        for directory, subfolders, files in os.walk(folder):
            subfolders[:] = sorted(name for name in subfolders if is_content(name))
            digest.update(f"{directory}/{subfolders}\n".encode())
            for name in sorted(files):
                if name.endswith((".md", ".yaml", ".yml", ".po", ".pot")) and is_content(name):
                    digest.update(f"{directory}/{name}:{_stamp(os.path.join(directory, name))}\n".encode())
    return digest.hexdigest()


def _stamp(path: str) -> str:
    try:
        stat = os.stat(path)
    except OSError as error:  # e.g. a link to a file that is gone: loading will say so
        return f"unreadable {error.errno}"
    return f"{stat.st_size}:{stat.st_mtime_ns}"


class ContentWatcher:
    """Checks at most every ``interval`` seconds; reloads in a thread so chats are not held up."""

    def __init__(self, config: Config, interval: float = 2.0) -> None:
        self.config = config
        self.interval = interval
        settings = config.settings
        self._folders = [config.knowledge_dir, config.locales_dir, config.path(settings.paths.flows)]
        self._seen = fingerprint(self._folders)
        self._checked = time.monotonic()
        self._reloading: asyncio.Task[Content | None] | None = None
        self.last_error: str | None = None

    @property
    def version(self) -> str:
        """A short fingerprint of the content files being served (changes with every good reload)."""
        return self._seen[:12]

    async def poll(self, current: Content) -> Content:
        """The content to use now: a freshly loaded one when files changed and it is valid. Never raises."""
        try:
            return await self._poll(current)
        except Exception:
            log.exception("could not check the content folders, still serving the last good version")
            self._reloading = None
            return current

    async def _poll(self, current: Content) -> Content:
        if self._reloading is not None:
            if not self._reloading.done():
                return current
            fresh, self._reloading = self._reloading.result(), None
            return fresh or current
        now = time.monotonic()
        if now - self._checked < self.interval:
            return current
        self._checked = now
        seen = await asyncio.to_thread(fingerprint, self._folders)
        if seen == self._seen:
            return current
        self._seen = seen
        self._reloading = asyncio.create_task(asyncio.to_thread(self._load))
        return current

    def _load(self) -> Content | None:
        try:
            content = Content.load(self.config)
        except WegwijsError as error:
            self.last_error = str(error)
            log.error("content not reloaded, still serving the last good version: %s", error)
            return None
        except Exception as error:  # a file shaped in a way no check foresaw: keep serving, and say so
            self.last_error = f"content not reloaded ({type(error).__name__}: {error}); run `wegwijs check`"
            log.exception("content not reloaded, still serving the last good version")
            return None
        self.last_error = None
        log.info("content reloaded: %d topics, %d entries", len(content.knowledge.topics), len(content.knowledge.entries))
        return content
