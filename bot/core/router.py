"""The router: desk -> safety -> onboarding -> pending -> commands -> small talk -> flows -> other kinds -> buttons -> knowledge -> fallback.

Each stage either handles the message (True) or passes it on. The desk stage comes first: while a
counsellor has her, what she sends is relayed and the bot stays silent. Her commands and confirmations
are in core/commands.py, the knowledge answer and the fallback in core/answer.py."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.core import answer, flowrun, handoff, menus, nearby
from bot.core.answer import FAILED_HANDOFF, MISSES, NONE_OF_THESE, fallback
from bot.core.commands import PENDING, command_of, commands, pending
from bot.core.turn import Turn
from bot.flows import Step, typed_choice, wanted_flow
from bot.knowledge import REPLY_KEYS, evidence_in_thread, geo_area
from bot.language import native_name, normalise
from bot.messages import Kind

Stage = Callable[[Turn], Awaitable[bool]]

OFFERED = "offered_languages"
TYPED_LABEL_WORDS = 4  # longer texts are questions, not a button's label typed


async def desk(turn: Turn) -> bool:
    """/bot, and everything she sends while a counsellor has her (relayed; an emergency also gets
    the emergency numbers and makes her case urgent)."""
    command = command_of(turn)
    if command == "bot":
        await handoff.back_to_bot(turn)
        return True
    if not await handoff.relay(turn, command):
        handoff.mirror(turn, command)
        return False
    if turn.emergency is not None:
        menus.emergency_help(turn, turn.emergency.kind)
        await handoff.request(turn, "emergency", urgent=True, emergency=turn.emergency.kind)
    return True


async def safety(turn: Turn) -> bool:
    """An emergency, in any language and whatever she was doing, wins over everything: the help for
    its kind first, then an urgent case on the desk. A flow she was in waits for her (paused)."""
    found = turn.emergency
    if found is None:
        return False
    turn.state.pop(PENDING, None)
    flowrun.pause(turn)
    menus.emergency_help(turn, found.kind, turn.button("button-menu", menus.MENU))
    if turn.settings.desk.counsellors:  # an urgent case: a counsellor writes to her as soon as possible
        await handoff.request(turn, "emergency", urgent=True, emergency=found.kind)
    return True


async def onboarding(turn: Turn) -> bool:
    """A woman without a language gets the language menu; her choice brings the privacy notice."""
    payload = turn.incoming.payload or ""
    if payload.startswith("lang:") and payload[5:] in turn.settings.languages:
        first_time = turn.session.user.language is None
        turn.session.set_language(payload[5:])
        turn.state.pop(OFFERED, None)
        if first_time:
            turn.session.give_consent()
            turn.say("privacy-notice", days=turn.settings.retention.messages_days)
        else:
            turn.say("language-changed", language=native_name(payload[5:]))
        menus.main_menu(turn)
        return True
    if turn.session.user.language is None:
        turn.state.pop(PENDING, None)
        menus.language_menu(turn, "welcome")
        return True
    return False


def offer_language(turn: Turn) -> None:
    """She wrote a clear sentence in another supported language: offer a one-tap switch, once per language."""
    written = turn.written_language
    if written is None or turn.session.user.language in (None, written) or written in turn.state.get(OFFERED, []):
        return
    turn.state.setdefault(OFFERED, []).append(written)
    name = native_name(written)
    text = turn.content.catalogs.get(written, "offer-language", language=name)
    turn.send(text.text, menus.Button(name, f"lang:{written}"), key="offer-language", language=text.language)


async def smalltalk(turn: Turn) -> bool:
    """Greetings, thanks, "ok", goodbyes, "how are you", "who are you" (knowledge/_smalltalk.yaml): a
    short reply of its kind with the menu button, never "did you mean" nor an unanswered question.
    While a flow waits for an answer that her words are not, its question comes again. Small talk in
    front of a question is taken off, so that the question is answered."""
    if turn.incoming.kind is not Kind.TEXT or not turn.text or turn.text.startswith("/"):
        return False
    talk = turn.content.knowledge.smalltalk
    found = talk.match(turn.text)
    if found is None:
        await _question_only(turn, talk.strip(turn.text))
        return False
    step = _waiting_step(turn)
    if step is not None and flowrun.answer_value(turn, step) is not None and (step.type != "text" or found.kind == "greeting"):
        return False  # an answer to her question ("Selam" for her first name): the flow takes it
    human = [turn.button("button-human", menus.HUMAN)] if found.kind == "who" else []
    if step is None:
        turn.say(REPLY_KEYS[found.kind], turn.button("button-menu", menus.MENU), *human)
        return True
    if human:
        turn.say(REPLY_KEYS[found.kind], *human)
    flowrun.ask(turn, step)
    return True


def _waiting_step(turn: Turn) -> Step | None:
    """The question a running (not paused) flow waits on."""
    current = flowrun.active(turn)
    flow = turn.content.flows.get(current["id"]) if current else None
    return flow.step(current["step"]) if flow else None


async def _question_only(turn: Turn, question: str) -> None:
    """From here on, her message is ``question`` ("hi, where can i learn dutch" -> "where can i learn
    dutch"): its language and retrieval evidence are those of the question."""
    if question == turn.text:
        return
    turn.text = question
    for cached in ("written_language", "script_language", "word_language"):  # cached properties of the whole message
        turn.__dict__.pop(cached, None)
    turn.__dict__["evidence"] = await evidence_in_thread(turn.content.retriever, question)


async def buttons(turn: Turn) -> bool:
    payload = turn.incoming.payload
    if payload is None:
        return typed_menu(turn) or typed_topic(turn)
    turn.state.pop(MISSES, None)  # she found her way with a button: the unanswered questions were not "in a row"
    kind, _, value = payload.partition(":")
    if kind == "topic" and menus.topic_menu(turn, value):
        return True
    if kind in ("helpful", "unhelpful") and value in turn.content.knowledge.entries:
        await answer.feedback(turn, kind == "helpful", value)
        return True
    if payload == FAILED_HANDOFF:
        await handoff.request(turn, "failed")
        return True
    if payload == NONE_OF_THESE:
        answer.none_of_these(turn)
        return True
    if kind == "entry" and value in turn.content.knowledge.entries:
        menus.answer(turn, turn.content.knowledge.entries[value])
        return True
    turn.say("stale-button")
    menus.main_menu(turn)
    return True


def typed_menu(turn: Turn) -> bool:
    """The menu button's label typed instead of pressed ("menu", "Menü", "القائمة", "меню"), in any of the
    languages (she may type the Latin word whatever her language): the topics. One word only: "منو" alone
    is the menu, "منو بزن" (Persian: "hit me") is not."""
    if turn.incoming.kind is not Kind.TEXT or len(turn.text.split()) != 1:
        return False
    catalogs = turn.content.catalogs
    labels = list({normalise(catalogs.get(code, "button-menu").text): None for code in [turn.language, *catalogs.languages]})
    if typed_choice(turn.text, labels) is None:
        return False
    menus.main_menu(turn)
    return True


def typed_topic(turn: Turn) -> bool:
    """A topic's button label typed instead of pressed ("childcare", "learn dutch", "werk"): its menu."""
    if turn.incoming.kind is not Kind.TEXT or len(turn.text.split()) > TYPED_LABEL_WORDS:
        return False
    topics = turn.content.knowledge.topics
    found = typed_choice(turn.text, [menus.topic_title(turn, topic) for topic in topics])
    return found is not None and menus.topic_menu(turn, topics[found].id)


async def flows(turn: Turn) -> bool:
    """Start or resume a flow from its button, or take her answer to the step that waits."""
    payload = turn.incoming.payload or ""
    if payload == "flow:resume":
        return flowrun.resume(turn)
    if payload.startswith("flow:") and payload[5:] in turn.content.flows:
        await flowrun.start(turn, turn.content.flows[payload[5:]])
        return True
    return await flowrun.handle(turn)


async def other_kinds(turn: Turn) -> bool:
    if turn.incoming.kind in (Kind.TEXT, Kind.BUTTON):
        return False
    if turn.incoming.kind is Kind.EDITED:
        turn.say("edited-ignored")
        return True
    if turn.incoming.kind is Kind.CONTACT:  # outside a phone question: not needed, and not kept in a case
        turn.say("contact-not-needed", turn.button("button-menu", menus.MENU))
        return True
    if turn.incoming.kind is Kind.LOCATION and turn.incoming.location:  # outside a flow: what is near her
        nearby.show(turn, geo_area(turn.incoming.location))
        menus.main_menu(turn)
        return True
    turn.say("unsupported-kind", turn.button("button-menu", menus.MENU), turn.button("button-human", menus.HUMAN))
    return True


async def empty(turn: Turn) -> bool:
    if turn.text:
        return False
    turn.say("empty-message")
    menus.main_menu(turn)
    return True


async def knowledge(turn: Turn) -> bool:
    """Her question: the journey she wishes for ("I want to sign up for job shadowing": the flow itself, not the
    answer about it; not in the middle of a flow, where a question is only answered), or the answer."""
    found = answer.decision(turn)
    wanted = None if flowrun.active(turn) else wanted_flow(turn.content.intents, turn.content.flows, found, turn.text,
                                                           flowrun.question_languages(turn))
    if wanted is None and found.action == "answer" and (found.entry or "").startswith("flow:"):
        wanted = turn.content.flows.get((found.entry or "")[5:])
    if wanted is not None:
        turn.state.pop(MISSES, None)
        await flowrun.start(turn, wanted)
        return True
    return await answer.reply(turn, found)


STAGES: tuple[Stage, ...] = (desk, safety, onboarding, pending, commands, smalltalk, flows, other_kinds, buttons, empty, knowledge, fallback)

