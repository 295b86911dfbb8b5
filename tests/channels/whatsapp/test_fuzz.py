"""Hostile, wrongly signed and odd-text WhatsApp webhooks (hypothesis) against the real `wegwijs serve` server and the fake Graph API."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import io
import itertools
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import aiohttp
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.channels.server import Server, serve
from bot.channels.web import MAX_BODY
from bot.config import Config
from bot.core import Content, Conversation
from bot.storage import Store
from tests.channels.whatsapp.test_server import free_port, whatsapp_env
from tests.helpers import whatsapp as wa
from tests.helpers.fake_graph import FakeGraph

T = TypeVar("T")

CHANNEL = "whatsapp"
RECORDED = [json.loads(path.read_text(encoding="utf-8")) for path in sorted(wa.DATA.glob("pywa_*.json"))]
WATCHED = ("bot", "aiohttp", "asyncio")  # loggers whose records with an exception (exc_info) fail a test
_numbers = itertools.count(1)            # wa_ids and wamids of test 3, one per example


# The server, as in test_server.py; hypothesis runs in a worker thread and drives it through Served.run --------

@dataclasses.dataclass
class Served:
    url: str
    server: Server
    graph: FakeGraph
    store: Store
    http: aiohttp.ClientSession
    loop: asyncio.AbstractEventLoop

    async def post(self, raw: bytes, headers: dict[str, str] | None = None) -> int:
        """POST raw bytes to /whatsapp, correctly signed unless headers are given."""
        data: bytes | io.BytesIO = io.BytesIO(raw) if len(raw) > 1 << 19 else raw  # aiohttp warns about large bytes bodies
        sent = wa.signed_headers(raw) if headers is None else headers
        async with self.http.post(f"{self.url}/whatsapp", data=data, headers=sent) as response:
            await response.read()
            return response.status

    async def healthz(self) -> int:
        async with self.http.get(f"{self.url}/healthz") as response:
            await response.read()
            return response.status

    async def handled(self, timeout: float = 10.0) -> None:
        """Wait until the inbox has nothing in hand (what the last webhook stored was handled, or failed)."""
        assert self.server.whatsapp is not None
        inbox = self.server.whatsapp.inbox
        deadline = time.monotonic() + timeout
        while inbox._tasks and time.monotonic() < deadline:  # the inbox in hand: private, but nothing public tells
            await asyncio.sleep(0.005)

    async def settled(self, timeout: float = 10.0) -> bool:
        """True once every stored inbox item is marked handled and the outbox is empty; False after timeout seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not await self.store.inbox_pending(CHANNEL) and (await self.store.outbox_counts())["pending"] == 0:
                return True
            await asyncio.sleep(0.05)
        return False

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        """Run a coroutine on the server's loop from the thread the hypothesis examples run in."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)


@asynccontextmanager
async def running(store: Store, content: Content, config: Config, graph: FakeGraph) -> AsyncIterator[Served]:
    config = dataclasses.replace(config, env=whatsapp_env(graph))
    conversation = Conversation(store, content, config)
    server = Server(conversation, config)
    stop, ready, port = asyncio.Event(), asyncio.Event(), free_port()
    task = asyncio.create_task(serve(conversation, config, port=port, stop=stop, ready=ready, server=server))
    await asyncio.wait_for(ready.wait(), 20)
    async with aiohttp.ClientSession() as http:
        try:
            yield Served(f"http://127.0.0.1:{port}", server, graph, store, http, asyncio.get_running_loop())
        finally:
            stop.set()
            await asyncio.wait_for(task, 20)


@pytest.fixture
async def served(store: Store, content: Content, config: Config) -> AsyncIterator[Served]:
    """One server (and fake Graph API) per test function; its hypothesis examples all run against it."""
    async with FakeGraph() as graph, running(store, content, config, graph) as found:
        yield found


def fuzz(examples: int) -> settings:
    """Hypothesis settings of these tests: no deadline (an example waits for the server), no health checks on slow data."""
    return settings(max_examples=examples, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])


async def examples(run: Callable[[], None]) -> None:
    """Run a sync @given function in a worker thread while this loop keeps serving (it awaits through Served.run)."""
    await asyncio.to_thread(run)


def exceptions(caplog: pytest.LogCaptureFixture, since: int = 0) -> list[str]:
    """Records of the watched loggers at ERROR or above that carry an exception: logger, message and exception type."""
    return [f"{record.name}: {record.getMessage()[:200]} ({record.exc_info[0].__name__ if record.exc_info[0] else None})"
            for record in list(caplog.records)[since:]
            if record.exc_info is not None and record.levelno >= logging.ERROR and record.name.split(".")[0] in WATCHED]


async def answered(served: Served, wa_id: str) -> bool:
    """A plain "hello" from a new number gets an answer (the bot still works)."""
    assert await served.post(wa.encode(wa.text("hello", wa_id=wa_id, wamid=f"wamid.{wa_id}"))) == 200
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if served.graph.to(wa_id):
            return True
        await asyncio.sleep(0.05)
    return False


# Strategies: recorded webhooks with fields of the wrong type, odd strings, deep nesting, broken bytes -------

def nested(depth: int) -> Any:
    """Lists and objects `depth` deep."""
    value: Any = "bottom"
    for level in range(depth):
        value = {"a": value} if level % 2 else [value]
    return value


odd_string = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(codec="utf-8"), max_size=20),
    st.sampled_from(["", " ", "\x00", "a\x00b", "\ud800", "\udfff", "x\udc80y", "\u200f\u202e\u200b", "\ufeff",
                     "\u0627\u0644\u0639\u0631\u0628\u064a\u0629", "\u12a0\u121b\u122d\u129b", "\U0001f469\u200d\U0001f467",
                     "\\u0000", "%s%n", "' OR 1=1 --", "NaN", "null"]),
    st.integers(1, 3).map(lambda n: "\u202e" * n + "x" * 10_000),
)
scalar = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.sampled_from([2**64, -(2**63) - 1, 10**300]),
                   st.floats(allow_nan=True, allow_infinity=True), odd_string)
anything = st.one_of(
    st.recursive(scalar, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(odd_string, inner, max_size=3)),
                 max_leaves=8),
    st.integers(1, 50).map(nested),
)
TYPES = ["text", "interactive", "button", "location", "contacts", "image", "sticker", "video", "audio", "voice", "document",
         "reaction", "unsupported", "order", "system", "", "TEXT"]
FIELDS = ["body", "id", "title", "payload", "text", "latitude", "longitude", "caption", "button_reply", "list_reply",
          "phones", "phone", "name", "emoji", "message_id", "mime_type", "voice", "type"]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += _paths(inner, (*prefix, index))
    return found


def _fresh(body: dict[str, Any], number: int) -> None:
    """A wamid and sender of its own for each message (so that the inbox does not take most of them for redeliveries)."""
    for entry in body.get("entry", []):
        for change in entry.get("changes", []):
            for message in change.get("value", {}).get("messages", []):
                message["id"], message["from"] = f"wamid.fuzz-{number}", f"3249{number:07d}"
            for update in change.get("value", {}).get("statuses", []):
                update["id"] = f"wamid.fuzz-{number}"


def _recorded(draw: st.DrawFn, having: str | None = None) -> dict[str, Any]:
    bodies = [body for body in RECORDED if having is None or having in wa.value_of(body)]
    body = copy.deepcopy(draw(st.sampled_from(bodies)))
    _fresh(body, draw(st.integers(0, 10**7 - 1)))
    return body


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    """A recorded webhook with one to five of its fields replaced by anything, or removed."""
    body = _recorded(draw)
    paths = _paths(body)
    for _ in range(draw(st.integers(1, 5))):
        path = draw(st.sampled_from(paths))
        holder: Any = body
        try:
            for key in path[:-1]:
                holder = holder[key]
            if isinstance(holder, dict) and draw(st.booleans()):
                holder.pop(path[-1], None)
            else:
                holder[path[-1]] = draw(anything)
        except (KeyError, IndexError, TypeError):
            continue
    return body


@st.composite
def misshapen(draw: st.DrawFn) -> dict[str, Any]:
    """A recorded webhook with entry, changes, value, messages, statuses, metadata, contacts or object of another type."""
    body = _recorded(draw)
    value = wa.value_of(body)
    where, key = draw(st.sampled_from([(body, "entry"), (body["entry"][0], "changes"), (body["entry"][0]["changes"][0], "value"),
                                       (value, "messages"), (value, "statuses"), (value, "metadata"), (value, "contacts"),
                                       (body, "object")]))
    where[key] = draw(st.one_of(scalar, st.dictionaries(odd_string, scalar, max_size=3), st.lists(scalar, max_size=3),
                                st.integers(1, 50).map(nested)))
    return body


@st.composite
def retyped(draw: st.DrawFn) -> dict[str, Any]:
    """A recorded message whose type and content disagree, or whose content holds wrong types."""
    body = _recorded(draw, "messages")
    message = wa.message_of(body)
    kind = draw(st.one_of(st.sampled_from(TYPES), anything))
    message["type"] = kind
    key = kind if isinstance(kind, str) else draw(st.sampled_from(TYPES))
    inner = st.one_of(anything, st.dictionaries(st.sampled_from(FIELDS), anything, max_size=4),
                      st.lists(st.dictionaries(st.sampled_from(FIELDS), anything, max_size=3), max_size=3))
    message[key] = draw(st.one_of(anything, st.dictionaries(st.sampled_from(FIELDS), inner, max_size=5)))
    return body


@st.composite
def odd_status(draw: st.DrawFn) -> dict[str, Any]:
    """A recorded status with its state, recipient, errors or other fields of any type."""
    body = _recorded(draw, "statuses")
    update = wa.value_of(body)["statuses"][0]
    error = st.dictionaries(st.sampled_from(["code", "title", "message"]), st.one_of(anything, st.just(131026), st.booleans()))
    for key in draw(st.sets(st.sampled_from(["status", "recipient_id", "errors", "timestamp", "conversation", "pricing"]), max_size=3)):
        update[key] = draw(st.one_of(anything, st.sampled_from(["failed", "read"]), st.lists(error, max_size=3)))
    return body


def oversized(extra: int) -> bytes:
    """A webhook just over the 1 MiB cap."""
    head = b'{"object":"whatsapp_business_account","pad":"'
    return head + b"x" * (MAX_BODY - len(head) + extra) + b'"}'


def encoded(body: Any, escape: bool) -> bytes:
    """JSON bytes, non-ASCII as is or as \\u escapes; lone surrogates can only travel escaped (\\ud800), so those always are."""
    try:
        return wa.encode(body, escape_unicode=escape)
    except UnicodeEncodeError:
        return wa.encode(body, escape_unicode=True)


webhook_json = st.builds(encoded, st.one_of(mutated(), mutated(), misshapen(), retyped(), retyped(), odd_status()), st.booleans())
broken_bytes = st.one_of(
    st.binary(max_size=200),
    webhook_json.flatmap(lambda raw: st.integers(0, len(raw)).map(lambda cut: raw[:cut])),                          # cut short
    webhook_json.flatmap(lambda raw: st.integers(0, len(raw)).map(lambda at: raw[:at] + b"\xff\xc3(" + raw[at:])),  # not UTF-8
    st.sampled_from([b"", b"null", b"[]", b"{}", b'"x"', b"0", b"NaN", b"\xef\xbb\xbf{}", "{}".encode("utf-16"),
                     b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 20_000 + b"1" + b"}" * 20_000,
                     b'{"object":"whatsapp_business_account","entry":[' + b"9" * 5000 + b"]}"]),
    st.integers(0, 1000).map(oversized),
)
hostile = st.one_of(webhook_json, webhook_json, broken_bytes)

# The smallest inputs of the bugs this file found, pinned so that they always run: a lone surrogate anywhere in a message
# (any database) or a NUL in its sender or wamid (PostgreSQL) cannot be stored, and the webhook gets a 503 for ever; a message
# whose type is a list or an object makes incoming() raise a TypeError (retried, then set aside).
LONE_SURROGATE = (b'{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":'
                  b'[{"id":"wamid.lone","from":"32470000009","type":"text","text":{"body":"\\ud800"}}]}}]}]}')
NUL_IN_SENDER = (b'{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":'
                 b'[{"id":"wamid.nul","from":"3247\\u0000","type":"text","text":{"body":"hello"}}]}}]}]}')
TYPE_NOT_A_STRING = (b'{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":'
                     b'[{"id":"wamid.typed","from":"32470000008","type":[]}]}}]}]}')


# 1. Signed hostile bodies -----------------------------------------------------------------------------------

async def test_signed_hostile_bodies_get_200_or_413_never_5xx_and_every_stored_item_is_handled_without_exceptions(
        served: Served, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)

    @fuzz(300)
    @example(raw=LONE_SURROGATE)
    @example(raw=NUL_IN_SENDER)
    @example(raw=TYPE_NOT_A_STRING)
    @given(raw=hostile)
    def post(raw: bytes) -> None:
        since = len(caplog.records)
        status = served.run(served.post(raw))
        assert status == (413 if len(raw) > MAX_BODY else 200), status
        served.run(served.handled())
        assert not exceptions(caplog, since)

    await examples(post)
    assert await served.healthz() == 200
    assert await served.settled(), [(item.update_id, item.attempts) for item in await served.store.inbox_pending(CHANNEL)]
    assert not exceptions(caplog)
    assert served.server.whatsapp is not None and served.server.whatsapp.inbox.handled > 0  # the fuzz reached the conversation
    assert not served.graph.refused, [refusal.details for refusal in served.graph.refused]
    assert await answered(served, "32471000001")


# 2. Unsigned or wrongly signed bodies -----------------------------------------------------------------------

def _other_hex(digest: str) -> st.SearchStrategy[str]:
    """The digest with one hex digit changed."""
    return st.integers(0, len(digest) - 1).flatmap(
        lambda at: st.sampled_from([c for c in "0123456789abcdef" if c != digest[at]]).map(lambda c: digest[:at] + c + digest[at + 1:]))


@st.composite
def wrongly_signed(draw: st.DrawFn) -> tuple[bytes, dict[str, str]]:
    """A hostile or valid body, and headers whose X-Hub-Signature-256 is absent, of another body or secret, or malformed."""
    valid = st.sampled_from(RECORDED).map(wa.encode)
    raw = draw(st.one_of(webhook_json, valid, valid, broken_bytes.filter(lambda raw: len(raw) <= MAX_BODY)))
    right = wa.sign(raw)[len("sha256="):]
    printable = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80)
    header = draw(st.one_of(
        st.none(),
        st.sampled_from(["", "sha256=", "sha256=" + "0" * 64, "sha1=" + right, right, "sha256:" + right, "sha256=sha256=" + right,
                         "sha256=" + right + "0", "sha256=" + right[:-1], "sha256=" + right + " sha256=" + right]),
        st.binary(max_size=64).filter(lambda other: other != raw).map(wa.sign),                        # of another body
        st.binary(min_size=1, max_size=8).map(lambda extra: wa.sign(raw + extra)),                     # of a longer body
        printable.filter(lambda secret: secret != wa.APP_SECRET).map(lambda secret: wa.sign(raw, secret)),  # another secret
        _other_hex(right).map(lambda digest: "sha256=" + digest),
        st.integers(0, 63).map(lambda cut: "sha256=" + right[:cut]),
        printable.map(lambda text: "sha256=" + text),
        printable,
    ))
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["X-Hub-Signature-256"] = header
    return raw, headers


async def test_unsigned_or_wrongly_signed_bodies_get_401_and_nothing_is_stored_sent_or_created(served: Served) -> None:
    @fuzz(200)
    @given(request=wrongly_signed())
    def post(request: tuple[bytes, dict[str, str]]) -> None:
        raw, headers = request
        assert served.run(served.post(raw, headers)) == 401
        assert served.run(served.store.inbox_pending(CHANNEL)) == []
        assert served.graph.sent == []

    await examples(post)
    await asyncio.sleep(0.5)  # anything that did get through has been handled by now
    assert await served.store.inbox_pending(CHANNEL) == []
    assert (await served.store.counts())["users"] == 0
    assert served.graph.sent == []
    assert await served.healthz() == 200


# 3. Valid messages of every kind, with any text -------------------------------------------------------------

her_text = st.one_of(
    st.text(max_size=60),
    st.text(st.characters(codec="utf-8", categories=["L", "M", "N", "P", "S", "Zs"]), max_size=30),
    st.sampled_from(["", " ", "\n\t ", "\U0001f469\u200d\U0001f467\u200d\U0001f466", "\u0645\u0631\u062d\u0628\u0627 \u0643\u064a\u0641",
                     "\u1230\u120b\u121d \u12a5\u1295\u12f4\u1275", "\u200f\u202e\u200b", "hello", "menu", "/start", "lang:en",
                     "where can I learn Dutch?", "\u0623\u064a\u0646 \u0623\u062a\u0639\u0644\u0645 \u0627\u0644\u0647\u0648\u0644\u0646\u062f\u064a\u0629\u061f"]),
    st.integers(1, 5000).map(lambda n: ("\u12a0\U0001f600 \u0639a" * n)[:n]),
    st.just("x" * 5000),
)
Build = Callable[[str, str, str], dict[str, Any]]
KINDS: dict[str, Build] = {
    "text": lambda text, wa_id, wamid: wa.text(text, wa_id=wa_id, wamid=wamid),
    "reply text": lambda text, wa_id, wamid: wa.text(text, wa_id=wa_id, wamid=wamid, reply_to="wamid.ours"),
    "button title": lambda text, wa_id, wamid: wa.button_reply("lang:en", text, wa_id=wa_id, wamid=wamid),
    "button id": lambda text, wa_id, wamid: wa.button_reply(text, "OK", wa_id=wa_id, wamid=wamid),
    "list-reply id": lambda text, wa_id, wamid: wa.list_reply(text, "English", wa_id=wa_id, wamid=wamid),
    "list-reply title": lambda text, wa_id, wamid: wa.list_reply("lang:nl", text, description=text, wa_id=wa_id, wamid=wamid),
    "quick reply": lambda text, wa_id, wamid: wa.quick_reply(text, text, wa_id=wa_id, wamid=wamid),
    "image caption": lambda text, wa_id, wamid: wa.image("media-image-1", text, wa_id=wa_id, wamid=wamid),
    "document caption": lambda text, wa_id, wamid: wa.document("media-doc-1", filename=text, caption=text, wa_id=wa_id, wamid=wamid),
    "place": lambda text, wa_id, wamid: wa.location(51.05, 3.72, place=text, address=text, wa_id=wa_id, wamid=wamid),
    "contact card": lambda text, wa_id, wamid: wa.contacts(text, text, wa_id=wa_id, wamid=wamid),
    "reaction": lambda text, wa_id, wamid: wa.reaction("wamid.ours", text, wa_id=wa_id, wamid=wamid),
    "voice": lambda text, wa_id, wamid: wa.voice("media-voice-1", wa_id=wa_id, wamid=wamid, name=text),
    "sticker": lambda text, wa_id, wamid: wa.sticker("media-sticker-1", wa_id=wa_id, wamid=wamid, name=text),
    "unsupported": lambda text, wa_id, wamid: wa.unsupported(wa_id=wa_id, wamid=wamid, name=text),
}
SILENT = {"reaction"}  # what needs no answer


def _sent_to(served: Served, wa_id: str) -> int:
    return len(served.graph.to(wa_id))


def _says(served: Served, raw: bytes, wa_id: str) -> int:
    """Post a signed body; the number of messages sent to wa_id once everything is handled and sent."""
    assert served.run(served.post(raw)) == 200
    served.run(served.handled())
    assert served.run(served.settled()), "the inbox or the outbox did not empty"
    time.sleep(0.05)
    return _sent_to(served, wa_id)


async def test_a_valid_message_of_any_kind_and_text_gets_200_and_one_answer_even_when_delivered_twice(
        served: Served, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)

    @fuzz(36)
    @given(kind=st.sampled_from(sorted(KINDS)), text=her_text, escape=st.booleans(), onboarded=st.booleans())
    def post(kind: str, text: str, escape: bool, onboarded: bool) -> None:
        since = len(caplog.records)
        number = next(_numbers)
        wa_id, wamid = f"3248{number:07d}", f"wamid.kind-{number}"
        if onboarded:  # her language chosen first, so that the text reaches the answers and not the welcome
            assert _says(served, wa.encode(wa.text("hello", wa_id=wa_id, wamid=f"{wamid}-hello")), wa_id) >= 1
            assert _says(served, wa.encode(wa.list_reply("lang:en", "English", wa_id=wa_id, wamid=f"{wamid}-lang")), wa_id) >= 2
        before = _sent_to(served, wa_id)
        raw = wa.encode(KINDS[kind](text, wa_id, wamid), escape_unicode=escape)
        first = _says(served, raw, wa_id) - before
        if kind in SILENT:
            assert first == 0, f"a {kind} was answered"
        else:
            assert first >= 1, f"no answer to a {kind}"
        assert _says(served, raw, wa_id) - before == first, f"a {kind} delivered twice was answered twice"
        answer = [json.dumps(message, sort_keys=True) for message in served.graph.to(wa_id)[before:]]
        assert len(set(answer)) == len(answer), f"a message of the answer to a {kind} was sent twice"
        assert not exceptions(caplog, since)

    await examples(post)
    assert not exceptions(caplog)
    assert not served.graph.refused, [refusal.details for refusal in served.graph.refused]
    assert all(message["to"].startswith("3248") for message in served.graph.sent)
