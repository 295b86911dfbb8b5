"""A local fake of Meta's Graph API (WhatsApp Cloud API) on 127.0.0.1: it records every request, checks the
access token, takes messages the way the real API would (and refuses what WhatsApp would refuse: too many
buttons, titles too long, ...), serves media through the URL step and the download step, and can be told to
fail (rate limits, the 24-hour window, an undeliverable number, an expired token, server errors, a dropped
connection).

Shapes follow Meta's documentation: the messages response {"messaging_product", "contacts": [{"input",
"wa_id"}], "messages": [{"id"}]}; Graph errors {"error": {"message", "type", "code", "error_subcode",
"error_data": {"messaging_product", "details"}, "fbtrace_id"}}; media upload {"id"}; media URL
{"messaging_product", "url", "mime_type", "sha256", "file_size", "id"}; the download needs the same
Authorization header as every other call."""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import hashlib
import itertools
import json
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Self
from urllib.parse import parse_qsl

from aiohttp import web
from multidict import CIMultiDict

from tests.helpers.whatsapp import PHONE_ID, TOKEN

VERSION_PATTERN = r"v\d+\.\d+"
MESSAGE_TYPES = ("text", "interactive", "template", "image", "audio", "document", "video", "sticker", "location", "reaction")
MEDIA_TYPES = ("image", "audio", "document", "video", "sticker")
ENDPOINTS = ("messages", "upload", "media", "download")

# Limits of the messages endpoint (Meta's interactive/text message references)
TEXT_BODY_MAX = 4096
INTERACTIVE_BODY_MAX = 1024
HEADER_TEXT_MAX = 60
FOOTER_MAX = 60
BUTTONS_MAX = 3
BUTTON_TITLE_MAX = 20
BUTTON_ID_MAX = 256
LIST_BUTTON_MAX = 20
SECTIONS_MAX = 10
ROWS_MAX = 10
SECTION_TITLE_MAX = 24
ROW_ID_MAX = 200
ROW_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72

# code: (HTTP status, message, error_data.details or None when the error is a Graph one, error_subcode or None)
KNOWN_ERRORS: dict[int, tuple[int, str, str | None, int | None]] = {
    1: (500, "An unknown error has occurred.", None, 99),
    2: (500, "An unexpected error has occurred. Please retry your request later.", None, None),
    100: (400, "(#100) Invalid parameter", "Invalid parameter", None),
    190: (401, "Error validating access token: Session has expired on Monday, 01-Jan-24 00:00:00 PST.", None, None),
    130429: (429, "(#130429) Rate limit hit",
             "Cloud API message throughput has been reached.", None),
    131000: (500, "(#131000) Something went wrong", "Message failed to send due to an unknown error.", None),
    131026: (400, "(#131026) Message undeliverable", "Message Undeliverable.", None),
    131047: (400, "(#131047) Re-engagement message",
             "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
             None),
    131056: (400, "(#131056) (Business Account, Consumer Account) pair rate limit hit",
             ("Message failed to send because there were too many messages sent from this phone number to the same "
              "phone number in a short period of time."), None),
}


