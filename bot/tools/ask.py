"""What the bot would do with a question, as data: the contract of `wegwijs ask --json`."""

from __future__ import annotations

from typing import Any

from bot.config import Settings
from bot.core import Content
from bot.flows import wanted_flow
from bot.knowledge import Decision, decide, detect


def explain(content: Content, settings: Settings, question: str, language: str | None = None) -> dict[str, Any]:
    """{"action", "entry", "topic", "score", "language", "alternatives", "emergency"}: kept stable for
    acceptance tests. "action": emergency, smalltalk (hi, thanks, who are you), flow, answer, suggest or
    fallback. "emergency" is the kind ("suicide", "violence", ...) when action is "emergency"."""
    detected = content.detector.detect(question, language)
    result: dict[str, Any] = {"action": "fallback", "entry": None, "topic": None, "score": 0.0,
                              "language": detected or language, "alternatives": [], "emergency": None}
    retriever = content.retriever
    evidence = retriever.evidence(question)
    signal = (evidence.emergency, evidence.emergency_kind) if evidence is not None else (0.0, None)
    found = detect(content.knowledge.emergency, question, signal, retriever.thresholds.emergency)
    if found is not None and content.knowledge.emergency is not None:
        entry = content.knowledge.emergency.kinds[found.kind].entry
        result.update(action="emergency", emergency=found.kind, entry=entry, topic=entry.split("/")[0], score=round(found.score, 4))
        return result
    talk = content.knowledge.smalltalk
    if talk.match(question) is not None:  # "hi", "merci", "who are you": a short reply, not a search
        result.update(action="smalltalk", score=1.0)
        return result
    if (asked := talk.strip(question)) != question:  # "hi, where can i learn dutch": the question is searched
        question, evidence = asked, retriever.evidence(asked)
    decision = decide(evidence, retriever.thresholds) if evidence is not None else Decision("fallback", None, 0.0)
    wanted = wanted_flow(content.intents, content.flows, decision, question, [code for code in (detected, language, "en") if code])
    if wanted is not None:
        decision = Decision("answer", f"flow:{wanted.id}", decision.score, decision.candidates)
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
