"""What the bot would do with a question, as data: the contract of `wegwijs ask --json`."""

from __future__ import annotations

from typing import Any

from bot.config import Settings
from bot.content import Content


def explain(content: Content, settings: Settings, question: str, language: str | None = None) -> dict[str, Any]:
    """{"action", "entry", "topic", "score", "language", "alternatives"}: kept stable for acceptance tests."""
    detected = content.detector.detect(question)
    result: dict[str, Any] = {"action": "fallback", "entry": None, "topic": None, "score": 0.0,
                              "language": detected or language, "alternatives": []}
    if content.knowledge.is_emergency(question, settings.languages):
        entry = content.knowledge.emergency.entry if content.knowledge.emergency else None
        result.update(action="emergency", entry=entry, topic=entry.split("/")[0] if entry else None, score=1.0)
        return result
    decision = content.retriever.decide(question)
    result["score"] = round(decision.score, 4)
    result["alternatives"] = [candidate.entry for candidate in decision.candidates if candidate.entry != decision.entry][:3]
    if decision.action == "answer" and decision.entry and decision.entry.startswith("flow:"):
        flow = content.flows.get(decision.entry[5:])
        topic = flow.topic if flow and flow.topic else decision.entry[5:]
        result.update(action="flow", entry=None, topic=topic if content.knowledge.topic(topic) else None)
    elif decision.action == "answer":
        result.update(action="answer", entry=decision.entry, topic=decision.entry.split("/")[0] if decision.entry else None)
    elif decision.action == "suggest":
        result.update(action="suggest", alternatives=[candidate.entry for candidate in decision.candidates][:3])
    return result
