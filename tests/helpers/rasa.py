"""Calling `wegwijs rasa-actions` as Rasa does: action calls built per case, the recorded payloads of
tests/data/rasa/, and reading what came back."""

from __future__ import annotations

import dataclasses
import itertools
import json
from pathlib import Path
from typing import Any

import aiohttp

from bot.channels.rasa.tracker import rasa_payload
from bot.core import Conversation
from bot.messages import DESK
from bot.storage import Store
from tests.helpers.fake_rasa import FakeRasa

DATA = Path(__file__).resolve().parents[1] / "data" / "rasa"
OUR_SLOTS = ("language", "wegwijs_entry", "wegwijs_topic", "wegwijs_flow", "wegwijs_handoff")
FORM_SLOTS = ("wegwijs_consent", "wegwijs_first_name", "wegwijs_contact", "wegwijs_phone", "wegwijs_languages", "wegwijs_dutch_level",
              "wegwijs_sectors", "wegwijs_days", "wegwijs_childcare", "wegwijs_postcode", "wegwijs_notes")
DOMAIN = {"slots": {name: {"type": "any", "mappings": [{"type": "custom"}]} for name in (*OUR_SLOTS, *FORM_SLOTS)},
          "forms": {"job_shadowing_form": {"required_slots": list(FORM_SLOTS)}}}
_ids = itertools.count(1)


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


@dataclasses.dataclass
class Server:
    url: str
    http: aiohttp.ClientSession
    store: Store
    rasa: FakeRasa
    conversation: Conversation

    async def post(self, body: Any) -> tuple[int, Any]:
        async with self.http.post(f"{self.url}/webhook", json=body) as response:
            text = await response.text()
            try:
                return response.status, json.loads(text)
            except ValueError:
                return response.status, text

    async def run(self, action: str, text: str = "", *, sender: str = "amina", slots: dict[str, Any] | None = None,
                  payload: str | None = None, events: list[dict[str, Any]] | None = None, domain: dict[str, Any] | None = None,
                  active_loop: dict[str, Any] | None = None) -> dict[str, Any]:
        """One action call as Rasa makes it after her message ``text`` (or her press of a Wegwijs ``payload``)."""
        status, body = await self.post(call(action, text, sender=sender, slots=slots, payload=payload, events=events, domain=domain,
                                             active_loop=active_loop))
        assert status == 200, body
        return body


def call(action: str, text: str = "", *, sender: str = "amina", slots: dict[str, Any] | None = None, payload: str | None = None,
         events: list[dict[str, Any]] | None = None, domain: dict[str, Any] | None = None, active_loop: dict[str, Any] | None = None
         ) -> dict[str, Any]:
    message_id = f"msg-{next(_ids)}"
    if payload is not None:
        text = rasa_payload(payload)
        latest = {"text": text, "message_id": message_id, "intent": {"name": "wegwijs_button", "confidence": 1.0},
                  "entities": [{"entity": "wegwijs_payload", "value": payload}]}
    else:
        latest = {"text": text, "message_id": message_id, "intent": {"name": "nlu_fallback", "confidence": 0.3}, "entities": []}
    history = events if events is not None else []
    return {"next_action": action, "sender_id": sender, "version": "3.21.0",
            "tracker": {"sender_id": sender, "slots": slots or {}, "latest_message": latest, "active_loop": active_loop or {},
                        "events": [*history, {"event": "action", "name": "action_listen"},
                                   {"event": "user", "text": text, "message_id": message_id, "parse_data": latest}]},
            "domain": DOMAIN if domain is None else domain}


def texts(body: dict[str, Any]) -> list[str]:
    return [response["text"] for response in body["responses"]]


def slots(body: dict[str, Any]) -> dict[str, Any]:
    return {event["name"]: event["value"] for event in body["events"] if event["event"] == "slot"}


def buttons(body: dict[str, Any]) -> list[dict[str, str]]:
    return [button for response in body["responses"] for button in response.get("buttons", [])]


async def desk_bodies(store: Store) -> list[dict[str, Any]]:
    """What waits for the desk in the outbox (no desk runs here: it would be the terminal's or Telegram's)."""
    from sqlalchemy import select

    from bot.storage.models import Outbox
    async with store.engine.connect() as connection:
        rows = await connection.execute(select(Outbox.body).where(Outbox.channel == DESK).order_by(Outbox.id))
        return [json.loads(row[0]) for row in rows]
