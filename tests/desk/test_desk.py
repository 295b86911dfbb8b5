"""The counsellors' desk, channel-neutral, on SQLite and PostgreSQL: cases, queue, office hours,
take over (one winner), relay both ways through the outbox, transfer, canned replies, back to the bot."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.core import handoff
from bot.config import Config
from bot.core.content import Content
from bot.core.conversation import Conversation
from bot.desk.desk import Desk, DeskMessage
from bot.messages import DESK, Kind
from bot.desk.outbox import Outbox
from bot.desk.replies import Replies, Reply
from bot.storage import Store
from bot.storage.cases import ACTIVE, CLOSED, OPEN
from bot.storage.models import Case
from tests.conftest import Chat
from tests.helpers import keys

BRUSSELS = ZoneInfo("Europe/Brussels")
_ids = iter(range(1, 10**6))


async def sent(store: Store, channel: str) -> list[dict[str, Any]]:
    """What the outbox holds for a channel now (marked sent, as a channel would)."""
    bodies = []
    while items := await store.claim_outbox((channel,)):
        for item in items:
            bodies.append({**item.body, "recipient": item.recipient, "case": item.case_id})
        await store.outbox_sent(items)
    return bodies


def say(desk: Desk, who: str, text: str = "", *, case: int | None = 1, payload: str | None = None, kind: Kind | None = None,
        reference: str | None = None) -> Any:
    kind = kind or (Kind.BUTTON if payload else Kind.TEXT)
    return desk.handle(DeskMessage(who, f"d{next(_ids)}", case, kind, text, payload, reference))


async def cases(store: Store) -> list[Any]:
    return await store.list_cases((OPEN, "waiting", ACTIVE, CLOSED))


@pytest.fixture
def desk(conversation: Conversation) -> Desk:
    return Desk(conversation)


async def test_human_opens_a_case_with_her_place_in_the_queue_and_a_card_for_the_desk(chat: Chat, store: Store) -> None:
    await chat.onboard("en")
    await chat("where can I learn Dutch")
    replies = await chat("/human")
    assert keys(replies) == ["handoff-waiting"] and "number 1 in the queue" in replies[0].text
    [case] = await cases(store)
    assert (case.status, case.language, case.trigger, case.urgent, case.counsellor) == (OPEN, "en", "command", False, None)
    [card] = await sent(store, DESK)
    assert card["recipient"] == "case:1" and card["key"] == "desk-card" and card["title"].startswith("#1 · en")
    assert card["buttons"] == [["Take over", "take:1"], ["Close", "close:1"]]
    assert "› where can I learn Dutch" in card["text"] and "/human" not in card["text"].split("Her last messages:")[1]
    assert "Speak English (en): Amal, Lotte, Olena" in card["text"]
    assert chat.user not in card["text"] and chat.user not in card["title"]  # her channel id never reaches the desk


async def test_queue_position_counts_earlier_cases_and_urgent_ones_go_first(conversation: Conversation, store: Store) -> None:
    first, second, third = (Chat(conversation, user=name) for name in ("a", "b", "c"))
    for woman in (first, second, third):
        await woman.onboard("en")
    await first("/human")
    assert "number 2 in the queue" in (await second("/human"))[0].text
    assert keys(await third("my husband hits me")) == ["emergency:violence", "handoff-urgent"]
    assert "number 3." in (await second("/human"))[0].text  # asked again: still waiting, now behind the urgent case
    waiting = await store.list_cases((OPEN,))
    assert [(c.trigger, c.urgent) for c in waiting] == [("emergency", True), ("command", False), ("command", False)]


async def test_asking_again_while_waiting_opens_no_second_case(chat: Chat, store: Store) -> None:
    await chat.onboard("en")
    await chat("/human")
    assert keys(await chat("/human")) == ["handoff-still-waiting"]
    assert len(await cases(store)) == 1


@pytest.mark.parametrize(("language", "weekday"), [("en", "Monday"), ("nl", "maandag"), ("fr", "lundi")])
async def test_out_of_hours_she_is_told_when_the_desk_opens_in_her_language(chat: Chat, store: Store, monkeypatch: pytest.MonkeyPatch,
                                                                          conversation: Conversation, language: str, weekday: str) -> None:
    weekdays = {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
    settings = conversation.config.settings
    hours = settings.desk.office_hours.model_copy(update={"weekly": weekdays})
    desk = settings.desk.model_copy(update={"office_hours": hours})
    conversation.config = dataclasses.replace(conversation.config, settings=settings.model_copy(update={"desk": desk}))
    monkeypatch.setattr(handoff, "now", lambda: datetime(2026, 12, 5, 20, 0, tzinfo=BRUSSELS))  # a Saturday evening
    await chat.onboard(language)
    [reply] = await chat("/human")
    assert reply.key == "handoff-waiting-closed" and weekday in reply.text and "7" in reply.text and "112" in reply.text
    [card] = await sent(store, DESK)
    assert "She was told the desk opens again on Monday" in card["text"]


async def test_two_failed_answers_offer_a_counsellor_and_she_chooses(chat: Chat, store: Store) -> None:
    await chat.onboard("en")
    assert keys(await chat("which series should i watch on netflix")) == ["fallback"]
    offer = await chat("how long do i boil an egg")
    assert keys(offer) == ["handoff-offer"] and [b.payload for b in offer[0].buttons] == ["human:failed", "cmd:menu"]
    assert await cases(store) == []  # offered, not forced
    assert keys(await chat.press("human:failed")) == ["handoff-waiting"]
    assert [c.trigger for c in await cases(store)] == ["failed"]


@pytest.mark.parametrize(("language", "text"), [("en", "I want to talk to a person"), ("ar", "أريد التحدث مع شخص"),
                                                ("nl", "ik wil met iemand praten")])
async def test_asking_for_a_person_in_her_own_words_opens_a_case(chat: Chat, store: Store, language: str, text: str) -> None:
    await chat.onboard(language)
    assert keys(await chat(text)) == ["handoff-waiting"]
    assert [(c.trigger, c.language) for c in await cases(store)] == [("request", language)]


async def test_a_flow_that_hands_off_puts_her_answers_on_the_card(chat: Chat, store: Store) -> None:
    await chat.onboard("en")
    for step in ("flow:childcare", "answer:baby", "answer:course"):
        await chat.press(step)
    await chat("9000")
    assert keys(await chat.press("answer:yes")) == ["flow:childcare:handed", "handoff-waiting"]
    [case] = await cases(store)
    assert (case.trigger, case.topic) == ("flow", "childcare")
    [card] = await sent(store, DESK)
    answers = card["text"].split("Her answers in the flow:\n")[1].split("\n\n")[0].splitlines()
    assert sorted(answers) == ["• age: baby", "• area: postcode:9000", "• share: yes", "• when: course"]
    assert "Started: the flow 'Find childcare' handed her over" in card["text"] and "Topic: Childcare" in card["text"]


async def test_take_over_relays_both_ways_and_the_bot_stays_silent(chat: Chat, store: Store, desk: Desk) -> None:
    await chat.onboard("ar")
    await chat("/human")
    await sent(store, DESK)
    assert keys(await say(desk, "Amal", payload="take:1")) == ["desk-taken"]
    [connected] = await sent(store, "test")
    assert connected["key"] == "handoff-connected" and "Amal" in connected["text"] and connected["rtl"] is True
    assert await chat("عندي رسالة من البلدية") == []  # the bot is silent
    assert [m["text"] for m in await sent(store, DESK)] == ["💬 عندي رسالة من البلدية"]
    assert await say(desk, "Amal", "أهلاً، أرسلي صورة الرسالة") == []
    [message] = await sent(store, "test")
    assert message["key"] == "counsellor" and message["text"] == "**\u2066Amal\u2069**: أهلاً، أرسلي صورة الرسالة"  # Latin name isolated in RTL
    assert await chat.send(kind=Kind.IMAGE, reference="42:7") == []
    [photo] = await sent(store, DESK)
    assert photo["copy"] == "42:7" and photo["text"] == "She sent: a photo"
    log = await store.recent_messages("test", chat.user)
    assert [(m.direction, m.kind, m.key) for m in log[-3:]] == [("in", "text", None), ("out", "text", "counsellor"), ("in", "image", None)]


async def test_pressing_take_over_at_the_same_moment_one_counsellor_wins(conversation: Conversation, db_url: str, content: Content,
                                                                        config: Config, store: Store) -> None:
    chat = Chat(conversation)
    await chat.onboard("en")
    await chat("/human")
    other_store = await Store.open(db_url)  # a second process
    try:
        other = Desk(Conversation(other_store, content, config))
        results = await asyncio.gather(say(Desk(conversation), "Amal", payload="take:1"), say(other, "Lotte", payload="take:1"))
    finally:
        await other_store.close()
    assert sorted(keys(r)[0] for r in results) == ["desk-already-taken", "desk-taken"]
    told = [m for m in await sent(store, "test") if m["key"] == "handoff-connected"]
    [case] = await cases(store)
    assert len(told) == 1 and case.counsellor in told[0]["text"] and case.status == ACTIVE


async def test_transfer_and_close_tell_her_and_bring_her_back_to_the_bot(chat: Chat, store: Store, desk: Desk) -> None:
    await chat.onboard("en")
    await chat("/human")
    await say(desk, "Amal", payload="take:1")
    assert keys(await say(desk, "Amal", "/transfer Nobody")) == ["desk-unknown-counsellor"]
    assert keys(await say(desk, "Amal", "/transfer lotte")) == ["desk-transferred"]
    assert keys(await say(desk, "Amal", "hello?")) == ["desk-not-yours"]
    assert keys(await say(desk, "Lotte", "/close")) == ["desk-closed"]
    told = await sent(store, "test")
    assert [m["key"] for m in told] == ["handoff-connected", "handoff-transferred", "handoff-closed-by-counsellor"]
    assert told[-1]["buttons"] == [["Menu", "cmd:menu"]]
    assert keys(await chat("where can I learn Dutch"))[0] != "handoff-with-counsellor"  # the bot answers again
    [case] = await cases(store)
    assert (case.status, case.closed_by) == (CLOSED, "counsellor:Lotte")


async def test_bot_command_brings_her_back_and_tells_the_desk(chat: Chat, store: Store, desk: Desk) -> None:
    await chat.onboard("en")
    await chat("/human")
    await say(desk, "Amal", payload="take:1")
    await sent(store, DESK)
    assert keys(await chat("/bot")) == ["handoff-back", "main-menu"]
    assert [m["key"] for m in await sent(store, DESK)] == ["desk-she-left"]
    assert keys(await say(desk, "Amal", "are you there?")) == ["desk-case-closed"]
    assert keys(await chat("/bot")) == ["handoff-bot-already", "main-menu"]


async def test_waiting_she_can_keep_asking_the_bot_or_withdraw(chat: Chat, store: Store) -> None:
    await chat.onboard("en")
    await chat("/human")
    assert keys(await chat("where can I learn Dutch"))[0].startswith("entry:")
    assert keys(await chat("/bot")) == ["handoff-withdrawn", "main-menu"]
    desk = await sent(store, DESK)
    assert [m["key"] for m in desk] == ["desk-card", "her-message", "desk-she-withdrew"]
    assert desk[1]["text"] == "💬 where can I learn Dutch"  # while she waits, the topic shows what she asks the bot


async def test_canned_reply_goes_in_her_language_or_says_which_fallback_was_used(chat: Chat, store: Store, desk: Desk,
                                                                              conversation: Conversation) -> None:
    await chat.onboard("nl")
    await chat("/human")
    await say(desk, "Amal", payload="take:1")
    await sent(store, "test")
    assert [o.text for o in await say(desk, "Amal", "/r welcome")] == ["Sent 'welcome' in Nederlands."]
    [reply] = await sent(store, "test")
    assert reply["text"].startswith("**Amal**: Hallo, ik ben een begeleider")
    only_english = Replies({"leaflet": {"en": Reply("Here is the leaflet.", "Leaflet", True)}})
    conversation.content = dataclasses.replace(conversation.content, replies=only_english)
    assert [o.text for o in await say(desk, "Amal", "/r leaflet")] == ["Sent 'leaflet' in English: there is no Nederlands version yet."]
    assert keys(await say(desk, "Amal", "/r nothing")) == ["desk-reply-unknown"]


async def test_take_and_close_with_a_case_number_outside_its_topic(chat: Chat, store: Store, desk: Desk) -> None:
    """Failed before: "/take 1" in the desk's general chat ignored the number (and, with two cases, took none)."""
    await chat.onboard("en")
    await chat("/human")
    other = Chat(chat.conversation, user="sara")
    await other.onboard("en")
    await other("/human")
    await sent(store, DESK)
    assert keys(await say(desk, "Amal", "/take #2", case=None)) == ["desk-taken"]
    assert [(case.id, case.status, case.counsellor) for case in await cases(store)][1] == (2, ACTIVE, "Amal")
    assert keys(await say(desk, "Amal", "/close 2", case=None))[0] == "desk-closed"


async def test_counsellor_must_take_over_before_writing_and_only_listed_counsellors_act(chat: Chat, store: Store, desk: Desk) -> None:
    await chat.onboard("en")
    await chat("/human")
    assert keys(await say(desk, "Amal", "hello")) == ["desk-take-first"]
    assert keys(await say(desk, "Mallory", payload="take:1")) == ["desk-not-counsellor"]
    assert keys(await say(desk, "Amal", "hello", case=None)) == ["desk-no-case"]
    assert [c.status for c in await cases(store)] == [OPEN]


async def test_queue_and_mine_list_cases(conversation: Conversation, desk: Desk) -> None:
    for name in ("a", "b"):
        woman = Chat(conversation, user=name)
        await woman.onboard("en")
        await woman("/human")
    [queue] = await say(desk, "Amal", "/queue", case=None)
    assert queue.text.startswith("Waiting (2):\n#1 · en · general") and "#2" in queue.text
    await say(desk, "Amal", payload="take:2")
    [mine] = await say(desk, "Amal", "/mine", case=None)
    assert mine.text.startswith("Your cases (1):\n#2")
    assert keys(await say(desk, "Lotte", "/mine", case=None)) == ["desk-mine-empty"]


async def test_a_desk_action_delivered_twice_is_handled_once(chat: Chat, store: Store, desk: Desk) -> None:
    await chat.onboard("en")
    await chat("/human")
    await say(desk, "Amal", payload="take:1")
    message = DeskMessage("Amal", "same-id", 1, Kind.TEXT, "hello")
    await desk.handle(message)
    assert await desk.handle(message) == []
    assert [m["key"] for m in await sent(store, "test")] == ["handoff-connected", "counsellor"]


