"""`wegwijs serve`: the one web process of a deployment. POST/GET /whatsapp and POST /telegram (webhooks, each on
when its token is set), GET /healthz and GET /metrics; the outboxes of every channel, the desk's reminders and
the daily retention purge run beside them until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from aiohttp import web
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from bot.channels.metrics import Metrics
from bot.channels.web import KEEPALIVE, MAX_BODY
from bot.channels.whatsapp import CHANNEL as WHATSAPP
from bot.channels.whatsapp import WhatsAppChannel
from bot.config import Config
from bot.core import Conversation
from bot.errors import ConfigError

log = logging.getLogger(__name__)

PURGE_EVERY = 24 * 3600.0  # seconds between two retention purges
TELEGRAM_PATH, WHATSAPP_PATH = "/telegram", "/whatsapp"


@dataclass
class Server:
    conversation: Conversation
    config: Config
    metrics: Metrics = field(default_factory=Metrics)
    whatsapp: WhatsAppChannel | None = None
    telegram: Any = None  # TelegramChannel when TELEGRAM_TOKEN is set
    app: web.Application = field(default_factory=lambda: web.Application(client_max_size=MAX_BODY))
    _figures: dict[str, dict[str, int]] = field(default_factory=dict)

    # /healthz and /metrics -------------------------------------------------------------------

    async def health(self, request: web.Request) -> web.Response:
        """200 when the database answers, content is loaded, the retrieval index is built or building and the WhatsApp token
        works; else 503 saying what is wrong."""
        problems: list[str] = []
        report: dict[str, Any] = {}
        try:
            await self.conversation.store.ping()
            report["database"] = "ok"
            report["outbox"] = await self.conversation.store.outbox_counts()
        except Exception as error:  # noqa: BLE001 - a health check reports, it does not raise
            report["database"] = f"unreachable ({type(error).__name__})"
            problems.append("database")
        watcher = self.conversation.watcher
        report["content"] = {"loaded": True, "version": watcher.version if watcher else None,
                             "last_error": watcher.last_error if watcher else None}
        # an index still building (a first start) is no failure, lexical matching answers meanwhile; one whose build failed is
        index = self.conversation.content.retriever.status()
        report["index"] = asdict(index)
        if index.state == "failed":
            problems.append("retrieval index")
        if self.whatsapp is not None:
            report["whatsapp"] = "token not valid" if self.whatsapp.client.token_expired else "ok"
            if self.whatsapp.client.token_expired:
                problems.append("whatsapp token")
        if self.telegram is not None:
            report["telegram"] = "ok"
        report["status"] = "fail: " + ", ".join(problems) if problems else "ok"
        return web.json_response(report, status=503 if problems else 200)

    async def render_metrics(self, request: web.Request) -> web.Response:
        store = self.conversation.store
        try:
            self._figures = {"cases": await store.case_counts(), "outbox": await store.outbox_counts()}
        except Exception:  # noqa: BLE001 - the database is down: the counters still show
            self._figures = {}
        return web.Response(body=self.metrics.render(), content_type="text/plain", charset="utf-8",
                            headers={"X-Content-Type-Options": "nosniff"})

    def _families(self) -> Iterable[CounterMetricFamily | GaugeMetricFamily]:
        cases = GaugeMetricFamily("wegwijs_cases", "Cases on the desk, per state", labels=["state"])
        for state, count in self._figures.get("cases", {}).items():
            cases.add_metric([state], count)
        outbox = GaugeMetricFamily("wegwijs_outbox", "Outbox items not sent yet, and those among them that failed before", labels=["state"])
        for state, count in self._figures.get("outbox", {}).items():
            outbox.add_metric([state], count)
        rejected = CounterMetricFamily("wegwijs_webhooks_rejected", "Webhook requests refused, per channel and reason", labels=["channel", "reason"])
        failures = CounterMetricFamily("wegwijs_send_failures", "Messages a channel could not send (yet), per error code", labels=["channel", "code"])
        statuses = CounterMetricFamily("wegwijs_delivery_statuses", "Delivery statuses reported by WhatsApp", labels=["state"])
        if self.whatsapp is not None:
            counts = self.whatsapp.counts
            for reason, count in counts.rejected.items():
                rejected.add_metric([WHATSAPP, reason], count)
            for code, count in counts.failures.items():
                failures.add_metric([WHATSAPP, str(code)], count)
            for state, count in counts.statuses.items():
                statuses.add_metric([state], count)
        return [cases, outbox, rejected, failures, statuses]

    # Running ---------------------------------------------------------------------------------

    def build(self) -> web.Application:
        self.conversation.observers.append(self.metrics.observe)
        self.metrics.collect_from(self._families)
        self.app.router.add_get("/healthz", self.health)
        self.app.router.add_get("/metrics", self.render_metrics)
        env = self.config.env
        if env.whatsapp_token:
            self.whatsapp = WhatsAppChannel(self.conversation, env)
            self.whatsapp.add_routes(self.app, WHATSAPP_PATH)
        return self.app


def check_environment(config: Config) -> None:
    """A misconfigured server says which variable is missing (and `wegwijs serve` exits non-zero)."""
    env = config.env
    if not env.whatsapp_token and not env.telegram_token:
        raise ConfigError("WHATSAPP_TOKEN", "is not set, and neither is TELEGRAM_TOKEN: `wegwijs serve` needs at least one channel "
                          "(see .env.example)")
    if env.whatsapp_token and (missing := env.whatsapp_missing()):
        raise ConfigError(missing[0], f"is not set: with WHATSAPP_TOKEN set, {', '.join(missing)} must be set too (see .env.example)")


async def serve(conversation: Conversation, config: Config, *, listen: str = "127.0.0.1", port: int = 8080,
                public_url: str | None = None, stop: asyncio.Event | None = None, ready: asyncio.Event | None = None,
                telegram_limits: bool = True, server: Server | None = None) -> Server:
    """Serve until ``stop`` (or a signal). ``ready`` is set once the port listens."""
    from bot.channels.telegram.run import _stop_on_signals  # the signal handling of `wegwijs telegram`

    check_environment(config)
    stop = stop or _stop_on_signals()
    server = server or Server(conversation, config)
    app = server.build()
    async with AsyncExitStack() as stack:
        if config.env.telegram_token:
            await stack.enter_async_context(_telegram(server, public_url, telegram_limits))
        if server.whatsapp is not None:
            await stack.enter_async_context(_whatsapp(server.whatsapp))
        if server.whatsapp is not None and server.telegram is not None:
            bridge(server.whatsapp, server.telegram)
        stack.push_async_callback(_stopped, asyncio.create_task(purge_daily(conversation, config, stop), name="purge"))
        runner = web.AppRunner(app, access_log=None, keepalive_timeout=KEEPALIVE, handle_signals=False)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        await web.TCPSite(runner, listen, port, backlog=1024).start()
        log.info("serving on %s:%d (%s)", listen, port, ", ".join(name for name, on in
                 (("whatsapp", server.whatsapp), ("telegram", server.telegram)) if on) )
        if ready is not None:
            ready.set()
        await stop.wait()
    return server


def bridge(whatsapp: WhatsAppChannel, telegram: Any) -> None:
    """Media both ways between a woman on WhatsApp and the counsellors on the Telegram desk."""
    async def from_whatsapp(reference: str) -> tuple[bytes, str]:
        return await whatsapp.client.download(reference.removeprefix("wa:"))

    async def from_telegram(file_id: str) -> bytes:
        found = await telegram.bot.get_file(file_id)
        return bytes(await found.download_as_bytearray())

    telegram.desk.fetch_media = from_whatsapp
    whatsapp.fetch_telegram = from_telegram


@asynccontextmanager
async def _whatsapp(channel: WhatsAppChannel) -> AsyncIterator[None]:
    stop = asyncio.Event()
    await channel.store.outbox_unclaim((WHATSAPP,))  # what a killed process had in hand goes out now
    tasks = [asyncio.create_task(channel.inbox.run(stop), name="whatsapp-inbox"),
             asyncio.create_task(channel.outbox.run(stop), name="whatsapp-outbox")]
    try:
        yield
    finally:
        await channel.inbox.finish()
        stop.set()
        channel.outbox.poke()
        await asyncio.gather(*tasks)
        await channel.close()


@asynccontextmanager
async def _telegram(server: Server, public_url: str | None, telegram_limits: bool) -> AsyncIterator[None]:
    from bot.channels.telegram.channel import CHANNEL, UPDATES, TelegramChannel
    from bot.channels.telegram.run import outboxes_running, without_counsellors
    from bot.messages import DESK

    config = server.config
    if config.settings.desk.chat_id is None and config.settings.desk.counsellors:
        log.warning("desk.chat_id is not set: no counsellor would see a case, so women are told counsellors are not connected")
        server.conversation.config = config = without_counsellors(config)
    channel = TelegramChannel(server.conversation, config.env.telegram_token or "", config.env.telegram_api_url,
                              config.settings.desk.chat_id, telegram_limits=telegram_limits)
    server.telegram = channel
    secret = config.env.telegram_webhook_secret or secrets.token_urlsafe(32)
    channel.updates.add_route(server.app, TELEGRAM_PATH, secret)
    async with channel.application:
        await channel.set_commands()
        await channel.application.start()
        try:
            await channel.store.outbox_unclaim((CHANNEL, DESK))
            async with outboxes_running(channel):
                inbox_stop = asyncio.Event()
                inbox = asyncio.create_task(channel.updates.inbox.run(inbox_stop), name="telegram-inbox")
                try:
                    if public_url:
                        await channel.application.bot.set_webhook(public_url.rstrip("/") + TELEGRAM_PATH, allowed_updates=UPDATES,
                                                                  secret_token=secret)
                    yield
                finally:
                    await channel.updates.inbox.finish()
                    inbox_stop.set()
                    await inbox
        finally:
            await channel.application.stop()


async def purge_daily(conversation: Conversation, config: Config, stop: asyncio.Event) -> None:
    """The retention purge once a day inside the server (`wegwijs db purge` does it on demand)."""
    retention = config.settings.retention
    while not stop.is_set():
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), PURGE_EVERY)
        if stop.is_set():
            return
        try:
            counts = await conversation.store.purge_expired(retention.messages_days, retention.inactive_user_days)
            log.info("retention purge: %s", counts)
        except Exception as error:  # noqa: BLE001 - tried again tomorrow; the bot goes on
            log.warning("the retention purge failed (%s); trying again in a day", type(error).__name__)


async def _stopped(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
