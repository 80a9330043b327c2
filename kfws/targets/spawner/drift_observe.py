"""The spawner target's drift observer: what `kfws drift` needs beyond a plan: what kfws recorded
when it last applied, who wrote the ConfigMap since (managedFields), when the web app's pods
started, and whether every image the live spawner offers still resolves in its registry. Reads
only, in one namespace."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kfws.drift import Judged
from kfws.observe import kube_api
from kfws.observe.cluster import api_errors, load_api
from kfws.plan.model import PENDING_DIGEST, Plan
from kfws.spec.model import Spec
from kfws.targets.fingerprint import owned_hash, text_hash
from kfws.targets.spawner.annotations import (
    ANN_AT,
    ANN_HASH,
    applied_digests,
    owned_annotation,
)
from kfws.targets.spawner.drift import AppliedRecord, DriftObserved, ManagerEntry, judged
from kfws.targets.spawner.state import SpawnerState

if TYPE_CHECKING:
    from kfws.observe.registry import RegistryClient


def _stamp(t: Any) -> str | None:
    if t is None:
        return None
    text = t.strftime("%Y-%m-%dT%H:%M:%SZ") if hasattr(t, "strftime") else str(t)
    return str(text)


def covers_key(fields_v1: Any, key: str) -> bool:
    """Whether a managedFields entry owns the ConfigMap's `data` key `key` (or all of `data`):
    only such a writer can have changed the spawner config."""
    if not isinstance(fields_v1, Mapping):
        return False
    data = fields_v1.get("f:data")
    if not isinstance(data, Mapping):
        return False
    return f"f:{key}" in data


_PINNED = re.compile(r"([^\s\"@]+)@(sha256:[0-9a-f]{64})")


def fill_legacy_pending(owned: dict[str, Any], live: Mapping[str, Any]) -> dict[str, Any]:
    """kfws before 0.2 recorded a `pin: digest` option built in the same apply with the plan's
    placeholder digest. Read such a record with the digest the live option of the same
    repository has, so an old record does not report drift forever; anything else still
    compares exactly."""
    raw = json.dumps(owned, sort_keys=True)
    if PENDING_DIGEST not in raw:
        return owned
    live_digests = dict(_PINNED.findall(json.dumps(live, sort_keys=True)))
    for repository, digest in live_digests.items():
        raw = raw.replace(f"{repository}@{PENDING_DIGEST}", f"{repository}@{digest}")
    data = json.loads(raw)
    return data if isinstance(data, dict) else owned


def _record(
    name: str, annotations: Mapping[str, str], live: Mapping[str, Any] | None = None
) -> AppliedRecord | None:
    owned = owned_annotation(annotations)
    if owned is None:
        return None
    if live is not None:
        owned = fill_legacy_pending(owned, live)
    return AppliedRecord(
        config_map=name,
        owned_hash=owned_hash(owned),
        applied_at=annotations.get(ANN_AT),
        option_digests=applied_digests(annotations),
        text_hash=annotations.get(ANN_HASH),
    )


def drift(
    spec: Spec,
    plan: Plan,
    state: SpawnerState,
    *,
    context: str | None,
    registry: RegistryClient,
    parallelism: int,
    offline: bool,
) -> list[Judged]:
    observed = observe_drift(
        spec,
        state,
        context=context or spec.cluster.context,
        registry=registry,
        parallelism=parallelism,
        offline=offline,
    )
    return [judged(state, plan, observed)]


def observe_drift(
    spec: Spec,
    cluster: SpawnerState,
    *,
    context: str | None,
    registry: RegistryClient,
    parallelism: int = 8,
    offline: bool = False,
) -> DriftObserved:
    from kfws.targets.spawner.config_yaml import read_spawner

    api = load_api(context)  # read as JSON (kube_api): the typed API classes cost seconds
    ns = cluster.namespace
    with api_errors("get", "configmaps", ns, cluster.config_map):
        cm = kube_api.get(api, kube_api.CONFIG_MAP, namespace=ns, name=cluster.config_map)
    managers = tuple(
        ManagerEntry(
            str(m.get("manager")),
            str(m.get("operation")),
            _stamp(m.get("time")),
            covers_key=covers_key(m.get("fieldsV1"), cluster.config_key),
        )
        for m in kube_api.field(cm, "metadata", "managedFields") or []
        if isinstance(m, dict)
    )
    live = read_spawner(cluster.config_text)
    record = _record(cluster.config_map, cluster.config_annotations, live.owned())
    record_keys = None
    if record is None:
        record = _record_elsewhere(api, ns, cluster.config_map)
    else:
        record_keys = set(owned_annotation(cluster.config_annotations) or {})
    with api_errors("get", "deployments", ns, cluster.deployment):
        dep = kube_api.get(api, kube_api.DEPLOYMENT, namespace=ns, name=cluster.deployment)
    labels = kube_api.str_map(kube_api.field(dep, "spec", "selector", "matchLabels"))
    selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
    with api_errors("list", "pods", ns):
        pods = kube_api.list_items(api, kube_api.PODS, label_selector=selector, namespace=ns)
    started = tuple(
        sorted(
            (
                str(kube_api.field(p, "metadata", "name")),
                _stamp(kube_api.field(p, "status", "startTime")) or "",
            )
            for p in pods
            if kube_api.field(p, "metadata", "deletionTimestamp") is None
        )
    )
    # only the groups this workspace declares: the others are left alone, and so unjudged
    declared = {g.key for g in spec.spawner.groups}
    managed = [g for g in live.groups if g.key in declared]
    refs = sorted({o for g in managed for o in g.options} | {g.value for g in managed if g.value})

    from kfws.observe.observe import check_externals

    # unreachable, --offline and check: false all end up as "unchecked" (DriftKind.UNCHECKED)
    states = check_externals(spec, refs, registry, parallelism=parallelism, offline=offline)
    digests = {r: s.digest for r, s in states.items() if not (s.error or s.skipped)}
    errors = {r: s.error or str(s.skipped) for r, s in states.items() if s.error or s.skipped}
    return DriftObserved(
        config_map=cluster.config_map,
        live_owned_hash=owned_hash(_scoped(live.owned(), record_keys)),
        record=record,
        managers=managers,
        pods_started=started,
        option_digests=digests,
        option_errors=errors,
        restart_mode=spec.cluster.restart.value,
        namespace=ns,
        live_text_hash=text_hash(cluster.config_text),
    )


def _scoped(owned: Mapping[str, Any], keys: set[str] | None) -> dict[str, Any]:
    """What kfws recorded covers only the groups and flags it applied: compare just those."""
    return dict(owned) if keys is None else {k: owned.get(k) for k in sorted(keys)}


def _record_elsewhere(api: Any, ns: str, mounted: str) -> AppliedRecord | None:
    """The web app mounts a ConfigMap kfws never wrote: did kfws write another one here before
    (a re-deploy of the manifests made a new hash-named ConfigMap)? The newest record wins."""
    with api_errors("list", "configmaps", ns):
        items = kube_api.list_items(api, kube_api.CONFIG_MAPS, namespace=ns)
    records = [
        r
        for cm in items
        for name, notes in [
            (
                str(kube_api.field(cm, "metadata", "name")),
                kube_api.str_map(kube_api.field(cm, "metadata", "annotations")),
            )
        ]
        if name != mounted and ANN_HASH in notes
        for r in [_record(name, notes)]
        if r is not None
    ]
    return max(records, key=lambda r: r.applied_at or "", default=None)
