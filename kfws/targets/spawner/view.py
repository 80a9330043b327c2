"""The spawner target's changes as a reviewer reads them (pure): per group, each option added,
removed and replaced (old -> new), the default's change, a reorder; then each flag's change; and
the unified diff of the key (shown after it in text, collapsed in Markdown). The renderers get it
as a ChangeView through the target table.

Reads the structured diff the planner put in `details["diff"]` (kfws.targets.spawner.plan) and
trusts none of it: a saved plan is a file anyone can edit, so every field is type-checked and a
change without a usable diff falls back to its one-line reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kfws.plan.model import Change
from kfws.render.diff import text_diff
from kfws.targets.base import ChangeView
from kfws.targets.spawner.kinds import UPDATE

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


def view(change: Change, code: Callable[[str], str], text: Callable[[str], str]) -> ChangeView:
    if change.kind is not UPDATE:  # the restart
        mode = str(change.details.get("mode", "rollout"))
        return ChangeView(brief=change.reason, lines=(f"mode {code(mode)}",))
    key = str(change.details.get("key", "spawner_ui_config.yaml"))
    return ChangeView(
        brief=spawner_brief(change),
        title="Spawner",
        lists=tuple((n, tuple(items), g) for n, items, g in spawner_list(change, code, text)),
        diff=tuple(text_diff(change.before, change.after, key)),
        offers=tuple(offered(change)),
    )


def offered(change: Change) -> list[tuple[str, str | None]]:
    """(new option, the option it replaces or None) for each option the change adds. A saved
    plan is hostile: anything not of the planner's shape is skipped."""
    diff = change.details.get("diff")
    groups = diff.get("groups") if isinstance(diff, Mapping) else None
    seen: dict[str, str | None] = {}
    for g in groups.values() if isinstance(groups, Mapping) else ():
        if not isinstance(g, Mapping):
            continue
        for r in g.get("replaced") or []:
            if isinstance(r, Mapping) and "after" in r and "before" in r:
                seen.setdefault(str(r["after"]), str(r["before"]))
        seen.update({str(o): None for o in _strs(g.get("added")) if str(o) not in seen})
    return list(seen.items())
