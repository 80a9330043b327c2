"""Saved plans: a plan as canonical JSON (stable key order, no timestamps) and back.

The same inputs give byte-identical files, so a reviewer can diff two plans. The workspace path
is recorded relative to the plan file, so `kfws show/apply PLAN` work from any directory.

A plan file is untrusted input (it travels between CI runs as an artifact): reading it accepts
only a regular file of bounded size, valid UTF-8, JSON of bounded nesting without huge numbers,
that validates against schemas/plan.schema.json (closed objects, bounded strings and lists) and
whose summary agrees with its changes. Anything else is a PlanError (exit 1), never a crash.
Passing these checks makes a plan well-formed, not trusted: apply still compares it with a fresh
plan (kfws.plan.compare).
"""

from __future__ import annotations

import json
import os
import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from kfws.errors import PlanError
from kfws.plan.model import PLAN_FORMAT_VERSION, Change, Kind, Observation, Plan
from kfws.safe_read import UnsafeFileError, read_bounded
from kfws.sanitize import json_text
from kfws.targets.dispatch import all_kinds, kind_named

# Two copies of a 1 MiB ConfigMap (before, after) JSON-escaped, plus thousands of images.
MAX_PLAN_BYTES = 16 << 20
MAX_DEPTH = 32  # a real plan nests 7 deep
MAX_INT_DIGITS = 19  # int64; Python would otherwise parse (slowly) or refuse 4,300+ digits
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")
REWRITE_HINT = "plans are written by `kfws plan --out FILE`; make a new one, don't edit it"


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    return {
        "formatVersion": plan.format_version,
        "workspace": {"path": plan.spec_path, "digest": plan.spec_digest},
        "summary": {kind.value: plan.count(kind) for kind in all_kinds()},
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
    # json_text: bidi overrides and other invisible characters from a ConfigMap become \\u
    # escapes (the same JSON), so neither a terminal nor a code review hides them
    text = json.dumps(plan_to_dict(plan), indent=2, sort_keys=True, ensure_ascii=False)
    return json_text(text) + "\n"


def _kind(value: Any) -> Kind:
    """An image kind or a registered target's kind (kfws.targets.dispatch); else ValueError."""
    kind = kind_named(str(value))
    if kind is None:
        raise ValueError(f"unknown change kind {str(value)[:40]!r}")
    return kind


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
                    kind=_kind(c["kind"]),
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
            f"malformed plan file ({type(e).__name__})", where=source, hint=REWRITE_HINT
        ) from e


def write_plan(plan: Plan, path: Path) -> None:
    """Writes `plan` to `path`, its workspace path made relative to the plan's folder. Only a
    regular file (or a new one): the write renames a temporary file over `path`, which must never
    replace a device or a link like /dev/stdout."""
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise PlanError(
            "--out must name a regular file (it is replaced as a whole)",
            where=str(path),
            hint="to print the plan as JSON, use `--format json` instead",
        )
    workspace = os.path.relpath(os.path.abspath(plan.spec_path), os.path.abspath(path.parent))
    recorded = Plan(
        spec_path=Path(workspace).as_posix(),
        spec_digest=plan.spec_digest,
        fingerprint=plan.fingerprint,
        changes=plan.changes,
        warnings=plan.warnings,
        format_version=plan.format_version,
    )
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(plan_to_json(recorded), encoding="utf-8")
        tmp.replace(path)  # never leave a half-written plan behind
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise PlanError(
            f"cannot write the plan: {e.strerror}",
            where=str(path),
            hint="choose a writable path for --out",
        ) from e


def workspace_path(plan: Plan, plan_path: Path) -> Path:
    """The workspace file a saved plan was made from, as a path usable from here."""
    return plan_path.parent / plan.spec_path


