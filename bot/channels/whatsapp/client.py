"""The Graph API calls the WhatsApp channel makes (send a message, upload and download media) over aiohttp.

pywa's client pins https://graph.facebook.com and runs on httpx, about four times the CPU of this per call
(bench/whatsapp_client_bench.py); the calls are few and plain JSON, so they are made here, and pywa checks
the webhook signatures (bot/channels/whatsapp/webhook.py)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp

log = logging.getLogger(__name__)

TIMEOUT = aiohttp.ClientTimeout(total=20, connect=5)
# Graph error codes the channel acts on (https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/)
PAIR_RATE = 131056       # too many messages to one recipient in a short time: later, in order
THROUGHPUT = 130429      # the number's throughput reached: later
RATE_LIMIT = (4, 80007, 130429, 131056)
WINDOW_CLOSED = 131047   # more than 24 hours since her last message: only a template reaches her
UNDELIVERABLE = 131026   # not a WhatsApp number, an old app, or she blocked us
EXPIRED_TOKEN = 190


class GraphError(Exception):
    """The Graph API refused a call: its HTTP status and error code (0 for a network error)."""

    def __init__(self, status: int, code: int, message: str = "") -> None:
        super().__init__(f"HTTP {status}, code {code}")  # the Graph API's own words may quote what was sent: not logged
        self.status = status
        self.code = code
        self.message = message[:200]

    @property
    def retry(self) -> bool:
        """Worth trying again later (rate limits, server errors, the network), keeping her messages in order."""
        return self.code in RATE_LIMIT or self.status >= 500 or self.status in (0, 429)


class GraphClient:
    def __init__(self, token: str, phone_number_id: str, base_url: str, connections: int = 32) -> None:
        self.base_url = base_url.rstrip("/")
        self.phone_number_id = phone_number_id
        self._headers = {"Authorization": f"Bearer {token}"}
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None
        self.token_expired = False  # set when the Graph API said the token is not valid (healthz fails)

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=TIMEOUT, headers=self._headers,
                                                  connector=aiohttp.TCPConnector(limit=self._connections))
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def send(self, body: dict[str, Any]) -> str:
        """POST one message; its wamid."""
        data = await self._call("POST", f"{self.base_url}/{self.phone_number_id}/messages", json=body)
        messages = data.get("messages") if isinstance(data, dict) else None
        return str(messages[0].get("id", "")) if isinstance(messages, list) and messages and isinstance(messages[0], dict) else ""

    async def upload(self, data: bytes, mime_type: str, filename: str = "file") -> str:
        """Upload media for a message; its media id."""
        form = aiohttp.FormData()
        form.add_field("messaging_product", "whatsapp")
        form.add_field("type", mime_type)
        form.add_field("file", data, filename=filename, content_type=mime_type)
        found = await self._call("POST", f"{self.base_url}/{self.phone_number_id}/media", data=form)
        return str(found.get("id", ""))

    async def download(self, media_id: str) -> tuple[bytes, str]:
        """Her media by its id: (bytes, mime type), through the short-lived URL the Graph API gives."""
        found = await self._call("GET", f"{self.base_url}/{media_id}")
        url = found.get("url")
        if not isinstance(url, str):
            raise GraphError(200, 0, "no media url")
        try:
            async with self.session.get(url) as response:
                if response.status >= 400:
                    raise GraphError(response.status, 0, "media download failed")
                return await response.read(), str(found.get("mime_type") or response.content_type)
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise GraphError(0, 0, type(error).__name__) from error

    async def _call(self, method: str, url: str, **options: Any) -> dict[str, Any]:
        try:
            async with self.session.request(method, url, **options) as response:
                try:
                    data = await response.json(content_type=None)
                except ValueError:
                    data = None
                if response.status >= 400:
                    error = data.get("error") if isinstance(data, dict) else None
                    code = error.get("code") if isinstance(error, dict) else None
                    message = error.get("message") if isinstance(error, dict) else None
                    failure = GraphError(response.status, code if isinstance(code, int) else 0, str(message or ""))
                    if failure.code == EXPIRED_TOKEN or response.status == 401:
                        self.token_expired = True
                        log.error("the WhatsApp access token is not valid (expired or revoked): set a new WHATSAPP_TOKEN")
                    raise failure
                self.token_expired = False
                return data if isinstance(data, dict) else {}
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise GraphError(0, 0, type(error).__name__) from error
