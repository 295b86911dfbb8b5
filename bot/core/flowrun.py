"""Running a flow inside a conversation: ask, validate, re-ask, branch, store, pause and resume."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from bot.core import answer, menus, nearby
from bot.core import handoff as desk
from bot.core.content import Content
from bot.core.turn import Turn
from bot.flows import Flow, Step, ascii_digits, typed_choice, validate
from bot.knowledge import decide, geo_area
from bot.messages import Button, Incoming, Kind, Outgoing

log = logging.getLogger(__name__)

FLOW = "flow"
MAX_REASKS = 2
ANSWER = "answer:"
START_FORM = "start-form"  # an action for the channel: its assistant starts its own form of this flow
ECHO = 0.75  # lexical overlap with one of an entry's questions from which her words are that question, not an answer


def active(turn: Turn) -> dict[str, Any] | None:
    current = turn.state.get(FLOW)
    return current if current and not current.get("paused") else None


async def start(turn: Turn, flow: Flow) -> None:
    if turn.assist is not None and flow.id in turn.assist.forms:  # the assistant asks its own form's questions
        turn.replies.append(Outgoing(turn.incoming.user, "", key=START_FORM, action=f"{START_FORM}:{flow.id}"))
        return
    turn.state[FLOW] = {"id": flow.id, "step": flow.steps[0].id, "answers": {}, "reasks": 0}
    await enter(turn, flow, flow.steps[0])


def resume(turn: Turn) -> bool:
    current = turn.state.get(FLOW)
    flow = turn.content.flows.get(current["id"]) if current else None
    step = flow.step(current["step"]) if flow else None
    if step is None:
        turn.state.pop(FLOW, None)
        return False
    current["paused"] = False
    ask(turn, step)
    return True


def pause(turn: Turn) -> bool:
    current = active(turn)
    if current is None:
        return False
    current["paused"] = True
    return True


def cancel(turn: Turn) -> bool:
    return turn.state.pop(FLOW, None) is not None


async def handle(turn: Turn) -> bool:
    """Her message while a flow waits for an answer. False when the flow has nothing to do with it.
    A paused flow (after an emergency, or the menu) takes a press of its question's own button (or its
    label typed): she chose to go on."""
    current = active(turn) or _pressed_while_paused(turn)
    if current is None:
        return False
    flow = turn.content.flows.get(current["id"])
    step = flow.step(current["step"]) if flow else None
    if flow is None or step is None:  # the flow file changed under her feet
        turn.state.pop(FLOW, None)
        turn.say("flow-gone", turn.button("button-menu", menus.MENU))
        return True
    value = None if step.type == "text" and faq_question(turn) else answer_value(turn, step)
    if value is None:
        if faq_question(turn):  # computed once per message: Turn.evidence is cached
            await answer.reply(turn, answer.decision(turn))
            ask(turn, step)
            return True
        current["reasks"] += 1
        if current["reasks"] > MAX_REASKS:
            turn.say("flow-need-help", turn.button("button-human", menus.HUMAN))
        else:
            turn.say(f"flow-invalid-{step.type}")
        ask(turn, step)
        return True
    if step.save:
        current["answers"][step.save] = value
        turn.session.mark_last_in(f"{ANSWER}{flow.id}")  # not shown among her last messages on a case card
    current["reasks"] = 0
    following = flow.after(step, current["answers"])
    if following is None:
        await finish(turn, flow, current["answers"])
    else:
        await enter(turn, flow, following)
    return True


def _pressed_while_paused(turn: Turn) -> dict[str, Any] | None:
    """A paused flow whose question she answers with one of its buttons (pressed, or its label typed)."""
    current = turn.state.get(FLOW)
    if not current or not current.get("paused"):
        return None
    flow = turn.content.flows.get(current["id"])
    step = flow.step(current["step"]) if flow else None
    chosen = (turn.incoming.payload or "").startswith(ANSWER) or (step is not None and step.type in ("choice", "yesno"))
    if step is None or not chosen or answer_value(turn, step) is None:
        return None
    current["paused"] = False
    return current


async def enter(turn: Turn, flow: Flow, step: Step) -> None:
    """Show a step: a question waits for her; a message moves on (or ends the flow)."""
    current = turn.state[FLOW]
    current["step"] = step.id
    if step.ask:
        ask(turn, step)
        return
    answers = current["answers"]
    if step.say:
        found = turn.content.catalogs.translate(turn.language, step.say, **_placeholders(answers))
        turn.fallback_used |= found.fallback
        turn.send(found.text, key=f"flow:{flow.id}:{step.id}")
    if step.entry and step.entry in turn.content.knowledge.entries:
        menus.entry_text(turn, turn.content.knowledge.entries[step.entry])
    if step.places and isinstance(answers.get(step.near), str):
        nearby.show(turn, answers[step.near], step.places)
    if step.handoff:
        await handoff(turn, flow)
        turn.state.pop(FLOW, None)
        return
    following = flow.after(step, answers)
    if following is None:
        await finish(turn, flow, answers)
    else:
        await enter(turn, flow, following)


async def finish(turn: Turn, flow: Flow, answers: dict[str, Any]) -> None:
    turn.state.pop(FLOW, None)
    await store(turn, flow, answers)
    offer_menu(turn)


def offer_menu(turn: Turn) -> None:
    """The flow's last message to her carries the menu button, so that she is never left without one."""
    for index in range(len(turn.replies) - 1, -1, -1):
        reply = turn.replies[index]
        if reply.recipient == turn.incoming.user and not reply.action:
            if not reply.buttons:
                turn.replies[index] = replace(reply, buttons=(turn.button("button-menu", menus.MENU),))
            return


