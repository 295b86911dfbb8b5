"""`wegwijs rasa-actions` over HTTP: rasa-sdk's own server with Wegwijs' actions, called as Rasa calls it
(the recorded requests in tests/data/rasa/ and trackers built for each case), with a fake of Rasa's HTTP
API on 127.0.0.1 for the counsellor's messages that reach her without her writing first."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import pytest

from bot.channels import Terminal
from bot.channels.rasa.tracker import rasa_payload
from bot.desk import Desk, DeskMessage
from bot.messages import DESK, Kind
from bot.tools.export import records
from tests.helpers.rasa import DOMAIN, FORM_SLOTS, OUR_SLOTS, Server, buttons, call, desk_bodies, load, slots, texts


async def test_health_and_actions_are_rasa_sdks(server: Server) -> None:
    async with server.http.get(f"{server.url}/health") as response:
        assert response.status == 200 and await response.json() == {"status": "ok"}
    async with server.http.get(f"{server.url}/actions") as response:
        names = {item["name"] for item in await response.json()}
    assert {"action_wegwijs_answer", "action_wegwijs_handoff", "action_wegwijs_relay", "action_wegwijs_signup",
            "validate_job_shadowing_form"} <= names
    assert {f"action_ask_{slot}" for slot in FORM_SLOTS} <= names


@pytest.mark.parametrize("text, language, entry", [
    ("where can i learn dutch", "en", "dutch-courses/"),
    ("waar kan ik nederlands leren", "nl", "dutch-courses/"),
    ("أين يمكنني تعلم اللغة الهولندية", "ar", "dutch-courses/"),
    ("де я можу вивчати нідерландську мову", "uk", "dutch-courses/"),
])
async def test_answer_in_her_language_sets_entry_and_topic(server: Server, text: str, language: str, entry: str) -> None:
    body = await server.run("action_wegwijs_answer", text, sender=f"w-{language}")
    found = slots(body)
    assert found["wegwijs_entry"].startswith(entry) and found["wegwijs_topic"] == entry.rstrip("/")
    answer = server.conversation.content.knowledge.entries[found["wegwijs_entry"]].answers[language]
    assert any(answer.title in text for text in texts(body))  # the answer in the language she wrote in
    assert "language" not in found  # the assistant's slot stays its own: unset, her language is detected each time
    helpful = [button for button in buttons(body) if "helpful" in button["payload"]]
    assert helpful and helpful[0]["payload"] == rasa_payload(f"helpful:{found['wegwijs_entry']}")


async def test_language_slot_wins_over_detection(server: Server) -> None:
    body = await server.run("action_wegwijs_answer", "where can i learn dutch", slots={"language": "fr"})
    entry = slots(body)["wegwijs_entry"]
    title = server.conversation.content.knowledge.entries[entry].answers["fr"].title
    assert any(title in text for text in texts(body))


async def test_pressed_button_comes_back_as_wegwijs_payload(server: Server) -> None:
    first = await server.run("action_wegwijs_answer", "where can i learn dutch")
    entry = slots(first)["wegwijs_entry"]
    body = await server.run("action_wegwijs_answer", payload=f"helpful:{entry}")
    assert texts(body) and slots(body).get("wegwijs_entry") is None  # thanked, not answered again
    async with server.store.engine.connect() as connection:
        from sqlalchemy import func, select

        from bot.storage import Feedback
        assert (await connection.execute(select(func.count()).select_from(Feedback))).scalar_one() == 1


async def test_emergency_first_and_urgent_case(server: Server) -> None:
    body = await server.run("action_wegwijs_answer", "my husband beat me yesterday and says he will kill me", sender="sara")
    assert "112" in texts(body)[0] or "112" in " ".join(texts(body))
    assert slots(body)["wegwijs_handoff"] is True  # her next messages go to the relay
    cases = await server.store.list_cases(("open", "waiting"))
    assert len(cases) == 1 and cases[0].urgent and cases[0].emergency


async def test_near_tie_gives_did_you_mean_buttons(server: Server) -> None:
    found = None
    for text in ("course", "papers", "help with my child", "work"):
        body = await server.run("action_wegwijs_answer", text, sender=f"dym-{text}")
        if len(buttons(body)) >= 2 and slots(body).get("wegwijs_entry") is None:
            found = body
            break
    assert found is not None, "none of the short questions gave did-you-mean buttons"
    assert all(button["payload"].startswith("/wegwijs_button{") for button in buttons(found))


async def test_off_topic_is_an_honest_fallback_and_logged(server: Server) -> None:
    body = await server.run("action_wegwijs_answer", "what is the capital of mongolia", sender="q")
    assert slots(body).get("wegwijs_entry") is None
    from sqlalchemy import func, select

    from bot.storage import Unanswered
    async with server.store.engine.connect() as connection:
        assert (await connection.execute(select(func.count()).select_from(Unanswered))).scalar_one() == 1


async def test_signup_wish_starts_the_assistants_form(server: Server) -> None:
    body = await server.run("action_wegwijs_answer", "i want to sign up for job shadowing")
    assert {"event": "followup", "timestamp": None, "name": "job_shadowing_form"} in body["events"]


async def test_without_the_form_in_the_domain_wegwijs_runs_the_flow(server: Server) -> None:
    domain = {"slots": {name: {} for name in OUR_SLOTS}}
    body = await server.run("action_wegwijs_answer", "i want to sign up for job shadowing", domain=domain)
    assert slots(body)["wegwijs_flow"] == "job-shadowing"
    assert any(button["payload"] == rasa_payload("answer:yes") for button in buttons(body))


# The job-shadowing form ---------------------------------------------------------------------------

def form_call(slot: str, value: Any, filled: dict[str, Any], sender: str = "amina") -> dict[str, Any]:
    body = call("validate_job_shadowing_form", str(value), sender=sender, slots={**filled, slot: value, "requested_slot": slot},
                active_loop={"name": "job_shadowing_form"})
    body["tracker"]["events"].append({"event": "slot", "name": slot, "value": value})
    return body


async def test_form_rejects_a_wrong_phone_number_with_the_flows_message(server: Server) -> None:
    filled = {"wegwijs_consent": "yes", "wegwijs_first_name": "Amina", "wegwijs_contact": "phone", "language": "en"}
    status, body = await server.post(form_call("wegwijs_phone", "my number is secret", filled))
    assert status == 200
    assert slots(body)["wegwijs_phone"] is None and slots(body)["requested_slot"] == "wegwijs_phone"
    expected = server.conversation.content.catalogs.get("en", "flow-invalid-phone").text
    assert texts(body) == [expected]


async def test_form_accepts_values_as_the_flow_does_and_follows_its_branches(server: Server) -> None:
    filled = {"wegwijs_consent": "yes", "wegwijs_first_name": "Amina", "language": "en"}
    status, body = await server.post(form_call("wegwijs_contact", rasa_payload("answer:chat"), filled))
    assert status == 200 and texts(body) == []
    assert slots(body)["wegwijs_contact"] == "chat"
    assert slots(body)["requested_slot"] == "wegwijs_languages"  # no phone number asked when she is reached in the chat
    status, body = await server.post(form_call("wegwijs_postcode", "ik woon in Gent 9000", {**filled, "wegwijs_contact": "chat"}))
    assert slots(body)["wegwijs_postcode"] == "9000"


async def test_form_consent_no_ends_the_form(server: Server) -> None:
    status, body = await server.post(form_call("wegwijs_consent", "no", {"language": "en"}))
    assert slots(body)["wegwijs_consent"] == "no" and slots(body)["requested_slot"] is None


async def test_form_question_in_her_language_with_buttons(server: Server) -> None:
    body = await server.run("action_ask_wegwijs_contact", slots={"language": "ar"})
    catalogs = server.conversation.content.catalogs
    assert texts(body) == [catalogs.translate("ar", "How can a counsellor reach you?").text]
    assert [button["payload"] for button in buttons(body)] == [rasa_payload("answer:chat"), rasa_payload("answer:phone")]


ANSWERS = {"wegwijs_consent": "yes", "wegwijs_first_name": "Amina", "wegwijs_contact": "phone", "wegwijs_phone": "0499123456",
           "wegwijs_languages": "arabic, french", "wegwijs_dutch_level": "a1", "wegwijs_sectors": "care", "wegwijs_days": "mornings",
           "wegwijs_childcare": "yes", "wegwijs_postcode": "9000", "wegwijs_notes": ""}


async def test_signup_is_stored_like_the_flows_and_exported_with_channel_rasa(server: Server) -> None:
    body = await server.run("action_wegwijs_signup", slots={**ANSWERS, "language": "en"})
    assert any("Amina" in text for text in texts(body))
    assert all(slots(body)[name] is None for name in FORM_SLOTS)  # the form's slots emptied
    stored = await records(server.store, "signup")
    assert len(stored) == 1
    assert stored[0]["channel"] == "rasa" and stored[0]["flow"] == "job-shadowing" and stored[0]["phone"] == "0499123456"


async def test_signup_without_consent_stores_nothing(server: Server) -> None:
    body = await server.run("action_wegwijs_signup", slots={"wegwijs_consent": "no", "language": "en"})
    assert texts(body)
    assert await records(server.store, "signup") == []


async def test_recorded_form_requests_of_other_forms_get_nothing_from_us(server: Server) -> None:
    request = load("validate_form1_request_global_slot_rasa_sdk_test.json")["request"]
    status, body = await server.post(request)
    assert status == 404 and body["action_name"] == "validate_form1"


# Handoff and relay -------------------------------------------------------------------------------

async def test_handoff_case_card_relay_both_ways_and_close(server: Server) -> None:
    """The counsellor works from the terminal's desk (`wegwijs chat --json` with "user": "desk:Amal")."""
    earlier = [{"event": "user", "text": "my residence card expires next month", "message_id": "e1"},
               {"event": "bot", "text": "Here is what I know about residence cards."}]
    body = await server.run("action_wegwijs_handoff", "i want to talk to a person", sender="nadia", events=earlier)
    assert slots(body)["wegwijs_handoff"] is True
    [case] = await server.store.list_cases(("open", "waiting"))
    terminal = Terminal(server.conversation, io.StringIO())
    [card] = [reply for reply in await terminal.relayed() if reply.key == "desk-card"]
    assert card.recipient == DESK and card.case == case.id
    heading = server.conversation.content.catalogs.get("en", "desk-card-conversation").text
    conversation = card.text.split(heading)[1]  # both sides, in order, from the tracker
    assert conversation.index("› my residence card expires next month") < conversation.index("🤖 Here is what I know")
    assert "nadia" not in card.text  # her Rasa id is never on the desk

    await terminal.counsellor("Amal", Kind.BUTTON, payload=f"take:{case.id}", case=case.id)
    await terminal.counsellor("Amal", Kind.TEXT, text="Hello Nadia, I am Amal. How can I help?", case=case.id)
    for _ in range(100):  # the outbox calls Rasa's execute; Rasa runs the relay, which utters what waits
        if any("How can I help" in (message.get("text") or "") for message in server.rasa.uttered.get("nadia", [])):
            break
        await asyncio.sleep(0.05)
    uttered = [message["text"] for message in server.rasa.uttered["nadia"]]
    assert any("How can I help" in text for text in uttered)
    assert server.rasa.executed[0]["name"] == "action_wegwijs_relay" and server.rasa.executed[0]["params"]["output_channel"] == "latest"
    assert {"event": "action", "name": "action_listen"} in [{k: e.get(k) for k in ("event", "name")} for e in server.rasa.events]

    body = await server.run("action_wegwijs_relay", "my card number is 0499 12 34 56", sender="nadia", slots={"wegwijs_handoff": True})
    assert texts(body) == []  # with a counsellor: the bot stays silent
    relayed = [reply.text for reply in await terminal.relayed() if reply.key == "her-message"]
    assert relayed and "my card number is" in relayed[-1] and "0499" not in relayed[-1]  # the phone number hidden from the desk

    await terminal.counsellor("Amal", Kind.BUTTON, payload=f"close:{case.id}", case=case.id)
    for _ in range(100):
        if server.rasa.slots.get("nadia", {}).get("wegwijs_handoff", True) is None:
            break
        await asyncio.sleep(0.05)
    assert server.rasa.slots["nadia"]["wegwijs_handoff"] is None  # closed: said so, and the slot cleared
    closed = server.conversation.content.catalogs.get("en", "handoff-closed-by-counsellor").text
    assert closed in [message["text"] for message in server.rasa.uttered["nadia"]]


