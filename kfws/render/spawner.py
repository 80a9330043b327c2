"""The spawner change as a reviewer reads it (pure): per group, each option added, removed and
replaced (old -> new), the default's change, a reorder; then each flag's change. Shared by the
text and Markdown renderers; the unified diff is shown after it (text) or collapsed (Markdown).

Reads the structured diff the planner put in `details["diff"]` (kfws.plan.spawner) and trusts
none of it: a saved plan is a file anyone can edit, so every field is type-checked and a change
without a usable diff falls back to its one-line reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kfws.plan.model import Change

Item = tuple[str, str, str | None, str | None]  # (verb, first, second, note)
# the names a diff may use (a saved plan naming anything else is not rendered from its diff)
_GROUPS = ("image", "imageGroupOne", "imageGroupTwo")
_FLAGS = ("allowCustomImage", "hideRegistry", "hideTag", "imagePullPolicy")


def _strs(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def show_value(value: object) -> str:
    """A flag's or default's value as YAML writes it; None (absent) as `unset`."""
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def spawner_items(change: Change) -> list[tuple[str, list[Item]]] | None:
    """[(group or flag name, items)] in plan order; None when the change has no usable diff.
    An item: ("replace", old, new, note), ("add", ref, None, None), ("remove", ref, None, why),
    ("default", old, new, None), ("reorder", "", None, None), ("set", old, new, note)."""
    diff = change.details.get("diff") if isinstance(change.details, Mapping) else None
    if not isinstance(diff, Mapping):
        return None
    groups = diff.get("groups")
    flags = diff.get("flags")
    if not isinstance(groups, Mapping) or not isinstance(flags, Mapping):
        return None
    out: list[tuple[str, list[Item]]] = []
    for key, g in groups.items():
        if key not in _GROUPS or not isinstance(g, Mapping):
            return None
        raw_why, raw_replaced = g.get("why"), g.get("replaced")
        why: Mapping[Any, Any] = raw_why if isinstance(raw_why, Mapping) else {}
        replaced: list[Any] = raw_replaced if isinstance(raw_replaced, list) else []
        items: list[Item] = []
        for r in replaced:
            if isinstance(r, Mapping):
                before = str(r.get("before"))
                note = why.get(before)
                items.append(("replace", before, str(r.get("after")), str(note) if note else None))
        items += [("add", o, None, None) for o in _strs(g.get("added"))]
        for o in _strs(g.get("removed")):
            note = why.get(o)
            items.append(("remove", o, None, str(note) if note else None))
        if g.get("reordered") is True:
            items.append(("reorder", "", None, None))
        d = g.get("default")
        if isinstance(d, Mapping):
            items.append(("default", show_value(d.get("before")), show_value(d.get("after")), None))
        out.append((str(key), items))
    if any(name not in _FLAGS for name in flags):
        return None
    for name, f in flags.items():
        if isinstance(f, Mapping):
            written = f.get("writtenAs")
            note = f"written as {written}" if isinstance(written, str) else None
            out.append(
                (
                    str(name),
                    [("set", show_value(f.get("before")), show_value(f.get("after")), note)],
                )
            )
    return out


def spawner_brief(change: Change) -> str:
    """One short line: `image: 1 replaced, 1 added, default changed; hideTag: false -> true`."""
    items = spawner_items(change)
    if items is None:
        return change.reason
    parts: list[str] = []
    for name, its in items:
        if its and its[0][0] == "set":
            _, old, new, _ = its[0]
            parts.append(f"{name}: {old} -> {new}")
            continue
        counts: dict[str, int] = {}
        for verb, *_ in its:
            counts[verb] = counts.get(verb, 0) + 1
        words = [
            f"{counts[v]} {w}"
            for v, w in (("replace", "replaced"), ("add", "added"), ("remove", "removed"))
            if counts.get(v)
        ]
        words += [
            w for v, w in (("reorder", "reordered"), ("default", "default changed")) if v in counts
        ]
        parts.append(f"{name}: {', '.join(words) or 'updated'}")
    return "; ".join(parts)


def spawner_list(
    change: Change, code: Callable[[str], str], text: Callable[[str], str]
) -> list[tuple[str, list[str], bool]]:
    """[(group or flag, lines, is a group)]: each line one item, references passed through
    `code` and notes through `text` (the caller's quoting and escaping: kfws.sanitize's
    one_line for a terminal, md_code / md_text for Markdown)."""
    items = spawner_items(change)
    if items is None:
        return []
    out: list[tuple[str, list[str], bool]] = []
    for name, its in items:
        lines: list[str] = []
        for verb, first, second, note in its:
            tail = f" ({text(note)})" if note else ""
            if verb == "replace":
                lines.append(f"replace {code(first)} -> {code(second or '')}{tail}")
            elif verb == "add":
                lines.append(f"add {code(first)}")
            elif verb == "remove":
                lines.append(f"remove {code(first)}{tail}")
            elif verb == "reorder":
                lines.append("reorder the options")
            elif verb == "default":
                lines.append(f"default {code(first)} -> {code(second or '')}")
            else:
                lines.append(f"{code(first)} -> {code(second or '')}{tail}")
        out.append((name, lines, not (its and its[0][0] == "set")))
    return out
