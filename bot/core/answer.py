"""Answering from the knowledge base: the decision for her question, the answer or "did you mean"
buttons, her feedback on an answer, and "I do not know" (a counsellor offered after two in a row)."""

from __future__ import annotations

from bot.core import handoff, menus
from bot.core.turn import Turn
from bot.knowledge import HUMAN, Decision, decide
from bot.messages import Button

MISSES = "misses"       # questions in a row the bot could not answer
OFFER_AFTER = 2         # ... after which it offers a counsellor
FAILED_HANDOFF = "human:failed"
NONE_OF_THESE = "none"


def decision(turn: Turn) -> Decision:
    """What retrieval decides for her text (answer, suggest or fallback)."""
    evidence = turn.evidence
    return decide(evidence, turn.content.retriever.thresholds) if evidence else Decision("fallback", None, 0.0)


async def reply(turn: Turn, found: Decision) -> bool:
    """The answer, a counsellor, or "did you mean" buttons; otherwise her question is logged for the
    coordinators and False (the fallback follows). A flow the decision names is started by the caller."""
    entries = turn.content.knowledge.entries
    if found.action in ("answer", "suggest"):
        turn.state.pop(MISSES, None)
    if found.action == "answer" and found.entry == HUMAN:
        await handoff.request(turn, "request")
        return True
    if found.action == "answer" and found.entry in entries:
        menus.answer(turn, entries[found.entry])
        return True
    if found.action == "suggest":
        turn.say("did-you-mean", *suggestions(turn, found), turn.button("button-none-of-these", NONE_OF_THESE))
        return True
    candidates = [(candidate.entry, round(candidate.score, 4)) for candidate in found.candidates]
    await turn.session.log_unanswered(turn.written_language or turn.language, turn.text, candidates)
    return False


def suggestions(turn: Turn, found: Decision) -> list[Button]:
    """One button per candidate: an entry's title in her language, a flow, or a counsellor."""
    entries, flows = turn.content.knowledge.entries, turn.content.flows
    buttons = []
    for candidate in found.candidates:
        answer = menus.answer_for(turn, entries[candidate.entry]) if candidate.entry in entries else None
        if candidate.entry == HUMAN:
            buttons.append(turn.button("button-human", menus.HUMAN))
        elif candidate.entry.startswith("flow:") and candidate.entry[5:] in flows:
            buttons.append(menus.flow_button(turn, flows[candidate.entry[5:]]))
        elif answer:
            buttons.append(Button(answer[0].title, f"entry:{candidate.entry}"))
    return buttons


async def feedback(turn: Turn, helpful: bool, entry: str) -> None:
    """"Did this help you?" answered: counted for the coordinators; a counsellor offered when it did not."""
    await turn.session.log_feedback(entry, turn.language, helpful)
    turn.say("feedback-thanks" if helpful else "feedback-sorry", turn.button("button-menu", menus.MENU),
             *([] if helpful else [turn.button("button-human", menus.HUMAN)]))


def none_of_these(turn: Turn) -> None:
    turn.say("fallback", turn.button("button-menu", menus.MENU), turn.button("button-human", menus.HUMAN))


async def fallback(turn: Turn) -> bool:
    """"I do not know"; the second time in a row, the bot offers a counsellor (she chooses)."""
    misses = turn.state[MISSES] = turn.state.get(MISSES, 0) + 1
    if misses >= OFFER_AFTER and turn.settings.desk.counsellors and handoff.CASE not in turn.state:
        turn.say("handoff-offer", turn.button("button-yes-counsellor", FAILED_HANDOFF), turn.button("button-menu", menus.MENU))
        return True
    none_of_these(turn)
    return True
