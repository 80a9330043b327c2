"""How a WorkspaceKind change reads in a plan (pure): one line per value with its action and
usage, the fields that change, and the default. The renderers sanitise every string."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

MARKS = {"add": "+", "change": "~", "retire": "↪", "remove": "-"}
WORDS = {"add": "add", "change": "change", "retire": "hide + redirect", "remove": "remove"}


def _short(field: str, value: Any) -> str:
    if field == "redirect":
        if not isinstance(value, Mapping):
            return "none"
        message = value.get("message")
        said = (
            f" ({message.get('level')}: {message.get('text')})"
            if isinstance(message, Mapping)
            else ""
        )
        return f"to {value.get('to')}{said}"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= 160 else text[:157] + "..."


def value_lines(details: Mapping[str, Any]) -> list[str]:
    lines: list[str] = []
    for v in details.get("values") or []:
        action = str(v.get("action"))
        usage = int(v.get("usage") or 0)
        used = f"in use by {usage}" if usage else "unused"
        lines.append(
            f"{MARKS.get(action, '?')} {v.get('id')}: {WORDS.get(action, action)} "
            f"[{used}] - {v.get('reason')}"
        )
        for f, before, after in v.get("fields") or []:
            if action == "add" and f == "hidden" and after is False:
                continue  # the default: nothing to read
            if action == "add":
                lines.append(f"    {f}: {_short(f, after)}")
            else:
                lines.append(f"    {f}: {_short(f, before)} -> {_short(f, after)}")
    before, after = details.get("defaultBefore"), details.get("defaultAfter")
    if after is not None and after != before:
        lines.append(f"default: {before} -> {after}")
    return lines


def offers(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[tuple[str, str | None]]:
    """(image a value now offers, the image that value offered before or None), for sizes."""
    old = {v.get("id"): (v.get("spec") or {}).get("image") for v in _values(before)}
    out = []
    for v in _values(after):
        image = (v.get("spec") or {}).get("image")
        if isinstance(image, str) and old.get(v.get("id")) != image:
            prev = old.get(v.get("id"))
            out.append((image, prev if isinstance(prev, str) else None))
    return out


def _values(side: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
    values = side.get("values") if isinstance(side, Mapping) else None
    return [v for v in values or [] if isinstance(v, Mapping)]
