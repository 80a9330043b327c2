"""The spawner target's rollback: the kept versions of the spawner config (kfws.targets.backups),
what restoring one would change, and the restore itself through the same locked path as apply.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kfws.errors import ClusterError
from kfws.observe import kube_api
from kfws.output import Reporter
from kfws.plan.model import Change
from kfws.spec.model import ClusterSpec, RestartMode
from kfws.targets.backups import backup_name, pop_backup, read_backup
from kfws.targets.clients import Clients
from kfws.targets.fingerprint import text_hash
from kfws.targets.spawner.annotations import ANN_HASH
from kfws.targets.spawner.config_edit import edit_spawner
from kfws.targets.spawner.config_yaml import LiveSpawner, read_spawner
from kfws.targets.spawner.kinds import RESTART, UPDATE
from kfws.targets.spawner.observe import observe_cluster
from kfws.targets.spawner.state import SpawnerState


@dataclass(frozen=True)
class Backup:
    """One kept version of the spawner config (kfws rollback)."""

    n: int
    at: str  # when kfws kept it (just before a write)
    by: str  # the identity whose write replaced it
    hash: str  # "sha256:…" of `text`
    text: str | None  # None: the key is missing from the backup ConfigMap

    def label(self) -> str:
        return f"backup {self.n} (kept {self.at} before a write by {self.by})"


@dataclass(frozen=True)
class RollbackTarget:
    state: SpawnerState
    backups: tuple[Backup, ...]  # oldest first


def rollback_target(cluster_spec: ClusterSpec, *, context: str | None) -> RollbackTarget:
    """The live spawner config and the backups kfws keeps of it. Reads only."""
    state = observe_cluster(cluster_spec, context=context)
    cl = Clients.connect(context or cluster_spec.context)
    cm, history = read_backup(cl.api, state.namespace, state.config_map)
    data = kube_api.str_map(kube_api.field(cm, "data"))
    backups = []
    for e in history:
        try:
            n = int(e["n"])
        except (TypeError, ValueError):
            continue  # a hand-edited history entry: not one kfws can restore
        text = data.get(f"{n}.yaml")
        backups.append(
            Backup(
                n=n,
                at=str(e.get("at", "?")),
                by=str(e.get("by", "?")),
                hash=str(e.get("hash") or (text_hash(text) if text is not None else "?")),
                text=text if isinstance(text, str) else None,
            )
        )
    return RollbackTarget(state, tuple(sorted(backups, key=lambda b: b.n)))


def choose_backup(target: RollbackTarget, to: int | None) -> Backup:
    state = target.state
    where = f"configmap/{state.namespace}/{backup_name(state.config_map)}"
    if not target.backups:
        raise ClusterError(
            f"there is no kfws backup of configmap/{state.namespace}/{state.config_map} to roll "
            "back to",
            where=where,
            hint="kfws keeps one there each time it applies a spawner change",
        )
    kept = ", ".join(str(b.n) for b in target.backups)
    chosen = (
        target.backups[-1] if to is None else next((b for b in target.backups if b.n == to), None)
    )
    if chosen is None:
        raise ClusterError(
            f"there is no backup {to} (kept: {kept})",
            where=where,
            hint="`kfws rollback --list` shows them",
        )
    if chosen.text is None:
        raise ClusterError(f"backup {chosen.n}.yaml is missing from {where}", where=where)
    return chosen


def restored_text(state: SpawnerState, backup: Backup) -> tuple[str, str]:
    """(the text a rollback to `backup` writes, how): the whole kept text when the live config
    is what kfws wrote or does not parse (that is when a rollback is needed most); else only
    the lists and flags kfws owns, so edits others made since are kept."""
    assert backup.text is not None
    where = f"configmap/{state.namespace}/{state.config_map} key {state.config_key}"
    old: LiveSpawner = read_spawner(backup.text, where=f"{where} (backup {backup.n})")
    if state.config_annotations.get(ANN_HASH) == text_hash(state.config_text):
        return backup.text, "the whole text (the live config is what kfws last wrote)"
    try:
        read_spawner(state.config_text, where=where)
    except ClusterError as e:
        return backup.text, f"the whole text (the live config is broken: {e.message})"
    return (
        edit_spawner(state.config_text, old, where=where),
        "only the image lists and flags kfws owns: the config changed since kfws wrote it, "
        "and those other edits are kept",
    )


def describe_restore(state: SpawnerState, backup: Backup) -> str:
    """One line: what restoring `backup` would change on the live config."""
    from kfws.targets.spawner.plan import structured_diff

    try:
        new_text, how = restored_text(state, backup)
    except ClusterError as e:
        return f"cannot be restored: {e.message}"
    if new_text == state.config_text:
        return "same as the live config"
    try:
        live = read_spawner(state.config_text)
    except ClusterError:
        return f"restores {how}"
    return _restore_summary(structured_diff(live, read_spawner(new_text)), how)


def _restore_summary(diff: Mapping[str, Any], how: str) -> str:
    """The plan's structured diff (live -> restored), said as what the rollback brings back."""
    parts: list[str] = []
    for key, g in diff.get("groups", {}).items():
        bits = [
            f"brings back {r.get('after')} in place of {r.get('before')}"
            for r in g.get("replaced") or []
        ]
        if g.get("added"):
            bits.append(f"brings back {', '.join(g['added'])}")
        if g.get("removed"):
            bits.append(f"drops {', '.join(g['removed'])}")
        if g.get("reordered"):
            bits.append("restores the order")
        if isinstance(g.get("default"), Mapping):
            bits.append(f"default {g['default'].get('before')} -> {g['default'].get('after')}")
        parts.append(f"{key}: {', '.join(bits) or 'restored'}")
    for name, f in diff.get("flags", {}).items():
        parts.append(f"{name}: {f.get('before')} -> {f.get('after')}")
    owned = "; ".join(parts) or "the lists and flags stay as they are"
    scope = "the whole text" if how.startswith("the whole text") else "owned parts only"
    return f"{owned} ({scope})"