async def test_counsellor_message_waits_while_rasa_is_down_then_arrives(server: Server) -> None:
    await server.run("action_wegwijs_handoff", "i need a counsellor", sender="rana")
    [case] = await server.store.list_cases(("open", "waiting"))
    server.rasa.status = 503
    desk = Desk(server.conversation)
    await desk.handle(DeskMessage("Amal", "d1", case.id, Kind.BUTTON, payload=f"take:{case.id}"))
    for _ in range(100):
        if server.rasa.executed:
            break
        await asyncio.sleep(0.05)
    assert server.rasa.executed and not server.rasa.uttered.get("rana")
    # she writes before the outbox tries again: the relay hands her what waited
    body = await server.run("action_wegwijs_relay", "hello?", sender="rana", slots={"wegwijs_handoff": True})
    assert any("Amal" in text for text in texts(body))


async def test_on_rests_channel_the_counsellor_message_waits_for_her_next_message(server: Server) -> None:
    """Rasa's REST channel cannot write to her first (execute would hand the messages back): nothing is taken then."""
    await server.run("action_wegwijs_handoff", "i need a counsellor", sender="lina")
    [case] = await server.store.list_cases(("open", "waiting"))
    server.rasa.input_channel = "rest"
    await Desk(server.conversation).handle(DeskMessage("Amal", "d1", case.id, Kind.BUTTON, payload=f"take:{case.id}"))
    for _ in range(100):
        if server.rasa.executed:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)
    assert len(server.rasa.executed) == 1  # deferred, not retried in a loop
    body = await server.run("action_wegwijs_relay", "are you there?", sender="lina", slots={"wegwijs_handoff": True})
    assert any("Amal" in text for text in texts(body)), body


