"""Her side of the desk: open a case (or say where she stands), relay her messages while a
counsellor has her, and bring her back to the bot. Everything for the desk goes through the outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.core import menus
from bot.core.turn import Turn
from bot.desk import CASE, describe_opening, desk_recipient, next_opening, topic_title
from bot.language import native_name
from bot.messages import DESK, Kind
from bot.redact import Hidden, hide_contact_details
from bot.storage import ACTIVE, CLOSED, WAITING, CaseRow

TRIGGERS = ("command", "request", "failed", "flow", "emergency")
PRIVATE_COMMANDS = ("forget", "clear")  # still for the bot while a counsellor has her
PRIVATE_CONFIRMATIONS = ("forget:", "clear:")  # ... and her answer when the bot asks to confirm them
CARD_MESSAGES = 5
CARD_LINES = 8         # of an assistant's conversation (both sides)
BOT_LINE_CHARS = 160   # the assistant's long answers, cut on the card
REPLY_WINDOWS = {"whatsapp": timedelta(hours=24)}  # apps where free text reaches her only this long after her last message


async def request(turn: Turn, trigger: str, *, topic: str | None = None, flow_title: str | None = None,
                  answers: dict[str, Any] | None = None, urgent: bool = False, emergency: str | None = None) -> None:
    """She asked for a person (or a flow, a failed answer or an emergency did): open a case, or tell
    her where she stands when she already has one. ``emergency``: the kind, for an urgent case."""
    case = await current_case(turn)
    if case is not None:
        await _already(turn, case, urgent, emergency)
        return
    desk = turn.settings.desk
    if not desk.counsellors:
        turn.say("human-not-connected", turn.button("button-menu", menus.MENU), numbers=", ".join(turn.settings.emergency_numbers))
        return
    case = await turn.session.open_case(turn.language, topic or ("safety" if emergency else None), trigger, urgent, emergency)
    turn.state[CASE] = {"id": case.id, "status": WAITING}
    opens = _opens_later(turn)
    turn.session.relay(case.id, DESK, desk_recipient(case.id), await card(turn, case, flow_title, answers, opens))
    if urgent and opens is not None:  # honest: nobody is at the desk now; the numbers were just given
        turn.say("handoff-urgent-closed", opens=describe_opening(opens, turn.language))
        return
    if urgent:
        turn.say("handoff-urgent")
        return
    position = await turn.session.queue_position(case)
    if opens is None:
        turn.say("handoff-waiting", position=position)
    else:
        turn.say("handoff-waiting-closed", position=position, opens=describe_opening(opens, turn.language),
                 numbers=", ".join(turn.settings.emergency_numbers))


async def current_case(turn: Turn) -> CaseRow | None:
    """Her case that is not closed (her state remembers its id; the database has the truth)."""
    known = turn.state.get(CASE)
    if not known:
        return None
    case = await turn.session.case(known["id"])
    if case is None or case.status == CLOSED:
        turn.state.pop(CASE, None)
        return None
    return case


async def _already(turn: Turn, case: CaseRow, urgent: bool, emergency: str | None = None) -> None:
    if urgent and not case.urgent:
        await turn.session.change_case(case.id, urgent=True, emergency=emergency)
        desk_say(turn, case.id, "desk-urgent-now", mentions=everyone(turn), case=case.id,
                 kind=desk_text(turn, f"emergency-kind-{emergency or 'other'}"))
    if case.status == ACTIVE:
        turn.say("handoff-with-counsellor", name=case.counsellor or "")
    elif urgent:
        turn.say("handoff-urgent")
    else:
        turn.say("handoff-still-waiting", position=await turn.session.queue_position(case))


def with_counsellor(turn: Turn) -> bool:
    return turn.state.get(CASE, {}).get("status") == ACTIVE


async def relay(turn: Turn, command: str | None) -> bool:
    """While a counsellor has her: everything she sends goes to the desk and the bot stays silent
    (except /bot, and /forget and /clear, which protect her). False: the bot handles the message."""
    if command in PRIVATE_COMMANDS or not with_counsellor(turn) or (turn.incoming.payload or "").startswith(PRIVATE_CONFIRMATIONS):
        return False
    case_id = turn.state[CASE]["id"]
    kind = turn.incoming.kind
    if kind is Kind.BUTTON or command is not None:  # the bot's buttons and commands wait: say who she talks with
        turn.say("handoff-with-counsellor", name=turn.state[CASE].get("counsellor", ""))
        return True
    if kind in (Kind.TEXT, Kind.EDITED):
        if turn.text:
            turn.session.relay(case_id, DESK, desk_recipient(case_id), {"text": f"💬 {for_desk(turn, turn.text)}", "key": "her-message"})
        return True
    what = desk_text(turn, f"desk-kind-{_KIND_NAMES.get(kind, 'other')}")
    detail = ""
    if kind is Kind.LOCATION and turn.incoming.location:
        detail = "\n{:.5f}, {:.5f}".format(*turn.incoming.location)
    elif kind is Kind.CONTACT:  # she chose to share her number with the counsellor
        detail = f"\n{turn.incoming.text}"
    elif turn.text:  # her caption, as the desk may see it; the copy of her photo goes without hers
        detail = f"\n💬 {for_desk(turn, turn.text)}"
    body: dict[str, Any] = {"text": desk_text(turn, "desk-she-sent", kind=what) + detail, "key": "her-message"}
    if turn.incoming.reference:
        body["copy"] = turn.incoming.reference
        body["drop_caption"] = bool(turn.text)
    turn.session.relay(case_id, DESK, desk_recipient(case_id), body)
    return True


def mirror(turn: Turn, command: str | None) -> None:
    """While she waits, what she writes to the bot also appears in her case's topic (context for
    the counsellor who takes over); the bot answers her as usual."""
    known = turn.state.get(CASE)
    if known and known.get("status") == WAITING and turn.incoming.kind is Kind.TEXT and command is None and turn.text:
        turn.session.relay(known["id"], DESK, desk_recipient(known["id"]), {"text": f"💬 {for_desk(turn, turn.text)}", "key": "her-message"})


async def back_to_bot(turn: Turn) -> None:
    """/bot: she leaves the desk (closing her case) and is back with the bot."""
    case = await current_case(turn)
    if case is None:
        turn.say("handoff-bot-already")
        menus.main_menu(turn)
        return
    await turn.session.change_case(case.id, status=CLOSED, closed_at=now(), closed_by="her")
    turn.state.pop(CASE, None)
    if case.status == ACTIVE:
        desk_say(turn, case.id, "desk-she-left", case=case.id)
        turn.say("handoff-back")
    else:
        desk_say(turn, case.id, "desk-she-withdrew", case=case.id)
        turn.say("handoff-withdrawn")
    menus.main_menu(turn)


async def forgotten(turn: Turn) -> None:
    """She confirmed /forget: before her cases (and their outbox) go with her, each topic of hers on
    the desk, open or closed, is deleted with everything in it (or, with desk.forget_topics: close, its
    card replaced and the topic closed); the desk is told which case went (the notice names them)."""
    for case in await turn.session.cases_on_desk():
        if case.thread is None and case.status == CLOSED:  # no topic was made for it: nothing of her is on the desk
            continue
        turn.session.relay(None, DESK, desk_recipient(case.id), {
            "text": desk_text(turn, "desk-she-forgot", case=case.id), "thread": case.thread, "key": "desk-she-forgot",
            "card": list(case.card), "card_text": desk_text(turn, "desk-card-forgotten", case=case.id), "close": True,
            "delete": turn.settings.desk.forget_topics == "delete"})


# The desk's side of her messages ---------------------------------------------------------------

def desk_text(turn: Turn, key: str, /, **params: object) -> str:
    return turn.content.catalogs.get(turn.settings.desk.language, key, **params).text


def for_desk(turn: Turn, text: str) -> str:
    """Her words as the desk sees them: phone numbers, e-mail addresses and IBANs hidden (she shares
    her number herself with the contact button; her answers in a flow she agreed to are on the card)."""
    hidden = Hidden(desk_text(turn, "desk-hidden-phone"), desk_text(turn, "desk-hidden-email"), desk_text(turn, "desk-hidden-iban"))
    return hide_contact_details(text, hidden)


def desk_say(turn: Turn, case_id: int, key: str, /, mentions: list[int] | None = None, **params: object) -> None:
    body: dict[str, Any] = {"text": desk_text(turn, key, **params), "key": key}
    if mentions:
        body["mentions"] = mentions
    turn.session.relay(case_id, DESK, desk_recipient(case_id), body)


def everyone(turn: Turn) -> list[int]:
    """Every counsellor on the desk who can be mentioned: an urgent case is for whoever is there."""
    return [c.telegram_id for c in turn.settings.desk.counsellors if c.telegram_id]


async def card(turn: Turn, case: CaseRow, flow_title: str | None, answers: dict[str, Any] | None, opens: datetime | None) -> dict[str, Any]:
    """The first post of a case's topic: who (language, never her name or number), how it started,
    what the bot already said, her flow answers (as she gave them, with her consent) and her last
    messages (phone numbers, e-mail addresses and IBANs hidden); who on the desk speaks her language."""
    desk = turn.settings.desk
    content = turn.content
    language = f"{native_name(case.language)} ({case.language})"
    topic = topic_title(content, desk.language, case.topic)
    started = desk_text(turn, f"desk-started-{case.trigger}", flow=flow_title or case.topic or "",
                        kind=desk_text(turn, f"emergency-kind-{case.emergency or 'other'}"))
    parts = [desk_text(turn, "desk-card", case=case.id, language=language, started=started, topic=topic)]
    recent = await turn.session.recent_messages()
    answered = list(dict.fromkeys(_entry_title(turn, m["key"][6:]) for m in recent
                                  if m["direction"] == "out" and (m["key"] or "").startswith("entry:") and m["key"][6:] in content.knowledge.entries))
    if answered:
        parts.append(desk_text(turn, "desk-card-answered", answers="; ".join(answered)))
    if answers:
        parts.append(desk_text(turn, "desk-card-flow-answers") + "\n" + "\n".join(f"• {name}: {value}" for name, value in answers.items()))
    hers = [m["text"] for m in recent if m["direction"] == "in" and m["kind"] == "text" and m["text"] and not m["text"].startswith("/")
            and not (m["key"] or "").startswith("answer:")][-CARD_MESSAGES:]  # her flow answers: above, only with her consent
    history = turn.assist.history if turn.assist is not None else None
    if history:  # an assistant's conversation (Rasa): its record of both sides
        lines = [f"› {for_desk(turn, text)}" if who == "her" else f"🤖 {for_desk(turn, _shortened(text))}"
                 for who, text in history[-CARD_LINES:]]
        parts.append(desk_text(turn, "desk-card-conversation") + "\n" + "\n".join(lines))
    elif hers:
        parts.append(desk_text(turn, "desk-card-last") + "\n" + "\n".join(f"› {for_desk(turn, text)}" for text in hers))
    speakers = [c for c in desk.counsellors if case.language in c.languages]
    if speakers:
        parts.append(desk_text(turn, "desk-card-speakers", language=language, names=", ".join(c.name for c in speakers)))
    else:
        parts.append(desk_text(turn, "desk-card-no-speaker", language=language))
    if opens is not None:
        parts.append(desk_text(turn, "desk-card-closed", opens=describe_opening(opens, desk.language)))
    window = REPLY_WINDOWS.get(turn.incoming.channel)
    if window is not None:  # WhatsApp: free text reaches her until 24 hours after her last message
        closes = datetime.now(UTC).astimezone(ZoneInfo(desk.office_hours.time_zone)) + window
        parts.append(desk_text(turn, "desk-card-window", closes=describe_opening(closes, desk.language)))
    title = desk_text(turn, "desk-card-title", case=case.id, language=case.language, topic=topic)
    buttons = [[desk_text(turn, "desk-button-take"), f"take:{case.id}"], [desk_text(turn, "desk-button-close"), f"close:{case.id}"]]
    return {"text": "\n\n".join(parts), "title": ("⚠️ " if case.urgent else "") + title, "buttons": buttons, "key": "desk-card",
            "mentions": everyone(turn) if case.urgent else [c.telegram_id for c in speakers if c.telegram_id]}


def _shortened(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= BOT_LINE_CHARS else flat[: BOT_LINE_CHARS - 1].rstrip() + "…"


def _entry_title(turn: Turn, key: str) -> str:
    answers = turn.content.knowledge.entries[key].answers
    code = next((code for code in turn.content.catalogs.chain(turn.settings.desk.language) if code in answers), next(iter(answers)))
    return answers[code].title


def _opens_later(turn: Turn) -> datetime | None:
    """When the desk is closed now: when it opens (None when open now or when no hours are set)."""
    hours = turn.settings.desk.office_hours
    at = now()
    opens = next_opening(hours, at) if hours.weekly else None
    return opens if opens is not None and opens > at else None


def now() -> datetime:
    return datetime.now(UTC)


_KIND_NAMES = {Kind.IMAGE: "image", Kind.VOICE: "voice", Kind.DOCUMENT: "document", Kind.LOCATION: "location", Kind.CONTACT: "contact"}