def rollback_changes(
    cluster_spec: ClusterSpec, state: SpawnerState, backup: Backup
) -> tuple[list[Change], str]:
    """The changes (write, then restart) restoring `backup`, and how it restores it. No change:
    an empty list."""
    new_text, how = restored_text(state, backup)
    if new_text == state.config_text:
        return [], how
    ns, name = state.namespace, state.config_map
    restored_hash = text_hash(new_text)
    after = read_spawner(new_text, where=f"configmap/{ns}/{name} (backup {backup.n})")
    changes = [
        Change(
            UPDATE,
            f"configmap/{ns}/{name}",
            f"roll back to {backup.label()}: restores {how}",
            before=state.config_text,
            after=new_text,
            details={
                "namespace": ns,
                "configMap": name,
                "key": state.config_key,
                "resourceVersion": state.config_map_resource_version,
                "beforeHash": text_hash(state.config_text),
                "afterHash": restored_hash,
                "owned": after.owned(),
                "gitopsOwner": state.gitops_owner,
            },
        )
    ]
    if cluster_spec.restart is not RestartMode.NONE:
        changes.append(
            Change(
                RESTART,
                f"deployment/{ns}/{state.deployment}",
                "reload the web app",
                details={
                    "namespace": ns,
                    "deployment": state.deployment,
                    "mode": cluster_spec.restart.value,
                    "configHash": restored_hash,
                },
            )
        )
    return changes, how


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
    """Restores a kept spawner config (the newest, or backup `to`) through the same path as
    apply (lock, resourceVersion precondition, dry run, restart), and drops that backup, so
    repeated rollbacks go further back. `confirm` sees the changes first and raises to stop."""
    from kfws.targets.run import locked, refuse_gitops_owned
    from kfws.targets.spawner.applier import apply_changes

    target = rollback_target(cluster, context=context)
    state = target.state
    backup = choose_backup(target, to)
    changes, _ = rollback_changes(cluster, state, backup)
    ns, name = state.namespace, state.config_map
    where = f"configmap/{ns}/{name} key {state.config_key}"
    if not changes:
        cl = Clients.connect(context or cluster.context)
        pop_backup(cl.api, ns, name, backup.n)
        return [f"{where} already matches backup {backup.n}; nothing to restore"]
    confirm(changes)
    refuse_gitops_owned(changes, allow=allow_gitops_owned)
    with locked(
        ns,
        context=context or cluster.context,
        lock_timeout=lock_timeout,
        rollout_timeout=rollout_timeout,
        reporter=reporter,
    ) as ctx:
        lines = apply_changes(changes, ctx, backup=f"pop:{backup.n}")
    return [f"restored {backup.label()}", *lines]


def backups(cluster: ClusterSpec, *, context: str | None) -> list[str]:
    """`kfws rollback --list`: the kept versions, newest last, and what restoring each would do."""
    target = rollback_target(cluster, context=context)
    st = target.state
    where = f"configmap/{st.namespace}/{backup_name(st.config_map)}"
    if not target.backups:
        return [
            f"No backups of configmap/{st.namespace}/{st.config_map} (kfws keeps them in "
            f"{where} each time it applies)."
        ]
    lines = [f"Backups of configmap/{st.namespace}/{st.config_map} in {where}, newest last:"]
    for b in target.backups:
        digest = b.hash.removeprefix("sha256:")[:12]
        lines.append(f"  {b.n:>3}  {b.at}  by {b.by}  sha256:{digest}")
        lines.append(f"       rollback would: {describe_restore(st, b)}")
    newest = target.backups[-1].n
    lines.append(f"\n`kfws rollback` restores {newest}; `kfws rollback --to N` another one.")
    return lines
