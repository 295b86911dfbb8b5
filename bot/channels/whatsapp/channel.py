"""The WhatsApp channel: Meta's webhook (handshake, signature, store first), her messages handed to the core
from the inbox, and what the outbox holds for her sent through the Graph API within WhatsApp's limits."""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from bot.channels.inbox import Inbox
from bot.channels.web import BODY_TIMEOUT, MAX_BODY, Quiet, TooLarge, closing, read_capped
from bot.channels.whatsapp import render
from bot.channels.whatsapp.client import RATE_LIMIT, UNDELIVERABLE, WINDOW_CLOSED, GraphClient, GraphError
from bot.channels.whatsapp.webhook import CHANNEL, incoming, rows, signed
from bot.config import Environment
from bot.core import Conversation
from bot.desk import Deferred, Desk, Outbox
from bot.messages import Button, Outgoing
from bot.storage import RETRY_AFTER, InboxItem, OutboxItem

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Hub-Signature-256"
WINDOW = timedelta(hours=24)         # free text reaches her until this long after her last message
WINDOW_MARGIN = timedelta(minutes=5)  # ... taken a little shorter, for the clocks and the time the message takes
WAIT_FOR_HER = timedelta(days=30)     # a counsellor's message waits this long for her to write again
PARTS_KEPT = 10_000                   # wamids remembered with their item and part (a failure is sent again from its part)
MEDIA_TYPES = {"image": "image/jpeg", "voice": "audio/ogg", "document": "application/octet-stream"}  # when the bytes do not say
EXTENSIONS = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg", "audio/mpeg": "mp3", "audio/mp4": "m4a",
              "audio/ogg": "ogg", "video/mp4": "mp4", "video/3gpp": "3gp"}
STATES = ("sent", "delivered", "read", "failed")
LIST_BUTTON = "whatsapp-list-button"  # catalog keys: the button that opens a list, and the body of a list that goes on
MORE = "whatsapp-more"


@dataclass
class Counts:
    """What the channel saw, for /metrics: webhooks refused per reason, statuses per state, send failures per code."""

    rejected: dict[str, int]
    statuses: dict[str, int]
    failures: dict[int, int]


