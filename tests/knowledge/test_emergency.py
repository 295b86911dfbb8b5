"""Emergencies: folding, the pattern syntax of knowledge/_emergency.yaml, both signals, the help for
each kind, the desk side (mentions, reminders, out of hours), bad input, and floors on the dev split
of the blind evaluation set (tests/data/emergency; figures: bench/emergency_bench.py)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import yaml
from sqlalchemy import update

from bot.core import handoff
from bot.core.content import Content
from bot.core.conversation import Conversation
from bot.desk.desk import Desk
from bot.knowledge.alarm import Alarm
from bot.knowledge.emergency import Language, PatternError, Patterns, detect, load_rules, skeleton, tokens
from bot.knowledge.emergency import load_examples as load_emergency_examples
from bot.errors import ContentError
from bot.desk.hours import describe_opening, next_opening
from bot.messages import DESK
from bot.storage import Store
from bot.storage.models import Case
from tests.conftest import ROOT, Chat
from tests.helpers import keys, payloads
from tests.desk.test_desk import cases, say, sent

DATA = ROOT / "tests/data/emergency"
BRUSSELS = ZoneInfo("Europe/Brussels")


# Folding: how she types must not matter ------------------------------------------------------------

@pytest.mark.parametrize("variants", [
    ["б'є", "бʼє", "б’є", "бє", "б`є"],                                  # Ukrainian apostrophes
    ["يَضْرِبُنِي", "يضربني", "يضـــربني"],                             # harakat, tatweel
    ["مى", "مي", "می"],                                                  # alef maksura, Arabic and Persian yeh
    ["زوجة", "زوجه"], ["أنا", "انا", "إنا"], ["كتك", "کتک"],            # teh marbuta, hamza, kaf
    ["می‌زند", "می زند", "میزند", "مي زند"],                             # Persian half-space, space, joined
    ["٣", "۳", "3"], ["۹۰۰۰", "٩٠٠٠", "9000"],                            # Eastern Arabic and Persian digits
    ["kill", "KILL", "kiiiiill", "ｋｉｌｌ"],                              # case, repeated letters, NFKC
    ["frappée", "frappee", "FRAPPÉE"],                                   # accents
    ["ټکوي", "تکوي"], ["ګواښ", "گواش"],                                  # Pashto letters typed on other keyboards
])
def test_spellings_fold_to_the_same_words(variants: list[str]) -> None:
    assert len({tuple(tokens(variant)) for variant in variants}) == 1, [tokens(v) for v in variants]


def test_zero_width_and_bidi_characters_do_not_split_or_join_words() -> None:
    assert tokens("he\u200bhits\u200f me\u2066!") == tokens("hehits me")
    assert tokens("شوهرم\u200cمرا") == ["شوهرم", "مرا"]


@pytest.mark.parametrize("words", [["yadrabni", "ydrbni", "yedrebni", "yodrobni"], ["bi2tilni", "bi2tlni", "betelni"],
                                   ["7ayati", "hayati"], ["5ayfa", "khayfa"]])
def test_latin_script_arabic_has_one_skeleton_whatever_the_vowels_and_digits(words: list[str]) -> None:
    assert len({skeleton(word) for word in words}) == 1, [skeleton(w) for w in words]


# The pattern syntax -------------------------------------------------------------------------------

def rules_of(patterns: dict[str, list[str]], words: dict[str, list[str]] | None = None, calm: list[str] | None = None, gap: int = 3) -> Patterns:
    return Patterns([Language("xx", patterns, calm or [], words or {}, gap)])


@pytest.mark.parametrize("pattern, text, found", [
    ("hit*", "he hits", True), ("hit*", "white", False),
    ("*slaat", "hij geslaat", True), ("*slaat", "slaatje", False),
    ("*ضرب*", "بيضربني", True),
    ("hit*|beat*", "he beats", True), ("hit*|beat*", "he kicks", False),
    ("{me}", "my kids", True), ("{me}", "my car", False),
    ("he ... {hit}", "he has often hit", True), ("he ... {hit}", "he and one two three four hit", False),
    ("he ... {hit}", "he hit", True),
    ("~*drbn*", "zawji ydrabni", True), ("~*drbn*", "drab", False),
])
def test_pattern_words(pattern: str, text: str, found: bool) -> None:
    patterns = rules_of({"violence": [pattern]}, {"me": ["me", "my kids"], "hit": ["hit*", "beat*"]})
    assert bool(patterns.find(text)) is found


def test_a_match_inside_a_calm_phrase_does_not_count_but_another_one_does() -> None:
    patterns = rules_of({"violence": ["killing me"]}, {"thing": ["course", "job", "heat"]}, ["{thing} is killing me"])
    assert patterns.find("this course is killing me") == []
    assert [m.kind for m in patterns.find("the course is killing me and my husband is killing me")] == ["violence"]


def test_calm_phrases_cover_as_much_as_they_can_whatever_their_order() -> None:
    patterns = rules_of({"violence": ["kill* me"]}, calm=["this", "this ... is killing me"])
    assert patterns.find("this long course is killing me") == []
    assert patterns.find("he is killing me") != []


def test_several_kinds_come_most_serious_first() -> None:
    patterns = rules_of({"violence": ["beat* me"], "suicide": ["want to die"]})
    assert [m.kind for m in patterns.find("he beat me and i want to die")] == ["suicide", "violence"]


@pytest.mark.parametrize("pattern, says", [
    ("... hit", "'...' goes between two words"), ("hit ... ... me", "one '...' already"),
    ("{nobody} hit", "no word list 'nobody'"), ("h* me", "too short for a '*'"), ("", "empty"),
])
def test_a_broken_pattern_says_what_to_change(pattern: str, says: str) -> None:
    with pytest.raises(PatternError, match=re.escape(says)):
        rules_of({"violence": [pattern]})


def test_a_broken_emergency_file_names_the_file_and_the_line(tmp_path: Path) -> None:
    path = tmp_path / "_emergency.yaml"
    path.write_text("kinds:\n  violence: {entry: safety/violence-help}\nlanguages:\n  en:\n    patterns:\n"
                    "      violence:\n        - \"hit* me\"\n        - \"{victim} hit\"\n", encoding="utf-8")
    with pytest.raises(ContentError) as error:
        load_rules(path)
    assert error.value.line == 8 and "word list 'victim'" in error.value.hint
    path.write_text("kinds:\n  violence: {entry: x}\nlanguages:\n  en:\n    patterns:\n      nonsense: [hit]\n", encoding="utf-8")
    with pytest.raises(ContentError, match="kind 'nonsense'"):
        load_rules(path)
    path.write_text("kinds: [\n", encoding="utf-8")
    with pytest.raises(ContentError, match="not valid YAML"):
        load_rules(path)


def test_the_examples_file_adds_training_sentences_and_names_a_wrong_kind(tmp_path: Path) -> None:
    rules = load_rules(ROOT / "knowledge/_emergency.yaml")
    path = tmp_path / "_emergency_examples.yaml"
    path.write_text('languages:\n  en:\n    emergency:\n      suicide: ["the rope is ready"]\n    calm: ["the cake is ready"]\n'
                    '  ar:\n    emergency:\n      medical: ["ابني ما عم يتنفس"]\n', encoding="utf-8")
    examples, calm = load_emergency_examples(path, rules.kinds)
    merged = rules.with_examples(examples, calm)
    assert merged.examples["suicide"][-1] == "the rope is ready" and merged.examples["medical"][-1] == "ابني ما عم يتنفس"
    assert len(merged.examples["suicide"]) == len(rules.examples["suicide"]) + 1 and merged.calm_examples[-1] == "the cake is ready"
    assert "the rope is ready" not in rules.examples["suicide"]          # the compiled rules (cached) are left as they were
    path.write_text('languages:\n  en:\n    emergency:\n      sucide:\n        - "the rope is ready"\n', encoding="utf-8")
    with pytest.raises(ContentError, match="did you mean 'suicide'") as error:
        load_emergency_examples(path, rules.kinds)
    assert error.value.line == 4
    path.write_text('languages:\n  en:\n    emergency:\n      suicide: "the rope is ready"\n', encoding="utf-8")
    with pytest.raises(ContentError, match="list of lines"):
        load_emergency_examples(path, rules.kinds)
    path.write_text("languages: [\n", encoding="utf-8")
    with pytest.raises(ContentError, match="not valid YAML"):
        load_emergency_examples(path, rules.kinds)


def test_the_alarm_learns_from_letters_and_its_cached_copy_gives_the_same_answers(tmp_path: Path) -> None:
    dangers = [("he hits me every day", "violence"), ("my husband hit me", "violence"), ("he beat me with a belt", "violence"),
               ("i want to die", "suicide"), ("i will kill myself tonight", "suicide"), ("i dont want to live", "suicide")]
    calm = ["he beat me at chess", "this course is killing me", "i am dying of hunger", "when is the dutch course"]
    others = ["where can i find childcare", "how do i get my diploma recognised", "what does the ocmw do", "i need a job"]
    vectors = np.zeros((len(dangers), 4)), np.zeros((len(calm), 4)), np.zeros((len(others), 4))
    path = tmp_path / "alarm.npz"
    alarm = Alarm.cached(path, dangers, vectors[0], calm, vectors[1], others, vectors[2])
    zero = np.zeros(4)
    probability, kind = alarm.judge("he hitts me evry day", zero)        # misspelt: letters, not words
    assert probability > alarm.judge("where can i find a job", zero)[0] and kind == "violence"
    assert alarm.judge("i wnt to die", zero)[1] == "suicide"
    again = Alarm.cached(path, dangers, vectors[0], calm, vectors[1], others, vectors[2])
    assert again.judge("he hitts me evry day", zero) == pytest.approx(alarm.judge("he hitts me evry day", zero))
    features = alarm._features(["he hitts me evry day"], zero[None, :])
    assert 1 / (1 + np.exp(-(float((features @ alarm.weights)[0]) + alarm.bias))) == pytest.approx(probability, rel=1e-5)
    one_kind = Alarm.train(dangers[:3], vectors[0][:3], calm, vectors[1], others, vectors[2])   # content with one kind only
    assert one_kind.judge("he hits me", zero)[1] == "violence"
    path.write_bytes(b"not a numpy file")                                     # a broken copy is trained again
    assert Alarm.cached(path, dangers, vectors[0], calm, vectors[1], others, vectors[2]).judge("i want to die", zero)[1] == "suicide"


def test_the_classifier_is_a_second_signal_and_the_pattern_decides_the_kind(content: Content) -> None:
    rules = content.knowledge.emergency
    assert detect(rules, "qwzx blorp", (0.97, "suicide"), 0.5).signal == "classifier"
    assert detect(rules, "qwzx blorp", (0.3, "suicide"), 0.5) is None
    found = detect(rules, "I want to kill myself", (0.9, "medical"), 0.5)
    assert (found.kind, found.signal) == ("suicide", "pattern")


# Recognition of what women write ------------------------------------------------------------------

@pytest.mark.parametrize("text, kind", [
    ("my husband is hitting me", "violence"),
    ("my husband beat me yesterday", "violence"),
    ("i dont want to live anymore", "suicide"),
    ("муж угрожает убить меня", "threat"),
    ("شوهرم\u200cمرا کتک می\u200cزند", "violence"),
    ("zouj yadrabni", "violence"),
    ("he says he will take my children away", "threat"),
    ("I want to kill myself", "suicide"),
    ("he raped me", "sexual"),
    ("my baby is not breathing", "medical"),
    ("he locked me in the house and took my phone", "confined"),
    ("my parents force me to marry my cousin", "forced-marriage"),
    ("my husband beats our son with a belt", "child"),
])
def test_emergencies_as_women_write_them_and_their_kind(content: Content, text: str, kind: str) -> None:
    found = detect(content.knowledge.emergency, text)
    assert found is not None and found.kind == kind, (text, found)


@pytest.mark.parametrize("text, kind", [
    ("the rope is ready", "suicide"),
    ("j'ai gardé tous mes médicaments, ce soir je les avale tous", "suicide"),
    ("بدي نام وما اصحى ابدا، كتبت رسالة لولادي", "suicide"),
    ("artık uyanmak istemiyorum, çocuklarıma mektup yazdım", "suicide"),
    ("my neighbour's boy has bruises every day and he is scared to go home", "child"),
])
def test_the_classifier_catches_what_no_pattern_lists(content: Content, text: str, kind: str) -> None:
    """Written for this test (in no data set); the embedding-only classifier missed each of them."""
    assert content.knowledge.emergency.find(text) == []
    evidence = content.retriever.evidence(text)
    found = detect(content.knowledge.emergency, text, (evidence.emergency, evidence.emergency_kind), content.retriever.thresholds.emergency)
    assert found is not None and (found.kind, found.signal) == (kind, "classifier"), (text, evidence.emergency, evidence.emergency_kind)


@pytest.mark.parametrize("text", ["خداحافظ", "خدای پامان", "goodbye", "bye bye", "خیلی ممنون", "thank you so much"])
def test_a_message_of_small_talk_alone_is_no_emergency_for_the_classifier(content: Content, text: str) -> None:
    """The classifier learnt farewells from suicide notes: "خداحافظ" (goodbye) alone scored 0.86. A
    message that is nothing but small talk is not an emergency unless a pattern says so."""
    assert content.knowledge.smalltalk.match(text) is not None
    evidence = content.retriever.evidence(text)
    assert evidence.emergency == 0.0
    assert detect(content.knowledge.emergency, text, (evidence.emergency, evidence.emergency_kind), content.retriever.thresholds.emergency) is None
    farewell = content.retriever.evidence("خداحافظ همه، دیگه نمی‌تونم، قرص‌ها رو خوردم")  # goodbye all, I can't anymore, I took the pills
    assert farewell.emergency >= content.retriever.thresholds.emergency


@pytest.mark.parametrize("text", ["this course is killing me", "I am afraid of the exam", "can the police help with my lost card",
                                  "my husband beat me at cards again", "when do I go to the hospital to give birth",
                                  "what is the emergency number in Belgium"])
def test_calm_sentences_with_dangerous_words_are_not_emergencies(content: Content, text: str) -> None:
    evidence = content.retriever.evidence(text)
    found = detect(content.knowledge.emergency, text, (evidence.emergency, evidence.emergency_kind), content.retriever.thresholds.emergency)
    assert found is None, found


# The help for each kind ---------------------------------------------------------------------------

def test_every_kind_has_its_entry_in_every_language_with_each_number_once(content: Content) -> None:
    rules = content.knowledge.emergency
    assert set(rules.kinds) >= {"suicide", "medical", "sexual", "child", "violence", "threat", "confined", "forced-marriage"}
    for kind in rules.kinds.values():
        entry = content.knowledge.entries[kind.entry]
        assert kind.numbers, kind.id
        for language in content.catalogs.languages:
            body = re.sub(r"https?://\S+", "", entry.answers[language].body)  # a link (www.1712.be) is not a second number
            for number in kind.numbers:
                assert len(re.findall(rf"(?<!\d){number}(?!\d)", body)) == 1, (kind.id, language, number)
    assert "1813" in rules.kinds["suicide"].numbers and "1813" not in rules.kinds["violence"].numbers


def test_what_follows_the_help_repeats_no_number(content: Content) -> None:
    for language in content.catalogs.languages:
        for key in ("handoff-urgent", "handoff-urgent-closed"):
            assert not re.search(r"\d", content.catalogs.get(language, key, opens="").text), (language, key)


@pytest.mark.parametrize("text, kind, number", [("I want to kill myself", "suicide", "1813"), ("he raped me", "sexual", "112"),
                                                ("my baby is not breathing", "medical", "112"),
                                                ("my husband hits me", "violence", "1712")])
async def test_each_kind_gets_its_own_first_message_then_an_urgent_case(chat: Chat, store: Store, text: str, kind: str, number: str) -> None:
    await chat.onboard("en")
    replies = await chat(text)
    assert keys(replies) == [f"emergency:{kind}", "handoff-urgent"]
    assert number in replies[0].text and payloads(replies[0]) == ["cmd:menu"]
    joined = re.sub(r"https?://\S+", "", "\n".join(reply.text for reply in replies))
    for each in ("112", "101", "1712", "1813"):
        assert len(re.findall(rf"(?<!\d){each}(?!\d)", joined)) <= 1, (each, joined)
    [case] = await cases(store)
    assert (case.urgent, case.trigger, case.emergency, case.topic) == (True, "emergency", kind, "safety")


async def test_out_of_hours_she_is_told_nobody_is_there_and_when_the_desk_opens(chat: Chat, conversation: Conversation,
                                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    settings = conversation.config.settings
    hours = settings.desk.office_hours.model_copy(update={"weekly": {"mon": ["09:00-17:00"]}})
    conversation.config = dataclasses.replace(conversation.config, settings=settings.model_copy(
        update={"desk": settings.desk.model_copy(update={"office_hours": hours})}))
    saturday = datetime(2026, 12, 5, 23, 30, tzinfo=BRUSSELS)
    monkeypatch.setattr(handoff, "now", lambda: saturday)
    await chat.onboard("nl")
    replies = await chat("ik wil niet meer leven")
    assert keys(replies) == ["emergency:suicide", "handoff-urgent-closed"]
    assert "1813" in replies[0].text
    assert describe_opening(next_opening(hours, saturday), "nl") in replies[1].text  # "maandag ... 09:00", in her language


def urgent_desk(conversation: Conversation) -> None:
    """The repository's counsellors, with Telegram ids so that they can be mentioned."""
    settings = conversation.config.settings
    counsellors = [c.model_copy(update={"telegram_id": 1000 + i}) for i, c in enumerate(settings.desk.counsellors)]
    desk = settings.desk.model_copy(update={"counsellors": counsellors, "urgent_reminder_minutes": 10})
    conversation.config = dataclasses.replace(conversation.config, settings=settings.model_copy(update={"desk": desk}))


