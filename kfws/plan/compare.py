"""Is a saved plan exactly what kfws would plan now? (pure)

A saved plan is not trusted: `kfws apply PLAN` re-plans from the workspace file and a fresh
observation, and this module lists every way the saved plan differs from that fresh plan: the
workspace file's digest, the fingerprint (what the changes depend on), and each change's kind,
target, the text or digest it would write, what it replaces, its reason and its details (owned
values, restart mode, namespace...). An empty list means identical; apply then runs the fresh
plan, so nothing from the file is ever executed. Terraform trusts its plan files; kfws can't:
its plans travel between CI runs as artifacts anyone with write access to the run can swap.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from kfws.plan.model import Change, Plan

_MISSING = object()
MAX_LINES = 12  # enough to see what happened; the rest is counted

# Names a reviewer understands for the fields of a change that can differ.
_FIELD_WORDS = {
    ("after", True): "the input digest to build",
    ("after", False): "the text to write",
    ("before", True): "the registry digest it replaces",
    ("before", False): "the text it replaces",
    ("reason", True): "its reason",
    ("reason", False): "its reason",
}
_DETAIL_WORDS = {
    "restart": "the restart mode",
    "mode": "the restart mode",
    "namespace": "the namespace",
    "configMap": "the ConfigMap",
    "deployment": "the Deployment",
    "owned": "the owned part (lists and flags) it would write",
    "diff": "the list of option changes",
    "configHash": "the config text it reloads for",
    "kfwsAdded": "the record of options kfws added",
    "repository": "the push repository",
    "tag": "the tag",
    "name": "the image name",
    "input_digest": "the input digest",
    "resourceVersion": "the ConfigMap version it expects",
    "generation": "the Deployment generation it expects",
}
# Details that restate a field already compared: named only when that field is equal
# (e.g. "beforeHash" follows "before"), so a moved ConfigMap gives one line, not five.
_RESTATES = {"beforeHash": "before", "afterHash": "after"}


@dataclass(frozen=True)
class Comparison:
    differences: tuple[str, ...]  # one line each, for the user
    stale: bool  # the workspace or the world moved (else: the file itself differs)

    @property
    def identical(self) -> bool:
        return not self.differences

    def headline(self) -> str:
        if self.stale:
            return "the saved plan is stale: what it was computed from has changed since"
        return (
            "the saved plan does not match a fresh plan of the same workspace, cluster and "
            "registry: it was edited, or made by another version of kfws"
        )

    def lines(self) -> list[str]:
        shown = list(self.differences[:MAX_LINES])
        if len(self.differences) > MAX_LINES:
            shown.append(f"… and {len(self.differences) - MAX_LINES} more differences")
        return shown


def _canonical(value: Any) -> Any:
    """The JSON form (tuples as lists, keys sorted): how a saved plan holds it."""
    return json.loads(json.dumps(value, sort_keys=True))


def _label(index: int, change: Change) -> str:
    return f"change {index} ({change.kind.value} {change.target})"


# Fingerprint keys of what images depend on; every other key is a cluster object a target
# observed, "KIND:NAMESPACE/NAME", whose value starts with "rv=" when the change writes it (a
# ConfigMap) and holds something else when the change only follows it (a Deployment's generation).
_IMAGE_KEYS = ("inputs:", "registry:")


def _is_object(key: str) -> bool:
    return not key.startswith(_IMAGE_KEYS) and ":" in key


def _written(key: str, value: str | None) -> bool:
    return _is_object(key) and bool(value) and str(value).startswith("rv=")


def _object_line(key: str, before: str | None, now: str | None, writer: str | None) -> str:
    version = _version(before), _version(now)
    moved = f" (resourceVersion {version[0]} then, {version[1]} now)" if all(version) else ""
    by = f", last written by {writer}" if writer else ""
    return f"{_objects([key])} was changed since the plan{moved}{by}"


def _version(value: str | None) -> str | None:
    if value and value.startswith("rv="):
        return value.split()[0].removeprefix("rv=")
    return None


def _objects(keys: list[str]) -> str:
    """Fingerprint keys of cluster objects ("configmap:NS/NAME") as targets (configmap/NS/NAME)."""
    return ", ".join(k.replace(":", "/", 1) for k in keys)


def _fingerprint_lines(saved: Plan, fresh: Plan, writer: str | None) -> tuple[list[str], bool]:
    was = {o.key: o.value for o in saved.fingerprint}
    now = {o.key: o.value for o in fresh.fingerprint}
    lines: list[str] = []
    stale = False
    if not was and now:
        return [
            f"the saved plan's fingerprint is empty; a fresh plan depends on {len(now)} "
            f"observations (e.g. {min(now)})"
        ], False
    for key in sorted(was.keys() & now.keys()):
        if was[key] == now[key]:
            continue
        stale = True
        if _written(key, was[key]):
            lines.append(_object_line(key, was[key], now[key], writer))
        else:
            lines.append(f"{key}: {was[key] or 'absent'} when planned, {now[key] or 'absent'} now")
    only_was, only_now = sorted(was.keys() - now.keys()), sorted(now.keys() - was.keys())
    fresh_writes = [k for k, v in now.items() if _written(k, v)]
    kinds = dict.fromkeys(k.split(":", 1)[0] for k in [*only_was, *only_now] if _is_object(k))
    for kind in kinds:  # the same object kind, another name: retargeted
        old = [k for k in only_was if k.startswith(f"{kind}:")]
        new = [k for k in only_now if k.startswith(f"{kind}:")]
        if old and new:
            lines.append(
                f"the saved plan targets {_objects(old)}; a fresh plan targets {_objects(new)}"
            )
            only_was = [k for k in only_was if k not in old]
            only_now = [k for k in only_now if k not in new]
    # a write no longer needed: said once; what only followed it (a restart) is not repeated
    no_longer = not fresh_writes and any(_written(k, was[k]) for k in only_was)
    for key in only_was:
        if _written(key, was[key]) and not fresh_writes:
            stale = True  # the world moved to where the change is no longer needed
            lines.append(
                f"{_objects([key])} needs no change now: it already matches the workspace"
                + (f" (last written by {writer})" if writer else "")
            )
        elif no_longer and _is_object(key):
            continue
        else:
            lines.append(f"{key}: the saved plan depends on it; a fresh plan does not")
    lines.extend(
        f"{key}: a fresh plan depends on it; the saved plan's fingerprint lacks it"
        for key in only_now
    )
    return lines, stale


_INFORMATIONAL = frozenset({"size", "sizes", "why"})  # kfws.plan.sizes, kfws.plan.why


def _change_lines(index: int, was: Change, now: Change) -> list[str]:
    """One line per change that differs, naming every part that does."""
    label = _label(index, was)
    if (was.kind, was.target) != (now.kind, now.target):
        return [f"{label}: a fresh plan has {now.kind.value} {now.target} here"]
    image = was.kind.is_image
    differ = {
        attr
        for attr in ("after", "before", "reason")
        if _canonical(getattr(was, attr)) != _canonical(getattr(now, attr))
    }
    parts = [
        _FIELD_WORDS[(attr, image)] for attr in ("after", "before", "reason") if attr in differ
    ]
    # sizes inform the reader and may be unknown in one run: never what makes a plan stale
    a = _canonical({k: v for k, v in was.details.items() if k not in _INFORMATIONAL})
    b = _canonical({k: v for k, v in now.details.items() if k not in _INFORMATIONAL})
    for key in sorted(a.keys() | b.keys()):
        if a.get(key, _MISSING) == b.get(key, _MISSING) or _RESTATES.get(key) in differ:
            continue
        words = _DETAIL_WORDS.get(key, f"its detail {key!r}")
        if words not in parts:
            parts.append(words)
    if not parts:
        return []
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return [f"{label}: {listed} {'differ' if len(parts) > 1 else 'differs'}"]


def compare_plans(
    saved: Plan,
    fresh: Plan,
    *,
    declared_images: Collection[str],
    config_writer: str | None = None,
) -> Comparison:
    """Every difference between a saved plan and the fresh plan of the same workspace.
    `declared_images`: the workspace's managed image names; `config_writer`: who last wrote the
    live object a target writes (kfws.targets.dispatch.last_writer), to name when it moved."""
    if saved.spec_digest != fresh.spec_digest:
        return Comparison(
            (
                f"the workspace file changed since the plan was made ({saved.spec_digest[:19]}… "
                f"then, {fresh.spec_digest[:19]}… now)",
            ),
            stale=True,
        )
    lines: list[str] = []
    for i, change in enumerate(saved.changes, 1):
        name = change.details.get("name")
        if change.kind.is_image and name not in declared_images:
            lines.append(f"{_label(i, change)}: image {name!r} is not declared in the workspace")
    fingerprint, stale = _fingerprint_lines(saved, fresh, config_writer)
    lines.extend(fingerprint)
    for i in range(max(len(saved.changes), len(fresh.changes))):
        if i >= len(fresh.changes):
            lines.append(f"{_label(i + 1, saved.changes[i])}: not in a fresh plan")
        elif i >= len(saved.changes):
            extra = fresh.changes[i]
            lines.append(
                f"a fresh plan has change {i + 1} ({extra.kind.value} {extra.target}), "
                "which the saved plan lacks"
            )
        else:
            lines.extend(_change_lines(i + 1, saved.changes[i], fresh.changes[i]))
    return Comparison(tuple(dict.fromkeys(lines)), stale=stale)


def last_writer(managers: Collection[tuple[str, str, str | None]]) -> str | None:
    """The most recent managedFields entry, as "'kubectl-edit' (Update) at 2026-…Z"."""
    latest = max(managers, key=lambda m: m[2] or "", default=None)
    if latest is None:
        return None
    manager, operation, time = latest
    return f"{manager!r} ({operation}) at {time or 'an unknown time'}"
