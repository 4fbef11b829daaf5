"""Refresh a generated block (between ``<!-- NAME:begin -->`` and ``<!-- NAME:end -->``) in a Markdown file."""

from __future__ import annotations

from pathlib import Path


def refresh_block(path: Path, name: str, text: str) -> bool:
    """Put ``text`` between the ``name`` markers of ``path``; False when the file has no such markers."""
    content = path.read_text(encoding="utf-8")
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    if begin not in content or end not in content:
        return False
    head, rest = content.split(begin, 1)
    path.write_text(head + begin + "\n" + text + "\n" + end + rest.split(end, 1)[1], encoding="utf-8")
    return True
