"""A kind's plan as plan data (pure): the JSON-able parts of its one Change per kind, and the
fingerprint observation apply re-checks. A saved plan is read back as untrusted JSON: apply
only ever writes what a fresh plan computes, so nothing here is read back to be executed."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from kfws.targets.workspacekind.model import KindState
from kfws.targets.workspacekind.planner import Action, KindPlan

TARGET_PREFIX = "workspacekind/"
OBSERVATION_PREFIX = "workspacekind:"


def target(name: str) -> str:
    return TARGET_PREFIX + name


def state_hash(kind: KindState) -> str:
    """What the plan depends on besides the resourceVersion: values, usage, managers."""
    canon = [[v.value.to_api(), v.usage, sorted(v.managers)] for v in kind.values] + [
        kind.default,
        sorted(kind.default_managers),
    ]
    return "sha256:" + hashlib.sha256(json.dumps(canon, sort_keys=True).encode()).hexdigest()


def observation(kind: KindState) -> tuple[str, str]:
    """(key, value) of the fingerprint: the kind's resourceVersion (any write or status update
    moves it) and the hash of what the plan read."""
    return OBSERVATION_PREFIX + kind.name, f"rv={kind.resource_version} {state_hash(kind)}"


def summary(kp: KindPlan) -> str:
    counts: dict[Action, int] = {}
    for c in kp.changes:
        counts[c.action] = counts.get(c.action, 0) + 1
    words = {
        Action.ADD: "to add",
        Action.CHANGE: "to change",
        Action.RETIRE: "to hide and redirect",
        Action.REMOVE: "to remove",
    }
    parts = [f"{n} {words[a]}" for a, n in counts.items()]
    if kp.default is not None and kp.default != kp.default_before:
        parts.append(f"default {kp.default_before} -> {kp.default}")
    return f"WorkspaceKind {kp.name}: " + ", ".join(parts)


def parts(kp: KindPlan, kind: KindState) -> dict[str, Any]:
    """before/after/details of the kind's change: `after` is what kfws applies (its values and
    the default it writes), `before` the same ids as they are now."""
    after_ids = {v.id for v in kp.owned} | {c.id for c in kp.changes}
    before_values = [v.value.to_api() for v in kind.values if v.value.id in after_ids]
    return {
        "target": target(kp.name),
        "reason": summary(kp),
        "before": {"default": kind.default, "values": before_values},
        "after": {"default": kp.default, "values": [v.to_api() for v in kp.owned]},
        "details": {
            "workspaceKind": kp.name,
            "resourceVersion": kind.resource_version,
            "defaultBefore": kp.default_before,
            "defaultAfter": kp.default,
            "values": [
                {
                    "id": c.id,
                    "action": c.action.value,
                    "usage": c.usage,
                    "reason": c.reason,
                    "fields": [[f, b, a] for f, b, a in c.fields],
                }
                for c in kp.changes
            ],
        },
    }
