"""Conversation.handle end to end on SQLite and PostgreSQL: onboarding, commands, answers, bad input."""

from __future__ import annotations

import asyncio

import pytest

from bot.core.content import Content
from bot.core.conversation import Conversation
from bot.messages import Kind
from bot.storage import Store
from bot.language.bidi import outgoing
from tests.conftest import Chat
from tests.helpers import keys, make_message, payloads


async def test_first_contact_gets_welcome_and_language_menu_in_native_names(chat: Chat) -> None:
    replies = await chat("salam")
    assert keys(replies) == ["welcome"]
    labels = [button.label for button in replies[0].buttons]
    assert labels[:4] == ["Nederlands", "English", "Français", "العربية"]
    assert {"ትግርኛ", "پښتو", "فارسی", "Soomaali", "Українська"} <= set(labels)


async def test_client_language_hint_goes_first_in_the_menu_and_is_used(chat: Chat) -> None:
    replies = await chat("hello", language_hint="ar")
    assert payloads(replies[0])[0] == "lang:ar"
    assert replies[0].rtl is True


async def test_choosing_a_language_shows_privacy_notice_then_menu_from_content(chat: Chat, content: Content) -> None:
    replies = await chat.onboard("en")
    assert keys(replies) == ["privacy-notice", "main-menu"]
    assert "90 days" in replies[0].text and "/forget" in replies[0].text
    topic_payloads = [f"topic:{topic.id}" for topic in content.knowledge.topics]
    assert payloads(replies[1]) == [*topic_payloads, "cmd:human"]


async def test_language_is_remembered_and_consent_recorded(chat: Chat, store: Store) -> None:
    await chat.onboard("nl")
    user = await store.get_user("test", "amina")
    assert user is not None and user.language == "nl" and user.consent_at is not None
    replies = await chat("/menu")
    assert keys(replies) == ["main-menu"]
    assert replies[0].text == chat.conversation.content.catalogs.get("nl", "main-menu").text


async def test_language_command_changes_language(chat: Chat) -> None:
    await chat.onboard("en")
    assert keys(await chat("/language")) == ["choose-language"]
    replies = await chat.press("lang:fa")
    assert keys(replies)[:2] == ["language-changed", "main-menu"]
    assert "فارسی" in replies[0].text
    assert replies[0].rtl is True


@pytest.mark.parametrize("command, expected", [
    ("/start", ["welcome-back"]),
    ("/menu", ["main-menu"]),
    ("/help", ["help"]),
    ("/human", ["handoff-waiting"]),
    ("/cancel", ["cancel-nothing", "main-menu"]),
    ("/forget", ["forget-confirm"]),
    ("/whatever", ["unknown-command"]),
    ("/HELP@WegwijsBot", ["help"]),
])
async def test_commands(chat: Chat, command: str, expected: list[str]) -> None:
    await chat.onboard("en")
    assert keys(await chat(command)) == expected


async def test_human_button_works_like_the_command(chat: Chat) -> None:
    await chat.onboard("en")
    assert keys(await chat.press("cmd:human")) == ["handoff-waiting"]


async def test_forget_confirmed_deletes_everything_and_she_starts_fresh(chat: Chat, store: Store) -> None:
    await chat.onboard("en")
    await chat("where can i learn dutch")
    assert keys(await chat("/forget")) == ["forget-confirm"]
    assert keys(await chat.press("forget:yes")) == ["forget-done"]
    assert await store.get_user("test", "amina") is None
    assert await store.counts() == {"users": 0, "messages": 0, "processed": 0, "states": 0, "records": 0}
    assert keys(await chat("hello again")) == ["welcome"]


async def test_forget_refused_keeps_everything(chat: Chat, store: Store) -> None:
    await chat.onboard("en")
    await chat("/forget")
    assert keys(await chat.press("forget:no")) == ["forget-kept"]
    assert (await store.get_user("test", "amina")).language == "en"


async def test_forget_then_cancel_deletes_nothing(chat: Chat, store: Store) -> None:
    await chat.onboard("en")
    await chat("/forget")
    assert keys(await chat("/cancel")) == ["cancelled", "main-menu"]
    assert keys(await chat.press("forget:yes")) == ["stale-button", "main-menu"]
    assert await store.get_user("test", "amina") is not None


async def test_forget_then_another_question_deletes_nothing(chat: Chat, store: Store) -> None:
    await chat.onboard("en")
    await chat("/forget")
    await chat("/help")
    assert keys(await chat.press("forget:yes")) == ["stale-button", "main-menu"]
    assert await store.get_user("test", "amina") is not None


