"""The WorkspaceKind target's apply, under the shared apply lock the runner holds: per kind, the
kind must still be at the plan's resourceVersion, a dry run of the exact server-side apply, the
values kfws managed are kept in the backup ConfigMap (kfws.targets.backups), then the write
(field manager kfws, never forced, the resourceVersion as precondition). No restart: the
Notebooks 2.0 backend and controller read the kind live."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kfws.errors import ApplyError, KfwsError, StalePlanError
from kfws.plan.model import Change
from kfws.targets.backups import push_backup
from kfws.targets.base import ApplyContext
from kfws.targets.workspacekind.api import get_kind, server_side_apply
from kfws.targets.workspacekind.backup import backup_name, payload
from kfws.targets.workspacekind.model import MalformedValue, value_from_api
from kfws.targets.workspacekind.state import kind_state
from kfws.targets.workspacekind.write import apply_body


def body_of(change: Change) -> dict[str, Any]:
    """The apply body from a (fresh) plan's change: its `after` values and default."""
    details: Mapping[str, Any] = change.details
    after: Mapping[str, Any] = change.after or {}
    try:
        values = [value_from_api(v) for v in after.get("values") or []]
    except MalformedValue as e:
        raise ApplyError(f"the plan's values are malformed: {e}", where=change.target) from None
    return apply_body(
        str(details["workspaceKind"]), values, after.get("default"), str(details["resourceVersion"])
    )


def write_change(change: Change, ctx: ApplyContext, namespace: str) -> str:
    body = body_of(change)
    name = str(body["metadata"]["name"])
    api = ctx.clients.api
    live = kind_state(get_kind(api, name))
    if live.resource_version != body["metadata"]["resourceVersion"]:
        raise StalePlanError(
            f"{change.target} changed since the plan (resourceVersion "
            f"{body['metadata']['resourceVersion']} -> {live.resource_version}); nothing was "
            "written",
            where=change.target,
            hint="run `kfws plan` again and review what changed",
        )
    server_side_apply(api, name, body, dry_run=True)
    n = push_backup(
        api, namespace, backup_name(name), "values.json", payload(live),
        by=ctx.clients.identity(),
    )  # fmt: skip
    ctx.lock.renew()
    try:
        server_side_apply(api, name, body)
    except KfwsError as e:
        e.message += f" (the values kfws managed were kept as backup {n} before the attempt)"
        raise
    return f"{change.reason} (previous values kept as backup {n})"


def apply(changes: Sequence[Change], ctx: ApplyContext) -> list[str]:
    """Kind by kind; a failure says which kinds were already written (as planned) and that the
    failing one was left as it was."""
    done: list[str] = []
    for change in changes:
        try:
            done.append(write_change(change, ctx, ctx.lock.ns))
        except KfwsError as e:
            if done:
                written = ", ".join(c.target for c in changes[: len(done)])
                e.message += f"; already written as planned: {written}"
            raise
    return done
