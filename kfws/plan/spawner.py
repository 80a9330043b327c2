"""The spawner half of the planner (pure): what `spawner_ui_config.yaml` should become.

For each group present in the workspace's `spawner`, the option list (`exact`: exactly the
declared list, in order; `merge`: the declared options are ensured present, options already on
the cluster are kept, existing first then new ones) and the default; plus the flags the workspace
sets. Managed image names are resolved to the exact references the images half writes (a tag,
or a digest under `pin: digest`); other options are full references used as they are.

The change carries the whole old and new text of the key (the renderers show the unified diff),
and a structured diff (options added / removed / reordered, default and flags changed) as
JSON-able data. A restart of the web app follows unless `cluster.restart` is `none`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from deepdiff import DeepDiff

from kfws.observe.model import ClusterState
from kfws.plan.model import Change, ChangeKind, Observation
from kfws.spawner_yaml import FLAG_KEYS, LiveGroup, LiveSpawner, edit_spawner, read_spawner
from kfws.spec.model import GROUP_KEYS, OptionsMode, RestartMode, Spec


@dataclass(frozen=True)
class SpawnerPlanPart:
    changes: list[Change] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def text_hash(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def config_where(cluster: ClusterState) -> str:
    return f"configmap/{cluster.namespace}/{cluster.config_map} key {cluster.config_key}"


def _dedupe(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def desired_spawner(
    spec: Spec,
    refs: Mapping[str, str],
    live: LiveSpawner,
    *,
    group_refs: Mapping[str, Mapping[str, str]] | None = None,
) -> LiveSpawner:
    """The owned part as the workspace wants it, given what the cluster has (for `merge`)."""
    groups: list[LiveGroup] = []
    for group in spec.spawner.groups:
        names = (group_refs or {}).get(group.key, refs)
        declared = [names.get(o, o) for o in group.options]
        have = live.group(group.key)
        if group.mode is OptionsMode.MERGE and have is not None:
            options = _dedupe([*have.options, *declared])
        else:
            options = _dedupe(declared)
        groups.append(LiveGroup(group.key, names.get(group.default, group.default), options))
    s = spec.spawner
    return LiveSpawner(
        groups=tuple(groups),
        allow_custom_image=s.allow_custom_image,
        hide_registry=s.hide_registry,
        hide_tag=s.hide_tag,
        image_pull_policy=s.image_pull_policy,
    )


def structured_diff(before: LiveSpawner, after: LiveSpawner) -> dict[str, Any]:
    """JSON-able: per group the options added, removed, whether the kept ones were reordered,
    and the default's change; per flag its change."""
    groups: dict[str, Any] = {}
    for key in GROUP_KEYS:
        b, a = before.group(key), after.group(key)
        if a is None or b == a:
            continue
        old = list(b.options) if b else []
        new = list(a.options)
        dd = DeepDiff(old, new, ignore_order=True)
        added = sorted({str(v) for v in dd.get("iterable_item_added", {}).values()}, key=new.index)
        removed = sorted(
            {str(v) for v in dd.get("iterable_item_removed", {}).values()}, key=old.index
        )
        kept_old = [o for o in old if o in new]
        kept_new = [o for o in new if o in old]
        entry: dict[str, Any] = {
            "added": added,
            "removed": removed,
            "reordered": kept_old != kept_new,
        }
        if b is None:
            entry["created"] = True
        if a.value is not None and a.value != (b.value if b else None):
            entry["default"] = {"before": b.value if b else None, "after": a.value}
        groups[key] = entry
    want = {k: v for k, v in after.flags().items() if v is not None}
    have = {k: before.flags()[k] for k in want}
    flags = {
        str(k): {"before": have[k], "after": want[k]}
        for k in sorted(DeepDiff(have, want).affected_root_keys, key=FLAG_KEYS.index)
    }
    return {"groups": groups, "flags": flags}