async def test_topic_button_lists_its_entries_and_entry_button_answers(chat: Chat, content: Content) -> None:
    await chat.onboard("en")
    topic = content.knowledge.topics[0]
    replies = await chat.press(f"topic:{topic.id}")
    assert keys(replies) == ["topic-menu"]
    entry_payloads = [payload for payload in payloads(replies[0]) if payload.startswith("entry:")]
    assert entry_payloads == [f"entry:{entry.key}" for entry in content.knowledge.entries_of(topic.id)]
    answer = await chat.press(entry_payloads[0])
    assert keys(answer) == [entry_payloads[0], "was-this-helpful"]
    assert payloads(answer[1]) == [f"helpful:{entry_payloads[0][6:]}", f"unhelpful:{entry_payloads[0][6:]}", "cmd:menu"]


@pytest.mark.parametrize("topic, flow", [("childcare", "childcare"), ("dutch-courses", "dutch-courses"), ("recognition", "recognition")])
async def test_a_topic_menu_offers_its_flow_first(chat: Chat, topic: str, flow: str) -> None:
    await chat.onboard("ar")
    replies = await chat.press(f"topic:{topic}")
    assert payloads(replies[0])[0] == f"flow:{flow}"
    assert replies[0].buttons[0].label.startswith("🧭") and not replies[0].buttons[0].label.isascii()  # translated
    assert keys(await chat.press(f"flow:{flow}"))[0].startswith("ask:")


async def test_free_text_question_gets_the_matching_answer(chat: Chat, content: Content) -> None:
    await chat.onboard("en")
    for entry in content.knowledge.entries.values():
        if entry.key in content.knowledge.emergency.entries:  # its questions are emergencies
            continue
        question = entry.answers["en"].questions[0]
        assert keys(await chat(question))[0] == f"entry:{entry.key}", question


async def test_answer_in_dutch_is_the_dutch_entry(chat: Chat, content: Content) -> None:
    await chat.onboard("nl")
    entry = next(iter(content.knowledge.entries.values()))
    replies = await chat.press(f"entry:{entry.key}")
    assert entry.answers["nl"].title in replies[0].text
    assert "note-not-translated" not in keys(replies)


async def test_answer_missing_in_her_language_comes_from_the_fallback_with_a_note(chat: Chat, content: Content, monkeypatch) -> None:
    await chat.onboard("uk")
    entry = next(iter(content.knowledge.entries.values()))
    monkeypatch.delitem(entry.answers, "uk", raising=False)
    replies = await chat.press(f"entry:{entry.key}")
    assert entry.answers["en"].title in replies[0].text
    assert keys(replies)[-1] == "note-not-translated"


async def test_arabic_replies_are_marked_right_to_left(chat: Chat) -> None:
    await chat.onboard("ar")
    replies = await chat("/help")
    assert all(reply.rtl for reply in replies)


async def test_unknown_question_gets_honest_fallback_with_menu_and_human_and_is_logged(chat: Chat, store: Store) -> None:
    await chat.onboard("en")
    replies = await chat("qwzx blorp")
    assert keys(replies) == ["fallback"]
    assert payloads(replies[0]) == ["cmd:menu", "cmd:human"]
    from bot.tools.report import unanswered
    logged = await unanswered(store)
    assert [(item.text, item.language) for item in logged] == [("qwzx blorp", "en")]


async def test_off_topic_question_is_not_answered(chat: Chat) -> None:
    await chat.onboard("en")
    assert keys(await chat("what will the weather be like tomorrow in gent")) == ["fallback"]


async def test_feedback_buttons_are_stored_without_her_identity(chat: Chat, store: Store, content: Content) -> None:
    await chat.onboard("nl")
    entry = next(iter(content.knowledge.entries))
    assert keys(await chat.press(f"helpful:{entry}")) == ["feedback-thanks"]
    replies = await chat.press(f"unhelpful:{entry}")
    assert keys(replies) == ["feedback-sorry"] and "cmd:human" in payloads(replies[0])
    from bot.tools.report import feedback_counts
    assert await feedback_counts(store) == {entry: (1, 1)}


async def test_none_of_these_gets_the_honest_fallback(chat: Chat) -> None:
    await chat.onboard("en")
    assert keys(await chat.press("none")) == ["fallback"]


@pytest.mark.parametrize("text, kind", [("help, my husband hits me", "violence"), ("he threatens to kill me", "threat"),
                                        ("زوجي يضربني", "violence")])
async def test_emergency_wins_in_any_state_and_language(chat: Chat, content: Content, text: str, kind: str) -> None:
    await chat.onboard("nl")
    await chat("/forget")  # waiting for a confirmation does not delay an emergency
    replies = await chat(text)
    assert replies[0].key == f"emergency:{kind}" and "112" in replies[0].text
    assert "cmd:menu" in payloads(replies[0])


async def test_emergency_before_choosing_a_language(chat: Chat) -> None:
    replies = await chat("he hits me")
    assert keys(replies)[0] == "emergency:violence"


