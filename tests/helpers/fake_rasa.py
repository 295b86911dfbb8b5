"""A local fake of Rasa's HTTP API on 127.0.0.1 (`rasa run --enable-api`): it records every
``POST /conversations/{id}/execute`` and, as Rasa does, runs the named action on the action server
with her tracker (after Rasa listened again: no new message of hers), keeping what the action uttered."""

from __future__ import annotations

from typing import Any

import aiohttp
from aiohttp import web


class FakeRasa:
    def __init__(self, action_server: str = "", token: str | None = None) -> None:
        self.action_server = action_server  # http://127.0.0.1:<port>/webhook, set once the action server runs
        self.token = token
        self.executed: list[dict[str, Any]] = []   # {"sender": ..., "name": ..., "params": {...}}
        self.events: list[dict[str, Any]] = []     # the events the actions run by execute returned
        self.uttered: dict[str, list[dict[str, Any]]] = {}  # sender -> the responses of the actions run
        self.slots: dict[str, dict[str, Any]] = {}  # sender -> slots as the actions set them
        self.status = 200                          # answer execute with this (e.g. 503: Rasa is down)
        self.input_channel = "telegram"            # her channel on the Rasa side ("rest" cannot write to her first)
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def __aenter__(self) -> FakeRasa:
        app = web.Application()
        app.router.add_post("/conversations/{sender}/execute", self._execute)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    async def _execute(self, request: web.Request) -> web.Response:
        sender = request.match_info["sender"]
        body = await request.json()
        self.executed.append({"sender": sender, "name": body.get("name"), "params": dict(request.query)})
        if self.token is not None and request.query.get("token") != self.token:
            return web.json_response({"status": "failure", "reason": "NotAuthenticated"}, status=401)
        if self.status != 200:
            return web.json_response({"status": "failure"}, status=self.status)
        events = [{"event": "user", "text": "earlier", "message_id": "earlier", "input_channel": self.input_channel},
                  {"event": "action", "name": "action_listen"}]
        call = {"next_action": body["name"], "sender_id": sender, "version": "3.21.0",
                "tracker": {"sender_id": sender, "slots": dict(self.slots.get(sender, {})), "latest_message": {"text": "earlier"},
                            "events": events, "latest_input_channel": self.input_channel},
                "domain": {"slots": {"language": {}, "wegwijs_handoff": {}, "wegwijs_flow": {}}}}
        async with aiohttp.ClientSession() as http, http.post(self.action_server, json=call) as response:
            result = await response.json()
        if self.input_channel == "rest":  # a collecting channel: Rasa hands the messages back instead of sending them
            return web.json_response({"tracker": {"sender_id": sender, "latest_input_channel": "rest"}, "messages": result.get("responses", [])})
        self.uttered.setdefault(sender, []).extend(result.get("responses", []))
        self.events.extend(result.get("events", []))
        for event in result.get("events", []):
            if event.get("event") == "slot":
                self.slots.setdefault(sender, {})[event["name"]] = event["value"]
        return web.json_response({"tracker": {"sender_id": sender, "latest_input_channel": self.input_channel}, "messages": []})