async def test_emergency_while_with_a_counsellor_gets_the_numbers_and_makes_the_case_urgent(chat: Chat, store: Store, desk: Desk) -> None:
    await chat.onboard("en")
    await chat("/human")
    await say(desk, "Amal", payload="take:1")
    await sent(store, DESK)
    replies = await chat("he hits me")
    assert keys(replies) == ["emergency:violence", "handoff-with-counsellor"] and "112" in replies[0].text
    assert [m["key"] for m in await sent(store, DESK)] == ["her-message", "desk-urgent-now"]
    [case] = await cases(store)
    assert case.urgent is True


async def test_forget_while_waiting_deletes_the_case_and_tells_the_desk(chat: Chat, store: Store) -> None:
    await chat.onboard("en")
    await chat("/human")
    await sent(store, DESK)
    await chat("/forget")
    await chat.press("forget:yes")
    assert await cases(store) == []
    [notice] = await sent(store, DESK)
    assert notice["key"] == "desk-she-forgot" and notice["case"] is None and notice["recipient"] == "case:1"


async def test_without_counsellors_the_bot_says_honestly_nobody_is_connected(chat: Chat, store: Store, conversation: Conversation) -> None:
    settings = conversation.config.settings
    conversation.config = dataclasses.replace(conversation.config, settings=settings.model_copy(
        update={"desk": settings.desk.model_copy(update={"counsellors": []})}))
    await chat.onboard("en")
    replies = await chat("/human")
    assert keys(replies) == ["human-not-connected"] and "112" in replies[0].text
    assert await cases(store) == []