async def test_an_urgent_case_mentions_every_counsellor_and_names_the_kind(chat: Chat, store: Store, conversation: Conversation) -> None:
    urgent_desk(conversation)
    await chat.onboard("uk")  # only Olena speaks Ukrainian; an urgent case is for everyone
    await chat("він мене б'є")
    [card] = await sent(store, DESK)
    assert sorted(card["mentions"]) == [1000, 1001, 1002] and card["title"].startswith("⚠️")
    assert "violence" in card["text"]


async def test_an_urgent_case_nobody_takes_is_posted_again_with_mentions(chat: Chat, store: Store, conversation: Conversation) -> None:
    urgent_desk(conversation)
    desk = Desk(conversation)
    await chat.onboard("en")
    await chat("I want to kill myself")
    await sent(store, DESK)
    assert await desk.remind_urgent() == []  # not 10 minutes yet
    async with store.engine.begin() as connection:
        await connection.execute(update(Case).values(opened_at=datetime.now(UTC) - timedelta(minutes=11)))
    assert await desk.remind_urgent() == [1]
    assert await desk.remind_urgent() == []  # reminded just now: not again before another 10 minutes
    [reminder] = await sent(store, DESK)
    assert reminder["key"] == "desk-urgent-reminder" and sorted(reminder["mentions"]) == [1000, 1001, 1002]
    assert "#1" in reminder["text"] and "11" in reminder["text"] and "suicide" in reminder["text"]
    async with store.engine.begin() as connection:
        await connection.execute(update(Case).values(reminded_at=datetime.now(UTC) - timedelta(minutes=11)))
    await say(desk, "Amal", payload="take:1")
    assert await desk.remind_urgent() == []  # taken: no more reminders


