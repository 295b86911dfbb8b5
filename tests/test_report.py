"""`wegwijs report`: unanswered questions grouped by meaning, unhelpful answers, answers per topic."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.content import shared_embedder
from bot.desk import Desk, DeskMessage
from bot.messages import Kind
from bot.report import answers_by_topic_and_language, desk_summary, feedback_counts, group, render, render_desk, unanswered
from bot.storage import Store
from tests.conftest import Chat

ROOT = Path(__file__).resolve().parent.parent


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


def test_report_command_on_an_empty_database(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "bot", "report", "--db", str(tmp_path / "r.db")],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# Unanswered questions") and "none" in result.stdout
    assert "# Counsellors' desk (cases kept until the woman is deleted)\nnone" in result.stdout