# Bad requests -------------------------------------------------------------------------------------

@pytest.mark.parametrize("body, status", [
    ({"next_action": "action_wegwijs_answer"}, 400),
    ({"next_action": "action_wegwijs_answer", "tracker": "amina", "domain": {}}, 400),
    ({"next_action": "action_wegwijs_answer", "tracker": {"sender_id": 7}, "domain": {}}, 400),
    ({"next_action": "action_wegwijs_answer", "tracker": {"sender_id": "a", "events": {}}, "domain": {}}, 400),
    ({"next_action": "action_wegwijs_answer", "tracker": {"sender_id": "a", "latest_message": {"text": 5}}, "domain": {}}, 400),
    ({"next_action": 5, "tracker": {"sender_id": "a"}}, 400),
    ({"next_action": "action_wegwijs_answer", "tracker": {"sender_id": "a", "latest_message": {"text": "hi", "intent": "greet"}}, "domain": {}}, 400),
    ({"next_action": "action_wegwijs_answer", "tracker": {"sender_id": "a", "latest_message": {"text": "hi", "entities": 5}}, "domain": {}}, 400),
    ({"next_action": "validate_job_shadowing_form", "tracker": {"sender_id": "a", "events": [5]}, "domain": {}}, 400),
    ([1, 2], 400),
    ({"next_action": "action_wegwijs_answer", "tracker": {"sender_id": "a", "latest_message": {"text": "hi"}}}, 449),
])
async def test_malformed_calls_get_rasa_sdks_error_and_store_nothing(server: Server, body: Any, status: int) -> None:
    got, answer = await server.post(body)
    assert got == status and "error" in answer
    assert (await server.store.counts())["users"] == 0 and (await server.store.counts())["messages"] == 0