async def test_a_case_that_becomes_urgent_tells_the_desk_with_mentions(chat: Chat, store: Store, conversation: Conversation) -> None:
    urgent_desk(conversation)
    await chat.onboard("en")
    await chat("/human")
    await sent(store, DESK)
    replies = await chat("he says he will kill me")
    assert keys(replies) == ["emergency:threat", "handoff-urgent"]
    mirrored, notice = await sent(store, DESK)  # what she wrote appears in her topic, then the alarm
    assert mirrored["key"] == "her-message" and "kill me" in mirrored["text"]
    assert notice["key"] == "desk-urgent-now" and sorted(notice["mentions"]) == [1000, 1001, 1002] and "threats" in notice["text"]


# Bad input ----------------------------------------------------------------------------------------

async def test_an_emergency_at_the_end_of_a_very_long_message_is_found(chat: Chat, conversation: Conversation) -> None:
    await chat.onboard("en")
    limit = conversation.config.settings.limits.max_message_chars
    replies = await chat("I went to the town hall today and waited. " * (2 * limit // 40) + "tonight my husband hit me again")
    assert "emergency:violence" in keys(replies)


@pytest.mark.parametrize("text", ["😭😭😭🔪", "🙏", "؟؟؟", "...", "a" * 20_000, "help زوجي يضربني please", "ሓገዝ!! ሰብኣየይ ይወቕዓኒ"])
async def test_odd_messages_never_crash(chat: Chat, text: str) -> None:
    await chat.onboard("en")
    replies = await chat(text)
    assert replies and "error-sorry" not in keys(replies)


async def test_mixed_scripts_are_an_emergency(chat: Chat) -> None:
    await chat.onboard("fr")
    assert keys(await chat("help زوجي يضربني please"))[0] == "emergency:violence"


async def test_an_emergency_during_a_flow_wins_and_the_flow_can_be_resumed(chat: Chat, content: Content) -> None:
    await chat.onboard("en")
    first = await chat.press("flow:job-shadowing")
    question = first[-1]
    replies = await chat("my husband hits me")
    assert keys(replies)[0] == "emergency:violence"
    menu = await chat.press("cmd:menu")
    assert "flow:resume" in payloads(menu[-1])
    again = await chat.press("flow:resume")
    assert again[-1].text == question.text


async def test_ask_json_names_the_kind(tmp_path: Path) -> None:
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "bot", "ask", "--json", "i dont want to live anymore"], capture_output=True,
                            text=True, cwd=ROOT, timeout=300, check=True)
    line = json.loads(result.stdout)
    assert (line["action"], line["emergency"], line["entry"]) == ("emergency", "suicide", "safety/suicide-help")


