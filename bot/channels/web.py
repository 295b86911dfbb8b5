"""What every webhook of ours shares: the body cap, a body read without trusting its length, refusals that
close the connection, and warnings at most once a minute per kind (never with a message's content)."""

from __future__ import annotations

import logging
import time
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

MAX_BODY = 1 << 20          # bytes: updates are a few kilobytes
BODY_TIMEOUT = 10.0         # seconds for a request's body to arrive
KEEPALIVE = 15.0            # seconds an idle connection is kept open
WARN_EVERY = 60.0           # seconds between two warnings of the same kind


class Quiet:
    """Log a kind of problem at WARNING at most once per ``every`` seconds (counting the rest)."""

    def __init__(self, every: float = WARN_EVERY) -> None:
        self.every = every
        self._last: dict[str, float] = {}
        self._skipped: dict[str, int] = {}

    def warn(self, kind: str, message: str, *args: object) -> None:
        moment = time.monotonic()
        if moment - self._last.get(kind, -self.every) < self.every:
            self._skipped[kind] = self._skipped.get(kind, 0) + 1
            return
        skipped = self._skipped.pop(kind, 0)
        self._last[kind] = moment
        log.warning(message + (" (and %d more like it since the last warning)" if skipped else ""), *args, *((skipped,) if skipped else ()))


class TooLarge(Exception):
    """The body is over MAX_BODY."""


async def read_capped(request: web.Request) -> bytes:
    """The body, or TooLarge as soon as it passes MAX_BODY (the rest is never read)."""
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(65536):
        size += len(chunk)
        if size > MAX_BODY:
            raise TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def closing(status: int) -> web.Response:
    """Refuse and close the connection: the rest of the body is never read."""
    response = web.Response(status=status)
    response.force_close()
    return response


def mended(value: Any) -> Any:
    """The same JSON with lone surrogates (valid JSON, never valid text) replaced by U+FFFD."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace") if _has_surrogate(value) else value
    if isinstance(value, dict):
        return {mended(key): mended(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [mended(inner) for inner in value]
    return value


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= char <= "\udfff" for char in text)