async def test_body_that_is_not_json_is_refused(server: Server) -> None:
    async with server.http.post(f"{server.url}/webhook", data=b"{not json", headers={"Content-Type": "application/json"}) as response:
        assert response.status == 400


@pytest.mark.parametrize("case", [case for case in load("action_server_http_cases_rasa_sdk.json")["cases"]
                                  if case["name"] in ("unknown_action", "health")], ids=lambda case: case["name"])
async def test_recorded_http_cases(server: Server, case: dict[str, Any]) -> None:
    if case.get("request_method") == "GET":
        async with server.http.get(f"{server.url}{case['path']}") as response:
            assert response.status == case["expected_status"] and await response.json() == case["expected_body"]
        return
    status, body = await server.post(case["request"])
    assert status == case["expected_status"] and body == case["expected_body"]


async def test_recorded_weather_request_for_our_answer_action(server: Server) -> None:
    request = load("action_request_docs_weather.json")
    request["next_action"] = "action_wegwijs_answer"
    request["tracker"]["latest_message"]["text"] = request["tracker"]["events"][-1]["text"] = "how do i find a creche for my baby"
    status, body = await server.post(request)
    assert status == 200 and body["responses"]
    assert (await server.store.counts())["users"] == 1


async def test_recorded_tracker_without_message_ids_is_handled_once(server: Server) -> None:
    tracker = load("tracker_moodbot.json")
    tracker["latest_message"]["text"] = "where can i learn dutch"
    request = {"next_action": "action_wegwijs_answer", "tracker": tracker, "domain": DOMAIN}
    first = await server.post(request)
    again = await server.post(request)
    assert first[0] == again[0] == 200
    assert first[1]["responses"] and again[1]["responses"] == []  # a redelivered call: not answered twice


