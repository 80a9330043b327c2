"""Plan -> Markdown for a pull-request comment (pure): a summary table, then each change in a
collapsible block with a fenced diff. Long diffs are capped so the comment stays postable.

Every field can hold outside text (a ConfigMap's lines, a saved plan's strings): it goes through
kfws.sanitize (md_text, md_code, md_fence, html_text), so none can open raw HTML, a link or a
mention trap, or close its code span or fence early."""

from __future__ import annotations

from kfws.plan.model import Change, Plan
from kfws.render.sizes import change_size, offered_sizes, size_words, why_lines
from kfws.render.text import summary_line
from kfws.sanitize import html_text, md_code, md_fence, md_text
from kfws.targets.base import ChangeView
from kfws.targets.dispatch import view

MAX_DIFF_LINES = 200  # GitHub comments top out at 65,536 characters; stay well below


def render_markdown(plan: Plan, *, stale: list[str] | None = None) -> str:
    lines = ["### kfws plan", ""]
    if stale:
        lines.append("> [!WARNING]")
        lines.append(
            "> This saved plan **does not match a fresh plan**: applying it will be refused."
        )
        lines.extend(f"> - {md_text(s)}" for s in stale)
        lines.append("")
    lines.append(f"**{summary_line(plan)}**")
    lines.append("")
    for warning in plan.warnings:
        lines.append(f"- :warning: {md_text(warning)}")
    if plan.warnings:
        lines.append("")
    if plan.changes:
        lines += ["| action | target | size | reason |", "|---|---|---|---|"]
        lines += [
            f"| {c.kind.value} | {md_code(c.target, in_table=True)} | {_size_cell(c)} "
            f"| {md_text(_cell(c))} |"
            for c in plan.changes
        ]
        lines.append("")
        offered = [row for c in plan.changes for row in offered_sizes(c)]
        if offered:
            lines += ["| offered image | size |", "|---|---|"]
            lines += [
                f"| {md_code(ref, in_table=True)} | {md_text(size_words(entry))} |"
                for ref, entry in offered
            ]
            lines.append("")
    for change in plan.changes:
        lines.extend(_details(change))
    lines.append(
        f"<sub>workspace {md_code(plan.spec_path)} {md_text(plan.spec_digest[:19])}…</sub>"
    )
    return "\n".join(lines) + "\n"


def _size_cell(change: Change) -> str:
    size = change_size(change)
    return md_text(size) if size is not None else ""


def _cell(change: Change) -> str:
    """A cluster change's cell is short (its target's brief); its lists follow the table."""
    shown = view(change)
    return shown.brief if shown is not None else change.reason


def _lists(change: Change, shown: ChangeView) -> list[str]:
    if not shown.lists:
        return []
    lines = [f"**{shown.title}** {md_code(change.target)}:", ""]
    for name, items, is_group in shown.lists:
        if is_group:
            lines.append(f"- **{name}**")
            lines.extend(f"  - {i}" for i in items)
        else:
            lines.extend(f"- **{name}**: {i}" for i in items)
    return [*lines, ""]


def _facts(change: Change) -> list[str]:
    """A view's lines in a fenced block, one per line as the terminal shows them: as plain
    Markdown they would run together into one paragraph, and their own layout (a value's marks
    `+`/`-`, its fields indented under it) would read as list markers and code blocks. The
    block takes them raw (not through md_code/md_text); md_fence neutralises them."""
    raw = view(change)
    return md_fence(list(raw.lines)) if raw is not None and raw.lines else []


def _details(change: Change) -> list[str]:
    shown = view(change, md_code, md_text)
    listed: list[str] = []
    if shown is not None:  # a cluster target's change, as the target shows it
        body = _facts(change)
        listed = _lists(change, shown)
        if shown.diff:
            diff = list(shown.diff)
            kept = diff[:MAX_DIFF_LINES]
            body += md_fence(kept, "diff")
            if len(diff) > len(kept):
                body.append(
                    f"_{len(diff) - len(kept)} more diff lines not shown; "
                    "run `kfws show` on the saved plan for all of them._"
                )
    elif change.kind.is_image:
        body = [f"inputs {md_code(str(change.details.get('input_digest', '')))}"]
        why = why_lines(change)
        if why:
            body += ["", "Why:", *(f"- {md_text(w)}" for w in why)]
    else:  # ChangeKind.CHECK_IMAGE
        body = [f"contract {md_code(', '.join(change.details.get('kinds', [])))}"]
    return [
        *listed,
        f"<details><summary>{change.kind.value} <code>{html_text(change.target)}</code></summary>",
        "",
        *body,
        "",
        "</details>",
        "",
    ]