# Floors on the dev split of the blind set (the test split is for bench/emergency_bench.py only) --

def dev_items() -> list[tuple[str, str, str | None]]:
    items = []
    for path in sorted(DATA.glob("*.yaml")):  # both rounds
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        rows = [(e["text"], e["kind"]) for e in data.get("emergency") or []] + [(c["text"], None) for c in data.get("calm") or []]
        items += [(data["language"], text, kind) for text, kind in rows if int(hashlib.sha1(text.encode()).hexdigest(), 16) % 2 == 0]
    return items


RECALL_FLOOR = 0.97        # per language, both signals (dev: 100% in every language, 2026-12-01)
FALSE_ALARM_CEILING = 0.11  # per language (dev: at most 8.6%, Ukrainian, from the classifier, 2026-12-02)
CLASSIFIER_FLOOR = 0.72     # per language, the classifier alone: the patterns were tuned on dev, the classifier
                            # never saw it (dev: at least 78.9%, Arabic; 85.7% in all; was 42.7% before the n-grams)


def test_dev_split_recall_and_false_alarms_per_language(content: Content) -> None:
    threshold = content.retriever.thresholds.emergency
    by_language: dict[str, list[tuple[bool, bool]]] = {}
    for language, text, kind in dev_items():
        evidence = content.retriever.evidence(text)
        found = detect(content.knowledge.emergency, text, (evidence.emergency, evidence.emergency_kind) if evidence else (0.0, None), threshold)
        by_language.setdefault(language, []).append((kind is not None, found is not None, evidence is not None and evidence.emergency >= threshold))
    assert len(by_language) == 11
    for language, results in by_language.items():
        emergencies = [said for real, said, _ in results if real]
        calm = [said for real, said, _ in results if not real]
        classifier = [alone for real, _, alone in results if real]
        assert sum(emergencies) / len(emergencies) >= RECALL_FLOOR, (language, sum(emergencies), len(emergencies))
        assert sum(calm) / len(calm) <= FALSE_ALARM_CEILING, (language, sum(calm), len(calm))
        assert sum(classifier) / len(classifier) >= CLASSIFIER_FLOOR, (language, sum(classifier), len(classifier))


