"""examples/rasa/, the Rasa project an organisation copies from, against the action server: every action its
domain names is served, every slot the actions set is declared, its form is the flow's, its rules and NLU
name only what the domain has; and its sign-up form driven as Rasa drives a form, to the stored sign-up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from bot.channels.rasa.tracker import rasa_payload, typed_payload
from bot.core import Content
from bot.tools.export import records
from tests.helpers.rasa import OUR_SLOTS, Server, call, slots, texts

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "rasa"
RASA_BUILTIN_INTENTS = {"nlu_fallback"}
RASA_BUILTIN_ACTIONS = {"action_listen", "action_restart", "action_session_start", "action_default_fallback"}


def read(name: str) -> Any:
    return yaml.safe_load((EXAMPLE / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def domain() -> dict[str, Any]:
    return read("domain.yml")


async def served(server: Server) -> set[str]:
    async with aiohttp.ClientSession() as http, http.get(f"{server.url}/actions") as response:
        return {item["name"] for item in await response.json()}


async def test_every_action_the_domain_names_is_served(server: Server, domain: dict[str, Any]) -> None:
    names = set(domain["actions"])
    assert names and names <= await served(server)


async def test_every_action_served_for_the_example_is_in_its_domain(server: Server, domain: dict[str, Any]) -> None:
    assert await served(server) <= set(domain["actions"])


def test_every_slot_the_actions_set_is_declared(domain: dict[str, Any], content: Content) -> None:
    flow = content.flows["job-shadowing"]
    form_slots = [f"wegwijs_{step.save}" for step in flow.steps if step.ask and step.save]
    assert set(OUR_SLOTS) | set(form_slots) <= set(domain["slots"])
    assert domain["forms"]["job_shadowing_form"]["required_slots"] == form_slots
    assert domain["slots"]["wegwijs_handoff"]["type"] == "bool"  # its rule's condition is `true`
    for slot in form_slots:
        assert f"action_ask_{slot}" in domain["actions"]
        [mapping] = domain["slots"][slot]["mappings"]
        assert mapping["type"] == "from_text" and mapping["conditions"] == [{"active_loop": "job_shadowing_form", "requested_slot": slot}]


def test_rules_and_nlu_name_only_what_the_domain_has(domain: dict[str, Any]) -> None:
    intents = set(domain["intents"]) | RASA_BUILTIN_INTENTS
    known = set(domain["actions"]) | set(domain["responses"]) | set(domain["forms"]) | RASA_BUILTIN_ACTIONS
    steps = []
    for rule in read("data/rules.yml")["rules"]:
        for step in rule["steps"]:
            steps.extend(step["or"] if "or" in step else [step])
        for condition in rule.get("condition", []):
            for slot in condition.get("slot_was_set", []):
                assert set(slot) <= set(domain["slots"])
    assert {step["intent"] for step in steps if "intent" in step} <= intents
    assert {step["action"] for step in steps if "action" in step} <= known
    assert {"action_wegwijs_answer", "action_wegwijs_handoff", "action_wegwijs_relay", "action_wegwijs_signup"} <= known
    nlu = read("data/nlu.yml")["nlu"]
    assert {item["intent"] for item in nlu} <= intents
    button = next(item for item in nlu if item["intent"] == "wegwijs_button")["examples"].strip().lstrip("- ")
    assert typed_payload(button) == "cmd:menu"  # Wegwijs' payloads as Rasa's /intent{entities}


def test_endpoints_and_credentials(domain: dict[str, Any]) -> None:
    assert read("endpoints.yml")["action_endpoint"]["url"] == "http://localhost:5055/webhook"
    assert "rest" in read("credentials.yml")
    assert {"wegwijs_payload"} <= set(domain["entities"])


ARABIC_ANSWERS = {  # what she types (or presses) for each question, in Arabic and with Arabic-Indic digits
    "wegwijs_consent": rasa_payload("answer:yes"),
    "wegwijs_first_name": "أمينة",
    "wegwijs_contact": "بالهاتف",
    "wegwijs_phone": "٠٤٩٩ ١٢ ٣٤ ٥٦",
    "wegwijs_languages": "العربية والفرنسية",
    "wegwijs_dutch_level": rasa_payload("answer:a1"),
    "wegwijs_sectors": "رعاية المسنين",
    "wegwijs_days": "الصباح",
    "wegwijs_childcare": "نعم",
    "wegwijs_postcode": "9000 غنت",
    "wegwijs_notes": rasa_payload("answer:"),
}


async def test_form_driven_as_rasa_drives_it_ends_in_a_stored_signup(server: Server, domain: dict[str, Any]) -> None:
    """Rasa's form loop: validate (her answer), the next requested slot, its question, until none is left;
    then the rule's action_wegwijs_signup. A wrong answer first, to see it asked again."""
    filled: dict[str, Any] = {"language": "ar"}
    requested = "wegwijs_consent"
    asked = []
    tries = {"wegwijs_phone": ["رقمي سري", ARABIC_ANSWERS["wegwijs_phone"]]}
    while requested is not None:
        assert len(asked) < 20, " ".join(asked)
        question = await server.run(f"action_ask_{requested}", slots=filled, sender="amina-ar")
        asked.append(requested)
        assert texts(question)
        answer = tries[requested].pop(0) if requested in tries else ARABIC_ANSWERS[requested]
        request = call("validate_job_shadowing_form", answer, sender="amina-ar", slots={**filled, requested: answer, "requested_slot": requested},
                       active_loop={"name": "job_shadowing_form"})
        request["tracker"]["events"].append({"event": "slot", "name": requested, "value": answer})
        status, body = await server.post(request)
        assert status == 200
        filled.update({name: value for name, value in slots(body).items() if name != "requested_slot"})
        if "requested_slot" in slots(body):
            requested = slots(body)["requested_slot"]
        else:  # the form's required slots are the domain's: Rasa asks for the first empty one itself
            requested = next((name for name in domain["forms"]["job_shadowing_form"]["required_slots"] if filled.get(name) is None), None)
    assert asked.count("wegwijs_phone") == 2  # the wrong number was asked again
    assert filled["wegwijs_phone"] == "0499123456" and filled["wegwijs_postcode"] == "9000" and filled["wegwijs_contact"] == "phone"
    body = await server.run("action_wegwijs_signup", slots=filled, sender="amina-ar")
    assert any("أمينة" in text for text in texts(body))
    [signup] = await records(server.store, "signup")
    assert signup["channel"] == "rasa" and signup["language"] == "ar" and signup["first_name"] == "أمينة" and signup["notes"] == ""