def read_plan(path: Path) -> Plan:
    where = str(path)
    try:
        raw = read_bounded(path, limit=MAX_PLAN_BYTES)
    except UnsafeFileError as e:
        raise PlanError(
            f"cannot read the plan: {e.reason}",
            where=where,
            hint="give the path of a plan saved by `kfws plan --out FILE`",
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise PlanError(
            f"not UTF-8 (byte {e.start}): not a kfws plan", where=where, hint=REWRITE_HINT
        ) from None
    data = parse_json(text, where=where)
    check_schema(data, where=where)
    plan = plan_from_dict(data, source=where)
    summary = data["summary"]
    for kind in all_kinds():
        said = summary.get(kind.value, 0)  # a kind newer than the plan: it has none
        if said != plan.count(kind):
            raise PlanError(
                f"its summary says {said} {kind.value} change(s) but it lists "
                f"{plan.count(kind)}: the file was edited",
                where=where,
                hint=REWRITE_HINT,
            )
    return plan


def _too_deep(text: str) -> bool:
    depth = 0
    for bracket in _BRACKETS.findall(_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        if depth > MAX_DEPTH:
            return True
    return False


def _parse_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"a number of {len(digits)} digits")
    return int(digits)


def _parse_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"a number out of range ({text[:20]}…)")
    return value


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} (not JSON)")


def parse_json(text: str, *, where: str) -> Any:
    """JSON with bounded nesting and numbers: a hostile file can't exhaust the stack or the CPU."""
    if _too_deep(text):
        raise PlanError(
            f"not a kfws plan: JSON nested deeper than {MAX_DEPTH} levels",
            where=where,
            hint=REWRITE_HINT,
        )
    try:
        data = json.loads(
            text,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_no_constant,
        )
    except json.JSONDecodeError as e:
        raise PlanError(
            f"not JSON: {e.msg} at line {e.lineno} column {e.colno}",
            where=where,
            hint=REWRITE_HINT,
        ) from None
    except (ValueError, RecursionError) as e:  # from the hooks above; recursion as a safety net
        raise PlanError(
            f"not a kfws plan: {str(e)[:200] or type(e).__name__}", where=where, hint=REWRITE_HINT
        ) from None
    _check_strings(data, where=where)
    return data


def _check_strings(data: Any, *, where: str) -> None:
    """A JSON `\\ud800` escape parses to a lone surrogate that can't be printed or compared
    meaningfully: refuse it here, where the message can say so."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise PlanError(
                    "not a kfws plan: a string holds an invalid Unicode escape (a lone surrogate)",
                    where=where,
                    hint=REWRITE_HINT,
                ) from None


@cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    text = resources.files("kfws").joinpath("data/plan.schema.json").read_text("utf-8")
    return Draft202012Validator(json.loads(text))


def check_schema(data: Any, *, where: str) -> None:
    """Refuses a plan that doesn't match schemas/plan.schema.json, naming the first offending
    path. The format version is checked first, so an older kfws's plan says just that."""
    if isinstance(data, dict) and data.get("formatVersion") != PLAN_FORMAT_VERSION:
        plan_from_dict(data, source=where)  # raises the format-version message
    from jsonschema.exceptions import best_match

    error = best_match(_validator().iter_errors(data))
    if error is None:
        return
    at = "/".join(str(p) for p in error.absolute_path) or "the top level"
    raise PlanError(
        f"not a valid kfws plan: at {at}: {_schema_problem(error)}",
        where=where,
        hint=REWRITE_HINT,
    )


def _schema_problem(error: Any) -> str:
    """jsonschema's message quotes the offending value, which may be a megabyte of text: name
    the rule instead, and quote only a short value."""
    value = error.instance
    shown = repr(value) if isinstance(value, (int, float, bool)) or value is None else None
    if isinstance(value, str):
        shown = repr(value[:60] + ("…" if len(value) > 60 else ""))
    rule = error.validator
    what = {
        "additionalProperties": "a key the format doesn't have",
        "required": "a required key is missing",
        "type": f"must be {error.validator_value}",
        "maxLength": f"longer than {error.validator_value} characters",
        "maxItems": f"more than {error.validator_value} entries",
        "pattern": "not in the expected form",
        "enum": f"must be one of {error.validator_value}",
        "const": f"must be {error.validator_value!r}",
    }.get(str(rule), f"breaks the rule {rule!r}")
    if rule in ("required", "additionalProperties"):
        return str(error.message)[:200]
    return f"{what}" + (f" (got {shown})" if shown else "")
