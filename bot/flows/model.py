"""Scripted flows from flows/*.yaml: loading, validation (`wegwijs check`) and answer validators."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from bot.contentfiles import content_files, read_text
from bot.errors import ContentError
from bot.yamlfile import LOADER, parse_yaml

TYPES = ("text", "number", "phone", "postcode", "date", "email", "yesno", "choice", "area")
CONDITION = re.compile(r"^\s*(\w+)\s*(==|!=)\s*(\S+)\s*$")
DIGITS = {code: str(value) for start in (0x0660, 0x06F0, 0x07C0, 0x0966, 0xFF10) for value, code in enumerate(range(start, start + 10))}


@dataclass(frozen=True)
class Branch:
    name: str | None  # None = else
    negate: bool
    value: str | None
    then: str


@dataclass(frozen=True)
class Step:
    id: str
    ask: str | None = None
    say: str | None = None
    type: str = "text"
    choices: tuple[tuple[str, str], ...] = ()
    save: str | None = None
    next: tuple[Branch, ...] = ()
    end: bool = False
    optional: bool = False
    line: int = 0
    entry: str | None = None           # show this knowledge entry ("<topic>/<entry>") in her language
    places: tuple[str, ...] = ()       # show the nearest places of these kinds to the area saved as `near`
    near: str = "area"
    handoff: bool = False              # hand the conversation to a counsellor after this step


@dataclass(frozen=True)
class Flow:
    id: str
    description: str
    steps: tuple[Step, ...]
    consent: str | None = None
    store: str | None = None
    path: Path = field(default=Path())
    triggers: tuple[str, ...] = ()  # free-text questions, any language, that start the flow
    title: str | None = None        # its button in the topic menu (English; translated in locales/)
    topic: str | None = None        # the knowledge topic whose menu offers it

    def step(self, step_id: str) -> Step | None:
        return next((step for step in self.steps if step.id == step_id), None)

    def after(self, step: Step, answers: dict[str, Any]) -> Step | None:
        """The step that follows ``step`` given the answers so far (None: the flow is over)."""
        for branch in step.next:
            if branch.name is None or (str(answers.get(branch.name)) == branch.value) != branch.negate:
                return self.step(branch.then)
        if step.end:
            return None
        index = self.steps.index(step)
        return self.steps[index + 1] if index + 1 < len(self.steps) else None

    def consented(self, answers: dict[str, Any]) -> bool:
        return self.consent is None or answers.get(self.consent) == "yes"


def load_flows(folder: Path) -> dict[str, Flow]:
    if not folder.is_dir():
        return {}
    return {path.stem: load_flow(path) for path in flow_files(folder)}


def flow_files(folder: Path) -> list[Path]:
    """The flows in a folder: every YAML file but those starting with '_' (shared data such as _intents.yaml)."""
    return [path for path in content_files(folder, "*.yaml") if not path.name.startswith("_")]


def load_flow(path: Path) -> Flow:
    text = read_text(path)
    data = parse_yaml(text, path)
    root = yaml.compose(text, Loader=LOADER)  # for the steps' line numbers; it parsed above, so it composes
    if not isinstance(data, dict) or not isinstance(data.get("steps"), list) or not data["steps"]:
        raise ContentError(str(path), 1, "needs 'description:' and a list of 'steps:'")
    if not isinstance(data.get("description"), str):
        raise ContentError(str(path), 1, "needs 'description:' (one line saying what the flow is for)")
    lines = _step_lines(root)
    steps = tuple(_step(path, raw, lines[i] if i < len(lines) else 0) for i, raw in enumerate(data["steps"]))
    triggers = data.get("triggers") or {}
    if not isinstance(triggers, dict):
        raise ContentError(str(path), 1, "'triggers:' must map languages to lists of questions, e.g. 'en: [sign me up]'")
    flow = Flow(path.stem, data["description"], steps, data.get("consent"), data.get("store"), path,
                tuple(str(text) for items in triggers.values() for text in items or []),
                data.get("title"), data.get("topic"))
    _validate(flow)
    return flow


def _step_lines(root: Any) -> list[int]:
    for key, value in getattr(root, "value", []):
        if getattr(key, "value", None) == "steps" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def _step(path: Path, raw: Any, line: int) -> Step:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        raise ContentError(str(path), line, "every step needs an 'id:'")
    choices = tuple((str(c["label"]), str(c["value"])) for c in raw.get("choices") or [] if isinstance(c, dict) and "label" in c and "value" in c)
    if len(choices) != len(raw.get("choices") or []):
        raise ContentError(str(path), line, f"step '{raw['id']}': every choice needs 'label:' and 'value:'")
    if any(isinstance(c.get("value"), bool) or isinstance(c.get("label"), bool) for c in raw.get("choices") or []):
        raise ContentError(str(path), line, f"step '{raw['id']}': YAML reads yes/no/on/off as true/false: put the choice's value in quotes, e.g. value: \"no\"")
    kind = "choice" if choices else str(raw.get("type", "text"))
    if kind not in TYPES:
        raise ContentError(str(path), line, f"step '{raw['id']}': type '{kind}' is unknown; use one of {', '.join(TYPES)}")
    if all(raw.get(key) in (None, False, []) for key in ("ask", "say", "entry", "places", "handoff")):
        raise ContentError(str(path), line, f"step '{raw['id']}' needs 'ask:' (a question), 'say:' (a message), "
                                            "'entry:' (a knowledge entry), 'places:' (kinds of places near her) or 'handoff: true'")
    if raw.get("ask") is not None and any(raw.get(key) for key in ("say", "entry", "places")):
        raise ContentError(str(path), line, f"step '{raw['id']}': a step that asks cannot also say, show an entry or places: split it in two steps")
    places = raw.get("places") or []
    if not isinstance(places, list) or not all(isinstance(item, str) for item in places):
        raise ContentError(str(path), line, f"step '{raw['id']}': 'places:' is a list of kinds, e.g. [ligo, cvo]")
    return Step(raw["id"], raw.get("ask"), raw.get("say"), kind, choices, raw.get("save"),
                tuple(_branch(path, line, raw["id"], item) for item in raw.get("next") or []),
                bool(raw.get("end", False)), bool(raw.get("optional", False)), line,
                str(raw["entry"]) if raw.get("entry") else None, tuple(places), str(raw.get("near", "area")), bool(raw.get("handoff", False)))


def _branch(path: Path, line: int, step: str, item: Any) -> Branch:
    if isinstance(item, dict) and "else" in item:
        return Branch(None, False, None, str(item["else"]))
    if isinstance(item, dict) and "if" in item and "then" in item:
        match = CONDITION.match(str(item["if"]))
        if match:
            return Branch(match[1], match[2] == "!=", match[3], str(item["then"]))
    raise ContentError(str(path), line, f"step '{step}': each 'next' item is '- if: <name> == <value>' with 'then: <step>', or '- else: <step>'")


def _validate(flow: Flow) -> None:
    ids = [step.id for step in flow.steps]
    duplicates = {step_id for step_id in ids if ids.count(step_id) > 1}
    if duplicates:
        raise ContentError(str(flow.path), None, f"step ids used twice: {', '.join(sorted(duplicates))}")
    for step in flow.steps:
        for branch in step.next:
            if branch.then not in ids:
                raise ContentError(str(flow.path), step.line, f"step '{step.id}' goes to '{branch.then}', which is not a step id")
        if step.ask and not step.save:
            raise ContentError(str(flow.path), step.line, f"step '{step.id}' asks something but has no 'save:' name for the answer")
        if step.places and not any(other.type == "area" and other.save == step.near for other in flow.steps):
            raise ContentError(str(flow.path), step.line, f"step '{step.id}' shows places near '{step.near}', but no 'type: area' step saves '{step.near}'")
    reachable = _reachable(flow)
    for step in flow.steps:
        if step.id not in reachable:
            raise ContentError(str(flow.path), step.line, f"step '{step.id}' can never be reached: point a 'next' to it or remove it")
    for step in flow.steps:
        if not _can_finish(flow, step):
            raise ContentError(str(flow.path), step.line, f"from step '{step.id}' the flow can never end: add 'end: true' or a way out of the loop")


def _successors(flow: Flow, step: Step) -> list[Step]:
    found = [flow.step(branch.then) for branch in step.next]
    has_else = any(branch.name is None for branch in step.next)
    if not has_else and not step.end:
        index = flow.steps.index(step)
        if index + 1 < len(flow.steps):
            found.append(flow.steps[index + 1])
    return [item for item in found if item is not None]


def _reachable(flow: Flow) -> set[str]:
    seen, todo = set(), [flow.steps[0]]
    while todo:
        step = todo.pop()
        if step.id not in seen:
            seen.add(step.id)
            todo.extend(_successors(flow, step))
    return seen


def _can_finish(flow: Flow, start: Step) -> bool:
    seen, todo = set(), [start]
    while todo:
        step = todo.pop()
        if step.id in seen:
            continue
        seen.add(step.id)
        successors = _successors(flow, step)
        if step.end or not successors:
            return True
        todo.extend(successors)
    return False


# Answer validators: the cleaned value, or None when it does not fit --------------------------------

def validate(kind: str, text: str) -> str | None:
    text = text.strip()
    if not text:
        return None
    return VALIDATORS[kind](text)


def _text(text: str) -> str | None:
    return text[:300] if len(text) >= 1 else None


def ascii_digits(text: str) -> str:
    """Arabic-Indic (٠١٢), Persian (۰۱۲) and other decimal digits as 0-9: phones type them all."""
    return text.translate(DIGITS)


def _number(text: str) -> str | None:
    found = re.findall(r"(?<![\d.,-])\d{1,6}(?![\d.,]\d)", ascii_digits(text))
    return str(int(found[0])) if len(found) == 1 and len(ascii_digits(text).strip()) <= 40 else None


def _phone(text: str) -> str | None:
    """'0499 99 99 99', '+32 (0)499/99.99.99', '0032 499 99 99 99', '٠٤٩٩...', 'my number is ...' -> its digits."""
    runs = re.findall(r"\+?\d[\d\s./()-]*\d", ascii_digits(text))
    if len(runs) != 1:
        return None
    digits = re.sub(r"[\s./()-]", "", runs[0].replace("(0)", ""))
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if re.fullmatch(r"\+\d{8,15}", digits) or re.fullmatch(r"0\d{8,9}", digits):
        return digits
    return None


def _postcode(text: str) -> str | None:
    """'9000', '2000 Antwerpen', 'Antwerpen 2000', 'B-9000', '٩٠٠٠', 'i live in gent 9000' -> the four digits."""
    found = set(re.findall(r"(?<![\d.,/-])(?:b\s*-?\s*)?([1-9]\d{3})(?![\d.,/]\d|\d)", ascii_digits(text).casefold()))
    return found.pop() if len(found) == 1 else None


def _date(text: str) -> str | None:
    text = re.sub(r"\s*([./-])\s*", r"\1", ascii_digits(text))
    for pattern in ("%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d", "%d.%m.%Y", "%d/%m/%y", "%d-%m-%y", "%d.%m.%y"):
        try:
            return datetime.strptime(text, pattern).date().isoformat()
        except ValueError:
            continue
    return None


def _email(text: str) -> str | None:
    """'Amina@Example.com', ' amina @ example.com ', 'my email amina@example.com merci' -> the address, in lower case."""
    found = re.findall(r"[^@\s]+@[^@\s]+\.[^@\s.]{2,}", re.sub(r"\s*@\s*", "@", text).rstrip("."))
    return found[0].casefold().strip(".,;:()<>") if len(found) == 1 else None


VALIDATORS = {"text": _text, "number": _number, "phone": _phone, "postcode": _postcode, "date": _date, "email": _email,
              "yesno": lambda text: None, "choice": lambda text: None, "area": lambda text: None}  # area: Places.parse_area

