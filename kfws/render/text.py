"""Plan -> text for a terminal (pure). Terraform-like: a summary line, one line per change with
its reason, and the unified diff of the spawner YAML as it will be written.

Every field can hold outside text (a ConfigMap's lines, a saved plan's strings): each passes
through kfws.sanitize.one_line before colour is added, so none can drive the terminal."""

from __future__ import annotations

from kfws.output import paint
from kfws.plan.model import Change, ChangeKind, Plan
from kfws.render.diff import spawner_diff
from kfws.render.sizes import change_size, offered_sizes, size_words, why_lines
from kfws.render.spawner import spawner_brief, spawner_list
from kfws.sanitize import one_line

_SYMBOL = {
    ChangeKind.BUILD_IMAGE: ("+", "green"),
    ChangeKind.REBUILD_IMAGE: ("~", "yellow"),
    ChangeKind.PUSH_IMAGE: ("^", "cyan"),
    ChangeKind.CHECK_IMAGE: ("?", "cyan"),
    ChangeKind.UPDATE_SPAWNER: ("~", "yellow"),
    ChangeKind.RESTART_WEBAPP: ("↻", "cyan"),
}

_SUMMARY_WORDS = {
    ChangeKind.BUILD_IMAGE: "to build",
    ChangeKind.REBUILD_IMAGE: "to rebuild",
    ChangeKind.PUSH_IMAGE: "to push",
    ChangeKind.CHECK_IMAGE: "to check",
    ChangeKind.UPDATE_SPAWNER: "to change",
    ChangeKind.RESTART_WEBAPP: "to restart",
}


def summary_line(plan: Plan) -> str:
    if not plan.has_changes:
        return "No changes. The registry and the cluster match the workspace."
    parts = [f"{plan.count(k)} {_SUMMARY_WORDS[k]}" for k in ChangeKind if plan.count(k)]
    return "Plan: " + ", ".join(parts) + "."


def render_text(plan: Plan, *, colour: bool = False, stale: list[str] | None = None) -> str:
    lines: list[str] = []
    if stale:
        lines.append(
            paint(
                "WARNING: this saved plan does not match a fresh plan; applying it will be "
                "refused:",
                "red",
                enabled=colour,
            )
        )
        lines.extend(f"  {one_line(s)}" for s in stale)
        lines.append("")
    for warning in plan.warnings:
        lines.append(paint("warning: ", "yellow", enabled=colour) + one_line(warning))
    if plan.warnings:
        lines.append("")
    for change in plan.changes:
        lines.extend(_change_lines(change, colour))
    if plan.changes:
        lines.append("")
    lines.append(paint(summary_line(plan), "bold", enabled=colour))
    return "\n".join(lines) + "\n"


def _change_lines(change: Change, colour: bool) -> list[str]:
    symbol, hue = _SYMBOL[change.kind]
    target = one_line(change.target)
    head = f"  {paint(symbol, hue, enabled=colour)} {change.kind.value:<15} {target}"
    reason = spawner_brief(change) if change.kind is ChangeKind.UPDATE_SPAWNER else change.reason
    lines = [head, f"      {paint(one_line(reason), 'dim', enabled=colour)}"]
    if change.kind.is_image:
        lines.append(f"      inputs {one_line(str(change.details.get('input_digest', '')))}")
        size = change_size(change)
        if size is not None:
            lines.append(f"      size   {one_line(size)}")
        lines.extend(f"      why    {one_line(w)}" for w in why_lines(change))
    elif change.kind is ChangeKind.UPDATE_SPAWNER:
        for name, items, is_group in spawner_list(change, one_line, one_line):
            if is_group:
                lines.append(f"      {name}:")
                lines.extend(f"        {i}" for i in items)
            else:
                lines.extend(f"      {name}: {i}" for i in items)
        for ref, entry in offered_sizes(change):
            lines.append(f"      size of {one_line(ref)}: {one_line(size_words(entry))}")
        for d in spawner_diff(change):
            hue_d = "green" if d.startswith("+") else "red" if d.startswith("-") else "dim"
            lines.append("      " + paint(one_line(d), hue_d, enabled=colour))
    elif change.kind is ChangeKind.RESTART_WEBAPP:
        lines.append(f"      mode {one_line(str(change.details.get('mode', 'rollout')))}")
    elif change.kind is ChangeKind.CHECK_IMAGE:
        lines.append(f"      contract {one_line(', '.join(change.details.get('kinds', [])))}")
    return lines
