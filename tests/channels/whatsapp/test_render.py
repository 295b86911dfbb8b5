"""WhatsApp rendering: the core's Markdown as WhatsApp formatting, and one reply as Cloud API request bodies
within WhatsApp's limits (text 4,096; interactive body 1,024; 3 reply buttons of 20; list rows of 24 / 72, 10 a list)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.channels.whatsapp.render import (BODY_LIMIT, BUTTON_ID, BUTTON_TITLE, MAX_ROWS, ROW_DESCRIPTION, ROW_ID,
                                          ROW_TITLE, TEXT_LIMIT, label_problems, messages, shorten, split,
                                          to_whatsapp)
from bot.messages import Button, Outgoing

TO = "32470123456"
LIST_BUTTON = "Kies"
MORE = "Meer:"
LANGUAGES = ["Nederlands", "English", "Français", "العربية", "Türkçe", "فارسی", "پښتو", "ትግርኛ", "Soomaali",
             "Українська", "Русский"]


def reply(text: str = "Waarmee kan ik helpen?", labels: list[str] | None = None, payloads: list[str] | None = None) -> Outgoing:
    labels = labels or []
    payloads = payloads or [f"p{index}" for index in range(len(labels))]
    return Outgoing(recipient="wa:1", text=text, buttons=tuple(Button(label, payload) for label, payload in zip(labels, payloads)))


def render(answer: Outgoing, long_payloads: dict[str, str] | None = None) -> list[dict[str, Any]]:
    return messages(TO, answer, list_button=LIST_BUTTON, more=MORE, long_payloads=long_payloads)


def kinds(bodies: list[dict[str, Any]]) -> list[str]:
    return [body["interactive"]["type"] if body["type"] == "interactive" else body["type"] for body in bodies]


def rows(body: dict[str, Any]) -> list[dict[str, str]]:
    return [row for section in body["interactive"]["action"]["sections"] for row in section["rows"]]


def said(bodies: list[dict[str, Any]]) -> str:
    """Everything she reads, in order."""
    return "\n".join(body["text"]["body"] if body["type"] == "text" else body["interactive"]["body"]["text"]
                     for body in bodies)


def words(count: int) -> str:
    return " ".join(f"woord{index}" for index in range(count))


# Markdown

@pytest.mark.parametrize(("markdown", "whatsapp"), [
    ("Dit is **belangrijk**.", "Dit is *belangrijk*."),
    ("Dit is *zacht*.", "Dit is _zacht_."),
    ("**vet** en *schuin*", "*vet* en _schuin_"),
    ("**twee woorden** vet", "*twee woorden* vet"),
    ("Zie [het Huis van het Kind](https://www.huisvanhetkind.be).", "Zie het Huis van het Kind: https://www.huisvanhetkind.be."),
    ("[https://www.gent.be](https://www.gent.be)", "https://www.gent.be"),
    ("[foto](https://a.be/*x*)", "foto: https://a.be/*x*"),
    ("Meebrengen:\n- paspoort\n- huurcontract", "Meebrengen:\n• paspoort\n• huurcontract"),
    ("* eerste\n  - onder", "• eerste\n  • onder"),
    ("5 * 3 = 15", "5 * 3 = 15"),
    ("Een ster* zonder paar", "Een ster* zonder paar"),
    ("snake_case en 100% <gewoon> & zo", "snake_case en 100% <gewoon> & zo"),
    ("مرحبا **مهم**", "مرحبا *مهم*"),
])
def test_markdown_becomes_whatsapp_formatting(markdown: str, whatsapp: str) -> None:
    assert to_whatsapp(markdown) == whatsapp


def test_bold_is_not_read_again_as_italic() -> None:
    assert to_whatsapp("**Let op:** *morgen*") == "*Let op:* _morgen_"


# split

def test_short_text_stays_one_part() -> None:
    assert split("Hallo **jij**") == ["Hallo **jij**"]


def test_long_text_splits_at_the_paragraph() -> None:
    first, second = "a" * 3000, "b " * 1500
    assert split(f"{first}\n\n{second}") == [first, second]


def test_length_is_counted_once_rendered() -> None:
    text = "**" + "a" * 99 + "**"  # 103 characters of Markdown, 101 on WhatsApp
    assert split(text, 101) == [text]
    assert split(text, 100) != [text]


@pytest.mark.parametrize("limit", [TEXT_LIMIT, BODY_LIMIT, 100])
def test_ten_thousand_characters_split_into_parts_within_the_limit_and_keep_every_word(limit: int) -> None:
    text = "\n\n".join(f"**Alinea {n}.** " + words(120) + "\n- punt\n- [link](https://www.gent.be)" for n in range(10))
    assert len(text) > 10_000
    parts = split(text, limit)
    assert len(parts) >= len(text) // limit // 2
    assert all(0 < len(to_whatsapp(part)) <= limit for part in parts)
    assert " ".join(parts).split() == text.split()


def test_one_word_longer_than_the_limit_is_cut_into_pieces() -> None:
    word = "x" * 10_000
    parts = split(word)
    assert [len(part) for part in parts] == [4096, 4096, 1808]
    assert "".join(parts) == word


# shorten

@pytest.mark.parametrize(("label", "limit", "shown"), [
    ("Ja", 20, "Ja"),
    ("Twintig tekens exact", 20, "Twintig tekens exact"),
    ("Kinderopvang zoeken in Gent", 20, "Kinderopvang zoeken…"),
    ("Inburgering en Nederlands leren", 20, "Inburgering en…"),
    ("Kinderopvangtoeslagaanvraag", 20, "Kinderopvangtoeslag…"),
    ("التسجيل في البلدية والحصول على الإقامة", 20, "التسجيل في البلدية…"),
    ("Реєстрація в муніципалітеті та школа", 20, "Реєстрація в…"),
    ("የመኖሪያ ፈቃድ ማመልከቻ እና ምዝገባ ሂደት", 20, "የመኖሪያ ፈቃድ ማመልከቻ እና…"),
    ("👩‍👧‍👦 Kinderopvang en school zoeken", 20, "👩‍👧‍👦 Kinderopvang…"),
    ("abc", 1, "…"),
])
def test_shorten_keeps_what_fits_and_cuts_at_a_word(label: str, limit: int, shown: str) -> None:
    assert shorten(label, limit) == shown
    assert len(shorten(label, limit)) <= limit


@pytest.mark.parametrize("label", ["Kinderopvang zoeken in Gent", "التسجيل في البلدية والحصول على الإقامة",
                                   "ትግርኛ ቋንቋ ምረጹ", "Українська мова 🇺🇦 👍🏽 дякую", "Kinderopvangtoeslagaanvraag"])
def test_shorten_never_exceeds_the_limit_at_any_length(label: str) -> None:
    for limit in range(1, len(label) + 3):
        shown = shorten(label, limit)
        assert len(shown) <= limit, (limit, shown)
        if limit >= len(label):
            assert shown == label
        else:
            assert shown.endswith("…") and label.startswith(shown[:-1]), (limit, shown)


# messages: the shapes

def test_no_buttons_is_one_text_message() -> None:
    assert render(reply("Hallo **jij**")) == [{"messaging_product": "whatsapp", "recipient_type": "individual", "to": TO,
                                               "type": "text", "text": {"body": "Hallo *jij*", "preview_url": False}}]


def test_one_button_is_a_reply_button_message() -> None:
    assert render(reply("Klaar?", ["Ja"], ["yes"])) == [{
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": TO, "type": "interactive",
        "interactive": {"type": "button", "body": {"text": "Klaar?"},
                        "action": {"buttons": [{"type": "reply", "reply": {"id": "yes", "title": "Ja"}}]}}}]


def test_four_buttons_are_one_list_with_a_section_title() -> None:
    [body] = render(reply("Kies een thema", ["Wonen", "Werk", "School", "Gezondheid"]))
    assert body["interactive"] == {
        "type": "list", "body": {"text": "Kies een thema"},
        "action": {"button": "Kies", "sections": [{"title": "Kies", "rows": [
            {"id": "p0", "title": "Wonen"}, {"id": "p1", "title": "Werk"},
            {"id": "p2", "title": "School"}, {"id": "p3", "title": "Gezondheid"}]}]}}


@pytest.mark.parametrize(("count", "shape"), [
    (0, ["text"]),
    (1, ["button"]),
    (3, ["button"]),
    (4, ["list"]),
    (10, ["list"]),
    (11, ["list", "list"]),
    (21, ["list", "list", "list"]),
])
def test_the_number_of_buttons_decides_reply_buttons_or_lists(count: int, shape: list[str]) -> None:
    bodies = render(reply(labels=[f"Keuze {n}" for n in range(count)]))
    assert kinds(bodies) == shape
    if shape[0] == "button":
        assert [b["reply"]["id"] for b in bodies[0]["interactive"]["action"]["buttons"]] == [f"p{n}" for n in range(count)]
    if shape[0] == "list":
        assert [row["id"] for body in bodies for row in rows(body)] == [f"p{n}" for n in range(count)]


@pytest.mark.parametrize(("count", "sizes"), [(11, [6, 5]), (20, [10, 10]), (21, [7, 7, 7]), (25, [9, 8, 8])])
def test_many_buttons_are_spread_evenly_over_lists(count: int, sizes: list[int]) -> None:
    bodies = render(reply(labels=[f"Keuze {n}" for n in range(count)]))
    assert [len(rows(body)) for body in bodies] == sizes
    assert max(sizes) <= MAX_ROWS


def test_eleven_languages_become_two_lists_of_six_and_five() -> None:
    codes = ["nl", "en", "fr", "ar", "tr", "fa", "ps", "ti", "so", "uk", "ru"]
    bodies = render(reply("Kies je taal / Choose your language", LANGUAGES, [f"lang:{code}" for code in codes]))
    assert kinds(bodies) == ["list", "list"]
    assert [len(rows(body)) for body in bodies] == [6, 5]
    assert [body["interactive"]["body"]["text"] for body in bodies] == ["Kies je taal / Choose your language", MORE]
    all_rows = [row for body in bodies for row in rows(body)]
    assert sorted(row["id"] for row in all_rows) == sorted(f"lang:{code}" for code in codes)
    assert [row["title"] for row in all_rows] == LANGUAGES
    assert not any("description" in row for row in all_rows)


def test_every_body_is_addressed_to_her_on_whatsapp() -> None:
    bodies = render(reply("x" * 5000 + "\n\nKies", [f"Keuze {n}" for n in range(11)]))
    assert len(bodies) == 4
    for body in bodies:
        assert (body["messaging_product"], body["recipient_type"], body["to"]) == ("whatsapp", "individual", TO)
        assert body[body["type"]]


# messages: labels and payloads

def test_long_button_label_is_shortened_to_twenty() -> None:
    [body] = render(reply("Wat zoek je?", ["Kinderopvang zoeken in Gent", "Iets anders"]))
    titles = [b["reply"]["title"] for b in body["interactive"]["action"]["buttons"]]
    assert titles == ["Kinderopvang zoeken…", "Iets anders"]


def test_long_row_label_keeps_its_whole_text_in_the_description() -> None:
    label = "Een afspraak maken bij het OCMW voor leefloon"
    [body] = render(reply("Kies", [label, "Wonen", "Werk", "School"]))
    first, second = rows(body)[:2]
    assert first == {"id": "p0", "title": "Een afspraak maken bij…", "description": label}
    assert second == {"id": "p1", "title": "Wonen"}


def test_very_long_row_label_description_is_shortened_to_seventy_two() -> None:
    label = words(30)
    [body] = render(reply("Kies", [label, "b", "c", "d"]))
    description = rows(body)[0]["description"]
    assert len(description) <= ROW_DESCRIPTION and description.endswith("…") and label.startswith(description[:-1])


def test_list_button_longer_than_twenty_is_shortened() -> None:
    [body] = messages(TO, reply("Kies", ["a", "b", "c", "d"]), list_button="Bekijk alle mogelijkheden hier", more=MORE)
    action = body["interactive"]["action"]
    assert action["button"] == "Bekijk alle…"
    assert action["sections"][0]["title"] == "Bekijk alle…"
    assert len(action["button"]) <= BUTTON_TITLE and len(action["sections"][0]["title"]) <= ROW_TITLE


@pytest.mark.parametrize(("count", "limit"), [(1, BUTTON_ID), (4, ROW_ID)])
def test_a_payload_of_three_hundred_characters_travels_as_a_hash(count: int, limit: int) -> None:
    payload = "flow:" + "x" * 295
    long_payloads: dict[str, str] = {}
    bodies = render(reply("Kies", ["Verder"] + [f"Keuze {n}" for n in range(1, count)], [payload] + [f"p{n}" for n in range(1, count)]),
                    long_payloads)
    action = bodies[0]["interactive"]["action"]
    ids = [b["reply"]["id"] for b in action["buttons"]] if "buttons" in action else [row["id"] for row in rows(bodies[0])]
    assert ids[0].startswith("h:") and len(ids[0]) <= limit
    assert long_payloads == {ids[0]: payload}
    assert ids[1:] == [f"p{n}" for n in range(1, count)]


def test_a_payload_that_fits_is_sent_as_it_is() -> None:
    long_payloads: dict[str, str] = {}
    [body] = render(reply("Kies", ["Verder"], ["x" * BUTTON_ID]), long_payloads)
    assert body["interactive"]["action"]["buttons"][0]["reply"]["id"] == "x" * BUTTON_ID
    assert long_payloads == {}


def test_duplicate_payloads_keep_the_first_button() -> None:
    [body] = render(reply("Kies", ["Ja", "Zeker", "Nee"], ["yes", "yes", "no"]))
    buttons = body["interactive"]["action"]["buttons"]
    assert [(b["reply"]["id"], b["reply"]["title"]) for b in buttons] == [("yes", "Ja"), ("no", "Nee")]


def test_duplicate_payloads_in_a_list_keep_the_first_row() -> None:
    [body] = render(reply("Kies", ["a", "b", "c", "d", "e"], ["1", "2", "1", "3", "4"]))
    assert [(row["id"], row["title"]) for row in rows(body)] == [("1", "a"), ("2", "b"), ("3", "d"), ("4", "e")]


def test_blank_labels_are_left_out() -> None:
    [body] = render(reply("Kies", ["  ", "Ja", "", "Nee"]))
    buttons = body["interactive"]["action"]["buttons"]
    assert [(b["reply"]["id"], b["reply"]["title"]) for b in buttons] == [("p1", "Ja"), ("p3", "Nee")]


def test_only_blank_labels_leave_a_plain_text_message() -> None:
    assert kinds(render(reply("Hallo", [" ", "\n"]))) == ["text"]


def test_button_titles_that_shorten_to_the_same_text_become_a_list() -> None:
    labels = ["Kinderopvang zoeken in Gent", "Kinderopvang zoeken in Aalst"]
    [body] = render(reply("Waar?", labels))
    assert body["interactive"]["type"] == "list"
    assert [row["description"] for row in rows(body)] == labels


# messages: the body

def test_a_long_answer_with_buttons_keeps_the_interactive_body_within_1024_and_loses_no_word() -> None:
    paragraphs = [f"Alinea {n}: " + words(70) for n in range(6)]
    text = "\n\n".join(paragraphs)
    assert len(text) > 3000
    bodies = render(reply(text, ["Ja", "Nee"]))
    assert kinds(bodies) == ["text", "button"]
    assert bodies[0]["text"]["body"].startswith(paragraphs[0])
    assert bodies[1]["interactive"]["body"]["text"].endswith(paragraphs[-1])
    assert len(bodies[-1]["interactive"]["body"]["text"]) <= BODY_LIMIT
    assert all(len(body["text"]["body"]) <= TEXT_LIMIT for body in bodies[:-1])
    assert said(bodies).split() == text.split()


def test_a_ten_thousand_character_answer_without_buttons_is_three_text_messages() -> None:
    text = words(1200)
    assert len(text) > 10_000
    bodies = render(reply(text))
    assert kinds(bodies) == ["text", "text", "text"]
    assert all(len(body["text"]["body"]) <= TEXT_LIMIT for body in bodies)
    assert said(bodies).split() == text.split()


def test_a_long_single_paragraph_with_a_list_keeps_every_word() -> None:
    text = words(700)
    bodies = render(reply(text, [f"Keuze {n}" for n in range(5)]))
    assert kinds(bodies)[-1] == "list"
    assert len(bodies[-1]["interactive"]["body"]["text"]) <= BODY_LIMIT
    assert said(bodies).split() == text.split()


@pytest.mark.parametrize("count", [2, 5, 11])
def test_empty_text_with_buttons_uses_more_as_the_body(count: int) -> None:
    bodies = render(reply("", [f"Keuze {n}" for n in range(count)]))
    assert [body["type"] for body in bodies] == ["interactive"] * len(bodies)
    assert [body["interactive"]["body"]["text"] for body in bodies] == [MORE] * len(bodies)


def test_empty_text_without_buttons_sends_nothing() -> None:
    assert render(reply("  ")) == []


# label_problems

@pytest.mark.parametrize(("label", "problems"), [
    ("Wonen", []),
    ("Twintig tekens exact", []),
    ("Kinderopvang aanvragen", ["longer than 20 characters: shown as 'Kinderopvang…' on a WhatsApp button"]),
    ("Kinderopvang zoeken voor mijn baby", [
        "longer than 20 characters: shown as 'Kinderopvang zoeken…' on a WhatsApp button",
        "longer than 24 characters: shown as 'Kinderopvang zoeken…' on a WhatsApp list row"]),
    ("   ", ["blank: WhatsApp rejects an empty title, the button is left out"]),
])
def test_label_problems_name_what_whatsapp_shows(label: str, problems: list[str]) -> None:
    assert label_problems(label) == problems


def test_every_language_name_fits_whatsapp() -> None:
    assert [label_problems(label) for label in LANGUAGES] == [[]] * len(LANGUAGES)
