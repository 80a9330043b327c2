"""`kfws prune` as text or JSON (pure): what it deletes, why each other tag stays, sizes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from kfws.images.built_at import BUILT_AT_LABEL, parse_time, stamp
from kfws.prune.decide import PrunePlan
from kfws.render.sizes import human
from kfws.sanitize import json_text, one_line

GC_NOTE = (
    "the registry frees that space only when its garbage collection runs (distribution: "
    "`registry garbage-collect CONFIG`; hosted registries run it on their own schedule)"
)


def render_prune(plan: PrunePlan, fmt: str, *, deleted: bool = False) -> str:
    if fmt == "json":
        return json_text(json.dumps(as_json(plan, deleted), indent=2, sort_keys=True)) + "\n"
    return _text(plan, deleted)


def _size(n: int | None) -> str:
    return human(n) if n is not None else "size ?"


def _text(plan: PrunePlan, deleted: bool) -> str:
    lines: list[str] = []
    repo = None
    verbs = {"delete": "deleted" if deleted else "delete", "keep": "keep", "leave": "leave"}
    width = max((len(one_line(d.tag.tag)) for d in plan.decisions), default=0)
    for d in plan.decisions:
        if d.tag.repository != repo:
            repo = d.tag.repository
            lines += [*([""] if lines else []), f"{one_line(repo)}:"]
        lines.append(
            f"  {verbs[d.action]:<7} {one_line(d.tag.tag):<{width}}  {_size(d.tag.size):>9}  "
            f"{one_line('; '.join(d.reasons))}"
        )
    n_tags, n_manifests = len(plan.deleted_tags), len(plan.deletions)
    lines.append("")
    if not n_tags:
        lines.append(f"Nothing to prune (keeping the newest {plan.keep} kfws tags per repository).")
    elif deleted:
        lines.append(
            f"Deleted {n_tags} tag{'s' if n_tags != 1 else ''} ({n_manifests} manifest"
            f"{'s' if n_manifests != 1 else ''}), up to {human(plan.freed)}: {GC_NOTE}."
        )
    else:
        lines.append(
            f"Would delete {n_tags} tag{'s' if n_tags != 1 else ''} ({n_manifests} manifest"
            f"{'s' if n_manifests != 1 else ''}), up to {human(plan.freed)}: {GC_NOTE}. "
            "Nothing was deleted: run `kfws prune --yes` to delete them."
        )
    return "\n".join(lines) + "\n"


def as_json(plan: PrunePlan, deleted: bool) -> dict[str, Any]:
    return {
        "keep": plan.keep,
        "deleted": deleted,
        "tags": [
            {
                "repository": d.tag.repository,
                "tag": d.tag.tag,
                "digest": d.tag.digest,
                "action": d.action,
                "reasons": list(d.reasons),
                "size": d.tag.size,
                "created": d.tag.created,
                "builtAt": _built_at(d.tag.labels),  # what "newest" goes by, before `created`
            }
            for d in plan.decisions
        ],
        "manifests": [
            {"repository": m.repository, "digest": m.digest, "tags": list(m.tags)}
            for m in plan.deletions
        ],
        "freedBytes": plan.freed,
    }


def _built_at(labels: Mapping[str, str]) -> str | None:
    """kfws's dev.kfws.built-at label, normalised (it comes from the registry: anything that is
    not a time is left out)."""
    when = parse_time(labels.get(BUILT_AT_LABEL))
    return stamp(when) if when else None