@dataclass
class Media:
    """Bytes the fake serves: uploaded by the client or added by a test."""

    data: bytes
    mime_type: str
    filename: str | None = None

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the bytes."""
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class GraphRequest:
    """One request the fake received, and the HTTP status it answered."""

    method: str
    path: str
    version: str | None
    headers: CIMultiDict[str]                  # case-insensitive, as HTTP headers are
    query: dict[str, str]
    body: bytes
    json: Any = None
    form: dict[str, str] | None = None
    files: dict[str, Media] | None = None
    time: float = 0.0
    status: int = 0


@dataclass
class Failure:
    """A scripted answer for the next matching request."""

    status: int
    body: dict[str, Any] | bytes | None
    to: str | None = None
    endpoint: str = "messages"
    drop: bool = False


@dataclass
class Refusal:
    """A message body the fake refused as WhatsApp would, and why."""

    body: Any
    details: str


class Invalid(Exception):
    """Why the Cloud API would refuse a messages body."""


class ErrorAnswer(Exception):
    """A Graph error answer raised inside a handler."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        """The HTTP status and the Graph error body."""
        super().__init__(body["error"]["message"])
        self.status = status
        self.body = body


class FakeGraph:
    """The fake Graph API: `async with FakeGraph() as graph:` then point the channel at graph.base_url."""

    def __init__(self, token: str = TOKEN, *, version: str = "v21.0", phone_id: str | None = None) -> None:
        """token: the access token to require; version: of base_url; phone_id: when given, the only one accepted."""
        self.token = token
        self.version = version                    # the version segment of base_url (any v<d>.<d> is accepted)
        self.phone_id = phone_id                  # when given, other phone number ids are refused (code 100)
        self.requests: list[GraphRequest] = []
        self.sent: list[dict[str, Any]] = []      # accepted message bodies, in order
        self.sent_ids: list[str] = []             # the wamid answered for each of them
        self.read: list[dict[str, Any]] = []      # mark-as-read (and typing indicator) bodies
        self.refused: list[Refusal] = []
        self.uploads: dict[str, Media] = {}
        self.media: dict[str, Media] = {}         # added with add_media
        self.deleted: list[str] = []
        self.failures: list[Failure] = []
        self._message_ids = itertools.count(1)
        self._upload_ids = itertools.count(1)
        self._traces = itertools.count(1)
        self._socket: socket.socket | None = None
        self._runner: web.AppRunner | None = None

    # Life cycle -----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The TCP port it listens on."""
        if self._socket is None:
            raise RuntimeError("FakeGraph is not started: use `async with FakeGraph() as graph:`")
        return int(self._socket.getsockname()[1])

    @property
    def origin(self) -> str:
        """http://127.0.0.1:PORT (the media download URLs live here, outside the versioned API)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:PORT/v21.0: what WHATSAPP_API_URL is set to."""
        return f"{self.origin}/{self.version}"

    async def start(self) -> Self:
        """Listen on a random port of 127.0.0.1."""
        app = web.Application(client_max_size=128 * 1024 * 1024)  # Cloud API media go up to 100 MB
        app.router.add_route("*", "/download/{media_id}", self._download)
        app.router.add_route("*", "/{version:" + VERSION_PATTERN + "}/{node}/messages", self._messages)
        app.router.add_route("*", "/{version:" + VERSION_PATTERN + "}/{node}/media", self._upload)
        app.router.add_route("*", "/{version:" + VERSION_PATTERN + "}/{node}", self._node)
        app.router.add_route("*", "/{tail:.*}", self._unknown)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.1)
        await self._runner.setup()
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        await web.SockSite(self._runner, self._socket).start()
        return self

    async def close(self) -> None:
        """Stop listening and close open connections."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._socket is not None:
            self._socket.close()

    async def __aenter__(self) -> Self:
        """Start it."""
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        """Stop it."""
        await self.close()

    # What tests tell it ---------------------------------------------------------------------

    def fail_next(self, status: int | None = None, code: int | None = None, *, to: str | None = None,
                  endpoint: str = "messages", message: str | None = None, details: str | None = None,
                  error_subcode: int | None = None, body: dict[str, Any] | bytes | None = None,
                  drop: bool = False) -> None:
        """Queue one failure for the next `endpoint` request (to `to` only, when given): status and/or a Graph error code."""
        if endpoint not in ENDPOINTS:
            raise ValueError(f"endpoint must be one of {ENDPOINTS}")
        if body is None and not drop:
            status, body = self._scripted(status, code, message, details, error_subcode)
        self.failures.append(Failure(status or 500, body, to, endpoint, drop))

    def add_media(self, media_id: str, data: bytes, mime_type: str, filename: str | None = None) -> None:
        """Media she sent (its id as in the webhook): served by GET /{version}/{media_id} and the download URL."""
        self.media[media_id] = Media(data, mime_type, filename)

    def error_body(self, code: int, message: str | None = None, details: str | None = None,
                   error_subcode: int | None = None, *, error_data: bool = True) -> dict[str, Any]:
        """A Graph error body as Meta answers it (error_data for WhatsApp errors, error_subcode when there is one)."""
        _, known_message, known_details, known_subcode = KNOWN_ERRORS.get(code, (400, f"(#{code}) Error", f"Error {code}", None))
        error: dict[str, Any] = {"message": message or known_message, "type": "OAuthException", "code": code}
        subcode = error_subcode if error_subcode is not None else known_subcode
        if subcode is not None:
            error["error_subcode"] = subcode
        if error_data and (details is not None or known_details is not None):
            error["error_data"] = {"messaging_product": "whatsapp", "details": details or known_details}
        error["fbtrace_id"] = f"AfakeTrace{next(self._traces):06d}"
        return {"error": error}

    # What tests read ------------------------------------------------------------------------

    @property
    def versions(self) -> set[str]:
        """The Graph API versions the client used."""
        return {r.version for r in self.requests if r.version}

    def texts(self) -> list[str]:
        """The visible text of each sent message: text body, interactive body text, template name, caption or <type>."""
        return [visible_text(body) for body in self.sent]

    def to(self, wa_id: str) -> list[dict[str, Any]]:
        """The accepted messages sent to one recipient."""
        return [body for body in self.sent if body.get("to") == wa_id]

    def requests_to(self, endpoint: str) -> list[GraphRequest]:
        """The recorded requests of one endpoint: messages, upload, media (URL step) or download."""
        return [r for r in self.requests if _endpoint(r.path) == endpoint]

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Wait until `count` messages were accepted; AssertionError listing what was sent (and refused) on timeout."""
        deadline = time.monotonic() + timeout
        while len(self.sent) < count:
            if time.monotonic() >= deadline:
                refused = [r.details for r in self.refused]
                raise AssertionError(f"expected {count} message(s) sent within {timeout}s, got {len(self.sent)}: "
                                     f"{self.texts()}" + (f"; refused: {refused}" if refused else ""))
            await asyncio.sleep(0.01)
        return self.sent

    # The Graph API --------------------------------------------------------------------------

    async def _record(self, request: web.Request) -> GraphRequest:
        """Read and record one request (JSON, form or multipart body parsed)."""
        raw = await request.read()
        recorded = GraphRequest(method=request.method, path=request.path, version=request.match_info.get("version"),
                                headers=CIMultiDict(request.headers), query=dict(request.query), body=raw, time=time.time())
        content_type = request.headers.get("Content-Type", "")
        if raw and content_type.startswith("application/json"):
            try:
                recorded.json = json.loads(raw)
            except ValueError:
                recorded.json = None
        elif raw and content_type.startswith("application/x-www-form-urlencoded"):
            recorded.form = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        elif raw and content_type.startswith("multipart/form-data"):
            recorded.form, recorded.files = parse_multipart(raw, content_type)
        self.requests.append(recorded)
        return recorded

    def _authorized(self, recorded: GraphRequest) -> None:
        """Raise the Graph answer to a missing or wrong access token."""
        header = recorded.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or token.strip() != self.token:
            raise ErrorAnswer(401, self.error_body(190, "Invalid OAuth access token - Cannot parse access token"))

    def _scripted_failure(self, endpoint: str, to: str | None) -> Failure | None:
        """The first queued failure for this endpoint (and recipient), taken off the queue."""
        for index, failure in enumerate(self.failures):
            if failure.endpoint == endpoint and (failure.to is None or failure.to == to):
                return self.failures.pop(index)
        return None

    def _scripted(self, status: int | None, code: int | None, message: str | None, details: str | None,
                  error_subcode: int | None) -> tuple[int, dict[str, Any]]:
        """Status and body of a scripted failure: the code's usual status unless given; a code from the status alone."""
        if code is None:
            status = status or 500
            code = 190 if status == 401 else 130429 if status == 429 else 2 if status >= 500 else 100
        elif status is None:
            status = KNOWN_ERRORS.get(code, (400,))[0]
        if code == 190 and error_subcode is None and message is None:
            error_subcode = 463  # "session has expired" (the token expired, as opposed to an invalid one)
        return status, self.error_body(code, message, details, error_subcode)

    async def _answer(self, request: web.Request, endpoint: str,
                      handle: Callable[[GraphRequest], tuple[int, dict[str, Any]] | web.StreamResponse]) -> web.StreamResponse:
        """Record, check the token, apply a scripted failure, then handle; every answer's status recorded."""
        recorded = await self._record(request)
        try:
            self._authorized(recorded)
            to = recorded.json.get("to") if isinstance(recorded.json, dict) else None
            failure = self._scripted_failure(endpoint, str(to) if to is not None else None)
            if failure is not None:
                return self._fail(request, recorded, failure)
            answer = handle(recorded)
        except ErrorAnswer as error:
            recorded.status = error.status
            return web.json_response(error.body, status=error.status)
        if isinstance(answer, web.StreamResponse):
            recorded.status = answer.status
            return answer
        recorded.status = answer[0]
        return web.json_response(answer[1], status=answer[0])

    def _fail(self, request: web.Request, recorded: GraphRequest, failure: Failure) -> web.StreamResponse:
        """The scripted failure's answer; drop: the connection closed without one."""
        if failure.drop:
            recorded.status = 0
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=500)
        recorded.status = failure.status
        if isinstance(failure.body, bytes):
            return web.Response(body=failure.body, status=failure.status, content_type="text/html")
        return web.json_response(failure.body, status=failure.status)

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        """POST /{version}/{phone_id}/messages: send a message (or mark one as read)."""
        return await self._answer(request, "messages", lambda recorded: self._send(request, recorded))

    def _send(self, request: web.Request, recorded: GraphRequest) -> tuple[int, dict[str, Any]]:
        """Validate a message body like the Cloud API; 200 with its wamid, or 400 code 100."""
        if request.method != "POST":
            raise self._invalid(f"Unsupported {request.method} request on /messages")
        self._known_phone(request)
        body = recorded.json if recorded.json is not None else _decoded_form(recorded.form)
        try:
            check_message(body)
        except Invalid as error:
            self.refused.append(Refusal(body, str(error)))
            raise self._invalid(str(error)) from None
        if body.get("status") == "read":
            self.read.append(body)
            return 200, {"success": True}
        wamid = f"wamid.sent-{next(self._message_ids)}"
        self.sent.append(body)
        self.sent_ids.append(wamid)
        to = str(body["to"])
        return 200, {"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to.lstrip("+")}],
                     "messages": [{"id": wamid}]}

    async def _upload(self, request: web.Request) -> web.StreamResponse:
        """POST /{version}/{phone_id}/media: multipart file + type + messaging_product -> {"id"}."""
        return await self._answer(request, "upload", lambda recorded: self._store(request, recorded))

    def _store(self, request: web.Request, recorded: GraphRequest) -> tuple[int, dict[str, Any]]:
        """Keep the uploaded file in `uploads` under a fresh media id."""
        if request.method != "POST":
            raise self._invalid(f"Unsupported {request.method} request on /media")
        self._known_phone(request)
        form, files = recorded.form or {}, recorded.files or {}
        if form.get("messaging_product") != "whatsapp":
            raise self._invalid("The parameter messaging_product is required and must be \"whatsapp\".")
        if "file" not in files:
            raise self._invalid("The parameter file is required.")
        upload = files["file"]
        mime_type = form.get("type") or upload.mime_type
        if not mime_type:
            raise self._invalid("The parameter type is required.")
        media_id = f"media-up-{next(self._upload_ids)}"
        self.uploads[media_id] = Media(upload.data, mime_type, upload.filename)
        return 200, {"id": media_id}

    async def _node(self, request: web.Request) -> web.StreamResponse:
        """GET /{version}/{media_id}: the media URL step (GET of the phone number id: its details); DELETE: forget it."""
        return await self._answer(request, "media", lambda recorded: self._media_url(request))

    def _media_url(self, request: web.Request) -> tuple[int, dict[str, Any]]:
        """The download URL, mime type, sha256 and size of a known media id; 400 code 100 otherwise."""
        media_id = request.match_info["node"]
        if request.method == "GET" and media_id == (self.phone_id or PHONE_ID):  # the phone number node (a health check)
            return 200, {"verified_name": "Wegwijs", "display_phone_number": "+972 12-345-6789", "id": media_id,
                         "quality_rating": "GREEN", "code_verification_status": "VERIFIED"}
        found = self.uploads.get(media_id) or self.media.get(media_id)
        if found is None or request.method not in ("GET", "DELETE"):
            raise ErrorAnswer(400, self.error_body(
                100, f"Unsupported {request.method.lower()} request. Object with ID '{media_id}' does not exist, cannot be "
                     "loaded due to missing permissions, or does not support this operation.",
                error_subcode=33, error_data=False))
        if request.method == "DELETE":
            self.uploads.pop(media_id, None)
            self.media.pop(media_id, None)
            self.deleted.append(media_id)
            return 200, {"success": True}
        url = f"{self.origin}/download/{media_id}?mid={media_id}&ext={int(time.time())}&hash=fake"
        return 200, {"messaging_product": "whatsapp", "url": url, "mime_type": found.mime_type, "sha256": found.sha256,
                     "file_size": str(len(found.data)), "id": media_id}

    async def _download(self, request: web.Request) -> web.StreamResponse:
        """GET /download/{media_id}: the bytes with their Content-Type (the token is needed here too)."""
        return await self._answer(request, "download", lambda recorded: self._bytes(request))

    def _bytes(self, request: web.Request) -> web.StreamResponse:
        """The media's bytes, or 404 as the CDN answers an unknown or expired URL."""
        found = self.uploads.get(request.match_info["media_id"]) or self.media.get(request.match_info["media_id"])
        if found is None or request.method != "GET":
            return web.Response(status=404, text="Not Found")
        return web.Response(body=found.data, headers={"Content-Type": found.mime_type})

    async def _unknown(self, request: web.Request) -> web.StreamResponse:
        """Any other path (no or a malformed version segment): recorded and refused like Graph does."""
        recorded = await self._record(request)
        recorded.status = 400
        return web.json_response(self.error_body(100, f"Unknown path components: {request.path}", error_data=False), status=400)

    def _known_phone(self, request: web.Request) -> None:
        """Refuse a phone number id other than the configured one (when one is configured)."""
        node = request.match_info["node"]
        if self.phone_id is not None and node != self.phone_id:
            raise ErrorAnswer(400, self.error_body(
                100, f"Unsupported post request. Object with ID '{node}' does not exist, cannot be loaded due to missing "
                     "permissions, or does not support this operation.", error_subcode=33, error_data=False))

    def _invalid(self, details: str) -> ErrorAnswer:
        """400, code 100 "Invalid parameter" with these details."""
        return ErrorAnswer(400, self.error_body(100, details=details))


