"""Menus built from content: languages (native names), topics, the entries of a topic, answers."""

from __future__ import annotations

from bot.core.turn import Turn
from bot.flows import Flow
from bot.knowledge import Answer, Entry, Topic
from bot.language import native_name
from bot.messages import Button

MENU = "cmd:menu"
HUMAN = "cmd:human"


def language_menu(turn: Turn, key: str = "choose-language") -> None:
    first = turn.session.user.language or turn.written_language or turn.script_language or turn.hinted_language or turn.word_language
    languages = sorted(turn.settings.languages, key=lambda code: code != first)
    turn.say(key, *(Button(native_name(code), f"lang:{code}") for code in languages))


def main_menu(turn: Turn, key: str = "main-menu") -> None:
    buttons = [Button(f"{topic.icon} {topic_title(turn, topic)}".strip(), f"topic:{topic.id}") for topic in turn.content.knowledge.topics]
    paused = turn.state.get("flow", {}).get("paused")
    resume = [turn.button("button-resume", "flow:resume")] if paused else []
    turn.say(key, *resume, *buttons, turn.button("button-human", HUMAN))


def topic_menu(turn: Turn, topic_id: str) -> bool:
    topic = turn.content.knowledge.topic(topic_id)
    if topic is None:
        return False
    found = (answer_for(turn, entry) for entry in turn.content.knowledge.entries_of(topic_id))
    flows = [flow_button(turn, flow) for flow in turn.content.flows.values() if flow.topic == topic_id and flow.title]
    buttons = flows + [Button(item[0].title, f"entry:{item[2]}") for item in found if item]
    turn.say("topic-menu", *buttons, turn.button("button-menu", MENU), topic=topic_title(turn, topic))
    return True


def answer(turn: Turn, entry: Entry, *, feedback: bool = True) -> None:
    found = answer_for(turn, entry)
    if found is None:
        turn.say("answer-missing", turn.button("button-menu", MENU))
        return
    text, _, key = found
    if not feedback:
        entry_text(turn, entry, turn.button("button-menu", MENU), turn.button("button-human", HUMAN))
        return
    entry_text(turn, entry, *([flow_button(turn, turn.content.flows[text.flow])] if text.flow in turn.content.flows else []))
    turn.say("was-this-helpful", turn.button("button-helpful", f"helpful:{key}"), turn.button("button-unhelpful", f"unhelpful:{key}"),
             turn.button("button-menu", MENU))


def emergency_help(turn: Turn, kind: str, *buttons: Button) -> None:
    """The first message for a kind of emergency: its safety entry's answer, short, without its title
    (the numbers are in it, once). Without that entry: the emergency numbers of config.yaml."""
    rules = turn.content.knowledge.emergency
    spec = rules.kinds.get(kind) if rules is not None else None
    entry = turn.content.knowledge.entries.get(spec.entry) if spec is not None else None
    found = answer_for(turn, entry) if entry is not None else None
    if found is None:
        numbers = spec.numbers if spec is not None and spec.numbers else turn.settings.emergency_numbers
        turn.say("emergency-intro", *buttons, numbers=", ".join(numbers))
        return
    text, language, key = found
    turn.fallback_used |= language != turn.language
    turn.send(text.body, *buttons, key=f"emergency:{kind}")


def flow_button(turn: Turn, flow: Flow) -> Button:
    """The button that starts a flow: its title in her language, or "Sign up now"."""
    if not flow.title:
        return turn.button("button-start-flow", f"flow:{flow.id}")
    found = turn.content.catalogs.translate(turn.language, flow.title)
    turn.fallback_used |= found.fallback
    return Button(f"🧭 {found.text}", f"flow:{flow.id}")


def entry_text(turn: Turn, entry: Entry, *buttons: Button) -> None:
    """An entry's title and answer in her language (or her fallback chain's), with these buttons."""
    found = answer_for(turn, entry)
    if found is not None:
        text, language, key = found
        turn.fallback_used |= language != turn.language
        turn.send(f"**{text.title}**\n\n{text.body}", *buttons, key=f"entry:{key}")


def answer_for(turn: Turn, entry: Entry) -> tuple[Answer, str, str] | None:
    """The entry in her language, or in the first language of her fallback chain that has it."""
    for code in turn.languages:
        if code in entry.answers:
            return entry.answers[code], code, entry.key
    return None


def topic_title(turn: Turn, topic: Topic) -> str:
    return next((topic.titles[code] for code in turn.languages if code in topic.titles), topic.id)
