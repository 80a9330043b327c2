"""The WorkspaceKind target's drift (pure): a kind whose values differ from what the file declares
(a value missing, changed, or still there after the file dropped it), and whether the fields
kfws applied were changed by hand since (another field manager took them over)."""

from __future__ import annotations

from collections.abc import Mapping

from kfws.drift import DriftKind, Finding
from kfws.errors import KfwsError
from kfws.targets.workspacekind.change import target
from kfws.targets.workspacekind.model import KindSpec, KindState
from kfws.targets.workspacekind.plan import Action, plan_kind


def kind_findings(decl: KindSpec, kind: KindState, refs: Mapping[str, str]) -> list[Finding]:
    subject = target(kind.name)
    try:
        kp = plan_kind(decl, kind, refs)
    except KfwsError as e:
        return [Finding(DriftKind.NOT_AS_DECLARED, subject, f"cannot be planned: {e.message}")]
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