def _reason(diff: Mapping[str, Any]) -> str:
    parts: list[str] = []
    for key, g in diff["groups"].items():
        bits = []
        if g["added"]:
            bits.append(f"add {', '.join(g['added'])}")
        if g["removed"]:
            bits.append(f"remove {', '.join(g['removed'])}")
        if g["reordered"]:
            bits.append("reorder")
        if "default" in g:
            bits.append(f"default {g['default']['before']} -> {g['default']['after']}")
        parts.append(f"{key}: {'; '.join(bits) or 'update'}")
    for name, f in diff["flags"].items():
        parts.append(f"{name}: {_show(f['before'])} -> {_show(f['after'])}")
    return "; ".join(parts)


def _show(value: object) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def plan_spawner(
    spec: Spec,
    refs: Mapping[str, str],
    cluster: ClusterState,
    *,
    group_refs: Mapping[str, Mapping[str, str]] | None = None,
) -> SpawnerPlanPart:
    """`refs`: managed image name -> the reference written for it; `group_refs` (optional):
    the same per group key, for groups whose `pin` differs (see plan.images.spawner_refs).
    No change: an empty part."""
    where = config_where(cluster)
    live = read_spawner(cluster.config_text, where=where)
    desired = desired_spawner(spec, refs, live, group_refs=group_refs)
    new_text = edit_spawner(cluster.config_text, desired, where=where)
    if new_text == cluster.config_text:
        return SpawnerPlanPart()
    after = read_spawner(new_text, where=where)
    diff = structured_diff(live, after)
    ns = cluster.namespace
    new_hash = text_hash(new_text)
    owned = {k: v for k, v in after.owned().items() if k in _declared(desired)}
    changes = [
        Change(
            kind=ChangeKind.UPDATE_SPAWNER,
            target=f"configmap/{ns}/{cluster.config_map}",
            reason=_reason(diff),
            before=cluster.config_text,
            after=new_text,
            details={
                "namespace": ns,
                "configMap": cluster.config_map,
                "key": cluster.config_key,
                "resourceVersion": cluster.config_map_resource_version,
                "beforeHash": text_hash(cluster.config_text),
                "afterHash": new_hash,
                "deployment": cluster.deployment,
                "restart": spec.cluster.restart.value,
                "diff": diff,
                "owned": owned,
                "gitopsOwner": cluster.gitops_owner,
            },
        )
    ]
    observations = [
        Observation(
            f"configmap:{ns}/{cluster.config_map}",
            f"rv={cluster.config_map_resource_version} "
            f"sha256={text_hash(cluster.config_text).removeprefix('sha256:')}",
        )
    ]
    if spec.cluster.restart is not RestartMode.NONE:
        mode = spec.cluster.restart.value
        changes.append(
            Change(
                kind=ChangeKind.RESTART_WEBAPP,
                target=f"deployment/{ns}/{cluster.deployment}",
                reason=(
                    "reload the web app so the new spawner config shows now "
                    f"(cluster.restart: {mode})"
                ),
                details={
                    "namespace": ns,
                    "deployment": cluster.deployment,
                    "mode": mode,
                    "configHash": new_hash,
                    "generation": cluster.deployment_generation,
                },
            )
        )
        observations.append(
            Observation(
                f"deployment:{ns}/{cluster.deployment}",
                f"generation={cluster.deployment_generation}",
            )
        )
    warnings = []
    if cluster.gitops_owner:
        warnings.append(
            f"configmap/{ns}/{cluster.config_map} is managed by {cluster.gitops_owner}: its "
            f"next sync will revert this change to {cluster.config_key}. Make the change in the "
            f"Git source {cluster.gitops_owner} syncs from instead (or exclude the ConfigMap "
            "from its sync); `kfws apply` refuses without --allow-gitops-owned"
        )
    return SpawnerPlanPart(changes, observations, warnings)


def _declared(desired: LiveSpawner) -> set[str]:
    keys: set[str] = {g.key for g in desired.groups}
    keys.update(k for k, v in desired.flags().items() if v is not None)
    return keys
