"""Conversation scenarios from tests/scenarios/*.yaml, run through Conversation.handle (SQLite and
PostgreSQL) and through `wegwijs chat --json` (a real process, restarted where a scenario says so)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.tools import export
from bot.core.conversation import Conversation
from bot.messages import Kind
from bot.storage import Store
from tests.conftest import Chat, always_open_file

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((Path(__file__).resolve().parents[1] / "scenarios").glob("*.yaml"))
INVISIBLE = str.maketrans("", "", "\u2066\u2067\u2068\u2069")


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def resolve(choice: str, buttons: list[tuple[str, str]]) -> str:
    """A button named by its label (as shown to her) or its payload."""
    for label, payload in buttons:
        if choice in (label.translate(INVISIBLE), payload):
            return payload
    return choice


def check_step(step: dict[str, Any], keys: list[str | None], texts: list[str], payloads: list[str], where: str) -> None:
    assert keys == step["expect"], f"{where}: {step}"
    if "contains" in step:
        assert any(step["contains"] in text.translate(INVISIBLE) for text in texts), f"{where}: {step['contains']!r} not in {texts}"
    for payload in step.get("buttons_include", []):
        assert payload in payloads, f"{where}: no button {payload}"


async def check_stored(scenario: dict[str, Any], store: Store) -> None:
    """`stored:` says how many sign-ups and requests (advice flows, with consent) exist, and what
    the last of each holds (`answers:` for the sign-up, `request:` for the request)."""
    stored = scenario.get("stored", {})
    for kind, count, expected in (("signup", "signups", "answers"), ("request", "requests", "request")):
        records = await export.records(store, kind)
        assert len(records) == stored.get(count, 0), kind
        for key, value in stored.get(expected, {}).items():
            assert records[-1][key] == value, key


@pytest.mark.parametrize("path", SCENARIOS, ids=[path.stem for path in SCENARIOS])
async def test_scenario_through_conversation(path: Path, db_url: str, content, config) -> None:
    scenario = load(path)
    store = await Store.open(db_url)
    chat = Chat(Conversation(store, content, config), user="scenario")
    try:
        await chat("hi")
        shown = await chat.press(f"lang:{scenario.get('language', 'en')}")
        for number, step in enumerate(scenario["steps"], 1):
            if step.get("restart"):
                await store.close()
                store = await Store.open(db_url)
                count = chat._count
                chat = Chat(Conversation(store, content, config), user="scenario")
                chat._count = count
                continue
            buttons = [(b.label, b.payload) for reply in shown for b in reply.buttons]
            payload = resolve(step["press"], buttons) if "press" in step else None
            if "location" in step:
                shown = await chat.send(kind=Kind.LOCATION, location=tuple(step["location"]))
            elif payload is not None and ":" in payload:
                shown = await chat.press(payload)
            else:  # a label no longer on screen is typed, as the terminal does
                shown = await chat(step.get("send") or step["press"])
            check_step(step, [r.key for r in shown], [r.text for r in shown], [b.payload for r in shown for b in r.buttons],
                       f"{path.name} step {number}")
        await check_stored(scenario, store)
    finally:
        await store.close()


def run_chat(db: Path, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Her replies (what goes to the desk is tested in tests/desk/test_desk.py)."""
    stdin = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    config = always_open_file(db.parent)
    result = subprocess.run([sys.executable, "-m", "bot", "--config", str(config), "chat", "--json", "--db", str(db)], input=stdin,
                            capture_output=True, text=True, cwd=ROOT, timeout=180, encoding="utf-8")
    assert result.returncode == 0, result.stderr
    return [line for line in map(json.loads, result.stdout.splitlines()) if line["to"] != "desk"]


@pytest.mark.parametrize("path", SCENARIOS, ids=[path.stem for path in SCENARIOS])
async def test_scenario_through_chat_json(path: Path, tmp_path: Path) -> None:
    """Each process runs until a restart; labels are sent as the woman would press them."""
    scenario = load(path)
    db = tmp_path / "scenario.db"
    counter = 0

    def line(**fields: Any) -> dict[str, Any]:
        nonlocal counter
        counter += 1
        return {"user": "scenario", "id": f"s{counter}", **fields}

    batches: list[list[dict[str, Any]]] = [[]]
    for step in scenario["steps"]:
        if step.get("restart"):
            batches.append([])
        else:
            batches[-1].append(step)
    first = [line(text="hi"), line(button=f"lang:{scenario.get('language', 'en')}")]
    done = 0
    for index, steps in enumerate(batches):
        sent = (first if index == 0 else []) + [line(button=s["press"]) if "press" in s else line(location=s["location"]) if "location" in s
                                                else line(text=s["send"]) for s in steps]
        out = run_chat(db, sent)
        # one reply group per input line: split by the order of inputs, using the expected counts
        position = 3 if index == 0 else 0  # after onboarding: welcome, privacy notice, main menu
        for step in steps:
            group = out[position:position + len(step["expect"])]
            position += len(step["expect"])
            done += 1
            check_step(step, [g["key"] for g in group], [g["text"] for g in group],
                       [b["payload"] for g in group for b in g["buttons"]], f"{path.name} (chat --json) step {done}")
        assert position == len(out), f"{path.name}: unexpected extra output {out[position:]}"
    store = await Store.open(f"sqlite+aiosqlite:///{db}")
    try:
        await check_stored(scenario, store)
    finally:
        await store.close()