class WhatsAppChannel:
    def __init__(self, conversation: Conversation, env: Environment, concurrency: int = 32) -> None:
        self.conversation = conversation
        self.store = conversation.store
        self.app_secret = env.whatsapp_app_secret or ""
        self.verify_token = env.whatsapp_verify_token or ""
        self.phone_number_id = env.whatsapp_phone_number_id or ""
        self.client = GraphClient(env.whatsapp_token or "", self.phone_number_id, env.whatsapp_api_url, concurrency)
        # her replies are stored with her message, then sent by the outbox; her message also makes due what waited for her window
        conversation.queue_replies(CHANNEL, wake=True)
        self.inbox = Inbox(self.store, CHANNEL, self.handle, concurrency)
        self.outbox = Outbox(self.store, (CHANNEL,), self.deliver, concurrency=concurrency)
        self.desk = Desk(conversation)  # tells the counsellors when her 24-hour window has closed
        # a counsellor's photo, voice or document from the Telegram desk by its file id, as bytes: set where Telegram runs
        self.fetch_telegram: Callable[[str], Awaitable[bytes]] | None = None
        self.quiet = Quiet()
        self.counts = Counts({}, {}, {})
        self.long_payloads: dict[str, str] = {}
        self._progress: dict[Hashable, int] = {}  # outbox item id -> messages of it sent: a retry goes on from there
        self._parts: collections.OrderedDict[str, tuple[int, int]] = collections.OrderedDict()  # wamid -> (item id, part), recent ones

    def add_routes(self, app: web.Application, path: str = "/whatsapp") -> None:
        app.router.add_get(path, self.verify)
        app.router.add_post(path, self.receive)

    # The webhook -----------------------------------------------------------------------------

    async def verify(self, request: web.Request) -> web.Response:
        """Meta's handshake: hub.challenge echoed when hub.mode is subscribe and hub.verify_token is ours."""
        mode, token, challenge = (request.query.get(name, "") for name in ("hub.mode", "hub.verify_token", "hub.challenge"))
        if mode == "subscribe" and self.verify_token and hmac.compare_digest(token.encode(), self.verify_token.encode()):
            return web.Response(text=challenge, content_type="text/plain")
        self._reject("verify-token")
        return web.Response(status=403)

    async def receive(self, request: web.Request) -> web.Response:
        """Signed first (401, nothing read further or stored, otherwise); stored before the 200."""
        if request.content_length is not None and request.content_length > MAX_BODY:
            self._reject("too-large")
            return closing(413)
        try:
            body = await asyncio.wait_for(read_capped(request), BODY_TIMEOUT)
        except TooLarge:
            self._reject("too-large")
            return closing(413)
        except (asyncio.TimeoutError, ConnectionError):
            self._reject("slow")
            return closing(408)
        if not signed(self.app_secret, body, request.headers.get(SIGNATURE_HEADER)):
            self._reject("signature")
            return web.Response(status=401)
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            data = None
        found = rows(data, self.phone_number_id)
        if not found:
            if data is None or not isinstance(data, dict) or data.get("object") != "whatsapp_business_account":
                self._reject("not-a-webhook")  # signed, but nothing we can use: acknowledged, so Meta does not retry it
            return web.Response(status=200)
        try:
            await self.inbox.accept([(row.update_id, row.chat, row.body) for row in found])
        except Exception as error:  # noqa: BLE001 - the database is down: Meta delivers it again
            self.quiet.warn("store", "a WhatsApp webhook could not be stored (%s): Meta will deliver it again", type(error).__name__)
            return web.Response(status=503)
        return web.Response(status=200)

    def _reject(self, reason: str) -> None:
        self.counts.rejected[reason] = self.counts.rejected.get(reason, 0) + 1
        self.quiet.warn(f"rejected-{reason}", "a WhatsApp webhook request was refused: %s", reason)

    # Handling what was stored ----------------------------------------------------------------

    async def handle(self, item: InboxItem) -> None:
        try:
            data = json.loads(item.body)
        except ValueError:
            return
        if isinstance(data.get("status"), dict):
            await self._status(data["status"])
            return
        message = incoming(data["message"]) if isinstance(data.get("message"), dict) else None
        if message is None:
            return
        if message.payload is not None and message.payload in self.long_payloads:  # a button whose payload was too long for WhatsApp
            message = dataclasses.replace(message, payload=self.long_payloads[message.payload])
        replies = await self.conversation.handle(message)
        for reply in replies:
            if not reply.queued:  # the apology when the database could not take her message
                await self._send_reply(message.user, reply, self._labels(None))

    async def _status(self, status: dict[str, Any]) -> None:
        """sent / delivered / read move the outbox item the message was sent for on (and are counted); a
        failure is acted on by its code: a rate limit sends the item again later, a closed window makes
        it wait for her (the template invites her, the desk hears it), an undeliverable number marks her
        inactive."""
        state = str(status.get("status"))
        label = state if state in STATES else "other"  # a label per state WhatsApp has, not per string a body holds
        self.counts.statuses[label] = self.counts.statuses.get(label, 0) + 1
        wamid = status.get("id")
        item = await self._receipt(wamid, state) if label != "other" and isinstance(wamid, str) and wamid else None
        if state != "failed":
            return
        errors = status.get("errors") if isinstance(status.get("errors"), list) else []
        code = next((error.get("code") for error in errors if isinstance(error, dict) and isinstance(error.get("code"), int)), 0)
        self.counts.failures[code] = self.counts.failures.get(code, 0) + 1
        recipient = status.get("recipient_id")
        if code == UNDELIVERABLE and isinstance(recipient, str):
            await self.store.set_active(CHANNEL, recipient, False)
            log.info("a WhatsApp message could not be delivered (code %d): she is marked inactive", code)
        elif item is None:
            log.warning("WhatsApp could not deliver a message (code %s) that is no longer in the outbox", code)
        elif code in RATE_LIMIT:
            self._resend_from(wamid, item)
            await self.store.outbox_resend(item, datetime.now(UTC) + timedelta(seconds=RETRY_AFTER[min(item.attempts, len(RETRY_AFTER) - 1)]))
            log.warning("WhatsApp could not deliver outbox item %s yet (code %d): sent again later", item.id, code)
        elif code == WINDOW_CLOSED:
            await self._invite(item, item.body.get("language") or await self._language(item.recipient))
            self._resend_from(wamid, item)
            await self.store.outbox_resend(item, datetime.now(UTC) + WAIT_FOR_HER)  # until she writes (her message wakes it)
        else:
            log.warning("WhatsApp could not deliver outbox item %s (code %s): dropped", item.id, code)

    async def _receipt(self, wamid: str, state: str) -> OutboxItem | None:
        item = await self.store.outbox_delivery(wamid, state)
        if item is None and wamid in self._parts:  # ours, sent a moment ago: its mark (and receipt) may not be stored yet
            await self.outbox.marked()
            item = await self.store.outbox_delivery(wamid, state)
        return item

    # Sending ---------------------------------------------------------------------------------

    async def deliver(self, item: OutboxItem) -> bool:
        """One outbox item: True when sent (or it never can be), False to try again later (her order kept)."""
        body = item.body
        reply = Outgoing(item.recipient, body.get("text", ""), tuple(Button(label, payload) for label, payload in body.get("buttons", [])),
                         body.get("key"))
        if body.get("action"):  # nothing a WhatsApp chat can do (its messages cannot be deleted by the bot)
            return True
        if "language" in body:  # her language when the reply was stored (her replies; not the desk's relays)
            language = body["language"]
        else:
            language = await self._language(item.recipient) if reply.buttons or item.case_id is not None else None
        labels = self._labels(language)  # for a list, or a body-less reply
        if item.case_id is not None and not await self._window_open(item.recipient):
            await self._window_closed(item, language)  # raises Deferred: it waits for her
        try:
            if "|" in str(body.get("copy", "")) and self.fetch_telegram is not None:
                await self._send_media(item, reply)
            else:
                # receipts keep the item a day for its statuses; not the goodbye after /forget
                await self._send_reply(item.recipient, reply, labels, item.id, None if body.get("forgotten") else item.receipts)
        except GraphError as error:
            self.counts.failures[error.code] = self.counts.failures.get(error.code, 0) + 1
            if error.retry:
                log.warning("outbox item %s not sent yet (%s): tried again later", item.id, error)
                return False
            if error.code == UNDELIVERABLE:
                await self.store.set_active(CHANNEL, item.recipient, False)
                log.info("a WhatsApp message cannot reach her (code %d): marked inactive", error.code)
            elif error.code == WINDOW_CLOSED:
                await self._window_closed(item, await self._language(item.recipient))
            else:
                log.warning("the Graph API refused outbox item %s (%s): dropped", item.id, error)
        self._progress.pop(item.id, None)
        return True

    async def _send_reply(self, to: str, reply: Outgoing, labels: tuple[str, str], key: Hashable | None = None,
                          receipts: list[str] | None = None) -> None:
        """``receipts``: where the wamids of the messages sent go (the outbox keeps them for the statuses)."""
        bodies = render.messages(to, reply, list_button=labels[0], more=labels[1], long_payloads=self.long_payloads)
        start = self._progress.get(key, 0) if key is not None else 0
        for index in range(start, len(bodies)):
            wamid = await self.client.send(bodies[index])
            if receipts is not None:
                receipts.append(wamid)
                if isinstance(key, int):
                    self._remember_part(wamid, key, index)
            if key is not None:
                self._progress[key] = index + 1

    async def _send_media(self, item: OutboxItem, reply: Outgoing) -> None:
        """A counsellor's photo, voice or document: fetched from Telegram, uploaded, sent with her name (and caption)."""
        kind = str(item.body.get("kind", "document"))
        data = await self.fetch_telegram(str(item.body["copy"]).split("|", 1)[1])  # type: ignore[misc]
        mime = sniff(data) or MEDIA_TYPES.get(kind, "application/octet-stream")  # a video note is an mp4, an audio an mp3 ...
        extension = EXTENSIONS.get(mime, "bin")
        media_id = await self.client.upload(data, mime, f"file.{extension}")
        caption = render.to_whatsapp(reply.text)[:render.BODY_LIMIT]
        base = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": item.recipient}
        if mime.startswith("audio/"):  # an audio message takes no caption: the name first
            steps = [{**base, "type": "text", "text": {"body": caption, "preview_url": False}}, {**base, "type": "audio", "audio": {"id": media_id}}]
        elif mime.startswith("video/"):
            steps = [{**base, "type": "video", "video": {"id": media_id, "caption": caption}}]
        elif mime in ("image/jpeg", "image/png"):
            steps = [{**base, "type": "image", "image": {"id": media_id, "caption": caption}}]
        else:
            steps = [{**base, "type": "document", "document": {"id": media_id, "caption": caption, "filename": f"document.{extension}"}}]
        for index in range(self._progress.get(item.id, 0), len(steps)):
            wamid = await self.client.send(steps[index])
            item.receipts.append(wamid)
            self._remember_part(wamid, item.id, index)
            self._progress[item.id] = index + 1

    def _remember_part(self, wamid: str, item_id: int, index: int) -> None:
        """Which part of an item a wamid was, so that the item sent again after a failure starts there."""
        self._parts[wamid] = (item_id, index)
        while len(self._parts) > PARTS_KEPT:
            self._parts.popitem(last=False)

    def _resend_from(self, wamid: str, item: OutboxItem) -> None:
        found = self._parts.get(wamid)
        if found is not None and found[0] == item.id:  # otherwise (a restart since) the whole item again
            self._progress[item.id] = found[1]

    async def _window_open(self, recipient: str) -> bool:
        last = await self.store.last_message_from(CHANNEL, recipient)
        return last is not None and datetime.now(UTC) - last < WINDOW - WINDOW_MARGIN

    async def _window_closed(self, item: OutboxItem, language: str | None) -> None:
        """Free text cannot reach her: the approved template invites her to write (once: the item then waits, and
        her later ones behind it, until she writes), and the desk hears it at once."""
        await self._invite(item, language)
        raise Deferred(datetime.now(UTC) + WAIT_FOR_HER)

    async def _invite(self, item: OutboxItem, language: str | None) -> None:
        settings = self.conversation.config.settings
        template = settings.whatsapp.reengage_template
        if template:
            code = settings.whatsapp.template_language(language or settings.default_language, settings.default_language)
            await self.client.send({"messaging_product": "whatsapp", "recipient_type": "individual", "to": item.recipient,
                                    "type": "template", "template": {"name": template, "language": {"code": code}}})
        if item.case_id is not None:
            await self.desk.window_closed(item.case_id, invited=bool(template))
        log.info("outbox item %s waits for her to write again (her 24-hour window is closed)", item.id)

    def _labels(self, language: str | None) -> tuple[str, str]:
        catalogs = self.conversation.content.catalogs
        code = language or self.conversation.config.settings.default_language
        return catalogs.get(code, LIST_BUTTON).text, catalogs.get(code, MORE).text

    async def _language(self, recipient: str) -> str | None:
        user = await self.store.get_user(CHANNEL, recipient)
        return user.language if user is not None else None

    async def close(self) -> None:
        await self.client.close()


def sniff(data: bytes) -> str | None:
    """The media type the first bytes of a file show (the kinds WhatsApp takes), or None: Telegram's file
    downloads carry none, and a counsellor's voice, audio and video note all arrive as "voice"."""
    if data[:4] == b"OggS":
        return "audio/ogg"
    if data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "audio/mpeg"
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in (b"M4A ", b"M4B "):
            return "audio/mp4"
        return "video/3gpp" if brand.startswith(b"3g") else "video/mp4"
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:5] == b"%PDF-":
        return "application/pdf"
    return None