def test_compiled_patterns_are_kept_in_knowledge_cache_and_a_broken_copy_is_ignored(tmp_path: Path) -> None:
    from bot.knowledge.entries import _compiled_rules, emergency_rules

    path = tmp_path / "_emergency.yaml"
    path.write_text("kinds:\n  violence: {entry: safety/violence-help}\nlanguages:\n  en:\n    patterns:\n      violence: [hit* me]\n",
                    encoding="utf-8")
    _compiled_rules.cache_clear()
    first = emergency_rules(path)
    [cached] = (tmp_path / ".cache").glob("emergency-*.pickle")
    _compiled_rules.cache_clear()
    again = emergency_rules(path)  # from the copy
    assert [m.kind for m in again.find("he hit me")] == [m.kind for m in first.find("he hit me")] == ["violence"]
    cached.write_bytes(b"not a pickle")
    _compiled_rules.cache_clear()
    assert [m.kind for m in emergency_rules(path).find("he hits me")] == ["violence"]  # compiled again
    path.write_text(path.read_text(encoding="utf-8").replace("hit* me", "kick* me"), encoding="utf-8")
    _compiled_rules.cache_clear()
    assert emergency_rules(path).find("he hit me") == [] and len(list((tmp_path / ".cache").glob("emergency-*.pickle"))) == 1
