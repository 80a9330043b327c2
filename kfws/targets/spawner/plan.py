"""The spawner target's planner (pure): what `spawner_ui_config.yaml` should become.

For each group present in the workspace's `spawner`, the option list and the default; plus the
flags the workspace sets. Managed image names are resolved to the exact references the images
half writes (a tag, or a digest under `pin: digest`); other options are full references.

- `exact` (default): the list becomes exactly the declared list, in order.
- `merge`: the declared options are ensured present (new ones appended); what others put there
  is kept; what kfws itself added earlier and the workspace no longer declares is removed (a new
  reference of the same repository takes its place). What kfws added is recorded on the
  ConfigMap (ANN_ADDED), so "added by kfws" is a fact, not a guess.
- The default: the declared one. Not declared: `merge` leaves the live default alone (even one
  that is not among the options); `exact` keeps it when it is still offered, else the first
  option; a group whose `value` is absent (or commented out) stays without one.

The change carries the whole old and new text of the key (the renderers show the unified diff),
and a structured diff as JSON-able data: per group the options added, removed and replaced (old
-> new, matched by repository), whether kept ones were reordered, the default's change, and why
an option goes; per flag its change. A restart of the web app follows unless `restart: none`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kfws.plan.model import Change, Observation
from kfws.reference import repository
from kfws.spec.model import GROUP_KEYS, OptionsMode, RestartMode, Spec
from kfws.targets.base import PlanPart
from kfws.targets.fingerprint import text_hash
from kfws.targets.spawner.annotations import ANN_ADDED
from kfws.targets.spawner.config_edit import edit_spawner
from kfws.targets.spawner.config_yaml import FLAG_KEYS, LiveGroup, LiveSpawner, read_spawner
from kfws.targets.spawner.kinds import RESTART, UPDATE
from kfws.targets.spawner.state import SpawnerState
from kfws.targets.spawner.view import show_value

_MAX_RECORD = 64 * 1024  # characters of the annotation kfws reads; more is not kfws's record

RELEASED = "added by kfws, no longer declared"


@dataclass(frozen=True)
class Desired:
    """The owned part as the workspace wants it, what kfws will have added once it is written,
    and why each option that goes is removed."""

    spawner: LiveSpawner
    added: dict[str, list[str]]  # group -> the options kfws put there (the next ANN_ADDED)
    why_removed: dict[str, dict[str, str]]  # group -> option -> reason


def config_where(cluster: SpawnerState) -> str:
    return f"configmap/{cluster.namespace}/{cluster.config_map} key {cluster.config_key}"


def _dedupe(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def added_record(annotations: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    """The ANN_ADDED record from a ConfigMap's annotations. Anyone with write access can edit
    it, so anything but the exact shape (or too big) counts as no record: merge then removes
    nothing, which is the safe side."""
    raw = annotations.get(ANN_ADDED)
    if not raw or len(raw) > _MAX_RECORD:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    record: dict[str, tuple[str, ...]] = {}
    for key, refs in data.items():
        if key in GROUP_KEYS and isinstance(refs, list) and all(isinstance(r, str) for r in refs):
            record[key] = tuple(refs)
    return record


def _merged(
    have: tuple[str, ...], declared: tuple[str, ...], ours: tuple[str, ...]
) -> tuple[tuple[str, ...], dict[str, str]]:
    """Merge mode: what is there stays, except what kfws added and no longer declares; a new
    declared option takes the place of a released one of the same repository."""
    new = [d for d in declared if d not in have]
    released = {o for o in have if o in ours and o not in declared}
    out: list[str] = []
    for option in have:
        if option not in released:
            out.append(option)
            continue
        same = next((d for d in new if repository(d) == repository(option)), None)
        if same is not None:
            new.remove(same)
            out.append(same)
    return (*out, *new), {o: RELEASED for o in have if o in released}


def _default(
    declared: str | None, mode: OptionsMode, have: LiveGroup | None, options: tuple[str, ...]
) -> str | None:
    """None = leave the live `value` as it is (or absent)."""
    if declared is not None:
        return declared
    if have is None:  # a new group: preselect its first option
        return options[0] if options else None
    if mode is OptionsMode.MERGE or have.value is None or have.value in options:
        return None
    return options[0] if options else None


def desired_state(
    spec: Spec,
    refs: Mapping[str, str],
    live: LiveSpawner,
    *,
    group_refs: Mapping[str, Mapping[str, str]] | None = None,
    record: Mapping[str, tuple[str, ...]] | None = None,
) -> Desired:
    groups: list[LiveGroup] = []
    added: dict[str, list[str]] = {}
    why: dict[str, dict[str, str]] = {}
    for group in spec.spawner.groups:
        names = (group_refs or {}).get(group.key, refs)
        declared = _dedupe([names.get(o, o) for o in group.options])
        have = live.group(group.key)
        before = have.options if have is not None else ()
        ours = (record or {}).get(group.key, ())
        if group.mode is OptionsMode.MERGE and have is not None:
            options, why[group.key] = _merged(before, declared, ours)
        else:
            options = declared
            why[group.key] = {}  # exact: what is not declared goes, whoever added it
        added[group.key] = [o for o in options if o in ours or o not in before]
        default = names.get(group.default, group.default) if group.default else None
        value = _default(default, group.mode, have, options)
        groups.append(LiveGroup(group.key, value, options))
    s = spec.spawner
    desired = LiveSpawner(
        groups=tuple(groups),
        allow_custom_image=s.allow_custom_image,
        hide_registry=s.hide_registry,
        hide_tag=s.hide_tag,
        image_pull_policy=s.image_pull_policy,
    )
    return Desired(desired, added, why)


def _pairs(removed: list[str], added: list[str]) -> list[dict[str, str]]:
    """Removed and added options of the same repository: one option replaced by another (a tag
    bump, a rebuilt managed image), shown as old -> new. Takes them out of both lists."""
    replaced: list[dict[str, str]] = []
    for old in list(removed):
        new = next((a for a in added if repository(a) == repository(old)), None)
        if new is not None:
            removed.remove(old)
            added.remove(new)
            replaced.append({"before": old, "after": new})
    return replaced


def structured_diff(
    before: LiveSpawner,
    after: LiveSpawner,
    why_removed: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, Any]:
    """JSON-able. Per changed group: `added`, `removed`, `replaced` ([{before, after}], matched
    by repository), `reordered` (the kept options' order changed), `created`, `default`
    ({before, after}) and `why` (option -> why it goes); per changed flag {before, after}."""
    groups: dict[str, Any] = {}
    for key in GROUP_KEYS:
        b, a = before.group(key), after.group(key)
        if a is None or b == a:
            continue
        old = list(b.options) if b else []
        new = list(a.options)
        added = [o for o in new if o not in old]
        removed = [o for o in old if o not in new]
        replaced = _pairs(removed, added)
        # the kept options, a replaced one standing in its old place
        swap = {r["after"]: r["before"] for r in replaced}
        kept_new = [swap.get(o, o) for o in new if o in old or o in swap]
        kept_old = [o for o in old if o in kept_new]
        entry: dict[str, Any] = {
            "added": added,
            "removed": removed,
            "replaced": replaced,
            "reordered": kept_old != kept_new,
        }
        if b is None:
            entry["created"] = True
        if a.value != (b.value if b else None):
            entry["default"] = {"before": b.value if b else None, "after": a.value}
        why = (why_removed or {}).get(key, {})
        if any(o in why for o in removed):  # a replaced one needs no reason: its successor is it
            entry["why"] = {o: why[o] for o in removed if o in why}
        groups[key] = entry
    want = {k: v for k, v in after.flags().items() if v is not None}
    have = before.flags()
    flags: dict[str, Any] = {}
    for name in FLAG_KEYS:
        if name in want and want[name] != have[name]:
            flags[name] = {"before": have[name], "after": want[name]}
            if before.legacy and name == "allowCustomImage":
                flags[name]["writtenAs"] = f"image.readOnly: {show_value(not want[name])}"
    return {"groups": groups, "flags": flags}


def _reason(diff: Mapping[str, Any]) -> str:
    """One line with everything (drift quotes it): `image: replace A -> B, add C; default ...`."""
    parts: list[str] = []
    for key, g in diff["groups"].items():
        why = g.get("why", {})
        bits = [f"replace {r['before']} -> {r['after']}" for r in g["replaced"]]
        bits += [f"add {o}" for o in g["added"]]
        bits += [
            f"remove {o}" + (f" ({why[o]})" if why.get(o) == RELEASED else "") for o in g["removed"]
        ]
        if g["reordered"]:
            bits.append("reorder")
        if "default" in g:
            d = g["default"]
            bits.append(f"default {show_value(d['before'])} -> {show_value(d['after'])}")
        parts.append(f"{key}: {', '.join(bits) or 'update'}")
    for name, f in diff["flags"].items():
        parts.append(f"{name}: {show_value(f['before'])} -> {show_value(f['after'])}")
    return "; ".join(parts)


def plan_spawner(
    spec: Spec,
    refs: Mapping[str, str],
    cluster: SpawnerState,
    *,
    group_refs: Mapping[str, Mapping[str, str]] | None = None,
) -> PlanPart:
    """`refs`: managed image name -> the reference written for it; `group_refs` (optional):
    the same per group key, for groups whose `pin` differs (see plan.images.spawner_refs).
    No change: an empty part."""
    where = config_where(cluster)
    live = read_spawner(cluster.config_text, where=where)
    record = added_record(cluster.config_annotations)
    want = desired_state(spec, refs, live, group_refs=group_refs, record=record)
    desired = want.spawner
    new_text = edit_spawner(cluster.config_text, desired, where=where)
    if new_text == cluster.config_text:
        return PlanPart()
    after = read_spawner(new_text, where=where)
    diff = structured_diff(live, after, want.why_removed)
    ns = cluster.namespace
    new_hash = text_hash(new_text)
    owned = {k: v for k, v in after.owned().items() if k in _declared(desired)}
    kfws_added = {**{k: list(v) for k, v in record.items()}, **want.added}
    changes = [
        Change(
            kind=UPDATE,
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
                "kfwsAdded": {k: kfws_added[k] for k in sorted(kfws_added)},
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
                kind=RESTART,
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
    return PlanPart(tuple(changes), tuple(observations), tuple(warnings))


def _declared(desired: LiveSpawner) -> set[str]:
    keys: set[str] = {g.key for g in desired.groups}
    keys.update(k for k, v in desired.flags().items() if v is not None)
    return keys


def record_for(added: object, text: str) -> dict[str, list[str]] | None:
    """The ANN_ADDED record to write with `text` (the text as written: a `pin: digest` option
    of an image built in the same apply has its real digest there, while the plan's record
    still holds the placeholder, so each recorded option is taken from the text by
    repository). None when the change carries no record (a rollback): keep the old one."""
    if not isinstance(added, dict):
        return None
    live = read_spawner(text)
    record: dict[str, list[str]] = {}
    for key, refs in sorted(added.items()):
        group = live.group(str(key))
        if group is None or not isinstance(refs, list):
            continue
        kept: list[str] = []
        for ref in refs:
            if ref in group.options:
                kept.append(ref)
                continue
            pinned = "@" in str(ref)  # a digest placeholder matches only a digest
            same = [
                o
                for o in group.options
                if repository(o) == repository(str(ref)) and ("@" in o) == pinned
            ]
            if len(same) == 1 and same[0] not in kept:
                kept.append(same[0])
        record[str(key)] = kept
    return record
