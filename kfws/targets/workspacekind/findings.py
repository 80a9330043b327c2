"""The WorkspaceKind target's drift (pure): a kind whose values differ from what the file declares
(a value missing, changed, or still there after the file dropped it), and whether the fields
kfws applied were changed by hand since (another field manager took them over)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kfws.drift import MATCHES, UNCHANGED, DriftKind, Finding, Judged
from kfws.plan.model import Plan
from kfws.targets.workspacekind.change import target
from kfws.targets.workspacekind.kinds import UPDATE
from kfws.targets.workspacekind.model import KindState
from kfws.targets.workspacekind.planner import Action, KindPlan, ValueChange


def judged(plan: Plan, state: Any) -> list[Judged]:
    """Every kind the workspace declares, each titled with its own name (passed ones too), with
    the findings of its change in the fresh plan."""
    changes = {str(c.details["workspaceKind"]): c.details for c in plan.changes if c.kind is UPDATE}
    out = []
    for kind in state.kinds:
        details = changes.get(kind.name)
        found = kind_findings(kind_plan(details), kind) if details is not None else []
        out.append(Judged(f"WorkspaceKind {kind.name}", (MATCHES, UNCHANGED), tuple(found)))
    return out


def kind_plan(details: Mapping[str, Any]) -> KindPlan:
    """A kind's plan as its change records it (the fresh plan's: drift never reads a saved one)."""
    changes = tuple(
        ValueChange(
            str(v["id"]),
            Action(v["action"]),
            int(v.get("usage") or 0),
            str(v.get("reason") or ""),
            tuple((str(f), b, a) for f, b, a in v.get("fields") or []),
        )
        for v in details.get("values") or []
    )
    return KindPlan(
        str(details["workspaceKind"]),
        changes,
        (),
        details.get("defaultAfter"),
        details.get("defaultBefore"),
    )


def kind_findings(kp: KindPlan, kind: KindState) -> list[Finding]:
    """One finding per value the plan would change (a hand edit of a field kfws applied names
    the field manager that made it), and the default."""
    subject = target(kind.name)
    findings = []
    for c in kp.changes:
        live = kind.value(c.id)
        hand = sorted(live.others) if live is not None and live.kfws_owned else []
        if c.action is Action.ADD:
            message = f"value {c.id!r} is declared in the file but not on the kind"
        elif c.action is Action.CHANGE:
            diffs = "; ".join(
                f"{f} is {b!r} on the kind, the file says {a!r}" for f, b, a in c.fields
            )
            message = f"value {c.id!r}: {diffs}"
        else:
            message = f"value {c.id!r} is no longer declared (plan: {c.action.value}, {c.reason})"
        if hand and c.action is Action.CHANGE:
            message += f" (changed by {', '.join(hand)} since kfws applied it)"
            findings.append(Finding(DriftKind.CHANGED_OUT_OF_BAND, subject, message))
        else:
            findings.append(Finding(DriftKind.NOT_AS_DECLARED, subject, message))
    if kp.default is not None and kp.default != kp.default_before:
        findings.append(
            Finding(
                DriftKind.NOT_AS_DECLARED,
                subject,
                f"the default is {kp.default_before!r} on the kind, the file says {kp.default!r}",
            )
        )
    return findings