# Validation of message bodies ----------------------------------------------------------------

def check_message(body: Any) -> None:
    """Raise Invalid (the reason) when the Cloud API would refuse this messages body."""
    if not isinstance(body, dict):
        raise Invalid("The request body must be a JSON object.")
    if body.get("messaging_product") != "whatsapp":
        raise Invalid("The parameter messaging_product is required and must be \"whatsapp\".")
    if body.get("status") == "read":
        if not _nonempty(body.get("message_id")):
            raise Invalid("The parameter message_id is required to mark a message as read.")
        return
    if not _nonempty(body.get("to")):
        raise Invalid("The parameter to is required.")
    kind = body.get("type", "text")   # the API's default type is text
    if kind not in MESSAGE_TYPES:
        raise Invalid(f"Unknown message type {kind!r}: one of {', '.join(MESSAGE_TYPES)}.")
    content = body.get(kind)
    if not isinstance(content, dict):
        raise Invalid(f"The parameter {kind} is required for a {kind} message and must be an object.")
    context = body.get("context")
    if context is not None and not (isinstance(context, dict) and _nonempty(context.get("message_id"))):
        raise Invalid("context.message_id is required when context is given.")
    checks: dict[str, Callable[[dict[str, Any]], None]] = {
        "text": _check_text, "interactive": _check_interactive, "template": _check_template,
        "location": _check_location, "reaction": _check_reaction}
    if kind in MEDIA_TYPES:
        _check_media(kind, content)
    else:
        checks[kind](content)


