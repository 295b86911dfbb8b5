"""Small talk in all languages, typed the way women type on a phone: a short reply of its kind with the
menu button, never "did you mean" nor an unanswered question; a question behind a greeting is
answered; emergencies, the counsellor and flows come first; `wegwijs ask` and `wegwijs check` know it."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import pytest

from bot.tools.check import check
from bot.config import load_config
from bot.core.content import Content
from bot.messages import DESK
from bot.core.reloader import ContentWatcher
from bot.tools.report import unanswered
from bot.knowledge.smalltalk import REPLY_KEYS, SmallTalk
from bot.storage import Store
from bot.language.bidi import outgoing
from tests.conftest import ROOT, Chat, always_open
from tests.helpers import keys, payloads
from tests.core.test_broken_content import copy_project
from tests.desk.test_desk import desk, say, sent  # noqa: F401 (the desk fixture)

# language -> kind -> what women send (caps, no accents, repeated letters, emoji, typos, Latin-script Arabic...)
EXAMPLES: dict[str, dict[str, list[str]]] = {
    "en": {
        "greeting": ["hi", "Hiiii!", "hello 👋", "Good morning", "hey there :)", "HELLO??", "helloo", "good evening dear"],
        "how": ["how are you?", "how r u", "Hi, how are you doing?", "whats up", "how's it going"],
        "who": ["who are you?", "Are you a robot?", "r u human", "am i talking to a real person?", "what are you",
                "is this a bot"],
        "thanks": ["thx", "Thank you!!", "thanks a lot 🙏", "thnaks", "thank you so much for your help", "ty", "thankyou"],
        "ok": ["ok", "OK.", "okay", "👍", "got it", "okkk", "alright 👌"],
        "bye": ["bye", "Bye bye!", "goodbye", "see you later", "take care", "good night"],
    },
    "nl": {
        "greeting": ["hallo", "Hoi!", "goeiemorgen", "Goedemorgen", "goedenavond", "dag mevrouw"],
        "how": ["hoe gaat het?", "Hoe gaat het met jou", "alles goed?", "hoe is t"],
        "who": ["wie ben jij?", "ben je een robot", "Ben jij een mens?", "praat ik met een robot", "wat is wegwijs"],
        "thanks": ["dank u wel", "dankjewel!", "bedankt", "merci", "merci veel", "Dank je wel!!", "heel erg bedankt"],
        "ok": ["oke", "oké", "okido", "prima", "begrepen", "in orde 👍"],
        "bye": ["doei", "tot ziens", "Doeiii", "tot later", "slaapwel", "dag dag"],
    },
    "fr": {
        "greeting": ["bonjour", "Bonjour madame", "bonsoir", "salut", "coucou!", "Bonjourrr", "bjr"],
        "how": ["ça va?", "ca va", "sava", "comment allez-vous?", "comment vas tu"],
        "who": ["qui es-tu?", "tu es un robot ?", "vous etes un robot", "je parle a une personne?", "t'es qui"],
        "thanks": ["merci", "Merciii", "merci beaucoup", "merci bcp", "je vous remercie", "mrc"],
        "ok": ["d'accord", "d accord", "daccord", "ok", "très bien", "parfait", "c'est bon"],
        "bye": ["au revoir", "aurevoir", "a bientot", "bonne journee", "bonne nuit"],
    },
    "ar": {
        "greeting": ["السلام عليكم", "السَّلَامُ عَلَيْكُمْ", "سلام", "مرحبا", "salam", "salam alaikum", "marhaba",
                     "صباح الخير", "أهلا"],
        "how": ["كيف حالك؟", "كيفك", "شلونك", "kifik", "salam kifik"],
        "who": ["من انت؟", "مين انتي", "هل انت روبوت", "انت انسان؟", "هل أنت إنسان"],
        "thanks": ["شكرا", "شكراً", "شكرا جزيلا", "شكرااااا", "مشكورة", "shukran", "shokran", "choukran", "merci"],
        "ok": ["تمام", "طيب", "اوكي", "حسنا", "tamam", "ماشي"],
        "bye": ["مع السلامة", "مع السلامه", "باي", "الى اللقاء", "ma3a salama", "bslama"],
    },
    "tr": {
        "greeting": ["merhaba", "Merhabaa", "selam", "slm", "günaydın", "gunaydin", "iyi akşamlar"],
        "how": ["nasılsın", "nasilsin", "naber", "nasılsınız?"],
        "who": ["sen kimsin?", "kimsin", "robot musun", "insan mısın", "insan misin"],
        "thanks": ["teşekkürler", "tesekkurler", "tşk", "sağol", "sagol", "çok teşekkür ederim", "tesekkur ederim"],
        "ok": ["tamam", "tmm", "peki", "anladım", "anladim", "olur"],
        "bye": ["güle güle", "gule gule", "hoşça kal", "görüşürüz", "iyi geceler"],
    },
    "fa": {
        "greeting": ["سلام", "سلام علیکم", "سلام عليكم", "درود", "صبح بخیر", "salam"],
        "how": ["خوبی؟", "سلام خوبی", "چطوری", "حالت چطوره", "khubi"],
        "who": ["تو کی هستی؟", "کی هستی", "تو ربات هستی", "ربات هستی؟", "شما انسان هستید"],
        "thanks": ["مرسی", "مرسي", "ممنون", "ممنونم", "خیلی ممنون", "متشکرم", "mersi", "mamnoon"],
        "ok": ["باشه", "اوکی", "باشد", "فهمیدم", "bashe"],
        "bye": ["خداحافظ", "خدا حافظ", "خدانگهدار", "شب بخیر", "khodahafez"],
    },
    "ps": {
        "greeting": ["سلام", "ستړي مه شې", "ستړی مه شې", "السلام علیکم", "salam"],
        "how": ["څنګه یې", "ته څنګه یې؟", "جوړ یې", "ښه یې"],
        "who": ["ته څوک یې؟", "څوک یې", "ته روبوټ یې", "ته انسان یې"],
        "thanks": ["مننه", "ډېره مننه", "ډیره مننه", "manana", "مهرباني"],
        "ok": ["ښه", "سمه ده", "ښه ده", "اوکې"],
        "bye": ["خدای پامان", "په مخه دې ښه", "خدا حافظ", "د خدای په امان"],
    },
    "ti": {
        "greeting": ["ሰላም", "ሰላም!", "ሰላማት", "selam", "ከመይ ሓዲርኪ"],
        "how": ["ከመይ ኣለኺ", "ከመይ ኣለኺ?", "ደሓን ዲኺ", "kemey aleki"],
        "who": ["መን ኢኻ?", "መን ኢኺ", "ሮቦት ዲኻ", "ሰብ ዲኻ"],
        "thanks": ["የቐንየለይ", "የቀንየለይ", "ብዙሕ የቐንየለይ", "yekenyeley", "የቐንየልና"],
        "ok": ["ሕራይ", "ጽቡቕ", "ሕራይ ጽቡቕ", "hray"],
        "bye": ["ደሓን ኩን", "ደሓን ኩኒ", "ቻው", "ciao"],
    },
    "so": {
        "greeting": ["salaan", "salaam", "asalaamu calaykum", "Salaamu calaykum", "subax wanaagsan"],
        "how": ["iska warran", "is ka warran", "sidee tahay?", "ma nabad baa"],
        "who": ["yaad tahay?", "ma robot baad tahay", "ma qof baad tahay", "adigu yaad tahay"],
        "thanks": ["mahadsanid", "Mahadsanid walaal", "mahadsantahay", "waad mahadsantahay", "mahadsanidd"],
        "ok": ["hagaag", "waa hagaag", "haye", "waayahay", "ok"],
        "bye": ["nabadeey", "nabad gelyo", "nabadgelyo", "is arag"],
    },
    "uk": {
        "greeting": ["привіт", "Привіт!", "привіііт", "вітаю", "добрий день", "доброго ранку", "pryvit"],
        "how": ["як справи?", "як ти", "як у тебе справи", "yak spravy"],
        "who": ["хто ти?", "ти робот?", "ти людина", "ти бот", "з ким я говорю"],
        "thanks": ["дякую", "Дякую!", "дуже дякую", "щиро дякую", "дякую вам", "dyakuyu", "спасибі"],
        "ok": ["добре", "гаразд", "зрозуміло", "ок", "окей"],
        "bye": ["бувай", "до побачення", "на все добре", "на добраніч"],
    },
    "ru": {
        "greeting": ["привет", "Привет!", "приветт", "здравствуйте", "добрый день", "privet", "доброе утро"],
        "how": ["как дела?", "как ты", "как у вас дела", "kak dela"],
        "who": ["кто ты?", "ты робот?", "вы человек", "ты бот", "с кем я говорю"],
        "thanks": ["спасибо", "Спасибо!", "спс", "большое спасибо", "spasibo", "spasiba", "мерси", "благодарю"],
        "ok": ["хорошо", "ладно", "понятно", "ок", "окей", "ясно"],
        "bye": ["пока", "до свидания", "пока пока", "всего доброго", "спокойной ночи"],
    },
}
CASES = [(language, kind, text) for language, kinds in EXAMPLES.items() for kind, texts in kinds.items() for text in texts]

# Short real questions and answers that must NOT be taken for small talk.
NOT_SMALLTALK = [
    "creche?", "ocmw", "hi where is cvo", "merci pour quoi?", "thanks, but where is the OCMW", "ok so how do i register",
    "who is my counsellor", "how are the courses", "are you open on sunday", "where are you", "good schools near gent",
    "hello i need help with my diploma", "salam, i need creche for my baby", "dank u, maar waar is het ocmw",
    "merci, c'est combien la crèche", "شكرا بس وين الحضانة", "спасибо, а где курсы", "tamam ama nerede", "yes", "no",
    "help", "menu", "kinderopvang", "salat", "thinking about work", "haye ma jiraa koorso", "9000", "Amina", "banana",
    "hmm", "maybe", "no idea", "what",
]


@pytest.fixture(scope="module")
def talk(content: Content) -> SmallTalk:
    return content.knowledge.smalltalk


def test_every_language_has_every_kind_in_the_examples_and_in_the_file(talk: SmallTalk) -> None:
    for language, kinds in EXAMPLES.items():
        assert set(kinds) == set(REPLY_KEYS), language
    assert set(talk.languages) == set(EXAMPLES)
    assert {(phrase.language, phrase.kind) for phrase in talk.phrases} >= {(code, kind) for code in EXAMPLES for kind in REPLY_KEYS}


@pytest.mark.parametrize("language, kind, text", CASES)
def test_small_talk_is_recognised_however_it_is_typed(talk: SmallTalk, language: str, kind: str, text: str) -> None:
    found = talk.match(text)
    assert found is not None and found.kind == kind, (text, found)


@pytest.mark.parametrize("text", NOT_SMALLTALK)
def test_real_questions_are_not_small_talk(talk: SmallTalk, text: str) -> None:
    assert talk.match(text) is None


@pytest.mark.parametrize("text, question", [
    ("hi, where can I learn dutch", "where can I learn dutch"),
    ("Salam! i need creche for my baby", "i need creche for my baby"),
    ("thanks, but where is the OCMW", "but where is the OCMW"),
    ("goeiemorgen, waar is het ocmw?", "waar is het ocmw?"),
    ("السلام عليكم، أين أتعلم الهولندية", "أين أتعلم الهولندية"),
    ("привет, где курсы", "где курсы"),
    ("چطوری کار پیدا کنم", "چطوری کار پیدا کنم"),           # "how are you" is also "how do I": it stays
    ("ok so how do i register", "ok so how do i register"),   # "ok" and "good" in front stay: they may be the question's
    ("good schools near gent", "good schools near gent"),
    ("thank you so much", "thank you so much"),                # all small talk: nothing is taken off
])
def test_small_talk_in_front_of_a_question_is_taken_off(talk: SmallTalk, text: str, question: str) -> None:
    assert talk.strip(text) == question


def reply_text(content: Content, language: str, key: str) -> str:
    """A catalog text as she gets it (right-to-left languages with their Latin words isolated)."""
    return outgoing("x", content.catalogs.get(language, key).text, (), key, language).text


@pytest.mark.parametrize("language", list(EXAMPLES))
async def test_each_kind_gets_its_short_reply_in_her_language_with_the_menu_button(chat: Chat, content: Content, store: Store,
                                                                                   language: str) -> None:
    await chat.onboard(language)
    for kind, texts in EXAMPLES[language].items():
        replies = await chat(texts[0])
        assert keys(replies) == [REPLY_KEYS[kind]], (language, texts[0])
        assert replies[0].text == reply_text(content, language, REPLY_KEYS[kind])
        assert payloads(replies[0]) == (["cmd:menu", "cmd:human"] if kind == "who" else ["cmd:menu"])
    assert await unanswered(store) == []


async def test_hi_and_thanks_are_not_did_you_mean_and_do_not_count_as_unanswered(chat: Chat, store: Store) -> None:
    await chat.onboard("en")
    for text in ("hi", "thanks", "hi", "ok"):
        assert keys(await chat(text))[0].startswith("smalltalk-")  # before: "hi" suggested mental health
    assert await unanswered(store) == []
    assert keys(await chat("qwzx blorp")) == ["fallback"]  # the first miss, not the second: small talk was not one


async def test_who_are_you_says_it_is_a_bot_and_offers_a_person(chat: Chat, content: Content) -> None:
    await chat.onboard("en")
    [reply] = await chat("are you a real person?")
    assert "not a person" in reply.text and "/human" in reply.text
    assert payloads(reply) == ["cmd:menu", "cmd:human"]
    assert keys(await chat.press("cmd:human")) == ["handoff-waiting"]


async def test_thanks_after_a_case_is_small_talk_not_child_abuse(chat: Chat) -> None:
    await chat.onboard("uk")
    await chat("/human")
    replies = await chat("дякую")
    assert keys(replies) == ["smalltalk-thanks"]  # before: "did you mean" with child abuse


@pytest.mark.parametrize("language, text, entry", [
    ("en", "hi, where can I learn dutch", "dutch-courses/learn-dutch"),
    ("en", "salam, i need creche for my baby", "childcare/find-childcare"),
    ("nl", "goeiemorgen! waar kan ik nederlands leren", "dutch-courses/learn-dutch"),
    ("ar", "السلام عليكم، أين يمكنني أن أتعلم اللغة الهولندية", "dutch-courses/learn-dutch"),
])
async def test_a_greeting_with_a_question_answers_the_question(chat: Chat, language: str, text: str, entry: str) -> None:
    await chat.onboard(language)
    replies = await chat(text)
    assert replies[0].key == f"entry:{entry}"
    assert not any((key or "").startswith("smalltalk-") for key in keys(replies))
    assert "offer-language" not in keys(replies)


async def test_an_emergency_with_a_greeting_is_an_emergency(chat: Chat) -> None:
    await chat.onboard("en")
    replies = await chat("hi my husband hits me")
    assert keys(replies)[:2] == ["emergency:violence", "handoff-urgent"]


async def test_thanks_while_a_counsellor_has_her_is_relayed(chat: Chat, store: Store, desk) -> None:  # noqa: F811
    await chat.onboard("en")
    await chat("/human")
    await sent(store, DESK)
    await say(desk, "Amal", payload="take:1")
    await sent(store, "test")
    assert await chat("thank you!") == []  # the bot stays silent
    assert [message["text"] for message in await sent(store, DESK)] == ["💬 thank you!"]


async def test_thanks_or_ok_inside_a_flow_asks_the_question_again_and_the_flow_goes_on(chat: Chat) -> None:
    await chat.onboard("en")
    assert keys(await chat.press("flow:childcare")) == ["ask:age"]
    for text in ("thanks", "ok", "👍"):  # three in a row: never "Please choose", never the offer of a person
        replies = await chat(text)
        assert keys(replies) == ["ask:age"]
        assert payloads(replies[0])[0].startswith("answer:")
    assert keys(await chat("who are you?")) == ["smalltalk-who", "ask:age"]
    [following] = keys(await chat.press(payloads(replies[0])[0]))
    assert following.startswith("ask:") and following != "ask:age"  # her answer still counts: the flow goes on


async def test_a_greeting_word_that_answers_a_free_text_question_is_her_answer(chat: Chat) -> None:
    await chat.onboard("en")
    assert keys(await chat.press("flow:job-shadowing")) == ["ask:consent"]
    assert keys(await chat("ok")) == ["ask:consent"]  # "ok" is not taken for "yes, store my answers"
    assert keys(await chat.press("answer:yes")) == ["ask:first-name"]
    assert keys(await chat("Selam")) == ["ask:contact"]  # a name, not a greeting


def ask(stdin: str) -> list[dict]:
    result = subprocess.run([sys.executable, "-m", "bot", "ask", "--json"], input=stdin, capture_output=True, text=True,
                            cwd=ROOT, timeout=120)
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_ask_json_reports_small_talk_and_keeps_its_contract() -> None:
    lines = ask("hi\nдякую\nwho are you?\nhi, where can i learn dutch\nhi my husband hits me\nmerci pour quoi?\n")
    assert [line["action"] for line in lines] == ["smalltalk", "smalltalk", "smalltalk", "answer", "emergency", "fallback"]
    assert all(set(line) == {"action", "entry", "topic", "score", "language", "alternatives", "emergency"} for line in lines)
    assert (lines[0]["entry"], lines[0]["topic"], lines[0]["alternatives"], lines[0]["emergency"]) == (None, None, [], None)
    assert lines[3]["entry"] == "dutch-courses/learn-dutch"


BROKEN_SMALLTALK = [  # how the file is broken, the line `wegwijs check` names, what it says
    ("languages:\n  en:\n    greeting: [hi]\n    greting: [hello]\n", 4, "did you mean 'greeting'?"),
    ("languages:\n  en:\n    greeting: [hi, hello\n", 3, "is not valid YAML"),
    ("languages:\n  en:\n    greeting: [hi]\n  nl:\n    bye: [hi]\n", 5, "keep it in one kind"),
    ("languages:\n  en:\n    thanks: [\"!!!\"]\n", 3, "has no letters"),
    ("greeting: [hi]\n", 1, "needs 'languages:'"),
]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory):
    """A copy of the project to break (one content load for the module)."""
    config = always_open(load_config(copy_project(tmp_path_factory.mktemp("project")), env={}))
    return config, Content.load(config)


async def reload(watcher: ContentWatcher, content: Content) -> Content:
    """What the watcher serves once it has noticed the change and finished loading in its thread."""
    served = await watcher.poll(content)
    while watcher._reloading is not None:
        await asyncio.sleep(0.02)
        served = await watcher.poll(served)
    return served


@pytest.mark.parametrize("broken, line, says", BROKEN_SMALLTALK, ids=[case[2] for case in BROKEN_SMALLTALK])
async def test_a_broken_smalltalk_file_is_reported_with_its_line_and_the_last_good_one_keeps_serving(
        project, broken: str, line: int, says: str) -> None:
    config, content = project
    path = config.knowledge_dir / "_smalltalk.yaml"
    good = path.read_text(encoding="utf-8")
    watcher = ContentWatcher(config, interval=0.0)
    try:
        path.write_text(broken, encoding="utf-8")
        found = [finding for finding in check(config) if finding.file == "knowledge/_smalltalk.yaml"]
        assert [(finding.level, finding.line) for finding in found] == [("error", line)], found
        assert says in found[0].message
        served = await reload(watcher, content)
        assert served is content and f"_smalltalk.yaml:{line}" in (watcher.last_error or "")
        assert served.knowledge.smalltalk.match("hi") is not None  # the last good small talk
    finally:
        path.write_text(good, encoding="utf-8")


def test_check_names_a_language_that_is_not_configured_and_a_phrase_that_is_a_question(project) -> None:
    config, _ = project
    path = config.knowledge_dir / "_smalltalk.yaml"
    good = path.read_text(encoding="utf-8")
    try:
        path.write_text("languages:\n  en:\n    greeting: [hi]\n    ok: [daycare for my baby]\n  xx:\n    greeting: [hallo]\n",
                        encoding="utf-8")
        found = {(finding.level, finding.line, finding.message.split(":")[0]) for finding in check(config)
                 if finding.file == "knowledge/_smalltalk.yaml"}
        assert ("error", 6, "'xx' is not one of the languages in config.yaml") in found
        assert ("error", 4, "'daycare for my baby' is also a question of childcare/find-childcare") in found
        assert ("warning", None, "no phrases in 'nl'") in found
    finally:
        path.write_text(good, encoding="utf-8")


def test_check_accepts_the_repository_file(config) -> None:
    assert [finding for finding in check(config) if "_smalltalk" in finding.file] == []
