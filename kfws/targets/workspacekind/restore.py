"""The WorkspaceKind target's rollback: the versions kfws kept of each kind's values (one backup
ConfigMap per kind, `kfws-backup-workspacekind-<kind>` in the workspace's namespace), and the
restore: the kept values are declared and planned like a workspace file (so nothing the webhook
would refuse is done), shown, confirmed, and written through the same locked path as apply."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kfws.errors import ClusterError, KfwsError
from kfws.output import Reporter
from kfws.plan.model import Change
from kfws.spec.model import ClusterSpec
from kfws.targets.backups import BACKUP_PREFIX, pop_backup, read_backup
from kfws.targets.clients import Clients
from kfws.targets.workspacekind.api import get_kind
from kfws.targets.workspacekind.backup import backup_name, declaration
from kfws.targets.workspacekind.change import parts
from kfws.targets.workspacekind.kinds import UPDATE
from kfws.targets.workspacekind.planner import plan_kind
from kfws.targets.workspacekind.state import kind_state

PREFIX = BACKUP_PREFIX + backup_name("")


def _kept(cl: Clients, ns: str) -> list[tuple[str, list[tuple[int, dict[str, Any], str | None]]]]:
    """(kind, [(n, history entry, kept text)...] oldest first) for each kind with backups."""
    from kfws.observe import kube_api
    from kfws.observe.cluster import api_errors

    with api_errors("list", "configmaps", ns):
        cms = kube_api.list_items(cl.api, kube_api.CONFIG_MAPS, namespace=ns)
    out = []
    for cm in cms:
        name = str(kube_api.field(cm, "metadata", "name"))
        if not name.startswith(PREFIX):
            continue
        kind = name[len(PREFIX) :]
        _, history = read_backup(cl.api, ns, backup_name(kind))
        data = kube_api.str_map(cm.get("data"))
        entries = []
        for e in history:
            try:
                n = int(e["n"])
            except (TypeError, ValueError):
                continue
            entries.append((n, e, data.get(f"{n}.yaml")))
        if entries:
            out.append((kind, sorted(entries, key=lambda x: x[0])))
    return out


def _describe(text: str | None, where: str) -> str:
    if text is None:
        return "missing from the ConfigMap"
    try:
        decl = declaration(text, where)
    except KfwsError as e:
        return f"cannot be restored: {e.message}"
    return f"{len(decl.images)} value(s) kfws managed: {', '.join(i.id for i in decl.images)}"


def backups(cluster: ClusterSpec, *, context: str | None) -> list[str]:
    cl = Clients.connect(context or cluster.context)
    lines = []
    for kind, entries in _kept(cl, cluster.namespace):
        lines.append(f"workspacekind/{kind}: kept in configmap/{cluster.namespace}/{PREFIX}{kind}")
        for n, e, text in entries:
            lines.append(
                f"  backup {n} (kept {e.get('at', '?')} before a write by {e.get('by', '?')}): "
                + _describe(text, f"backup {n}")
            )
    return lines or [f"no WorkspaceKind backups in namespace {cluster.namespace}"]


def restore_changes(
    cl: Clients, cluster: ClusterSpec, to: int | None
) -> list[tuple[Change, str, int]]:
    """(the change restoring each kind, its backup ConfigMap, the backup's number)."""
    ns = cluster.namespace
    kept = _kept(cl, ns)
    if not kept:
        raise ClusterError(
            f"there is no kfws backup of a WorkspaceKind in namespace {ns} to roll back to",
            where=f"namespace {ns}",
            hint="kfws keeps one there each time it applies a WorkspaceKind change",
        )
    out = []
    for kind, entries in kept:
        chosen = entries[-1] if to is None else next((x for x in entries if x[0] == to), None)
        if chosen is None:
            continue
        n, _, text = chosen
        where = f"configmap/{ns}/{PREFIX}{kind} backup {n}"
        if text is None:
            raise ClusterError(f"backup {n}.yaml is missing", where=where)
        live = kind_state(get_kind(cl.api, kind))
        kp = plan_kind(declaration(text, where), live, {})
        if kp.has_changes:
            p = parts(kp, live)
            p["reason"] = f"restore backup {n}: " + p["reason"]
            out.append((Change(UPDATE, **p), backup_name(kind), n))
    if to is not None and not out and not any(x[0] == to for _, e in kept for x in e):
        raise ClusterError(
            f"there is no WorkspaceKind backup {to}",
            where=f"namespace {ns}",
            hint="`kfws rollback --target workspacekind --list` shows them",
        )
    return out


def rollback(
    cluster: ClusterSpec,
    *,
    to: int | None,
    context: str | None,
    lock_timeout: float,
    rollout_timeout: float,
    allow_gitops_owned: bool,
    confirm: Callable[[list[Change]], None],
    reporter: Reporter,
) -> list[str]:
    from kfws.targets.run import locked
    from kfws.targets.workspacekind.applier import write_change

    cl = Clients.connect(context or cluster.context)
    restores = restore_changes(cl, cluster, to)
    if not restores:
        return ["nothing to restore: the kept values are what the kinds have"]
    confirm([c for c, _, _ in restores])
    done = []
    with locked(
        cluster.namespace,
        context=context or cluster.context,
        lock_timeout=lock_timeout,
        rollout_timeout=rollout_timeout,
        reporter=reporter,
    ) as ctx:
        for change, backup, n in restores:
            done.append(write_change(change, ctx, cluster.namespace))
            pop_backup(ctx.clients.api, cluster.namespace, backup, n)
    return done