def _nonempty(value: Any) -> bool:
    """A non-empty string (or number, for a phone number)."""
    return isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip() != ""


def _length(value: Any, where: str, maximum: int, minimum: int = 1) -> None:
    """Raise unless value is a string of minimum..maximum characters."""
    if not isinstance(value, str):
        raise Invalid(f"{where} is required and must be a string.")
    if not minimum <= len(value) <= maximum:
        raise Invalid(f"{where} length invalid: {len(value)} characters (min {minimum}, max {maximum}).")


def _check_text(text: dict[str, Any]) -> None:
    """text.body: 1..4096 characters."""
    _length(text.get("body"), "text.body", TEXT_BODY_MAX)


def _check_interactive(interactive: dict[str, Any]) -> None:
    """Reply buttons and list messages within WhatsApp's limits; other interactive types need a body and an action."""
    kind = interactive.get("type")
    if not isinstance(kind, str):
        raise Invalid("interactive.type is required.")
    body = interactive.get("body")
    if kind in ("button", "list") or body is not None:
        if not isinstance(body, dict):
            raise Invalid(f"interactive.body is required for a {kind} message.")
        _length(body.get("text"), "interactive.body.text", INTERACTIVE_BODY_MAX)
    header = interactive.get("header")
    if isinstance(header, dict) and header.get("type") == "text":
        _length(header.get("text"), "interactive.header.text", HEADER_TEXT_MAX)
    footer = interactive.get("footer")
    if footer is not None:
        if not isinstance(footer, dict):
            raise Invalid("interactive.footer must be an object.")
        _length(footer.get("text"), "interactive.footer.text", FOOTER_MAX)
    action = interactive.get("action")
    if not isinstance(action, dict):
        raise Invalid("interactive.action is required.")
    if kind == "button":
        _check_buttons(action)
    elif kind == "list":
        _check_list(action)


