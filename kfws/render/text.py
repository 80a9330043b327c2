"""Plan -> text for a terminal (pure). Terraform-like: a summary line, one line per change with
its reason, and for a cluster target's change what its target shows (kfws.targets: the lists,
the unified diff of what will be written).

Every field can hold outside text (a ConfigMap's lines, a saved plan's strings): each passes
through kfws.sanitize.one_line before colour is added, so none can drive the terminal."""

from __future__ import annotations

from kfws.output import paint
from kfws.plan.model import Change, ChangeKind, ClusterKind, Plan
from kfws.render.sizes import change_size, offered_sizes, size_words, why_lines
from kfws.sanitize import one_line
from kfws.targets.dispatch import all_kinds, view

_SYMBOL = {
    ChangeKind.BUILD_IMAGE: ("+", "green"),
    ChangeKind.REBUILD_IMAGE: ("~", "yellow"),
    ChangeKind.PUSH_IMAGE: ("^", "cyan"),
    ChangeKind.CHECK_IMAGE: ("?", "cyan"),
}

_SUMMARY_WORDS = {
    ChangeKind.BUILD_IMAGE: "to build",
    ChangeKind.REBUILD_IMAGE: "to rebuild",
    ChangeKind.PUSH_IMAGE: "to push",
    ChangeKind.CHECK_IMAGE: "to check",
}


def summary_line(plan: Plan) -> str:
    if not plan.has_changes:
        return "No changes. The registry and the cluster match the workspace."
    parts = [f"{plan.count(k)} {_summary_words(k)}" for k in all_kinds() if plan.count(k)]
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


def _summary_words(kind: ChangeKind | ClusterKind) -> str:
    return kind.summary if isinstance(kind, ClusterKind) else _SUMMARY_WORDS[kind]


def _change_lines(change: Change, colour: bool) -> list[str]:
    kind = change.kind
    symbol, hue = (kind.symbol, kind.colour) if isinstance(kind, ClusterKind) else _SYMBOL[kind]
    target = one_line(change.target)
    head = f"  {paint(symbol, hue, enabled=colour)} {kind.value:<15} {target}"
    shown = view(change, one_line, one_line)
    reason = shown.brief if shown is not None else change.reason
    lines = [head, f"      {paint(one_line(reason), 'dim', enabled=colour)}"]
    if shown is not None:  # a cluster target's change, as the target shows it
        for name, items, is_group in shown.lists:
            if is_group:
                lines.append(f"      {name}:")
                lines.extend(f"        {i}" for i in items)
            else:
                lines.extend(f"      {name}: {i}" for i in items)
        lines.extend(f"      {line}" for line in shown.lines)
        for ref, entry in offered_sizes(change):
            lines.append(f"      size of {one_line(ref)}: {one_line(size_words(entry))}")
        for d in shown.diff:
            hue_d = "green" if d.startswith("+") else "red" if d.startswith("-") else "dim"
            lines.append("      " + paint(one_line(d), hue_d, enabled=colour))
    elif change.kind.is_image:
        lines.append(f"      inputs {one_line(str(change.details.get('input_digest', '')))}")
        size = change_size(change)
        if size is not None:
            lines.append(f"      size   {one_line(size)}")
        lines.extend(f"      why    {one_line(w)}" for w in why_lines(change))
    elif change.kind is ChangeKind.CHECK_IMAGE:
        lines.append(f"      contract {one_line(', '.join(change.details.get('kinds', [])))}")
    return lines
