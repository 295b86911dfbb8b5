"""`wegwijs report`: unanswered questions grouped by meaning, unhelpful answers, answers per topic."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.content import shared_embedder
from bot.report import answers_by_topic_and_language, feedback_counts, group, render, unanswered
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


def test_report_command_on_an_empty_database(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "bot", "report", "--db", str(tmp_path / "r.db")],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# Unanswered questions") and "none" in result.stdout
