"""Unified diffs of the spawner config, shared by the text and Markdown renderers."""

from __future__ import annotations

import difflib

from kfws.plan.model import Change


def spawner_diff(change: Change, *, context: int = 3) -> list[str]:
    before = change.before if isinstance(change.before, str) else ""
    after = change.after if isinstance(change.after, str) else ""
    key = str(change.details.get("key", "spawner_ui_config.yaml"))
    return list(
        difflib.unified_diff(
            _lines(before),
            _lines(after),
            fromfile=f"a/{key}",
            tofile=f"b/{key}",
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