# Bad input ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["", "   ", "\x00\x07\x1b"])
async def test_empty_message_gets_a_clear_reply(chat: Chat, text: str) -> None:
    await chat.onboard("en")
    assert keys(await chat(text)) == ["empty-message", "main-menu"]


async def test_ten_thousand_characters_are_cut_and_she_is_told(chat: Chat, store: Store, config) -> None:
    await chat.onboard("en")
    replies = await chat("where can i learn dutch " * 420)
    assert replies[0].key == "message-too-long"
    assert str(config.settings.limits.max_message_chars) in replies[0].text
    stored = await store.recent_messages("test", "amina", limit=50)
    assert max(len(message.text) for message in stored if message.direction == "in") == config.settings.limits.max_message_chars


async def test_control_characters_are_removed_before_matching_and_storing(chat: Chat, store: Store) -> None:
    await chat.onboard("en")
    await chat("he\x00llo\x1b[31m")
    stored = [message.text for message in await store.recent_messages("test", "amina") if message.direction == "in"]
    assert stored[-1] == "hello[31m"


async def test_unknown_button_payload_gets_menu(chat: Chat) -> None:
    await chat.onboard("en")
    assert keys(await chat.press("entry:nope/nothing")) == ["stale-button", "main-menu"]
    assert keys(await chat.press("lang:xx")) == ["stale-button", "main-menu"]


@pytest.mark.parametrize("kind", [Kind.VOICE, Kind.IMAGE, Kind.DOCUMENT, Kind.LOCATION, Kind.OTHER])
async def test_other_kinds_get_a_kind_reply(chat: Chat, kind: Kind) -> None:
    await chat.onboard("en")
    assert keys(await chat.send(kind=kind)) == ["unsupported-kind"]


async def test_unexpected_error_is_answered_kindly_and_her_message_is_kept(chat: Chat, store: Store, monkeypatch) -> None:
    await chat.onboard("ar")

    def broken(*args, **kwargs):
        raise RuntimeError("index exploded")

    monkeypatch.setattr(chat.conversation.content.retriever, "evidence", broken)
    replies = await chat("سؤال عن الحضانة", message_id="boom-1")
    assert keys(replies) == ["error-sorry"]
    found = chat.conversation.content.catalogs.get("ar", "error-sorry", numbers="112")
    assert replies[0].text == outgoing("x", found.text, (), "error-sorry", found.language).text
    stored = [message.text for message in await store.recent_messages("test", "amina")]
    assert "سؤال عن الحضانة" in stored
    assert await chat.conversation.handle(make_message("again", user="amina", message_id="boom-1")) == []


# Idempotency and order ------------------------------------------------------------------------

async def test_same_message_id_twice_is_answered_once(chat: Chat, store: Store) -> None:
    await chat.onboard("en")
    message = make_message("/help", user="amina", message_id="tg-777")
    assert keys(await chat.conversation.handle(message)) == ["help"]
    assert await chat.conversation.handle(message) == []
    inbound = [m for m in await store.recent_messages("test", "amina", 50) if m.text == "/help"]
    assert len(inbound) == 1


async def test_same_message_id_delivered_concurrently_is_answered_once(chat: Chat) -> None:
    await chat.onboard("en")
    message = make_message("/help", user="amina", message_id="tg-dup")
    results = await asyncio.gather(*(chat.conversation.handle(message) for _ in range(5)))
    assert sorted(len(replies) for replies in results) == [0, 0, 0, 0, 1]


async def test_messages_of_one_woman_in_one_process_are_handled_in_arrival_order(chat: Chat, store: Store) -> None:
    await chat.onboard("en")
    texts = [f"question {index}" for index in range(10)]
    await asyncio.gather(*(chat(text) for text in texts))
    inbound = [m.text for m in await store.recent_messages("test", "amina", 100) if m.direction == "in"]
    assert inbound[-10:] == texts


async def test_concurrent_messages_on_two_processes_are_serialised(db_url: str, content: Content, config) -> None:
    """Two conversations on two stores stand for two processes behind a load balancer: whichever
    gets the woman first, the other sees its committed result, as if they came one after the other."""
    stores = [await Store.open(db_url), await Store.open(db_url)]
    first, second = (Conversation(store, content, config) for store in stores)
    try:
        await first.handle(make_message("hi", user="zahra", message_id="z0"))
        choose, menu = await asyncio.gather(
            first.handle(make_message(payload="lang:nl", user="zahra", message_id="z1")),
            second.handle(make_message("/menu", user="zahra", message_id="z2")),
        )
        assert keys(choose) == ["privacy-notice", "main-menu"]
        if keys(menu) == ["main-menu"]:  # the language choice came first
            assert menu[0].text == content.catalogs.get("nl", "main-menu").text
        else:  # the menu request came first, before she had a language
            assert keys(menu) == ["welcome"]
        async with stores[0].user_session("test", "zahra") as session:
            assert session.user.language == "nl"
    finally:
        for store in stores:
            await store.close()


async def test_many_women_at_once_each_get_their_own_answers(conversation: Conversation) -> None:
    async def woman(index: int) -> list[str | None]:
        chat = Chat(conversation, user=f"w{index}")
        await chat("hi")
        language = ["en", "nl", "ar", "uk"][index % 4]
        await chat.press(f"lang:{language}")
        return (language, await chat("/help"))

    results = await asyncio.gather(*(woman(index) for index in range(12)))
    for language, replies in results:
        assert replies[0].key == "help"
        found = conversation.content.catalogs.get(language, "help", days=90)
        assert replies[0].text == outgoing("x", found.text, (), "help", language).text


async def test_logs_never_contain_her_words(chat: Chat, caplog, monkeypatch) -> None:
    import logging

    caplog.set_level(logging.DEBUG, logger="bot")
    await chat.onboard("en")
    await chat("my phone is 0470 99 88 77 and my husband is called Karim")

    def broken(*args, **kwargs):
        raise RuntimeError("index exploded")

    monkeypatch.setattr(chat.conversation.content.retriever, "evidence", broken)
    await chat("secret words about Karim")
    assert "index exploded" in caplog.text  # the traceback is there …
    assert "Karim" not in caplog.text and "0470" not in caplog.text  # … her words are not


async def test_a_shared_phone_number_outside_a_question_is_not_kept(chat: Chat, store: Store) -> None:
    await chat.onboard("en")
    assert keys(await chat.send(kind=Kind.CONTACT, text="+32470123456")) == ["contact-not-needed"]
    logged = [m.text for m in await store.recent_messages("test", chat.user, 50)]
    assert not any("470123456" in text for text in logged)


async def test_a_shared_phone_number_answers_the_phone_question(chat: Chat) -> None:
    await chat.onboard("en")
    for step in ("flow:job-shadowing", "answer:yes"):
        await chat.press(step)
    await chat("Amina")
    assert keys(await chat.press("answer:phone")) == ["ask:phone"]
    assert keys(await chat.send(kind=Kind.CONTACT, text="+32 470 12 34 56")) == ["ask:languages"]


async def test_edited_message_gets_a_note(chat: Chat) -> None:
    await chat.onboard("en")
    assert keys(await chat.send(kind=Kind.EDITED)) == ["edited-ignored"]


async def test_clear_asks_first_and_only_where_the_app_allows_it(conversation: Conversation) -> None:
    telegram = Chat(conversation, user="t1")
    telegram.channel = "telegram"
    await telegram.onboard("en")
    assert keys(await telegram("/help")) == ["help", "help-clear"]
    assert keys(await telegram("/clear")) == ["clear-confirm"]
    done = await telegram.press("clear:yes")
    assert [(r.key, r.action, r.text) for r in done] == [("clear-chat", "clear-chat", "")]
    assert keys(await telegram("/clear")) == ["clear-confirm"]
    assert keys(await telegram.press("clear:no")) == ["clear-kept"]
    whatsapp = Chat(conversation, user="w1")  # the bot cannot delete messages there: the steps to clear the chat herself
    whatsapp.channel = "whatsapp"
    await whatsapp.onboard("en")
    steps = await whatsapp("/clear")
    assert keys(steps) == ["clear-whatsapp"] and "Clear chat" in steps[0].text and "/forget" in steps[0].text
    assert keys(await whatsapp("/help")) == ["help", "help-clear-steps"]
    other = Chat(conversation, user="o1")  # an app the bot knows nothing of: honest, without steps
    other.channel = "terminal"
    await other.onboard("en")
    assert keys(await other("/clear")) == ["clear-unsupported"]
    assert keys(await other("/help")) == ["help"]


@pytest.mark.parametrize("language, typed", [("en", "menu"), ("en", "Menu"), ("en", "MENU "), ("en", "meny"), ("ar", "menu"),
                                             ("ar", "القائمة"), ("tr", "menü"), ("uk", "Меню"), ("fa", "منو"), ("so", "liiska")])
async def test_the_menu_buttons_label_typed_instead_of_pressed_opens_the_menu(chat: Chat, language: str, typed: str) -> None:
    await chat.onboard(language)
    assert keys(await chat(typed)) == ["main-menu"]


async def test_a_sentence_with_the_menu_word_in_it_is_not_taken_for_the_button(chat: Chat) -> None:
    await chat.onboard("fa")
    assert "main-menu" not in keys(await chat("منو ببخشید"))  # "forgive me"
