"""Language detection: lingua for the languages it knows, script rules for Tigrinya and Pashto,
and the switch offer in the conversation."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.language.detection import LanguageDetector
from bot.language.bidi import outgoing
from tests.conftest import Chat
from tests.helpers import keys, payloads

DATA = Path(__file__).resolve().parents[1] / "data" / "langid"
SUPPORTED = ["nl", "en", "fr", "ar", "tr", "fa", "ps", "ti", "so", "uk", "ru"]


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector(SUPPORTED)


@pytest.mark.parametrize("language", SUPPORTED)
def test_real_sentences_are_recognised(detector: LanguageDetector, language: str) -> None:
    lines = (DATA / f"{language}.txt").read_text(encoding="utf-8").splitlines()
    correct = sum(detector.detect(line) == language for line in lines)
    assert correct / len(lines) >= 0.9, f"{language}: {correct}/{len(lines)}"


@pytest.mark.parametrize("language", ["es", "pt", "pl", "ro"])
def test_unsupported_languages_do_not_pass_for_supported_ones(detector: LanguageDetector, language: str) -> None:
    lines = (DATA / f"{language}.txt").read_text(encoding="utf-8").splitlines()
    wrong = [line for line in lines if detector.detect(line) is not None]
    assert len(wrong) <= 1, wrong


@pytest.mark.parametrize("text", ["ok", "salam", "Amina", "0470 12 34 56", "https://www.vdab.be/jobs?x=1",
                                  "amina@example.org", "/menu", "👍👍👍", "Gent 9000", "ja ja ja", "", "Fatima Zahra Benali"])
def test_short_names_numbers_and_links_are_never_clear(detector: LanguageDetector, text: str) -> None:
    assert detector.detect(text) is None


def test_tigrinya_by_script_and_pashto_by_its_letters(detector: LanguageDetector) -> None:
    assert detector.detect("ኣበይ ክመሃር ይኽእል እየ ቋንቋ ሆላንድ") == "ti"
    assert detector.detect("زه غواړم هالنډي ژبه زده کړم") == "ps"
    assert detector.detect("من می خواهم زبان هلندی یاد بگیرم") == "fa"
    assert detector.detect("أريد أن أتعلم اللغة الهولندية") == "ar"


def test_without_tigrinya_or_pashto_configured_they_are_not_guessed() -> None:
    detector = LanguageDetector(["en", "fa", "ar"])
    assert detector.detect("ኣበይ ክመሃር ይኽእል እየ ቋንቋ ሆላንድ") is None
    assert detector.detect("زه غواړم هالنډي ژبه زده کړم") != "ps"


async def test_writing_another_language_gets_an_answer_and_a_one_tap_switch_once(chat: Chat, content) -> None:
    await chat.onboard("en")
    replies = await chat("أين يمكنني أن أتعلم اللغة الهولندية من فضلك")
    assert keys(replies)[-1] == "offer-language"
    offer = replies[-1]
    assert offer.text == content.catalogs.get("ar", "offer-language", language="العربية").text
    assert offer.rtl and payloads(offer) == ["lang:ar"] and offer.buttons[0].label == "العربية"
    assert "offer-language" not in keys(await chat("هل هناك دروس في المساء أيضا للنساء"))  # asked once
    assert keys(await chat.press("lang:ar"))[0] == "language-changed"


async def test_short_or_same_language_messages_get_no_offer(chat: Chat) -> None:
    await chat.onboard("nl")
    assert "offer-language" not in keys(await chat("ok merci"))
    assert "offer-language" not in keys(await chat("waar kan ik nederlands leren in gent"))
    assert "offer-language" not in keys(await chat("/help"))


async def test_first_message_in_a_language_puts_it_first_and_welcomes_in_it(chat: Chat, content) -> None:
    replies = await chat("Где я могу выучить нидерландский язык")
    assert keys(replies) == ["welcome"]
    assert payloads(replies[0])[0] == "lang:ru"
    assert replies[0].text == content.catalogs.get("ru", "welcome").text


async def test_question_in_another_language_is_searched_in_that_language_too(chat: Chat, content) -> None:
    await chat.onboard("en")
    entry = next(entry for entry in content.knowledge.entries.values() if "nl" in entry.answers and entry.key not in content.knowledge.emergency.entries)
    question = entry.answers["nl"].questions[0] + " alstublieft dank je"
    replies = await chat(question)
    assert replies[0].key == f"entry:{entry.key}"


@pytest.mark.parametrize("text", ["i need creche for my baby", "thanks, but where is the OCMW", "how can i get kinderbijslag",
                                  "where is the ocmw in gent", "my child needs a creche", "i want to learn dutch in antwerpen"])
async def test_a_message_plausible_in_her_language_gets_no_offer_even_with_dutch_words(chat: Chat, text: str) -> None:
    await chat.onboard("en")
    assert "offer-language" not in keys(await chat(text))  # before: "You are writing in Nederlands"


@pytest.mark.parametrize("chosen, text, other", [("en", "waar kan ik nederlands leren in gent", "nl"), ("en", "ik zoek werk in gent", "nl"),
                                                 ("nl", "where can i find a job in gent please", "en"),
                                                 ("en", "je cherche une crèche pour mon bébé", "fr")])
def test_a_clear_sentence_in_another_language_still_gets_the_offer(content, chosen: str, text: str, other: str) -> None:
    assert content.detector.detect(text, chosen) == other


def test_her_language_is_plausible_when_lingua_or_her_words_say_so(content) -> None:
    detector = content.detector
    assert detector.detect("i need creche for my baby") == "nl"  # lingua alone, on a short text, thinks Dutch
    assert detector.detect("i need creche for my baby", "en") is None
    assert detector.known_share("i need creche for my baby", "en") > detector.known_share("i need creche for my baby", "nl")


FIRST_MESSAGES = [  # a first message of one or two words, and the language its script says
    ("السلام عليكم", "ar"), ("السَّلَامُ عَلَيْكُمْ", "ar"), ("شكرا", "ar"), ("مرحبا", "ar"),
    ("مرسی", "fa"), ("سلام خوبی؟", "fa"), ("خداحافظ", "fa"), ("چطوری", "fa"), ("ممنون", "fa"),
    ("ستړي مه شې", "ps"), ("مننه", "ps"), ("څنګه یې", "ps"),
    ("привіт", "uk"), ("дякую", "uk"), ("добрий день", "uk"), ("їжа", "uk"),
    ("привет", "ru"), ("спасибо", "ru"), ("добрый день", "ru"), ("здравствуйте", "ru"),
    ("ሰላም", "ti"), ("የቐንየለይ", "ti"),
]


@pytest.mark.parametrize("text, language", FIRST_MESSAGES)
def test_the_script_of_two_words_says_the_language(content, text: str, language: str) -> None:
    assert content.detector.by_script(text) == language


@pytest.mark.parametrize("text", ["salam", "hello", "ok", "12", "👍"])
def test_latin_script_numbers_and_emoji_say_no_language(content, text: str) -> None:
    """Words several languages share, digits and emoji: no language."""
    assert content.detector.by_script(text) is None


@pytest.mark.parametrize("text, language", [("bonjour", "fr"), ("Goedemorgen", "nl"), ("merhaba", "tr"), ("iska warran", "so")])
def test_latin_small_talk_of_one_language_says_that_language(content, text: str, language: str) -> None:
    """Failed before: a Latin first message never put its language first ("bonjour" got Nederlands first)."""
    assert content.detector.by_script(text) is None and content.detector.by_known_words(text) == language


@pytest.mark.parametrize("text, language", [("السلام عليكم", "ar"), ("مرسی", "fa"), ("ستړي مه شې", "ps"), ("привіт", "uk"),
                                            ("спасибо", "ru"), ("ሰላም", "ti"), ("bonjour", "fr"), ("merhaba", "tr")])
async def test_a_short_first_message_puts_its_scripts_language_first_and_welcomes_in_it(chat: Chat, content, text: str,
                                                                                       language: str) -> None:
    replies = await chat(text)
    assert keys(replies) == ["welcome"]
    assert payloads(replies[0])[0] == f"lang:{language}"  # before: Nederlands first, and the welcome in English
    assert replies[0].text == outgoing("x", content.catalogs.get(language, "welcome").text, (), "welcome", language).text


async def test_the_phone_language_wins_over_words_many_languages_use(chat: Chat) -> None:
    """'hi' is English words, but her phone says Ukrainian: Українська first (the script would win, the words do not)."""
    replies = await chat("hi", language_hint="uk")
    assert payloads(replies[0])[0] == "lang:uk"