async def test_outbox_retries_a_failed_message_later_and_keeps_her_order(chat: Chat, store: Store, desk: Desk,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.storage import cases as case_store

    await chat.onboard("en")
    await chat("/human")
    await say(desk, "Amal", payload="take:1")
    await say(desk, "Amal", "first")
    await say(desk, "Amal", "second")
    delivered: list[str] = []
    failing = {"first"}

    async def send(item: Any) -> bool:
        text = item.body["text"]
        if any(word in text for word in failing):
            return False
        delivered.append(item.body["key"] + ":" + text.rsplit(" ", 1)[-1])
        return True

    await sent(store, DESK)
    outbox = Outbox(store, ("test",), send)
    monkeypatch.setattr(case_store, "RETRY_AFTER", (0.0,))
    assert await outbox.drain() == 1  # "connected" went out; "first" failed, so "second" waits behind it
    assert delivered == ["handoff-connected:/bot."]
    failing.clear()
    assert await outbox.drain() == 2
    assert delivered[1:] == ["counsellor:first", "counsellor:second"]
    assert await outbox.drain() == 0 and await store.outbox_pending() == 0


async def test_a_case_row_is_removed_with_her(chat: Chat, store: Store) -> None:
    await chat.onboard("en")
    await chat("/human")
    async with store.engine.connect() as connection:
        from sqlalchemy import func, select

        assert (await connection.execute(select(func.count()).select_from(Case))).scalar_one() == 1


async def test_purge_removes_sent_relays_after_a_day_and_keeps_unsent_ones(chat: Chat, store: Store, desk: Desk) -> None:
    from datetime import UTC, timedelta

    await chat.onboard("en")
    await chat("/human")
    await say(desk, "Amal", payload="take:1")
    await sent(store, DESK)  # the card was sent; "connected" to her was not
    from sqlalchemy import func, select

    from bot.storage.models import Outbox

    async def rows() -> int:
        async with store.engine.connect() as connection:
            return int((await connection.execute(select(func.count()).select_from(Outbox))).scalar_one())

    assert await rows() == 2
    await store.purge_expired(messages_days=90, inactive_user_days=365, at=datetime.now(UTC) + timedelta(days=2))
    assert await rows() == 1 and await store.outbox_pending() == 1
    assert [m["key"] for m in await sent(store, "test")] == ["handoff-connected"]


async def test_with_a_counsellor_bot_buttons_and_commands_remind_her_who_she_talks_with(chat: Chat, store: Store, desk: Desk) -> None:
    await chat.onboard("en")
    await chat("/human")
    await say(desk, "Amal", payload="take:1")
    await sent(store, DESK)
    for action in (chat.press("topic:childcare"), chat.press("cmd:menu"), chat("/help")):
        replies = await action
        assert keys(replies) == ["handoff-with-counsellor"] and "Amal" in replies[0].text
    assert await sent(store, DESK) == []  # none of it was relayed
    assert keys(await chat("/forget")) == ["forget-confirm"]  # privacy commands still work


async def test_forget_can_be_confirmed_while_a_counsellor_has_her(chat: Chat, store: Store, desk: Desk) -> None:
    await chat.onboard("en")
    await chat("/human")
    await say(desk, "Amal", payload="take:1")
    await sent(store, DESK)
    assert keys(await chat("/forget")) == ["forget-confirm"]
    assert keys(await chat.press("forget:yes")) == ["forget-done"]
    assert await cases(store) == []
    assert [m["key"] for m in await sent(store, DESK)] == ["desk-she-forgot"]


async def test_the_card_on_the_desk_makes_an_open_case_waiting(chat: Chat, store: Store) -> None:
    await chat.onboard("en")
    await chat("/human")
    delivered: list[str] = []

    async def send(item: Any) -> bool:
        delivered.append(item.body["key"])
        return True

    assert [c.status for c in await cases(store)] == [OPEN]
    assert await Outbox(store, (DESK,), send).drain() == 1
    assert delivered == ["desk-card"] and [c.status for c in await cases(store)] == ["waiting"]


async def test_two_processes_draining_the_outbox_never_send_the_same_message(chat: Chat, store: Store, desk: Desk, db_url: str) -> None:
    await chat.onboard("en")
    await chat("/human")
    await say(desk, "Amal", payload="take:1")
    for number in range(20):
        await say(desk, "Amal", f"message {number}")
    other = await Store.open(db_url)
    try:
        first, second = await asyncio.gather(store.claim_outbox(("test",), 100), other.claim_outbox(("test",), 100))
    finally:
        await other.close()
    ids = [item.id for item in first + second]
    assert len(ids) == 21 and len(set(ids)) == 21  # every item claimed once, by one of them


async def test_a_button_between_two_unanswered_questions_means_they_were_not_in_a_row(chat: Chat) -> None:
    await chat.onboard("en")
    assert keys(await chat("which series should i watch on netflix")) == ["fallback"]
    await chat.press("topic:childcare")
    assert keys(await chat("how long do i boil an egg")) == ["fallback"]
    assert keys(await chat("who won the football match yesterday")) == ["handoff-offer"]


async def test_the_outbox_is_woken_only_when_a_message_stored_something_for_it(chat: Chat, store: Store) -> None:
    woken: list[int] = []
    store.on_outbox(lambda: woken.append(1))
    await chat.onboard("en")
    await chat("where can I learn Dutch")
    assert woken == []  # an ordinary message costs the outbox nothing
    await chat("/human")
    assert woken == [1]  # the card was committed


# Privacy on the desk: her phone number, e-mail address and IBAN only when she shares them -------------

def hidden(content: Content, what: str, language: str = "en") -> str:
    return content.catalogs.get(language, f"desk-hidden-{what}").text


async def test_a_phone_number_she_typed_in_a_flow_she_cancelled_is_not_on_the_card(chat: Chat, store: Store, content: Content) -> None:
    await chat.onboard("en")
    for step in ("flow:job-shadowing", "answer:yes"):
        await chat.press(step)
    await chat("Zeynep")
    await chat.press("answer:phone")
    await chat("0470 12 34 56")
    await chat("/cancel")
    await chat("write to zeynep@example.org, I have 2 children")
    await chat("or call 0470 12 34 56")
    await chat("/human")
    [card] = await sent(store, DESK)
    last = card["text"].split("Her last messages:\n")[1].split("\n\n")[0].splitlines()
    assert "0470" not in card["text"] and "zeynep@example.org" not in card["text"]
    assert "Zeynep" not in card["text"]  # her answers to the flow she left are not her "last messages" either
    assert last == [f"› write to {hidden(content, 'email')}, I have 2 children", f"› or call {hidden(content, 'phone')}"]  # other numbers stay
    assert "she can share it with you herself" in hidden(content, "phone")  # what the counsellor can do


async def test_the_hidden_number_is_worded_in_the_desk_language(chat: Chat, store: Store, conversation: Conversation,
                                                              content: Content) -> None:
    settings = conversation.config.settings
    conversation.config = dataclasses.replace(conversation.config, settings=settings.model_copy(
        update={"desk": settings.desk.model_copy(update={"language": "nl"})}))
    await chat.onboard("ar")
    await chat("رقمي ٠٤٧٠ ١٢ ٣٤ ٥٦")
    await chat("/human")
    [card] = await sent(store, DESK)
    assert f"› رقمي {hidden(content, 'phone', 'nl')}" in card["text"] and hidden(content, "phone", "nl").startswith("[telefoonnummer")


async def test_what_she_writes_to_the_desk_hides_her_details_unless_she_shares_her_number(chat: Chat, store: Store, desk: Desk,
                                                                                        content: Content) -> None:
    await chat.onboard("en")
    await chat("/human")
    await sent(store, DESK)
    await chat("my number is +32 470 12 34 56, we live in 9000 Gent")  # while she waits: mirrored to the topic
    await say(desk, "Amal", payload="take:1")
    await chat("pay BE68 5390 0754 7034 or write ana@example.org; my son is 4")  # with a counsellor: relayed
    await chat.send(kind=Kind.CONTACT, text="+32470123456")  # she chose to share her number
    await chat.send(kind=Kind.IMAGE, text="call 0032 470 12 34 56", reference="42:7")
    relayed = [m for m in await sent(store, DESK) if m["key"] == "her-message"]
    assert [m["text"] for m in relayed] == [
        f"💬 my number is {hidden(content, 'phone')}, we live in 9000 Gent",
        f"💬 pay {hidden(content, 'iban')} or write {hidden(content, 'email')}; my son is 4",
        "She sent: her phone number (she chose to share it)\n+32470123456",
        f"She sent: a photo\n💬 call {hidden(content, 'phone')}",
    ]
    assert relayed[-1]["copy"] == "42:7" and relayed[-1]["drop_caption"] is True  # the copy goes without her own caption


# Closing: she is told at once -------------------------------------------------------------------------------

async def test_closing_from_the_card_tells_her_at_once_in_her_language_and_only_once(chat: Chat, store: Store, desk: Desk,
                                                                                    content: Content) -> None:
    await chat.onboard("en")
    await chat("/human")
    await chat.press("lang:nl")  # she changed her language while she waited
    await sent(store, "test")
    assert keys(await say(desk, "Lotte", payload="close:1")) == ["desk-closed"]
    [told] = await sent(store, "test")  # queued with the close, before she writes again
    assert told["key"] == "handoff-closed-by-counsellor"
    assert told["text"] == content.catalogs.get("nl", "handoff-closed-by-counsellor").text != content.catalogs.get("en", "handoff-closed-by-counsellor").text
    assert told["buttons"] == [[content.catalogs.get("nl", "button-menu").text, "cmd:menu"]]
    replies = await chat("waar kan ik Nederlands leren")
    assert "handoff-closed-by-counsellor" not in keys(replies) and await sent(store, "test") == []  # not again
    assert [c.status for c in await cases(store)] == [CLOSED]
