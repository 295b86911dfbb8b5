"""Counsellors' messages to a woman on a Rasa assistant: the outbox asks Rasa's HTTP API to run
``action_wegwijs_relay`` in her conversation, which takes what waits for her and utters it."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import aiohttp

from bot.channels.rasa.actions import COLLECTING, RELAY
from bot.desk import Deferred
from bot.storage import OutboxItem, Store

log = logging.getLogger(__name__)

WAIT_FOR_HER = timedelta(days=1)  # then Rasa is asked again (her relay action takes it as soon as she writes)
TIMEOUT = aiohttp.ClientTimeout(total=30, connect=5)  # Rasa runs the action (a call back to us) before it answers


class RasaClient:
    """``POST {RASA_URL}/conversations/{sender_id}/execute?output_channel=latest`` (token auth: ``?token=``)."""

    def __init__(self, store: Store, url: str, token: str | None = None) -> None:
        self.store = store
        self.url = url.rstrip("/")
        self.token = token
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=TIMEOUT)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def deliver(self, item: OutboxItem) -> bool:
        """The outbox's send: True once the relay action took the item (or an earlier run took it already);
        False keeps it for a retry (Rasa down, a wrong token, or Rasa did not run the action)."""
        if not await self.store.outbox_unsent(item):
            return True  # her relay action took it with an earlier message
        params = {"output_channel": "latest", **({"token": self.token} if self.token else {})}
        try:
            async with self.session.post(f"{self.url}/conversations/{quote(item.recipient, safe='')}/execute",
                                         params=params, json={"name": RELAY}) as response:
                status = response.status
                answer = await _json(response) if status < 300 else None
        except (aiohttp.ClientError, TimeoutError) as error:
            log.warning("Rasa's HTTP API could not be reached (%s); outbox item %s waits", type(error).__name__, item.id)
            return False
        if status in (401, 403):
            log.error("Rasa's HTTP API refused the token (HTTP %d): check RASA_TOKEN (rasa run --enable-api --auth-token)", status)
            return False
        if status >= 300:
            log.warning("Rasa's HTTP API answered HTTP %d to execute %s; outbox item %s waits", status, RELAY, item.id)
            return False
        if await self.store.outbox_unsent(item):
            if latest_channel(answer) in COLLECTING:
                log.info("outbox item %s waits for her next message: her Rasa channel cannot write to her first", item.id)
                raise Deferred(datetime.now(UTC) + WAIT_FOR_HER)
            log.warning("Rasa ran no %s for outbox item %s: is the action in the assistant's domain?", RELAY, item.id)
            return False
        return True


async def _json(response: aiohttp.ClientResponse) -> object:
    try:
        return await response.json(content_type=None)
    except ValueError:
        return None


def latest_channel(answer: object) -> str | None:
    tracker = answer.get("tracker") if isinstance(answer, dict) else None
    return tracker.get("latest_input_channel") if isinstance(tracker, dict) else None
