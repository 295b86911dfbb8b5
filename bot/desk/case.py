"""A case as both sides of the desk name it: the key of her state, where its messages go on the desk,
the title of its topic; and the content the desk reads (core's Content has all of it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from bot.desk.replies import Replies
from bot.flows import Flow
from bot.knowledge import KnowledgeBase
from bot.language import Catalogs

CASE = "case"  # her state: {"id", "status" (waiting | active), "counsellor"}


class DeskContent(Protocol):
    """What the desk reads of the content: catalogs, knowledge topics, flow titles and canned replies."""

    @property
    def catalogs(self) -> Catalogs: ...

    @property
    def knowledge(self) -> KnowledgeBase: ...

    @property
    def flows(self) -> Mapping[str, Flow]: ...

    @property
    def replies(self) -> Replies: ...


def desk_recipient(case_id: int) -> str:
    return f"case:{case_id}"


def topic_title(content: DeskContent, language: str, topic: str | None) -> str:
    """A knowledge topic's or a flow's title in the desk's language."""
    found = content.knowledge.topic(topic or "")
    if found is not None:
        return next((found.titles[code] for code in content.catalogs.chain(language) if code in found.titles), found.id)
    flow = content.flows.get(topic or "")
    if flow is not None and flow.title:
        return content.catalogs.translate(language, flow.title).text
    return topic or content.catalogs.get(language, "desk-no-topic").text
