"""`wegwijs report`: what women asked that the bot could not answer, how answers were rated, and the desk's cases."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from bot.knowledge import Embedder
from bot.language import normalise
from bot.storage import ACTIVE, CLOSED, OPEN, WAITING, Feedback, MessageLog, Store, Unanswered, User, tallies

SAME_QUESTION = 0.92  # cosine above which two unanswered questions count as one


@dataclass(frozen=True)
class Question:
    text: str
    language: str
    created_at: datetime
    candidates: list[tuple[str, float]]


@dataclass
class Group:
    questions: list[Question] = field(default_factory=list)

    @property
    def example(self) -> str:
        return self.questions[0].text

    @property
    def languages(self) -> Counter[str]:
        return Counter(question.language for question in self.questions)


async def unanswered(store: Store) -> list[Question]:
    async with store.engine.connect() as connection:
        rows = (await connection.execute(select(Unanswered).order_by(Unanswered.id))).all()
    return [Question(row.text, row.language, row.created_at, [tuple(c) for c in json.loads(row.candidates)]) for row in rows]


async def feedback_counts(store: Store) -> dict[str, tuple[int, int]]:
    """Per entry: (helpful, not helpful)."""
    query = select(Feedback.entry, Feedback.helpful, func.count()).group_by(Feedback.entry, Feedback.helpful)
    async with store.engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    counts: dict[str, list[int]] = {}
    for entry, helpful, count in rows:
        counts.setdefault(entry, [0, 0])[0 if helpful else 1] += count
    return {entry: (up, down) for entry, (up, down) in counts.items()}


async def answers_by_topic_and_language(store: Store) -> Counter[tuple[str, str]]:
    """Answers in the message log, and those of women deleted since (/forget, retention) from the tallies."""
    query = (
        select(MessageLog.key, User.language, func.count())
        .join(User, User.id == MessageLog.user_id)
        .where(MessageLog.direction == "out", MessageLog.key.like(f"{tallies.ENTRY_KEY}%"))
        .group_by(MessageLog.key, User.language)
    )
    async with store.engine.connect() as connection:
        rows = [(key.removeprefix(tallies.ENTRY_KEY), language, count) for key, language, count in await connection.execute(query)]
        rows += await tallies.read(connection, tallies.ANSWER)
    counts: Counter[tuple[str, str]] = Counter()
    for entry, language, count in rows:
        counts[(entry.split("/")[0], language or tallies.UNKNOWN)] += count
    return counts


@dataclass(frozen=True)
class DeskSummary:
    by_status: Counter[str]
    by_trigger: Counter[str]
    by_language: Counter[str]
    minutes_to_take: list[float]  # for every case a counsellor took: from her request to Take over

    @property
    def median_minutes(self) -> float | None:
        ordered = sorted(self.minutes_to_take)
        return ordered[len(ordered) // 2] if ordered else None


async def desk_summary(store: Store) -> DeskSummary:
    """The cases stored, and those deleted with their women since (counted as closed, from the tallies)."""
    cases = await store.list_cases((OPEN, WAITING, ACTIVE, CLOSED))
    summary = DeskSummary(Counter(c.status for c in cases), Counter(c.trigger for c in cases), Counter(c.language for c in cases),
                          [(c.taken_at.replace(tzinfo=c.opened_at.tzinfo) - c.opened_at).total_seconds() / 60 for c in cases if c.taken_at])
    async with store.engine.connect() as connection:
        for trigger, language, count in await tallies.read(connection, tallies.CASE):
            summary.by_status[CLOSED] += count
            summary.by_trigger[trigger] += count
            summary.by_language[language] += count
        for minutes, _language, count in await tallies.read(connection, tallies.CASE_TAKEN):
            summary.minutes_to_take.extend([float(minutes)] * count)
    return summary


def render_desk(summary: DeskSummary) -> str:
    lines = ["\n# Counsellors' desk (a deleted woman's cases are still counted, as closed)"]
    if not summary.by_status:
        return "\n".join([*lines, "none"])
    lines.append("now:        " + ", ".join(f"{status} {summary.by_status[status]}" for status in (OPEN, WAITING, ACTIVE, CLOSED)))
    lines.append("started by: " + ", ".join(f"{trigger} {n}" for trigger, n in summary.by_trigger.most_common()))
    lines.append("languages:  " + ", ".join(f"{language} {n}" for language, n in summary.by_language.most_common()))
    median = summary.median_minutes
    lines.append(f"taken over: {len(summary.minutes_to_take)}, median {median:.0f} min after she asked" if median is not None else "taken over: 0")
    return "\n".join(lines)


def group(questions: list[Question], embedder: Embedder | None) -> list[Group]:
    """Questions that mean the same, together, largest group first."""
    groups: list[Group] = []
    if embedder is not None and questions:
        vectors = embedder.queries([question.text for question in questions])
        heads: list[int] = []
        for index, question in enumerate(questions):
            match = next((g for g, head in enumerate(heads) if float(vectors[head] @ vectors[index]) >= SAME_QUESTION), None)
            if match is None:
                heads.append(index)
                groups.append(Group([question]))
            else:
                groups[match].questions.append(question)
    else:
        keys: list[frozenset[str]] = []
        for question in questions:
            words = frozenset(normalise(question.text).split())
            match = next((g for g, key in enumerate(keys) if len(words & key) / max(1, len(words | key)) >= 0.5), None)
            if match is None:
                keys.append(words)
                groups.append(Group([question]))
            else:
                groups[match].questions.append(question)
    return sorted(groups, key=lambda g: -len(g.questions))


def render(groups: list[Group], feedback: dict[str, tuple[int, int]], answers: Counter[tuple[str, str]]) -> str:
    lines = ["# Unanswered questions (grouped by meaning, most asked first)"]
    if not groups:
        lines.append("none")
    for item in groups:
        dates = sorted(question.created_at for question in item.questions)
        languages = ", ".join(f"{lang} {n}" for lang, n in item.languages.most_common())
        best = item.questions[0].candidates[0][0] if item.questions[0].candidates else "-"
        lines.append(f"{len(item.questions):>4}x  \"{item.example}\"  [{languages}]  {dates[0]:%Y-%m-%d}..{dates[-1]:%Y-%m-%d}  closest: {best}")
        for other in item.questions[1:4]:
            lines.append(f"        also: \"{other.text}\" ({other.language})")
    lines.append("\n# Answers marked not helpful")
    rated = sorted(((down, up, entry) for entry, (up, down) in feedback.items() if down), reverse=True)
    lines.extend(f"{down:>4} not helpful, {up} helpful  {entry}" for down, up, entry in rated) if rated else lines.append("none")
    lines.append("\n# Answers given per topic and language")
    topics = sorted({topic for topic, _ in answers})
    languages = sorted({language for _, language in answers})
    if not topics:
        lines.append("none")
    else:
        lines.append(f"{'topic':<16}" + "".join(f"{lang:>6}" for lang in languages))
        for topic in topics:
            lines.append(f"{topic:<16}" + "".join(f"{answers[(topic, lang)]:>6}" for lang in languages))
    return "\n".join(lines)
