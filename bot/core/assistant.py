"""For an assistant that runs the conversation itself (a Rasa assistant): the stages that answer her
message there, and a flow the assistant runs as its own form — its questions, the check of each answer
with the flow's validators, and at the end the sign-up, stored as the flow stores it."""

from __future__ import annotations

from typing import Any

from bot.core import flowrun, menus, router
from bot.core.answer import fallback
from bot.core.commands import commands, pending
from bot.core.content import Content
from bot.core.turn import Assist, Turn
from bot.flows import Flow, Step
from bot.language import native_name, outgoing
from bot.messages import Incoming, Outgoing


async def her_language(turn: Turn) -> bool:
    """Her language is the assistant's for her (its slot) when it has one; else the language she writes in,
    as far as it is clear (kept for short words and for the desk). The first time, the privacy notice. A
    language button she pressed switches it."""
    payload = turn.incoming.payload or ""
    if payload.startswith("lang:") and payload[5:] in turn.settings.languages:
        turn.session.set_language(payload[5:])
        turn.state.pop(router.OFFERED, None)
        turn.say("language-changed", language=native_name(payload[5:]))
        menus.main_menu(turn)
        return True
    assist = turn.assist
    wanted = assist.language if assist is not None and assist.language in turn.settings.languages else None
    first = turn.session.user.language is None
    found = wanted or turn.written_language or turn.script_language or (turn.language if first else None)
    if found is not None and found != turn.session.user.language:
        turn.session.set_language(found)
    if first:
        turn.session.give_consent()
        turn.say("privacy-notice", days=turn.settings.retention.messages_days)
    return False


# As everywhere, but the assistant keeps her language; a flow it has a form for is started there.
STAGES = (her_language, router.desk, router.safety, pending, commands, router.smalltalk, router.flows, router.other_kinds,
          router.buttons, router.empty, router.knowledge, fallback)


def answering(language: str | None, forms: frozenset[str] = frozenset(), history: tuple[tuple[str, str], ...] | None = None) -> Assist:
    """Her message as Wegwijs answers it anywhere: emergencies first, a counsellor while one has her."""
    return Assist(STAGES, language, forms, history)


def signing_up(flow: Flow, answers: dict[str, Any], language: str | None) -> Assist:
    """The assistant's form of ``flow`` is complete: what the flow says at its end, and its record stored
    (only with her consent), exactly as when she answers the flow here."""

    async def finish(turn: Turn) -> bool:
        await language_of(turn)
        step: Step | None = flow.steps[0]
        while step is not None and step.ask and (step.save is None or answers.get(step.save) is not None):
            step = flow.after(step, answers)
        turn.state[flowrun.FLOW] = {"id": flow.id, "step": flow.steps[0].id, "answers": dict(answers), "reasks": 0}
        if step is None:
            await flowrun.finish(turn, flow, answers)
        else:
            await flowrun.enter(turn, flow, step)
        return True

    async def language_of(turn: Turn) -> None:
        await her_language(turn)
        turn.replies.clear()  # the form has been talking with her: no privacy notice in the middle

    return Assist((finish,), language)


# The form's side: questions and checks, nothing stored ------------------------------------------------

def form_flow(content: Content, form: str) -> Flow | None:
    """The flow a form of the assistant stands for: ``job_shadowing_form`` is flows/job-shadowing.yaml."""
    if not form.endswith("_form"):
        return None
    return content.flows.get(form[: -len("_form")].replace("_", "-"))


def form_name(flow: Flow) -> str:
    return f"{flow.id.replace('-', '_')}_form"


def form_slots(flow: Flow, answers: dict[str, Any]) -> list[str]:
    """The answers her path through the flow asks for, given those she gave: up to the first still open."""
    slots: list[str] = []
    step: Step | None = flow.steps[0]
    while step is not None and not (step.end and not step.ask):
        if step.ask and step.save:
            slots.append(step.save)
            if answers.get(step.save) is None:
                break
        step = flow.after(step, answers)
    return slots


def asking(flow: Flow, save: str) -> Step | None:
    return next((step for step in flow.steps if step.ask and step.save == save), None)


def form_answer(step: Step, incoming: Incoming, content: Content, language: str) -> str | None:
    """Her answer as the flow's validator takes it (a button, a choice typed, a phone number...), or None."""
    return flowrun.step_value(step, incoming, incoming.text.strip(), content, language)


def form_question(step: Step, user: str, content: Content, language: str) -> Outgoing:
    """The step's question in her language, with its buttons."""
    text = content.catalogs.translate(language, step.ask or "").text
    return outgoing(user, text, flowrun.choice_buttons(step, content, language)[0], f"ask:{step.id}", language)


def form_invalid(step: Step, user: str, content: Content, language: str) -> Outgoing:
    """What the flow says when an answer does not fit (before the question comes again)."""
    key = f"flow-invalid-{step.type}"
    return outgoing(user, content.catalogs.get(language, key).text, (), key, language)
