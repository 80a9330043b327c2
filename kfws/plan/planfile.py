"""Saved plans: a plan as canonical JSON (stable key order, no timestamps) and back.

The same inputs give byte-identical files, so a reviewer can diff two plans. Reading checks the
format version before anything else: a plan written by another format is refused, not guessed at.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kfws.errors import PlanError
from kfws.plan.model import PLAN_FORMAT_VERSION, Change, ChangeKind, Observation, Plan


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    return {
        "formatVersion": plan.format_version,
        "workspace": {"path": plan.spec_path, "digest": plan.spec_digest},
        "summary": {kind.value: plan.count(kind) for kind in ChangeKind},
        "changes": [
            {
                "kind": c.kind.value,
                "target": c.target,
                "reason": c.reason,
                "before": c.before,
                "after": c.after,
                "details": dict(c.details),
            }
            for c in plan.changes
        ],
        "fingerprint": [{"key": o.key, "value": o.value} for o in plan.fingerprint],
        "warnings": list(plan.warnings),
    }


def plan_to_json(plan: Plan) -> str:
    return json.dumps(plan_to_dict(plan), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def plan_from_dict(data: Any, *, source: str) -> Plan:
    if not isinstance(data, dict):
        raise PlanError("not a kfws plan (expected a JSON object)", where=source)
    version = data.get("formatVersion")
    if version != PLAN_FORMAT_VERSION:
        raise PlanError(
            f"plan format version {version!r} is not the one this kfws reads "
            f"({PLAN_FORMAT_VERSION})",
            where=source,
            hint="re-run `kfws plan --out` with this version of kfws",
        )
    try:
        return Plan(
            spec_path=str(data["workspace"]["path"]),
            spec_digest=str(data["workspace"]["digest"]),
            fingerprint=tuple(
                Observation(str(o["key"]), None if o["value"] is None else str(o["value"]))
                for o in data["fingerprint"]
            ),
            changes=tuple(
                Change(
                    kind=ChangeKind(c["kind"]),
                    target=str(c["target"]),
                    reason=str(c["reason"]),
                    before=c.get("before"),
                    after=c.get("after"),
                    details=dict(c.get("details") or {}),
                )
                for c in data["changes"]
            ),
            warnings=tuple(str(w) for w in data.get("warnings", [])),
            format_version=version,
        )
    except (KeyError, TypeError, ValueError) as e:
        raise PlanError(
            f"malformed plan file ({type(e).__name__}: {e})",
            where=source,
            hint="plans are written by `kfws plan --out FILE`; don't edit them by hand",
        ) from e


def write_plan(plan: Plan, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(plan_to_json(plan), encoding="utf-8")
    tmp.replace(path)  # never leave a half-written plan behind


def read_plan(path: Path) -> Plan:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise PlanError(f"cannot read the plan: {e.strerror}", where=str(path)) from e
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise PlanError(f"not JSON: {e.msg} at line {e.lineno}", where=str(path)) from e
    return plan_from_dict(data, source=str(path))