async def store(turn: Turn, flow: Flow, answers: dict[str, Any]) -> None:
    if flow.store and flow.consented(answers):
        record = await turn.session.store_record(flow.store, flow.id, turn.language, answers)
        log.info("new %s stored id=%s flow=%s language=%s (coordinators: wegwijs export %ss)", flow.store, record, flow.id, turn.language, flow.store)


async def handoff(turn: Turn, flow: Flow) -> None:
    """The flow hands her to a counsellor: what she agreed to share is stored first, and shown on
    the case card."""
    answers = turn.state[FLOW]["answers"]
    await store(turn, flow, answers)
    title = turn.content.catalogs.translate(turn.settings.desk.language, flow.title).text if flow.title else flow.id
    await desk.request(turn, "flow", topic=flow.topic or flow.id, flow_title=title,
                       answers=answers if flow.consented(answers) else None)


def ask(turn: Turn, step: Step) -> None:
    found = turn.content.catalogs.translate(turn.language, step.ask or "")
    turn.fallback_used |= found.fallback
    turn.send(found.text, *buttons(turn, step), key=f"ask:{step.id}")


def buttons(turn: Turn, step: Step) -> list[Button]:
    found, fallback = choice_buttons(step, turn.content, turn.language)
    turn.fallback_used |= fallback
    return found


def choice_buttons(step: Step, content: Content, language: str) -> tuple[list[Button], bool]:
    """A step's buttons in ``language`` (yes/no, its choices, skip) and whether a label came from a fallback language."""
    catalogs = content.catalogs
    if step.type == "yesno":
        found = [(catalogs.get(language, "button-yes"), f"{ANSWER}yes"), (catalogs.get(language, "button-no"), f"{ANSWER}no")]
    else:
        found = [(catalogs.translate(language, label), f"{ANSWER}{value}") for label, value in step.choices]
    if step.optional:
        found.append((catalogs.get(language, "button-skip"), ANSWER))
    return [Button(label.text, payload) for label, payload in found], any(label.fallback for label, _ in found)


def answer_value(turn: Turn, step: Step) -> str | None:
    return step_value(step, turn.incoming, turn.text, turn.content, turn.language)


def step_value(step: Step, incoming: Incoming, text: str, content: Content, language: str) -> str | None:
    """Her answer to ``step`` (a button of it, its label or number typed, or text its validator takes), or None."""
    payload = incoming.payload
    choices = {button.payload[len(ANSWER):]: button.label for button in choice_buttons(step, content, language)[0]}
    if payload is not None:
        value = payload[len(ANSWER):] if payload.startswith(ANSWER) else None
        return value if value in choices else None
    if step.type == "phone" and incoming.kind is Kind.CONTACT:  # she shared her number with a button
        return validate("phone", incoming.text)
    if step.type == "area":
        if incoming.kind is Kind.LOCATION and incoming.location:
            return geo_area(incoming.location)
        return content.places.parse_area(text) if incoming.kind is Kind.TEXT and text else None
    if incoming.kind is not Kind.TEXT or not text:
        return None
    if step.type in ("choice", "yesno"):
        typed = ascii_digits(text.strip()).casefold()
        for number, value in enumerate(choices, 1):
            if typed in (value.casefold(), str(number)):
                return value
        found = typed_choice(text, list(choices.values()))
        return list(choices)[found] if found is not None else None
    return validate(step.type, text)


def faq_question(turn: Turn) -> bool:
    """A clear question to the knowledge base in the middle of a flow (answered, then the step again)."""
    if turn.incoming.kind is not Kind.TEXT or len(turn.text.split()) < 2:
        return False
    evidence = turn.evidence
    if evidence is None:
        return False
    decision = decide(evidence, turn.content.retriever.thresholds)
    if decision.action != "answer" or (decision.entry or "").startswith("flow:"):
        return False  # another flow is not started over this one: she can /cancel and start it
    # An answer ("I like to work with children" to "which work interests you?", "arabic, dutch" to a choice she
    # mistyped) can resemble an entry: a real question ends with "?", starts or ends with a question word, or
    # repeats the words of one of the entry's questions.
    return turn.content.intents.asks(turn.text, question_languages(turn)) or decision.candidates[0].lexical >= ECHO


def question_languages(turn: Turn) -> list[str]:
    """The languages whose question words count: what she writes in, her language and its fallbacks, English."""
    return list(dict.fromkeys((*turn.search_languages, "en")))


def _placeholders(answers: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in answers.items() if isinstance(value, str)}
