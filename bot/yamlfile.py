"""Reading a content YAML file: a mistake names the file and the line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.errors import ContentError

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when PyYAML has it: ~10 times faster


def load_yaml(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ContentError(str(path), mark.line + 1 if mark else None, f"is not valid YAML: {getattr(exc, 'problem', exc)}") from None
    except UnicodeDecodeError:
        raise ContentError(str(path), None, "is not UTF-8 text; save it as UTF-8") from None