async def test_forget_through_the_assistant_leaves_nothing_of_her(server: Server) -> None:
    await server.run("action_wegwijs_answer", "where can i learn dutch", sender="hiba")
    await server.run("action_wegwijs_handoff", "i want a person", sender="hiba")
    body = await server.run("action_wegwijs_answer", "/forget", sender="hiba")
    assert rasa_payload("forget:yes") in [button["payload"] for button in buttons(body)]
    body = await server.run("action_wegwijs_answer", payload="forget:yes", sender="hiba")
    assert texts(body)  # the goodbye
    counts = await server.store.counts()
    assert counts["users"] == 0 and counts["messages"] == 0 and counts["states"] == 0
    assert await server.store.list_cases(("open", "waiting", "active", "closed")) == []


async def test_card_keeps_the_assistants_lines_private_and_starts_at_the_last_restart(server: Server) -> None:
    earlier = [{"event": "user", "text": "I am Fatima from Kerkstraat 5", "message_id": "e0"}, {"event": "restart"},
               {"event": "user", "text": "i need help with papers", "message_id": "e1"},
               {"event": "bot", "text": "We will call you on 0499 12 34 56"},
               {"event": "active_loop", "name": "job_shadowing_form"}, {"event": "user", "text": "Fatima", "message_id": "e2"},
               {"event": "active_loop", "name": None}]
    await server.run("action_wegwijs_handoff", "a person please", sender="fatima", events=earlier)
    [card] = [body["text"] for body in await desk_bodies(server.store) if body.get("key") == "desk-card"]
    assert "i need help with papers" in card
    assert "Kerkstraat" not in card and "0499" not in card and "› Fatima" not in card
