"""`wegwijs rasa-actions`: rasa-sdk's own action server (``/webhook``, ``/actions``, ``/health``) with Wegwijs'
actions, the outbox that brings counsellors' messages through Rasa's HTTP API, and the desk when Telegram is set."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor, ActionExecutorRunResult
from rasa_sdk.interfaces import ActionExecutionRejection
from sanic import Request, Sanic, response
from sanic.exceptions import BadRequest
from sanic.response import HTTPResponse

from bot.channels.rasa.actions import Host, wegwijs_actions
from bot.channels.rasa.client import RasaClient
from bot.channels.rasa.tracker import CHANNEL
from bot.config import Config
from bot.core import Conversation
from bot.desk import Outbox

log = logging.getLogger(__name__)

MAX_SENDER = 128  # the length of a user reference the database keeps


class Executor(ActionExecutor):
    """rasa-sdk's executor, with a request that is not an action call refused as a rejection (HTTP 400 with
    rasa-sdk's body) before anything runs: nothing is stored of it, and it is no error of the server's."""

    async def run(self, action_call: Any, *args: Any, **kwargs: Any) -> ActionExecutorRunResult | None:
        name = action_call.get("next_action") if isinstance(action_call, dict) else None
        problem = malformed(action_call)
        if problem is not None:
            log.info("action call refused: %s", problem)
            raise ActionExecutionRejection(name if isinstance(name, str) else "", f"Malformed action call: {problem}.")
        return await super().run(action_call, *args, **kwargs)


def malformed(call: Any) -> str | None:
    """What is wrong with an action call's shape, or None (an unknown action is rasa-sdk's to answer)."""
    if not isinstance(call, dict):
        return "the body must be a JSON object"
    if not isinstance(call.get("next_action"), str | None):
        return "next_action must be a string"
    if call.get("next_action") is None:
        return None
    tracker = call.get("tracker")
    if not isinstance(tracker, dict):
        return "the tracker is missing"
    sender = tracker.get("sender_id")
    if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER:
        return f"tracker.sender_id must be a non-empty string of at most {MAX_SENDER} characters"
    for key, kind, name in (("slots", dict, "an object"), ("latest_message", dict, "an object"), ("events", list, "a list"),
                            ("active_loop", dict, "an object")):
        if tracker.get(key) is not None and not isinstance(tracker[key], kind):
            return f"tracker.{key} must be {name}"
    latest = tracker.get("latest_message") or {}
    for key, kind, name in (("text", str, "a string"), ("intent", dict, "an object"), ("entities", list, "a list")):
        if latest.get(key) is not None and not isinstance(latest[key], kind):
            return f"tracker.latest_message.{key} must be {name}"
    if not all(isinstance(event, dict) for event in tracker.get("events") or []):
        return "every event of tracker.events must be an object"
    if call.get("domain") is not None and not isinstance(call["domain"], dict):
        return "the domain must be an object"
    return None


async def only_objects(request: Request) -> HTTPResponse | None:
    """A webhook body that is not a JSON object gets rasa-sdk's 400 (its handler would fail on it with a 500)."""
    if request.method != "POST" or request.path != "/webhook" or request.headers.get("Content-Encoding") == "deflate":
        return None
    try:
        body = request.json
    except BadRequest:
        body = INVALID
    if body is INVALID or (body is not None and not isinstance(body, dict)):
        return response.json({"error": "Invalid body request"}, status=400)
    return None


INVALID = object()


@dataclass
class Running:
    app: Sanic
    port: int
    outbox: Outbox | None


@contextlib.asynccontextmanager
async def running(conversation: Conversation, config: Config, *, listen: str = "127.0.0.1", port: int = 5055) -> AsyncIterator[Running]:
    """The action server on ``listen:port`` (0: any free port), and the outbox to Rasa when RASA_URL is set."""
    executor = Executor()
    for action in wegwijs_actions(Host(conversation)):
        executor.register_action(action)
    app = create_app(executor, cors_origins=[])  # called by Rasa, never by a browser
    app.config.TOUCHUP = False  # several servers in one process (tests): Sanic's rewriting of its methods runs once
    app.on_request(only_objects)
    sock = socket.create_server((listen, port), reuse_port=False)
    sock.setblocking(False)
    server = await app.create_server(sock=sock, access_log=False)
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    outbox = client = None
    try:
        await server.startup()
        await server.before_start()
        await server.after_start()
        await server.start_serving()
        if config.env.rasa_url:
            client = RasaClient(conversation.store, config.env.rasa_url, config.env.rasa_token)
            outbox = Outbox(conversation.store, (CHANNEL,), client.deliver)
            await conversation.store.outbox_unclaim((CHANNEL,))
            tasks.append(asyncio.create_task(outbox.run(stop), name="rasa-outbox"))
        else:
            log.warning("RASA_URL is not set: counsellors' messages reach a woman on Rasa only when she writes again")
        yield Running(app, sock.getsockname()[1], outbox)
    finally:
        stop.set()
        if outbox is not None:
            outbox.poke()
        await asyncio.gather(*tasks, return_exceptions=True)
        if client is not None:
            await client.close()
        with contextlib.suppress(Exception):
            await server.before_stop()
        closing = server.close()
        if closing is not None:
            await closing
        with contextlib.suppress(Exception):
            await server.after_stop()
        Sanic.unregister_app(app)


async def serve(conversation: Conversation, config: Config, *, listen: str, port: int, desk: bool = True,
                stop: asyncio.Event | None = None) -> None:
    """Until SIGINT/SIGTERM (or ``stop``), with the daily retention purge. With TELEGRAM_TOKEN (and ``desk``) the
    Telegram bot and desk run here too."""
    from bot.channels.server import purge_daily
    from bot.channels.telegram.run import _stop_on_signals

    stop = stop or _stop_on_signals()
    purge = asyncio.create_task(purge_daily(conversation, config, stop), name="purge")
    try:
        await _serve(conversation, config, listen=listen, port=port, desk=desk, stop=stop)
    finally:
        stop.set()
        await purge


async def _serve(conversation: Conversation, config: Config, *, listen: str, port: int, desk: bool, stop: asyncio.Event) -> None:
    from bot.channels.telegram.run import run

    async with running(conversation, config, listen=listen, port=port) as server:
        log.info("Rasa action server listening on %s:%d (POST /webhook, GET /actions, GET /health)", listen, server.port)
        if desk and config.env.telegram_token:
            await run(conversation, config, stop=stop)
        else:
            log.info("the desk is not run here: cases wait in the database for `wegwijs serve` or `wegwijs telegram`")
            await stop.wait()
