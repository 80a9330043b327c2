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
            before.splitlines(),
            after.splitlines(),
            fromfile=f"a/{key}",
            tofile=f"b/{key}",
            n=context,
            lineterm="",
        )
    )