def _check_buttons(action: dict[str, Any]) -> None:
    """1..3 reply buttons, titles 1..20 and unique, ids 1..256 and unique."""
    buttons = action.get("buttons")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= BUTTONS_MAX:
        count = len(buttons) if isinstance(buttons, list) else 0
        raise Invalid(f"interactive.action.buttons must hold 1 to {BUTTONS_MAX} buttons, got {count}.")
    titles, ids = set(), set()
    for index, button in enumerate(buttons):
        where = f"interactive.action.buttons[{index}]"
        if not isinstance(button, dict) or button.get("type") != "reply" or not isinstance(button.get("reply"), dict):
            raise Invalid(f"{where} must be {{\"type\": \"reply\", \"reply\": {{\"id\", \"title\"}}}}.")
        reply = button["reply"]
        _length(reply.get("title"), f"{where}.reply.title", BUTTON_TITLE_MAX)
        _length(reply.get("id"), f"{where}.reply.id", BUTTON_ID_MAX)
        if reply["title"] in titles or reply["id"] in ids:
            raise Invalid(f"{where}: button titles and ids must be unique within the message.")
        titles.add(reply["title"])
        ids.add(reply["id"])


def _check_list(action: dict[str, Any]) -> None:
    """action.button 1..20; 1..10 sections with 1..10 rows in total; row title 1..24, description <=72, id 1..200."""
    _length(action.get("button"), "interactive.action.button", LIST_BUTTON_MAX)
    sections = action.get("sections")
    if not isinstance(sections, list) or not 1 <= len(sections) <= SECTIONS_MAX:
        raise Invalid(f"interactive.action.sections must hold 1 to {SECTIONS_MAX} sections.")
    rows_total, ids = 0, set()
    for index, section in enumerate(sections):
        where = f"interactive.action.sections[{index}]"
        if not isinstance(section, dict) or not isinstance(section.get("rows"), list) or not section["rows"]:
            raise Invalid(f"{where}.rows must hold at least one row.")
        if len(sections) > 1 or "title" in section:
            _length(section.get("title"), f"{where}.title", SECTION_TITLE_MAX)
        for number, row in enumerate(section["rows"]):
            row_where = f"{where}.rows[{number}]"
            if not isinstance(row, dict):
                raise Invalid(f"{row_where} must be an object.")
            _length(row.get("id"), f"{row_where}.id", ROW_ID_MAX)
            _length(row.get("title"), f"{row_where}.title", ROW_TITLE_MAX)
            if "description" in row:
                _length(row["description"], f"{row_where}.description", ROW_DESCRIPTION_MAX, minimum=0)
            if row["id"] in ids:
                raise Invalid(f"{row_where}.id: row ids must be unique within the message.")
            ids.add(row["id"])
        rows_total += len(section["rows"])
    if rows_total > ROWS_MAX:
        raise Invalid(f"A list message holds at most {ROWS_MAX} rows in total, got {rows_total}.")


def _check_template(template: dict[str, Any]) -> None:
    """A template name and a language code."""
    if not _nonempty(template.get("name")):
        raise Invalid("template.name is required.")
    language = template.get("language")
    if not isinstance(language, dict) or not _nonempty(language.get("code")):
        raise Invalid("template.language.code is required.")


def _check_media(kind: str, media: dict[str, Any]) -> None:
    """An uploaded media id or a link; a caption only where WhatsApp shows one."""
    if not _nonempty(media.get("id")) and not _nonempty(media.get("link")):
        raise Invalid(f"{kind}.id or {kind}.link is required.")
    if "caption" in media and kind in ("audio", "sticker"):
        raise Invalid(f"{kind} messages take no caption.")
    if "caption" in media:
        _length(media["caption"], f"{kind}.caption", 1024)


def _check_location(found: dict[str, Any]) -> None:
    """Numeric latitude and longitude."""
    for key in ("latitude", "longitude"):
        value = found.get(key)
        try:
            float(value)
        except (TypeError, ValueError):
            raise Invalid(f"location.{key} is required and must be a number.") from None


def _check_reaction(found: dict[str, Any]) -> None:
    """The wamid reacted to and an emoji (empty string: remove the reaction)."""
    if not _nonempty(found.get("message_id")):
        raise Invalid("reaction.message_id is required.")
    if not isinstance(found.get("emoji"), str):
        raise Invalid("reaction.emoji is required (an empty string removes the reaction).")


