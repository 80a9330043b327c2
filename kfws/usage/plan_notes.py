"""What a plan's reader should know about the options it removes (pure): who still uses each."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from kfws.plan.model import Plan

if TYPE_CHECKING:  # only named in annotations: `kfws plan` calls removed_options() on every plan
    from kfws.usage.report import ImageUsage, UsageReport

MAX_NOTE = 900  # characters: a plan's warnings are bounded (schemas/plan.schema.json)


def removed_options(plan: Plan) -> list[str]:
    """Every image an update of the plan stops offering (removed, or replaced by a new reference
    of its repository), in plan order.
    Reads the structured diff a target's change carries; anything else there is ignored."""
    out: dict[str, None] = {}
    for change in plan.changes:
        diff = change.details.get("diff") if isinstance(change.details, dict) else None
        groups = diff.get("groups") if isinstance(diff, dict) else None
        for group in (groups or {}).values() if isinstance(groups, dict) else ():
            if not isinstance(group, dict):
                continue
            removed = group.get("removed")
            replaced = group.get("replaced")
            goes = [*(removed if isinstance(removed, list) else ())]
            goes += [r.get("before") for r in replaced or () if isinstance(r, dict)]
            for option in goes:
                if isinstance(option, str):
                    out[option] = None
    return list(out)


def used_by(i: ImageUsage) -> str:
    """ "still used by 12 notebooks in 5 namespaces (…); they keep running; …" """
    n, ns = len(i.uses), len(i.namespaces)
    shown = ", ".join(u.key for u in i.uses[:5]) + (", …" if n > 5 else "")
    return (
        f"still used by {n} notebook{'s' if n != 1 else ''} in {ns} namespace"
        f"{'s' if ns != 1 else ''} ({i.running} running, {i.stopped} stopped: {shown}); they "
        "keep running; restarts keep working while the tag exists"
    )


def usage_notes(removed: Iterable[str], report: UsageReport) -> list[str]:
    """One warning per removed option that notebooks use, or one saying usage was not seen."""
    removed = list(removed)
    if not removed:
        return []
    if not report.notebooks_visible:
        why = "; ".join(report.unseen)
        return [
            f"which notebooks use the {len(removed)} option(s) this plan removes was not seen: "
            f"{why}"[:MAX_NOTE]
        ]
    notes = []
    for option in removed:
        row = report.of(option)
        if row is not None and row.uses:
            notes.append(f"spawner option {option} goes: {used_by(row)}"[:MAX_NOTE])
    return notes
