"""A Babel extractor for flows/*.yaml: every prompt and button label, with where it appears.

Registered as the Babel extraction method ``wegwijs_flows`` (see babel.cfg), so
``pybabel extract -F babel.cfg`` and ``wegwijs i18n`` both find flow sentences."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

import yaml

# Keys whose string value a woman reads. Labels are buttons (20 characters on WhatsApp).
TEXT_KEYS = frozenset({"ask", "say", "answer", "reask", "confirm", "prompt", "text"})
LABEL_KEYS = frozenset({"label", "title"})  # title: the flow's button in its topic menu
BUTTON_NOTE = "button label: at most 20 characters (WhatsApp)"


def extract(fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: dict[str, Any]) -> Iterator[tuple[int, None, str, list[str]]]:
    """Yield (line, None, message, translator comments) for each user-facing string in one flow file."""
    try:
        root = yaml.compose(fileobj.read().decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError):
        return  # `wegwijs check` reports broken flow files with their line; extraction skips them
    if root is None:
        return
    flow = str(options.get("flow_id") or _flow_id(fileobj))
    yield from _walk(root, flow, step=None)


def _walk(node: yaml.Node, flow: str, step: str | None) -> Iterator[tuple[int, None, str, list[str]]]:
    if isinstance(node, yaml.MappingNode):
        step = _scalar(node, "id") or step
        for key_node, value in node.value:
            key = key_node.value
            if isinstance(value, yaml.ScalarNode) and value.value.strip() and key in TEXT_KEYS | LABEL_KEYS:
                where = f"flow {flow}, step {step}" if step else f"flow {flow}"
                comments = [f"{where}: {key}"] + ([BUTTON_NOTE] if key in LABEL_KEYS else [])
                yield value.start_mark.line + 1, None, value.value, comments
            else:
                yield from _walk(value, flow, step)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _walk(item, flow, step)


def _scalar(node: yaml.MappingNode, key: str) -> str | None:
    for key_node, value in node.value:
        if key_node.value == key and isinstance(value, yaml.ScalarNode):
            return str(value.value)
    return None


def _flow_id(fileobj: IO[bytes]) -> str:
    name = str(getattr(fileobj, "name", "flow"))
    return name.rsplit("/", 1)[-1].removesuffix(".yaml").removesuffix(".yml")
