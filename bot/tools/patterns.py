"""What the emergency patterns of knowledge/_emergency.yaml find in messages: ``python -m bot.tools.patterns``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.errors import ContentError
from bot.knowledge import load_rules


def main(argv: list[str] | None = None) -> int:
    """python -m bot.tools.patterns [--file knowledge/_emergency.yaml] TEXT...: what the patterns find."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--file", type=Path, default=Path("knowledge/_emergency.yaml"))
    parser.add_argument("texts", nargs="*", help="messages to try (default: one per line on stdin)")
    args = parser.parse_args(argv)
    try:
        rules = load_rules(args.file)
    except ContentError as error:
        print(error)
        return 2
    for text in args.texts or [line.rstrip("\n") for line in sys.stdin if line.strip()]:
        found = rules.find(text)
        print(("EMERGENCY " + ", ".join(f"{m.kind} [{m.language}: {m.pattern} <- {m.words}]" for m in found)) if found else "calm     ", "|", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