# Helpers ----------------------------------------------------------------------------------------

def visible_text(body: dict[str, Any]) -> str:
    """What she reads first of one sent message: text body, interactive body text, template name, caption or <type>."""
    kind = body.get("type", "text")
    content = body.get(kind) if isinstance(body.get(kind), dict) else {}
    if kind == "text":
        return str(content.get("body", ""))
    if kind == "interactive":
        return str((content.get("body") or {}).get("text", ""))
    if kind == "template":
        return str(content.get("name", ""))
    if kind == "reaction":
        return str(content.get("emoji", ""))
    return str(content.get("caption") or f"<{kind}>")


def parse_multipart(raw: bytes, content_type: str) -> tuple[dict[str, str], dict[str, Media]]:
    """Fields and files of a multipart/form-data body (parsed from the raw bytes, which stay recorded)."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + raw)
    form: dict[str, str] = {}
    files: dict[str, Media] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            files[name] = Media(data, part.get_content_type() if part.get("Content-Type") else "", filename)
        else:
            form[name] = data.decode(part.get_content_charset() or "utf-8", "replace")
    return form, files


def _decoded_form(form: dict[str, str] | None) -> dict[str, Any] | None:
    """A form-encoded messages body, its object/array values JSON-decoded (Graph accepts both encodings)."""
    if form is None:
        return None
    return {key: json.loads(value) if value[:1] in ("{", "[") else value for key, value in form.items()}


def _endpoint(path: str) -> str:
    """The endpoint name of a request path."""
    if path.startswith("/download/"):
        return "download"
    if path.endswith("/messages"):
        return "messages"
    if path.endswith("/media"):
        return "upload"
    return "media"

