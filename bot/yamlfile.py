"""Reading a content YAML file: a mistake names the file and the line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.contentfiles import read_text
from bot.errors import ContentError

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when PyYAML has it: ~10 times faster


class BadValue(yaml.constructor.ConstructorError):
    """A value YAML recognises but cannot build, such as the date 2027-02-30."""


class ContentLoader(LOADER):  # type: ignore[misc, valid-type]
    def construct_yaml_timestamp(self, node: yaml.Node) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:
            raise BadValue(None, None, f"'{node.value}' is not a real date ({exc}): write it as YYYY-MM-DD, e.g. 2027-06-01",
                           node.start_mark) from None


ContentLoader.add_constructor("tag:yaml.org,2002:timestamp", ContentLoader.construct_yaml_timestamp)


def load_yaml(path: Path) -> Any:
    return parse_yaml(read_text(path), path)


def parse_yaml(text: str, path: Path, first_line: int = 1, what: str = "is not valid YAML") -> Any:
    """``text`` read from ``path`` (where it starts on line ``first_line``) as YAML."""
    try:
        return yaml.load(text, Loader=ContentLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        last = max(len(text.splitlines()) - 1, 0)  # libyaml puts "unexpected end" on the line after the last one
        line = min(mark.line, last) + first_line if mark else None
        if isinstance(exc, BadValue):
            raise ContentError(str(path), line, str(exc.problem)) from None
        raise ContentError(str(path), line, f"{what}: {getattr(exc, 'problem', exc)}") from None
