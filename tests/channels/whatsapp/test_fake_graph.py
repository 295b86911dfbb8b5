"""The WhatsApp test helpers themselves: signing against published test vectors, webhook factories against the
recorded payloads (and pywa's parser), and the fake Graph API against the behaviour the channel relies on."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from pywa import WhatsApp, types
from pywa.utils import webhook_updates_validator

from tests.helpers import whatsapp as wa
from tests.helpers.fake_graph import FakeGraph

HER = "32470000001"
AUTH = {"Authorization": f"Bearer {wa.TOKEN}"}


def keys(node: Any) -> Any:
    """The key structure of a JSON value: dicts by their keys (recursively), lists item by item, leaves as None."""
    if isinstance(node, dict):
        return {key: keys(value) for key, value in node.items()}
    if isinstance(node, list):
        return [keys(item) for item in node]
    return None


def text_message(body: str = "Hallo", to: str = HER) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "text",
            "text": {"preview_url": False, "body": body}}


def buttons_message(titles: list[str], to: str = HER) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "to": to, "type": "interactive",
            "interactive": {"type": "button", "body": {"text": "Waarmee kan ik helpen?"},
                            "action": {"buttons": [{"type": "reply", "reply": {"id": f"p{index}", "title": title}}
                                                   for index, title in enumerate(titles)]}}}


def list_message(rows: list[tuple[str, str | None]], to: str = HER, button: str = "Kies") -> dict[str, Any]:
    built = []
    for index, (title, description) in enumerate(rows):
        row = {"id": f"row{index}", "title": title}
        if description is not None:
            row["description"] = description
        built.append(row)
    return {"messaging_product": "whatsapp", "to": to, "type": "interactive",
            "interactive": {"type": "list", "body": {"text": "Kies een taal"},
                            "action": {"button": button, "sections": [{"title": "Talen", "rows": built}]}}}


async def post(session: aiohttp.ClientSession, graph: FakeGraph, body: dict[str, Any],
               phone_id: str = wa.PHONE_ID) -> tuple[int, dict[str, Any]]:
    async with session.post(f"{graph.base_url}/{phone_id}/messages", json=body) as response:
        return response.status, await response.json()


# Signatures -------------------------------------------------------------------------------------

def test_pywa_signature_vector_signs_and_validates() -> None:
    vector = json.loads((wa.DATA / "signature_test_vector_pywa.json").read_text(encoding="utf-8"))
    raw = (wa.DATA / "signature_test_vector_pywa_body.json").read_bytes()
    assert len(raw) == vector["raw_body_length_bytes"] == 511
    assert hashlib.sha256(raw).hexdigest() == vector["raw_body_sha256"]
    assert raw == vector["raw_body"].encode("utf-8")
    header = vector["expected_header_value"]
    assert wa.sign(raw, vector["app_secret"]) == header
    assert webhook_updates_validator(vector["app_secret"], raw, header) is vector["expected_valid"] is True
    assert webhook_updates_validator(vector["app_secret"], raw, wa.sign(raw, vector["app_secret"]))
    # one byte more (a re-serialised body, a trailing newline) or another secret breaks it
    assert not webhook_updates_validator(vector["app_secret"], raw + b"\n", header)
    assert not webhook_updates_validator(vector["app_secret"], json.dumps(json.loads(raw)).encode(), header)
    assert not webhook_updates_validator(wa.APP_SECRET, raw, header)
    assert wa.sign(raw) != header


def test_meta_sdk_signature_vector_signs_and_validates() -> None:
    vector = json.loads((wa.DATA / "signature_test_vector_meta_nodejs_sdk.json").read_text(encoding="utf-8"))
    raw = vector["raw_body"].encode("utf-8")
    assert wa.sign(raw, vector["app_secret"]) == vector["expected_header_value"]
    assert vector["expected_header_value"] == "sha256=" + vector["expected_hex_digest"]
    assert webhook_updates_validator(vector["app_secret"], raw, vector["expected_header_value"])
    assert not webhook_updates_validator(vector["app_secret"], b"Test", vector["expected_header_value"])


def test_encode_and_signed_headers_agree_with_pywa() -> None:
    body = wa.text("Bonjour ça va? مرحبا 🙂")
    raw = wa.encode(body)
    assert b": " not in raw and b", " not in raw                      # compact, as Meta sends
    assert "ça va? مرحبا 🙂".encode() in raw                           # UTF-8, not escapes
    assert json.loads(raw) == body
    escaped = wa.encode(body, escape_unicode=True)
    assert escaped.isascii() and b"\\u00e7a va" in escaped and json.loads(escaped) == body
    headers = wa.signed_headers(raw)
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Hub-Signature-256"] == wa.sign(raw)
    assert webhook_updates_validator(wa.APP_SECRET, raw, headers["X-Hub-Signature-256"])
    assert not webhook_updates_validator(wa.APP_SECRET, escaped, headers["X-Hub-Signature-256"])


# Webhook factories ------------------------------------------------------------------------------

# (factory, recorded payload it must match key for key, message type, a check of its content)
FACTORIES: list[tuple[str, Callable[[], dict[str, Any]], str, str, Callable[[dict[str, Any]], bool]]] = [
    ("text", lambda: wa.text("Hallo"), "pywa_text", "text", lambda m: m["text"] == {"body": "Hallo"}),
    ("text reply", lambda: wa.text("Ja", reply_to="wamid.sent-7"), "pywa_reply_context", "text",
     lambda m: m["text"]["body"] == "Ja" and m["context"]["id"] == "wamid.sent-7"),
    ("button_reply", lambda: wa.button_reply("menu:start", "Start"), "pywa_interactive_button_reply", "interactive",
     lambda m: m["interactive"] == {"type": "button_reply", "button_reply": {"id": "menu:start", "title": "Start"}}),
    ("list_reply", lambda: wa.list_reply("lang:ar", "العربية"), "pywa_interactive_list_reply", "interactive",
     lambda m: m["interactive"] == {"type": "list_reply", "list_reply": {"id": "lang:ar", "title": "العربية"}}),
    ("list_reply description", lambda: wa.list_reply("lang:nl", "Nederlands", description="Dutch"),
     "pywa_interactive_list_reply_with_description", "interactive",
     lambda m: m["interactive"]["list_reply"] == {"id": "lang:nl", "title": "Nederlands", "description": "Dutch"}),
    ("quick_reply", lambda: wa.quick_reply("resume", "Verder"), "pywa_button_quick_reply", "button",
     lambda m: m["button"] == {"payload": "resume", "text": "Verder"}),
    ("location current", lambda: wa.location(51.0543, 3.7174, forwarded=True), "pywa_location_current", "location",
     lambda m: m["location"] == {"latitude": 51.0543, "longitude": 3.7174}),
    ("location chosen", lambda: wa.location(51.0543, 3.7174, place="Stadhuis", address="Botermarkt 1, Gent",
                                            url="https://maps.example/1", forwarded=True),
     "pywa_location_chosen", "location", lambda m: m["location"]["name"] == "Stadhuis"),
    ("voice", lambda: wa.voice("media-v1"), "pywa_voice", "audio",
     lambda m: m["audio"]["id"] == "media-v1" and m["audio"]["voice"] is True),
    ("audio", lambda: wa.audio("media-a1", mime_type="audio/mpeg", forwarded=True), "pywa_audio", "audio",
     lambda m: m["audio"]["voice"] is False and m["audio"]["mime_type"] == "audio/mpeg"),
    ("image", lambda: wa.image("media-i1"), "pywa_image", "image", lambda m: m["image"]["id"] == "media-i1"),
    ("document", lambda: wa.document("media-d1", filename="brief.pdf", caption="Mijn brief", forwarded=True),
     "pywa_document", "document",
     lambda m: m["document"]["filename"] == "brief.pdf" and m["document"]["caption"] == "Mijn brief"),
    ("reaction", lambda: wa.reaction("wamid.sent-3", "🙏"), "pywa_reaction", "reaction",
     lambda m: m["reaction"] == {"message_id": "wamid.sent-3", "emoji": "🙏"}),
    ("unsupported", lambda: wa.unsupported(), "pywa_unsupported", "unsupported",
     lambda m: m["errors"][0]["code"] == 131051),
]


@pytest.mark.parametrize(("make", "source", "kind", "check"), [case[1:] for case in FACTORIES],
                         ids=[case[0] for case in FACTORIES])
def test_factory_matches_its_recorded_payload(make: Callable[[], dict[str, Any]], source: str, kind: str,
                                              check: Callable[[dict[str, Any]], bool]) -> None:
    body = make()
    assert keys(body) == keys(wa.recorded(source))
    message = wa.message_of(body)
    assert message["type"] == kind
    assert check(message)
    assert message["from"] == HER and wa.value_of(body)["contacts"][0]["wa_id"] == HER
    assert wa.value_of(body)["contacts"][0]["profile"]["name"] == wa.NAME
    assert wa.value_of(body)["metadata"]["phone_number_id"] == wa.PHONE_ID
    assert message["id"].startswith("wamid.test-")
    assert isinstance(message["timestamp"], str) and message["timestamp"].isdigit()


def test_sticker_is_the_image_payload_with_a_sticker_object() -> None:
    body = wa.sticker("media-s1", animated=True)
    recorded = wa.recorded("pywa_image")
    message, original = wa.message_of(body), wa.message_of(recorded)
    assert message["type"] == "sticker" and "image" not in message
    assert message["sticker"]["id"] == "media-s1" and message["sticker"]["mime_type"] == "image/webp"
    assert set(message["sticker"]) == {"mime_type", "sha256", "id", "animated"} and message["sticker"]["animated"] is True
    del message["sticker"], original["image"]
    assert keys(body) == keys(recorded)


def test_contacts_is_a_shared_contact_card() -> None:
    body = wa.contacts("Sara Peeters", "+32 470 00 00 02", contact_wa_id="32470000002")
    recorded = wa.recorded("pywa_text")
    message, original = wa.message_of(body), wa.message_of(recorded)
    assert message["type"] == "contacts" and "text" not in message
    card = message["contacts"][0]
    assert card["name"]["formatted_name"] == "Sara Peeters" and card["name"]["first_name"] == "Sara"
    assert card["phones"] == [{"phone": "+32 470 00 00 02", "type": "CELL", "wa_id": "32470000002"}]
    del message["contacts"], original["text"]
    assert keys(body) == keys(recorded)


@pytest.mark.parametrize("state", wa.STATES)
def test_status_matches_its_recorded_payload(state: str) -> None:
    body = wa.status("wamid.sent-9", state, recipient="32470000042", timestamp=1700000000)
    assert keys(body) == keys(wa.recorded(f"pywa_status_{state}"))
    update = wa.value_of(body)["statuses"][0]
    assert update["id"] == "wamid.sent-9" and update["status"] == state
    assert update["recipient_id"] == "32470000042" and update["timestamp"] == "1700000000"
    assert ("errors" in update) is (state == "failed")


def test_status_failed_takes_given_errors_and_refuses_unknown_states() -> None:
    errors = [{"code": 131047, "title": "Re-engagement message", "message": "Re-engagement message",
               "error_data": {"details": "Message failed to send because more than 24 hours have passed."}}]
    update = wa.value_of(wa.status("wamid.sent-1", "failed", errors=errors))["statuses"][0]
    assert update["errors"] == errors
    with pytest.raises(ValueError):
        wa.status("wamid.sent-1", "deleted")


def test_factories_give_fresh_ids_and_keep_the_recorded_payloads_intact() -> None:
    first, second = wa.message_of(wa.text("a")), wa.message_of(wa.text("b"))
    assert first["id"] != second["id"]
    assert wa.message_of(wa.text("c", wamid="wamid.mine"))["id"] == "wamid.mine"
    assert wa.message_of(wa.text("d", timestamp=1699999999))["timestamp"] == "1699999999"
    other = wa.value_of(wa.text("e", wa_id="32470000099", name="Fatima"))["contacts"][0]
    mine = wa.value_of(wa.text("f"))["contacts"][0]
    assert other["profile"]["name"] == "Fatima" and other["user_id"] != mine["user_id"]
    assert wa.message_of(wa.recorded("pywa_text"))["text"]["body"] == "Body Text"   # deep copies: untouched
    copy = wa.recorded("pywa_text")
    copy["entry"].clear()
    assert wa.recorded("pywa_text")["entry"]


def test_factories_drop_the_forwarded_marker_unless_asked() -> None:
    assert "context" not in wa.message_of(wa.audio("m1"))
    assert "context" not in wa.message_of(wa.location(1.0, 2.0))
    assert wa.message_of(wa.document("m2", forwarded=True))["context"] == {"forwarded": True}
    assert "caption" not in wa.message_of(wa.document("m3"))["document"]
    assert wa.message_of(wa.image("m4", "Mijn brief"))["image"]["caption"] == "Mijn brief"
    assert wa.message_of(wa.reaction("wamid.sent-1", None))["reaction"] == {"message_id": "wamid.sent-1"}
    assert wa.message_of(wa.button_reply("a", "A", context_id="wamid.sent-5"))["context"]["id"] == "wamid.sent-5"


def test_pywa_parses_every_factory_body_as_the_right_update() -> None:
    client = WhatsApp(phone_id=wa.PHONE_ID, token=wa.TOKEN, server=None, verify_token=None)
    cases: list[tuple[dict[str, Any], str]] = [
        (wa.text("hoi"), "text"), (wa.image("i", "c"), "image"), (wa.document("d"), "document"),
        (wa.audio("a"), "audio"), (wa.voice("v"), "audio"), (wa.sticker("s"), "sticker"),
        (wa.location(1.0, 2.0), "location"), (wa.reaction("wamid.sent-1"), "reaction"),
        (wa.contacts(), "contacts"), (wa.unsupported(), "unsupported")]
    for body, kind in cases:
        parsed = types.Message.from_update(client, body)
        assert parsed.type == kind and parsed.from_user.wa_id == HER and parsed.from_user.name == wa.NAME
    assert types.Message.from_update(client, wa.sticker("s")).sticker.id == "s"
    assert types.Message.from_update(client, wa.voice("v")).audio.voice is True
    assert types.Message.from_update(client, wa.contacts()).contacts[0].phones[0].wa_id == "32470000002"
    assert types.CallbackButton.from_update(client, wa.button_reply("go", "Go")).data == "go"
    assert types.CallbackButton.from_update(client, wa.quick_reply("resume", "Verder")).data == "resume"
    assert types.CallbackSelection.from_update(client, wa.list_reply("lang:nl", "NL", description="d")).data == "lang:nl"
    assert types.MessageStatus.from_update(client, wa.status("wamid.sent-2", "read")).status == "read"


# The fake Graph API ------------------------------------------------------------------------------

async def test_accepts_and_records_text_buttons_and_list() -> None:
    async with FakeGraph() as graph, aiohttp.ClientSession(headers=AUTH) as session:
        assert graph.base_url == f"http://127.0.0.1:{graph.port}/v21.0"
        status, answer = await post(session, graph, text_message("Welkom"))
        assert status == 200
        assert answer == {"messaging_product": "whatsapp", "contacts": [{"input": HER, "wa_id": HER}],
                          "messages": [{"id": "wamid.sent-1"}]}
        status, answer = await post(session, graph, buttons_message(["Ja", "Nee", "Misschien later"]))
        assert status == 200 and answer["messages"][0]["id"] == "wamid.sent-2"
        status, _ = await post(session, graph, list_message([("Nederlands", "Dutch"), ("العربية", None)] +
                                                            [(f"Taal {n}", "x" * 72) for n in range(8)]))
        assert status == 200
        assert len(graph.sent) == 3 and graph.sent[0] == text_message("Welkom")
        assert graph.texts() == ["Welkom", "Waarmee kan ik helpen?", "Kies een taal"]
        assert graph.sent_ids == ["wamid.sent-1", "wamid.sent-2", "wamid.sent-3"]
        recorded = graph.requests[0]
        assert (recorded.method, recorded.path, recorded.version, recorded.status) == (
            "POST", f"/v21.0/{wa.PHONE_ID}/messages", "v21.0", 200)
        assert recorded.json == text_message("Welkom") and recorded.headers["authorization"] == AUTH["Authorization"]
        assert graph.requests_to("messages") == graph.requests


async def test_accepts_any_version_and_records_it() -> None:
    async with FakeGraph() as graph, aiohttp.ClientSession(headers=AUTH) as session:
        async with session.post(f"{graph.origin}/v23.0/{wa.PHONE_ID}/messages", json=text_message()) as response:
            assert response.status == 200
        async with session.post(f"{graph.origin}/latest/{wa.PHONE_ID}/messages", json=text_message()) as response:
            assert response.status == 400
        assert graph.versions == {"v23.0"} and len(graph.sent) == 1


@pytest.mark.parametrize(("body", "why"), [
    (buttons_message(["Een", "Twee", "Drie", "Vier"]), "buttons must hold 1 to 3"),
    (buttons_message(["Dit is een veel te lange titel"]), "title length invalid"),
    (buttons_message(["Ja", "Ja"]), "unique"),
    (list_message([("x" * 25, None)]), "title length invalid"),
    (list_message([("Nederlands", "d" * 73)]), "description length invalid"),
    (list_message([(f"Taal {n}", None) for n in range(11)]), "at most 10 rows"),
    (list_message([("Nederlands", None)], button="Kies hier je eigen taal"), "action.button length invalid"),
    (text_message("x" * 4097), "text.body length invalid"),
    ({**buttons_message(["Ja"]), "interactive": {**buttons_message(["Ja"])["interactive"], "body": {"text": "y" * 1025}}},
     "interactive.body.text length invalid"),
    ({**text_message(), "messaging_product": "sms"}, "messaging_product"),
    ({key: value for key, value in text_message().items() if key != "to"}, "parameter to is required"),
    ({**text_message(), "type": "carousel"}, "Unknown message type"),
    ({"messaging_product": "whatsapp", "to": HER, "type": "image", "image": {"caption": "x"}}, "image.id or image.link"),
])
async def test_refuses_what_whatsapp_would_refuse(body: dict[str, Any], why: str) -> None:
    async with FakeGraph() as graph, aiohttp.ClientSession(headers=AUTH) as session:
        status, answer = await post(session, graph, body)
        assert status == 400
        error = answer["error"]
        assert error["code"] == 100 and error["type"] == "OAuthException" and error["message"] == "(#100) Invalid parameter"
        assert why in error["error_data"]["details"] and error["error_data"]["messaging_product"] == "whatsapp"
        assert error["fbtrace_id"]
        assert graph.sent == [] and graph.refused[0].body == body and graph.requests[0].status == 400


async def test_refuses_a_missing_or_wrong_token() -> None:
    async with FakeGraph() as graph:
        async with aiohttp.ClientSession() as session:
            status, answer = await post(session, graph, text_message())
        assert status == 401
        assert answer["error"]["code"] == 190 and answer["error"]["type"] == "OAuthException" and answer["error"]["fbtrace_id"]
        async with aiohttp.ClientSession(headers={"Authorization": "Bearer another-token"}) as session:
            status, _ = await post(session, graph, text_message())
            assert status == 401
            async with session.get(f"{graph.base_url}/some-media") as response:
                assert response.status == 401
        async with aiohttp.ClientSession(headers={"Authorization": wa.TOKEN}) as session:   # no "Bearer"
            status, _ = await post(session, graph, text_message())
            assert status == 401
        assert graph.sent == [] and [r.status for r in graph.requests] == [401, 401, 401, 401]
    async with FakeGraph(token="other") as graph, aiohttp.ClientSession(headers={"Authorization": "Bearer other"}) as session:
        assert (await post(session, graph, text_message()))[0] == 200


async def test_scripted_failures_come_once_each_and_in_order() -> None:
    async with FakeGraph() as graph, aiohttp.ClientSession(headers=AUTH) as session:
        graph.fail_next(status=500)
        graph.fail_next(status=429, code=130429)
        graph.fail_next(status=400, code=131047)
        graph.fail_next(code=131026)
        graph.fail_next(code=131056)
        graph.fail_next(code=190)
        answers = [await post(session, graph, text_message(f"m{n}")) for n in range(7)]
        assert [status for status, _ in answers] == [500, 429, 400, 400, 400, 401, 200]
        codes = [answer["error"]["code"] for _, answer in answers[:6]]
        assert codes == [2, 130429, 131047, 131026, 131056, 190]
        for _, answer in answers[1:5]:
            error = answer["error"]
            assert error["type"] == "OAuthException" and error["message"].startswith(f"(#{error['code']})")
            assert error["error_data"]["messaging_product"] == "whatsapp" and error["error_data"]["details"]
            assert error["fbtrace_id"]
        assert "24 hours" in answers[2][1]["error"]["error_data"]["details"]
        assert answers[5][1]["error"]["error_subcode"] == 463
        assert graph.texts() == ["m6"] and graph.failures == []


async def test_a_failure_for_one_recipient_waits_for_her() -> None:
    async with FakeGraph() as graph, aiohttp.ClientSession(headers=AUTH) as session:
        graph.fail_next(code=131047, to="32470000002")
        assert (await post(session, graph, text_message(to=HER)))[0] == 200
        status, answer = await post(session, graph, text_message(to="32470000002"))
        assert status == 400 and answer["error"]["code"] == 131047
        assert (await post(session, graph, text_message(to="32470000002")))[0] == 200
        assert [body["to"] for body in graph.sent] == [HER, "32470000002"] and len(graph.to(HER)) == 1


async def test_a_dropped_connection_and_a_non_json_error() -> None:
    async with FakeGraph() as graph, aiohttp.ClientSession(headers=AUTH) as session:
        graph.fail_next(drop=True)
        graph.fail_next(status=502, body=b"<html>Bad Gateway</html>")
        with pytest.raises(aiohttp.ClientError):
            await post(session, graph, text_message("lost"))
        async with session.post(f"{graph.base_url}/{wa.PHONE_ID}/messages", json=text_message()) as response:
            assert response.status == 502 and await response.text() == "<html>Bad Gateway</html>"
        assert (await post(session, graph, text_message("through")))[0] == 200
        assert graph.texts() == ["through"]


async def test_mark_as_read_is_answered_but_not_sent() -> None:
    async with FakeGraph() as graph, aiohttp.ClientSession(headers=AUTH) as session:
        read = {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.test-1"}
        status, answer = await post(session, graph, read)
        assert (status, answer) == (200, {"success": True})
        assert graph.read == [read] and graph.sent == []


async def test_uploaded_media_through_the_url_and_download_steps() -> None:
    data = b"%PDF-1.4 een brief"
    async with FakeGraph() as graph, aiohttp.ClientSession(headers=AUTH) as session:
        form = aiohttp.FormData()
        form.add_field("messaging_product", "whatsapp")
        form.add_field("type", "application/pdf")
        form.add_field("file", data, filename="brief.pdf", content_type="application/pdf")
        async with session.post(f"{graph.base_url}/{wa.PHONE_ID}/media", data=form) as response:
            assert response.status == 200
            media_id = (await response.json())["id"]
        assert media_id == "media-up-1"
        assert graph.uploads[media_id].data == data and graph.uploads[media_id].mime_type == "application/pdf"
        assert graph.uploads[media_id].filename == "brief.pdf"
        upload = graph.requests[0]
        assert upload.form == {"messaging_product": "whatsapp", "type": "application/pdf"} and upload.files is not None
        async with session.get(f"{graph.base_url}/{media_id}") as response:
            found = await response.json()
        assert found == {"messaging_product": "whatsapp", "url": found["url"], "mime_type": "application/pdf",
                         "sha256": hashlib.sha256(data).hexdigest(), "file_size": str(len(data)), "id": media_id}
        assert found["url"].startswith(f"{graph.origin}/download/{media_id}")
        async with session.get(found["url"]) as response:
            assert response.status == 200 and response.content_type == "application/pdf"
            assert await response.read() == data
        async with aiohttp.ClientSession() as anonymous, anonymous.get(found["url"]) as response:
            assert response.status == 401                       # the CDN URL needs the token too
        assert [r.status for r in graph.requests_to("download")] == [200, 401]


async def test_added_media_and_unknown_ids() -> None:
    voice = b"OggS\x00\x02voice-note"
    async with FakeGraph() as graph, aiohttp.ClientSession(headers=AUTH) as session:
        graph.add_media("1234567890987654321", voice, "audio/ogg; codecs=opus")
        async with session.get(f"{graph.base_url}/1234567890987654321") as response:
            found = await response.json()
        assert found["mime_type"] == "audio/ogg; codecs=opus" and found["file_size"] == str(len(voice))
        async with session.get(found["url"]) as response:
            assert await response.read() == voice and response.headers["Content-Type"] == "audio/ogg; codecs=opus"
        async with session.get(f"{graph.base_url}/no-such-media") as response:
            assert response.status == 400
            error = (await response.json())["error"]
        assert error["code"] == 100 and "no-such-media" in error["message"] and error["fbtrace_id"]
        async with session.get(f"{graph.origin}/download/no-such-media") as response:
            assert response.status == 404
        form = aiohttp.FormData()
        form.add_field("file", b"x", filename="x.bin", content_type="application/octet-stream")
        async with session.post(f"{graph.base_url}/{wa.PHONE_ID}/media", data=form) as response:
            assert response.status == 400 and "messaging_product" in (await response.json())["error"]["error_data"]["details"]
        graph.fail_next(status=500, endpoint="download")
        async with session.get(found["url"]) as response:
            assert response.status == 500
        async with session.get(found["url"]) as response:
            assert response.status == 200


async def test_wait_for_returns_or_times_out_readably() -> None:
    async with FakeGraph() as graph, aiohttp.ClientSession(headers=AUTH) as session:
        sending = asyncio.create_task(post(session, graph, text_message("Eerste")))
        assert await graph.wait_for(1, timeout=2) == graph.sent
        assert (await sending)[0] == 200
        await post(session, graph, buttons_message(["Een", "Twee", "Drie", "Vier"]))
        with pytest.raises(AssertionError) as failure:
            await graph.wait_for(2, timeout=0.1)
        message = str(failure.value)
        assert "expected 2 message(s)" in message and "got 1" in message and "'Eerste'" in message
        assert "buttons must hold 1 to 3" in message
