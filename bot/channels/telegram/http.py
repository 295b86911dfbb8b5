"""python-telegram-bot's network layer on aiohttp: the same Bot API calls for about a quarter of
the CPU that httpx (PTB's default) spends on each one — measured 0.37 ms against 1.2–1.8 ms a call
on the 2-core machine (bench/telegram_bench.py, README)."""

from __future__ import annotations

import asyncio

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData
from telegram.request._baserequest import DefaultValue

from bot import __version__


class AiohttpRequest(BaseRequest):
    """One aiohttp session with a bounded connection pool. Timeouts as python-telegram-bot names
    them: ``connect`` (open a connection), ``read`` (wait for the answer; getUpdates adds its long
    poll to it), ``pool`` (wait for a free connection); aiohttp has no separate write timeout, so a
    request's upload counts against ``write`` + ``read`` as a whole."""

    def __init__(self, connection_pool_size: int = 64, read_timeout: float | None = 5.0, write_timeout: float | None = 5.0,
                 connect_timeout: float | None = 5.0, pool_timeout: float | None = 1.0, media_write_timeout: float | None = 20.0) -> None:
        self._pool_size = connection_pool_size
        self._timeouts = {"read": read_timeout, "write": write_timeout, "connect": connect_timeout, "pool": pool_timeout}
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._timeouts["read"]

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, keepalive_timeout=30)
            self._session = aiohttp.ClientSession(connector=connector, headers={"User-Agent": f"wegwijs/{__version__} {self.USER_AGENT}"})

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: float | None | DefaultValue = BaseRequest.DEFAULT_NONE,
                         write_timeout: float | None | DefaultValue = BaseRequest.DEFAULT_NONE,
                         connect_timeout: float | None | DefaultValue = BaseRequest.DEFAULT_NONE,
                         pool_timeout: float | None | DefaultValue = BaseRequest.DEFAULT_NONE) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = bool(request_data and request_data.contains_files)
        read = self._given(read_timeout, "read")
        write = self._given(write_timeout, "write") if not files else self._media_write_timeout
        timeout = aiohttp.ClientTimeout(total=_sum(read, write), connect=_sum(self._given(pool_timeout, "pool"), self._given(connect_timeout, "connect")),
                                        sock_connect=self._given(connect_timeout, "connect"), sock_read=read)
        try:
            async with self._session.request(method, url, data=_body(request_data), timeout=timeout) as response:
                return response.status, await response.read()
        except (asyncio.TimeoutError, aiohttp.ServerTimeoutError) as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error

    def _given(self, value: float | None | DefaultValue, name: str) -> float | None:
        return self._timeouts[name] if isinstance(value, DefaultValue) else value


def _body(request_data: RequestData | None) -> aiohttp.FormData | dict[str, str] | None:
    """Form fields as python-telegram-bot encodes them (objects as JSON strings); files as multipart."""
    if request_data is None:
        return None
    if not request_data.contains_files:
        return request_data.json_parameters
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form


def _sum(*parts: float | None) -> float | None:
    return None if any(part is None for part in parts) else sum(parts)  # type: ignore[arg-type]
