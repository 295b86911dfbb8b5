"""`wegwijs serve` with WhatsApp end to end: the real aiohttp server, signed webhooks built from the recorded
payloads (tests/data/whatsapp), the conversation on SQLite and PostgreSQL, and the fake Graph API of
tests/helpers/fake_graph.py recording what the bot sends."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import shutil
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.channels.server import Server, check_environment, serve
from bot.config import Config, Environment
from bot.core import Content, Conversation
from bot.errors import ConfigError
from bot.knowledge import Retriever
from bot.storage import Store
from tests.helpers import whatsapp as wa
from tests.helpers.fake_graph import FakeGraph


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def whatsapp_env(graph: FakeGraph) -> Environment:
    return Environment(whatsapp_token=wa.TOKEN, whatsapp_app_secret=wa.APP_SECRET, whatsapp_verify_token=wa.VERIFY_TOKEN,
                       whatsapp_phone_number_id=wa.PHONE_ID, whatsapp_api_url=graph.base_url)


@dataclasses.dataclass
class Served:
    url: str
    server: Server
    graph: FakeGraph
    store: Store
    http: aiohttp.ClientSession

    async def post(self, body: dict[str, Any] | bytes, headers: dict[str, str] | None = None) -> int:
        raw = body if isinstance(body, bytes) else wa.encode(body)
        data = io.BytesIO(raw) if len(raw) > 1 << 19 else raw  # aiohttp warns about large bytes bodies
        async with self.http.post(f"{self.url}/whatsapp", data=data, headers=wa.signed_headers(raw) if headers is None else headers) as response:
            return response.status

    async def says(self, body: dict[str, Any], count: int = 1) -> list[dict[str, Any]]:
        """Post a signed webhook; the messages the bot sent since, once ``count`` more arrived."""
        before = len(self.graph.sent)
        assert await self.post(body) == 200
        await self.graph.wait_for(before + count)
        await asyncio.sleep(0.2)  # anything else of the same reply
        return self.graph.sent[before:]


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
            yield Served(f"http://127.0.0.1:{port}", server, graph, store, http)
        finally:
            stop.set()
            await asyncio.wait_for(task, 20)


@pytest.fixture
async def served(store: Store, content: Content, config: Config) -> AsyncIterator[Served]:
    async with FakeGraph() as graph, running(store, content, config, graph) as found:
        yield found


def interactive(message: dict[str, Any]) -> dict[str, Any]:
    return message.get("interactive", {})


def choices(message: dict[str, Any]) -> list[tuple[str, str]]:
    """(id, title) of the reply buttons or list rows of a sent message."""
    body = interactive(message)
    if body.get("type") == "button":
        return [(b["reply"]["id"], b["reply"]["title"]) for b in body["action"]["buttons"]]
    if body.get("type") == "list":
        return [(row["id"], row["title"]) for section in body["action"]["sections"] for row in section["rows"]]
    return []


# The handshake and signatures ----------------------------------------------------------------

async def test_verification_handshake_echoes_the_challenge_and_refuses_a_wrong_token(served: Served) -> None:
    recorded = json.loads((wa.DATA / "verification_handshake.json").read_text(encoding="utf-8"))
    assert recorded  # the recorded exchange this test follows
    query = {"hub.mode": "subscribe", "hub.verify_token": wa.VERIFY_TOKEN, "hub.challenge": "1158201444"}
    async with served.http.get(f"{served.url}/whatsapp", params=query) as response:
        assert response.status == 200 and await response.text() == "1158201444"
        assert response.content_type == "text/plain"
    for wrong in ({**query, "hub.verify_token": "vibecoding"}, {**query, "hub.mode": "unsubscribe"}, {"hub.challenge": "1"}):
        async with served.http.get(f"{served.url}/whatsapp", params=wrong) as response:
            assert response.status == 403
            assert "1158201444" not in await response.text()


@pytest.mark.parametrize("signature", [None, "", "sha256=", "sha256=" + "0" * 64, "md5=abc", "sha256=zz",
                                       "ALMOST"], ids=["missing", "empty", "no-digest", "zeros", "other-hash", "not-hex", "almost-right"])
async def test_a_forged_or_missing_signature_gets_401_and_nothing_is_stored_or_sent(served: Served, signature: str | None) -> None:
    raw = wa.encode(wa.text("i need a creche for my baby"))
    if signature == "ALMOST":  # the right digest of another body: one byte differs
        signature = wa.sign(raw[:-1] + b" ")
    headers = {"Content-Type": "application/json"} | ({"X-Hub-Signature-256": signature} if signature is not None else {})
    assert await served.post(raw, headers) == 401
    await asyncio.sleep(0.3)
    assert served.graph.sent == []
    assert await served.store.get_user("whatsapp", wa.WA_ID) is None
    assert await served.store.inbox_pending("whatsapp") == []


async def test_a_body_over_one_mebibyte_is_refused_before_it_is_read(served: Served) -> None:
    raw = b'{"object": "whatsapp_business_account", "pad": "' + b"x" * (1 << 20) + b'"}'
    assert await served.post(raw) == 413
    assert served.graph.sent == []


async def test_a_signed_body_that_is_no_webhook_is_acknowledged_and_dropped(served: Served) -> None:
    for raw in (b"not json", b"[]", b'{"object": "page"}', json.dumps({"object": "whatsapp_business_account", "entry": "x"}).encode()):
        assert await served.post(raw) == 200
    await asyncio.sleep(0.3)
    assert served.graph.sent == []


# Conversations -------------------------------------------------------------------------------

async def test_first_contact_gets_the_language_choice_as_two_lists_covering_all_eleven_languages(served: Served) -> None:
    sent = await served.says(wa.text("hello"), count=2)
    lists = [message for message in sent if interactive(message).get("type") == "list"]
    payloads = [payload for message in lists for payload, _ in choices(message)]
    assert len(lists) == 2
    assert sorted(payloads) == sorted(f"lang:{code}" for code in served.server.config.settings.languages)
    assert all(message["to"] == wa.WA_ID for message in sent)


async def test_a_question_is_answered_and_the_answer_carries_its_feedback_buttons(served: Served) -> None:
    await served.says(wa.text("hello"), count=2)
    await served.says(wa.list_reply("lang:en", "English"), count=1)
    sent = await served.says(wa.text("where can I learn Dutch?"), count=2)
    texts = " ".join(message.get("text", {}).get("body", "") or interactive(message).get("body", {}).get("text", "") for message in sent)
    assert "Dutch" in texts
    ids = [payload for message in sent for payload, _ in choices(message)]
    assert any(payload.startswith("helpful:") for payload in ids)


async def test_the_same_wamid_twice_is_answered_once(served: Served) -> None:
    body = wa.text("hello", wamid="wamid.twice")
    assert await served.post(body) == 200
    await served.graph.wait_for(2)
    assert await served.post(body) == 200
    await asyncio.sleep(1.0)
    assert len(served.graph.sent) == 2


async def test_a_voice_note_and_a_location_get_their_replies_and_a_reaction_none(served: Served) -> None:
    await served.says(wa.text("hello"), count=2)
    await served.says(wa.list_reply("lang:en", "English"), count=1)
    voice = await served.says(wa.voice("media-voice-1"), count=1)
    assert voice and voice[0]["to"] == wa.WA_ID
    near = await served.says(wa.location(51.054, 3.717), count=2)
    assert any("📍" in (m.get("text", {}).get("body", "")) for m in near)
    before = len(served.graph.sent)
    assert await served.post(wa.reaction(voice[0].get("id", "wamid.x"))) == 200
    await asyncio.sleep(1.0)
    assert len(served.graph.sent) == before


async def test_a_server_error_of_the_graph_api_is_retried_and_the_reply_delivered_once(served: Served) -> None:
    served.graph.fail_next(status=500)
    assert await served.post(wa.text("hello")) == 200
    sent = await served.graph.wait_for(2, timeout=15)
    assert len([m for m in sent if interactive(m).get("type") == "list"]) == 2
    await asyncio.sleep(0.5)
    assert len(served.graph.sent) == 2


@pytest.mark.parametrize("status, code", [(429, 130429), (400, 131056)], ids=["throughput", "pair-rate"])
async def test_a_rate_limit_is_waited_out_and_her_replies_arrive_once_and_in_order(served: Served, status: int, code: int) -> None:
    served.graph.fail_next(status=status, code=code)
    assert await served.post(wa.text("hello")) == 200
    sent = await served.graph.wait_for(2, timeout=15)
    assert [interactive(m).get("type") for m in sent] == ["list", "list"]
    first, second = (choices(m) for m in sent)
    assert len(first) == 6 and len(second) == 5  # the first list (with the text) before the second, as the bot said them
    await asyncio.sleep(0.5)
    assert len(served.graph.sent) == 2


async def test_statuses_are_counted_and_an_undeliverable_number_is_marked_inactive(served: Served) -> None:
    await served.says(wa.text("hello"), count=2)
    for state in ("sent", "delivered", "read"):
        assert await served.post(wa.status("wamid.sent-1", state)) == 200
    failed = [{"code": 131026, "title": "Message undeliverable"}]
    assert await served.post(wa.status("wamid.sent-2", "failed", errors=failed)) == 200
    for _ in range(50):
        user = await served.store.get_user("whatsapp", wa.WA_ID)
        if user is not None and not user.active:
            break
        await asyncio.sleep(0.1)
    assert user is not None and user.active is False
    async with served.http.get(f"{served.url}/metrics") as response:
        text = await response.text()
    assert 'wegwijs_delivery_statuses_total{state="read"} 1.0' in text
    assert 'wegwijs_send_failures_total{channel="whatsapp",code="131026"} 1.0' in text


# /healthz, /metrics and the configuration ----------------------------------------------------

async def test_healthz_reports_database_content_and_outbox(served: Served) -> None:
    async with served.http.get(f"{served.url}/healthz") as response:
        assert response.status == 200
        report = await response.json()
    assert report["status"] == "ok" and report["database"] == "ok" and report["whatsapp"] == "ok"
    assert report["outbox"] == {"pending": 0, "retrying": 0}
    assert report["index"]["state"] == "ready"


async def test_healthz_shows_the_index_building_and_fails_when_its_build_failed(store: Store, content: Content, config: Config,
                                                                               tmp_path: Path) -> None:
    """A first start answers while the index builds (200, with how far it is); a build that failed is a problem (503)."""
    from tests.knowledge.test_index import Gated, flows

    for fail in (False, True):
        model = Gated(config, fail=fail)
        (tmp_path / f"{fail}").mkdir()
        for name in ("classifier.npz", "alarm.npz"):  # trained on the same vectors: only the embedding is held back
            shutil.copy(config.path(config.settings.paths.cache) / name, tmp_path / f"{fail}" / name)
        retriever = Retriever(content.knowledge, model, tmp_path / f"{fail}" / "embeddings.npz", flows=flows(content), build="background")
        if fail:
            model.gate.set()
            retriever.index.wait(60)  # type: ignore[union-attr]
        async with FakeGraph() as graph, running(store, dataclasses.replace(content, retriever=retriever), config, graph) as served:
            async with served.http.get(f"{served.url}/healthz") as response:
                report = await response.json()
        if fail:
            assert response.status == 503 and "retrieval index" in report["status"] and report["index"]["state"] == "failed"
        else:
            assert response.status == 200 and report["index"]["state"] == "embedding" and report["index"]["to_embed"] > 10_000
        model.gate.set()
        retriever.index.wait(120)  # type: ignore[union-attr]


async def test_healthz_fails_when_the_token_expired(served: Served) -> None:
    served.graph.fail_next(status=401, code=190)
    assert await served.post(wa.text("hello")) == 200
    for _ in range(50):
        async with served.http.get(f"{served.url}/healthz") as response:
            if response.status == 503:
                report = await response.json()
                break
        await asyncio.sleep(0.1)
    assert response.status == 503 and "whatsapp token" in report["status"] and report["whatsapp"] == "token not valid"


async def test_metrics_count_messages_latency_and_refused_webhooks(served: Served) -> None:
    await served.says(wa.text("hello"), count=2)
    assert await served.post(wa.encode(wa.text("x")), {"X-Hub-Signature-256": "sha256=00"}) == 401
    async with served.http.get(f"{served.url}/metrics") as response:
        assert response.status == 200
        text = await response.text()
    assert 'wegwijs_messages_in_total{channel="whatsapp",kind="text"} 1.0' in text
    assert 'wegwijs_handling_seconds_count{channel="whatsapp"} 1.0' in text
    assert 'wegwijs_webhooks_rejected_total{channel="whatsapp",reason="signature"} 1.0' in text
    assert 'wegwijs_outbox{state="pending"}' in text


@pytest.mark.parametrize("missing", ["WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN", "WHATSAPP_PHONE_NUMBER_ID"])
def test_a_misconfigured_server_names_the_missing_variable(config: Config, missing: str) -> None:
    values = {"WHATSAPP_TOKEN": "t", "WHATSAPP_APP_SECRET": "s", "WHATSAPP_VERIFY_TOKEN": "v", "WHATSAPP_PHONE_NUMBER_ID": "1"}
    del values[missing]
    with pytest.raises(ConfigError) as raised:
        check_environment(dataclasses.replace(config, env=Environment.from_mapping(values)))
    assert missing in str(raised.value)


def test_a_server_without_any_channel_says_so(config: Config) -> None:
    with pytest.raises(ConfigError, match="TELEGRAM_TOKEN"):
        check_environment(dataclasses.replace(config, env=Environment.from_mapping({})))


async def test_the_retention_purge_runs_inside_the_server(store: Store, content: Content, config: Config,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.channels import server as server_module

    purged: list[tuple[int, int]] = []
    real = store.purge_expired

    async def counting(messages_days: int, inactive_user_days: int, at: Any = None) -> dict[str, int]:
        purged.append((messages_days, inactive_user_days))
        return await real(messages_days, inactive_user_days, at)

    monkeypatch.setattr(server_module, "PURGE_EVERY", 0.2)
    monkeypatch.setattr(store, "purge_expired", counting)
    async with FakeGraph() as graph, running(store, content, config, graph):
        for _ in range(50):
            if len(purged) >= 2:
                break
            await asyncio.sleep(0.05)
    retention = config.settings.retention
    assert purged[:2] == [(retention.messages_days, retention.inactive_user_days)] * 2
