"""Long Markdown cut into parts a channel can send: at paragraphs, then lines, then spaces, measured once rendered."""

from __future__ import annotations

from collections.abc import Callable


def split_rendered(text: str, limit: int, render: Callable[[str], str], chunk: int) -> list[str]:
    """Parts of ``text`` of at most ``limit`` characters once ``render``ed; bold or links are never cut in half at a
    paragraph. A single word longer than the limit is cut into pieces of ``chunk`` characters."""
    if len(render(text)) <= limit:
        return [text]
    for separator in ("\n\n", "\n", " "):
        pieces = text.split(separator)
        if len(pieces) > 1:
            break
    else:
        return [text[i:i + chunk] for i in range(0, len(text), chunk)]
    parts: list[str] = []
    current = ""
    for piece in pieces:
        candidate = f"{current}{separator}{piece}" if current else piece
        if len(render(candidate)) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        if len(render(piece)) > limit:
            parts.extend(split_rendered(piece, limit, render, chunk))
            current = ""
        else:
            current = piece
    if current:
        parts.append(current)
    return parts
