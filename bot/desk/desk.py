"""The counsellors' side of the desk, channel-neutral: take over, close, transfer, canned replies,
/queue and /mine, and what a counsellor writes in a case relayed to her through the outbox."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from bot.config import Config, Counsellor, Settings
from bot.desk.case import CASE, DeskContent, desk_recipient, topic_title
from bot.desk.replies import Replies
from bot.language import native_name, outgoing
from bot.messages import DESK, Button, Kind, Outgoing
from bot.storage import ACTIVE, CLOSED, NOT_CLOSED, OPEN, WAITING, CaseRow, Store, UserSession

log = logging.getLogger(__name__)

CHANNEL = DESK
GENERAL = ("queue", "mine", "help", "start")


@dataclass(frozen=True)
class DeskMessage:
    """What a counsellor did in the desk: wrote (text or media) or pressed a button, in a case's
    topic (``case``) or outside any. ``counsellor`` is the name in config.yaml."""

    counsellor: str
    message_id: str
    case: int | None = None
    kind: Kind = Kind.TEXT
    text: str = ""
    payload: str | None = None
    reference: str | None = None  # the channel's handle of a photo, voice or document, to copy to her


class Host(Protocol):
    """What the desk needs of the conversation it works beside: its configuration, the content of now
    (reloaded with it) and the store (whose case sessions take the same lock on her as her messages)."""

    config: Config
    store: Store

    @property
    def content(self) -> DeskContent: ...


class Desk:
    def __init__(self, conversation: Host) -> None:
        self.conversation = conversation

    @property
    def settings(self) -> Settings:
        return self.conversation.config.settings

    def t(self, key: str, /, **params: object) -> str:
        return self.conversation.content.catalogs.get(self.settings.desk.language, key, **params).text

    def say(self, key: str, case: int | None = None, /, *buttons: Button, **params: object) -> Outgoing:
        return Outgoing(DESK, self.t(key, **params), tuple(buttons), key, case=case)

    async def handle(self, message: DeskMessage) -> list[Outgoing]:
        """One action of a counsellor; the replies are for the desk (in the case's topic)."""
        who = self.settings.desk.counsellor(message.counsellor)
        if who is None:
            return [self.say("desk-not-counsellor", message.case)]
        command, argument, case_id = self._parse(message)
        if command in GENERAL:
            return await self._general(command, who, message.case)
        if case_id is None:
            case_id = await self._only_case(who)
        if case_id is None:
            return [self.say("desk-no-case")]
        try:
            async with self.conversation.store.case_session(case_id) as found:
                if found is None:
                    return [self.say("desk-case-closed", case_id, case=case_id)]
                session, case = found
                if not await session.mark_processed(CHANNEL, message.message_id):
                    return []
                return await self._in_case(session, case, who, command, argument, message)
        except Exception:
            log.exception("could not handle a desk action case=%s", case_id)
            return [self.say("error-sorry", case_id, numbers=", ".join(self.settings.emergency_numbers))]

    async def window_closed(self, case_id: int, invited: bool) -> None:
        """Her app takes no free text now (WhatsApp: 24 hours after her last message): the desk hears it at once,
        and that what the counsellor wrote reaches her when she writes again (``invited``: she was asked to)."""
        async with self.conversation.store.case_session(case_id) as found:
            if found is None:
                return
            session, case = found
            key = "desk-window-closed-invited" if invited else "desk-window-closed"
            session.relay(case.id, DESK, desk_recipient(case.id), {"text": self.t(key), "key": key})

    async def remind_urgent(self) -> list[int]:
        """Urgent cases nobody took within desk.urgent_reminder_minutes: posted again in their topic,
        mentioning every counsellor. Returns the cases reminded."""
        desk = self.settings.desk
        stamp = datetime.now(UTC)
        mentions = [c.telegram_id for c in desk.counsellors if c.telegram_id]

        def reminder(case: CaseRow) -> tuple[str, str, dict[str, object]]:
            waited = max(1, int((stamp - case.opened_at).total_seconds() // 60))
            kind = self.t(f"emergency-kind-{case.emergency or 'other'}")
            text = self.t("desk-urgent-reminder", case=case.id, minutes=waited, kind=kind)
            return DESK, desk_recipient(case.id), {"text": text, "key": "desk-urgent-reminder", "mentions": mentions}

        return await self.conversation.store.remind_urgent(stamp - timedelta(minutes=desk.urgent_reminder_minutes), reminder)

    async def run_reminders(self, stop: asyncio.Event, interval: float = 30.0) -> None:
        """Remind the desk of urgent cases until ``stop`` (next to the outbox that sends the reminders)."""
        while not stop.is_set():
            try:
                await self.remind_urgent()
            except Exception:
                log.exception("could not look for urgent cases to remind the desk of; trying again in %.0f s", interval)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)

    def _parse(self, message: DeskMessage) -> tuple[str | None, str, int | None]:
        """(command, argument, case): from a card button ("take:12") or a /command in a topic."""
        action, _, value = (message.payload or "").partition(":")
        if action in ("take", "close") and value.isdigit():
            return action, "", int(value)
        text = message.text.strip()
        if message.kind is Kind.TEXT and text.startswith("/") and len(text) > 1:
            name, _, argument = text[1:].partition(" ")
            command = name.split("@")[0].lower()
            number = argument.strip().lstrip("#")
            if command in ("take", "close") and message.case is None and number.isdigit():  # "/take 12" outside a topic
                return command, "", int(number)
            return command, argument.strip(), message.case
        return None, "", message.case

    async def _general(self, command: str, who: Counsellor, case: int | None) -> list[Outgoing]:
        if command == "queue":
            waiting = await self.conversation.store.list_cases((OPEN, WAITING))
            return [self._listing("desk-queue", "desk-queue-empty", waiting, case)]
        if command == "mine":
            mine = await self.conversation.store.list_cases((ACTIVE,), who.name)
            return [self._listing("desk-mine", "desk-mine-empty", mine, case)]
        return [self.say("desk-help", case)]

    def _listing(self, title: str, empty: str, cases: list[CaseRow], where: int | None) -> Outgoing:
        if not cases:
            return self.say(empty, where)
        at = datetime.now(UTC)
        lines = [("⚠️ " if case.urgent else "") + self.t("desk-queue-line", case=case.id, language=case.language,
                                                          topic=self._topic(case), minutes=int((at - case.opened_at).total_seconds() // 60))
                 for case in cases]
        return Outgoing(DESK, self.t(title, count=len(cases)) + "\n" + "\n".join(lines), (), title, case=where)

    def _topic(self, case: CaseRow) -> str:
        return topic_title(self.conversation.content, self.settings.desk.language, case.topic)

    async def _only_case(self, who: Counsellor) -> int | None:
        """Outside a topic (the terminal), a counsellor with exactly one case writes in that one."""
        mine = await self.conversation.store.list_cases((ACTIVE,), who.name)
        return mine[0].id if len(mine) == 1 else None

    async def _in_case(self, session: UserSession, case: CaseRow, who: Counsellor, command: str | None, argument: str,
                       message: DeskMessage) -> list[Outgoing]:
        if case.status == CLOSED:
            return [self.say("desk-case-closed", case.id, case=case.id)]
        if command == "take":
            return await self._take(session, case, who)
        if command == "close":
            return await self._close(session, case, who)
        if command == "transfer":
            return await self._transfer(session, case, who, argument)
        if command is not None and command != "r":
            return [self.say("desk-help", case.id)]
        if case.status != ACTIVE:
            return [self.say("desk-take-first", case.id, case=case.id)]
        if (case.counsellor or "").casefold() != who.name.casefold():
            return [self.say("desk-not-yours", case.id, case=case.id, name=case.counsellor or "")]
        if command == "r":
            return self._reply(session, case, who, argument)
        self._to_her(session, case, who, message)
        return []

    async def _take(self, session: UserSession, case: CaseRow, who: Counsellor) -> list[Outgoing]:
        """Exactly one counsellor wins: her lock orders the presses, and the update only changes a
        case that is still waiting."""
        taken = case.status != ACTIVE and await session.change_case(
            case.id, (OPEN, WAITING), status=ACTIVE, counsellor=who.name, taken_at=datetime.now(UTC))
        if not taken:
            current = await session.case(case.id)
            return [self.say("desk-already-taken", case.id, case=case.id, name=(current.counsellor if current else None) or "")]
        self._assign(session, case, who, "handoff-connected")
        log.info("case taken case=%s counsellor=%s", case.id, who.name)
        return [self.say("desk-taken", case.id, case=case.id, name=who.name)]

    def _assign(self, session: UserSession, case: CaseRow, who: Counsellor, her_key: str) -> None:
        session.state[CASE] = {"id": case.id, "status": ACTIVE, "counsellor": who.name}
        self._tell_her(session, case, her_key, name=who.name)

    async def _close(self, session: UserSession, case: CaseRow, who: Counsellor) -> list[Outgoing]:
        await session.change_case(case.id, NOT_CLOSED, status=CLOSED, closed_at=datetime.now(UTC), closed_by=f"counsellor:{who.name}")
        session.state.pop(CASE, None)
        self._tell_her(session, case, "handoff-closed-by-counsellor", buttons=True)
        log.info("case closed case=%s counsellor=%s", case.id, who.name)
        return [self.say("desk-closed", case.id, case=case.id, name=who.name)]

    async def _transfer(self, session: UserSession, case: CaseRow, who: Counsellor, argument: str) -> list[Outgoing]:
        names = ", ".join(c.name for c in self.settings.desk.counsellors)
        if not argument:
            return [self.say("desk-transfer-usage", case.id, names=names)]
        target = self.settings.desk.counsellor(argument)
        if target is None:
            return [self.say("desk-unknown-counsellor", case.id, name=argument, names=names)]
        if case.status != ACTIVE:
            return [self.say("desk-take-first", case.id, case=case.id)]
        await session.change_case(case.id, (ACTIVE,), counsellor=target.name)
        self._assign(session, case, target, "handoff-transferred")
        notice = self.say("desk-transferred", case.id, case=case.id, old=case.counsellor or who.name, name=target.name)
        mention = (target.telegram_id,) if target.telegram_id else ()
        return [Outgoing(notice.recipient, notice.text, (), notice.key, case=case.id, mentions=mention)]

    def _reply(self, session: UserSession, case: CaseRow, who: Counsellor, key: str) -> list[Outgoing]:
        replies: Replies = self.conversation.content.replies
        wanted = self._her_language(session, case)
        found = replies.find(key.strip(), self.conversation.content.catalogs.chain(wanted))
        if found is None:
            return [self.say("desk-reply-unknown", case.id, key=key.strip(), keys=", ".join(replies.keys()) or "-")]
        text, language = found
        self._send_her(session, case, f"**{who.name}**: {text}", "canned-reply", language)
        if language == wanted:
            return [self.say("desk-reply-sent", case.id, key=key.strip(), language=native_name(language))]
        return [self.say("desk-reply-fallback", case.id, key=key.strip(), language=native_name(language), wanted=native_name(wanted))]

    def _to_her(self, session: UserSession, case: CaseRow, who: Counsellor, message: DeskMessage) -> None:
        """What a counsellor writes (or sends) reaches her, with the counsellor's first name only."""
        text = f"**{who.name}**: {message.text}" if message.text else f"**{who.name}**"
        body = self._body(text, case.language, "counsellor")
        if message.kind is not Kind.TEXT:
            body["kind"] = message.kind.value
            if message.reference:
                body["copy"] = message.reference
        session.log("out", message.kind.value, text, "counsellor")
        session.relay(case.id, session.user.channel, session.user.channel_ref, body)

    def _tell_her(self, session: UserSession, case: CaseRow, key: str, buttons: bool = False, **params: object) -> None:
        """A notice to her through the outbox, sent as soon as the desk's action is committed."""
        catalogs, language = self.conversation.content.catalogs, self._her_language(session, case)
        found = catalogs.get(language, key, **params)
        menu = [Button(catalogs.get(language, "button-menu").text, "cmd:menu")] if buttons else []
        self._send_her(session, case, found.text, key, found.language, menu)

    def _her_language(self, session: UserSession, case: CaseRow) -> str:
        """The language she uses now (she may have changed it since the case opened)."""
        chosen = session.user.language
        return chosen if chosen in self.settings.languages else case.language

    def _send_her(self, session: UserSession, case: CaseRow, text: str, key: str, language: str, buttons: list[Button] | None = None) -> None:
        session.log("out", "text", text, key)
        session.relay(case.id, session.user.channel, session.user.channel_ref, self._body(text, language, key, buttons))

    @staticmethod
    def _body(text: str, language: str, key: str, buttons: list[Button] | None = None) -> dict[str, object]:
        shaped = outgoing("", text, buttons or [], key, language)
        return {"text": shaped.text, "buttons": [[b.label, b.payload] for b in shaped.buttons], "key": key, "rtl": shaped.rtl}
