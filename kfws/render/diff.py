"""Unified diffs of a text a cluster change writes, shared by the targets' views."""

from __future__ import annotations

import difflib


def text_diff(before: object, after: object, name: str, *, context: int = 3) -> list[str]:
    """before -> after (anything but a string counts as empty), as `a/NAME` -> `b/NAME`."""
    return list(
        difflib.unified_diff(
            _lines(before if isinstance(before, str) else ""),
            _lines(after if isinstance(after, str) else ""),
            fromfile=f"a/{name}",
            tofile=f"b/{name}",
            n=context,
            lineterm="",
        )
    )


def _lines(text: str) -> list[str]:
    """Lines split on "\\n" only. str.splitlines also breaks on \\r, \\x85, \\u2028..., which
    would hide those characters as line breaks; this way they stay in their line and the
    renderers show them escaped, so a reviewer sees them."""
    lines = text.split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines
