"""`wegwijs report`: unanswered questions grouped by meaning, unhelpful answers, answers per topic."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

from bot.core.content import shared_embedder
from bot.desk.desk import Desk, DeskMessage
from bot.messages import Kind
from bot.tools.report import answers_by_topic_and_language, desk_summary, feedback_counts, group, render, render_desk, unanswered
from bot.storage import Store
from bot.storage.session import now
from tests.conftest import Chat

ROOT = Path(__file__).resolve().parents[2]


async def test_report_groups_questions_that_mean_the_same(chat: Chat, store: Store, content) -> None:
    await chat.onboard("en")
    for question in ("how do i renew my residence card", "how can i renew my residence permit card", "qwzx blorp"):
        await chat(question)
    entry = next(iter(content.knowledge.entries))
    await chat.press(f"entry:{entry}")
    await chat.press(f"unhelpful:{entry}")
    groups = group(await unanswered(store), shared_embedder())
    assert [len(g.questions) for g in groups] == [2, 1]
    assert groups[0].languages == {"en": 2}
    text = render(groups, await feedback_counts(store), await answers_by_topic_and_language(store))
    assert '2x  "how do i renew my residence card"  [en 2]' in text
    assert f"1 not helpful, 0 helpful  {entry}" in text
    topic = entry.split("/")[0]
    assert any(line.startswith(topic) and line.split()[1:] == ["1"] for line in text.splitlines())


async def test_report_counts_the_desks_cases(conversation, store: Store) -> None:  # type: ignore[no-untyped-def]
    for name, language, ask in (("a", "en", "/human"), ("b", "ar", "/human"), ("c", "en", "he hits me")):
        woman = Chat(conversation, user=name)
        await woman.onboard(language)
        await woman(ask)
    await Desk(conversation).handle(DeskMessage("Amal", "d1", 2, Kind.BUTTON, payload="take:2"))
    summary = await desk_summary(store)
    assert summary.by_status == {"open": 2, "active": 1} and summary.by_trigger == {"command": 2, "emergency": 1}
    assert summary.by_language == {"en": 2, "ar": 1} and len(summary.minutes_to_take) == 1 and summary.median_minutes is not None
    text = render_desk(summary)
    assert "now:        open 2, waiting 0, active 1, closed 0" in text and "taken over: 1, median 0 min after she asked" in text


def wegwijs(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_report_command_on_an_empty_database(tmp_path: Path) -> None:
    assert wegwijs("db", "upgrade", "--db", str(tmp_path / "r.db")).returncode == 0
    result = wegwijs("report", "--db", str(tmp_path / "r.db"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# Unanswered questions") and "none" in result.stdout
    assert "# Counsellors' desk (a deleted woman's cases are still counted, as closed)\nnone" in result.stdout


def test_report_on_a_database_that_does_not_exist_says_so_and_creates_none(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    result = wegwijs("report", "--db", str(missing))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == f"wegwijs: There is no database at {missing} (from --db): pass the file the bot uses, e.g. --db wegwijs.db\n"
    assert list(tmp_path.iterdir()) == []


async def forget(woman: Chat) -> None:
    await woman("/forget")
    assert [reply.key for reply in await woman.press("forget:yes")] == ["forget-done"]


async def test_report_keeps_the_counts_after_a_woman_is_forgotten(conversation, store: Store, content) -> None:  # type: ignore[no-untyped-def]
    entries = list(content.knowledge.entries)
    her, other = Chat(conversation, user="her"), Chat(conversation, user="other")
    await her.onboard("ar")
    await other.onboard("en")
    for woman, entry in ((her, entries[0]), (her, entries[0]), (her, entries[-1]), (other, entries[0])):
        await woman.press(f"entry:{entry}")
    await her("/human")
    await Desk(conversation).handle(DeskMessage("Amal", "d1", 1, Kind.BUTTON, payload="take:1"))
    await her("/bot")  # her first case, taken and closed
    await other("/human")
    answers, desk = await answers_by_topic_and_language(store), await desk_summary(store)
    assert answers[(entries[0].split("/")[0], "ar")] >= 2 and desk.by_status == {"closed": 1, "open": 1}

    await forget(her)

    assert await answers_by_topic_and_language(store) == answers
    after = await desk_summary(store)
    assert (after.by_status, after.by_trigger, after.by_language) == (desk.by_status, desk.by_trigger, desk.by_language)
    assert after.minutes_to_take == [round(minutes) for minutes in desk.minutes_to_take]
    assert await store.get_user("test", "her") is None


async def test_a_case_still_open_when_she_is_forgotten_counts_as_closed(conversation, store: Store) -> None:  # type: ignore[no-untyped-def]
    her = Chat(conversation, user="her")
    await her.onboard("fa")
    await her("/human")
    assert (await desk_summary(store)).by_status == {"open": 1}
    await forget(her)
    summary = await desk_summary(store)
    assert summary.by_status == {"closed": 1} and summary.by_language == {"fa": 1} and summary.by_trigger == {"command": 1}
    assert "now:        open 0, waiting 0, active 0, closed 1" in render_desk(summary)


async def test_report_keeps_the_counts_of_what_the_retention_purge_deletes(chat: Chat, store: Store, content) -> None:  # type: ignore[no-untyped-def]
    entry = next(iter(content.knowledge.entries))
    await chat.onboard("tr")
    await chat.press(f"entry:{entry}")
    await chat("/human")
    answers, desk = await answers_by_topic_and_language(store), await desk_summary(store)
    removed = await store.purge_expired(messages_days=90, inactive_user_days=365, at=now() + timedelta(days=400))
    assert removed["users"] == 1 and removed["messages"] > 0
    assert await answers_by_topic_and_language(store) == answers == Counter({(entry.split("/")[0], "tr"): 1})
    assert (await desk_summary(store)).by_trigger == desk.by_trigger
