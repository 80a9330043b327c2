"""The spawner target's observer: find the Jupyter web app and the spawner config it mounts.

Reads only what the plan needs, in the one namespace: the web app's Deployment (a label-selected
list in that namespace, or a get by name), the ConfigMap(s) it mounts (gets by name) — no
cluster-wide lists, no watches — so it is cheap on a big cluster and works under the
read-only Role in deploy/rbac/kfws-readonly-role.yaml. Both are read as JSON through the
official ApiClient (kfws.observe.kube_api), not the typed API classes.

The `kubernetes` package is imported inside functions: `kfws validate` never loads it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kfws.errors import ClusterError
from kfws.observe import kube_api
from kfws.observe.cluster import api_error, api_errors, detect_gitops, load_api
from kfws.observe.kube_api import field, str_map
from kfws.spec.model import ClusterSpec
from kfws.targets.spawner.state import SpawnerState

CONFIG_KEY = "spawner_ui_config.yaml"
APP_SELECTORS = ("app=jupyter-web-app", "app.kubernetes.io/name=jupyter-web-app")


def find_deployment(api: Any, spec: ClusterSpec) -> dict[str, Any]:
    ns = spec.namespace
    if spec.deployment:
        with api_errors("get", "deployments", ns, spec.deployment):
            return kube_api.get(api, kube_api.DEPLOYMENT, namespace=ns, name=spec.deployment)
    found = find_by_labels(api, spec)
    if found is not None:
        return found
    with api_errors("list", "deployments", ns):
        others = kube_api.list_items(api, kube_api.DEPLOYMENTS, namespace=ns)
    listed = ", ".join(sorted(_name(d) for d in others)) or "none"
    raise ClusterError(
        f"no Jupyter web app Deployment in namespace {ns} (looked for labels "
        f"{' and '.join(APP_SELECTORS)}); Deployments there: {listed}",
        where=f"namespace {ns}",
        hint="set `cluster.namespace` to where Kubeflow runs, or `cluster.deployment: NAME`",
    )


def find_by_labels(api: Any, spec: ClusterSpec) -> dict[str, Any] | None:
    """The web app's Deployment, by the first of its labels that matches; None when neither
    does. Several matches, or a refused list (403), raise ClusterError."""
    ns = spec.namespace
    for selector in APP_SELECTORS:
        with api_errors("list", "deployments", ns):
            found = kube_api.list_items(
                api, kube_api.DEPLOYMENTS, label_selector=selector, namespace=ns
            )
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            names = ", ".join(sorted(_name(d) for d in found))
            raise ClusterError(
                f"several Deployments match {selector} in namespace {ns}: {names}",
                where=f"namespace {ns}",
                hint="choose one with `cluster.deployment: NAME` in workspace.yaml",
            )
    return None


def _name(obj: dict[str, Any]) -> str:
    return str(field(obj, "metadata", "name") or "")


def mounted_config_maps(deployment: dict[str, Any]) -> list[str]:
    """ConfigMaps the pod template mounts (volumes and projected sources), in volume order."""
    names: list[str] = []
    for vol in field(deployment, "spec", "template", "spec", "volumes") or []:
        if field(vol, "configMap", "name"):
            names.append(str(field(vol, "configMap", "name")))
        for src in field(vol, "projected", "sources") or []:
            if field(src, "configMap", "name"):
                names.append(str(field(src, "configMap", "name")))
    return list(dict.fromkeys(names))


def find_config_map(api: Any, spec: ClusterSpec, deployment: dict[str, Any]) -> dict[str, Any]:
    ns = spec.namespace
    dep = _name(deployment)
    if spec.config_map:
        mounted = mounted_config_maps(deployment)
        if spec.config_map not in mounted:
            # editing a ConfigMap the web app does not read changes nothing users see, and the
            # restart after it would be for nothing: name the one it reads instead
            reads = (
                f"it mounts {', '.join(mounted)}" if mounted else "it mounts no ConfigMap at all"
            )
            raise ClusterError(
                f"cluster.configMap is {spec.config_map}, but the web app Deployment {dep} does "
                f"not mount it ({reads}): an edit there would not reach the spawner",
                where=f"deployment/{ns}/{dep}",
                hint=(
                    f"set `cluster.configMap: {mounted[0]}` (or `auto`) in workspace.yaml"
                    if len(mounted) == 1
                    else "set `cluster.configMap` to the one it mounts (or `auto`)"
                ),
            )
        with api_errors("get", "configmaps", ns, spec.config_map):
            cm = kube_api.get(api, kube_api.CONFIG_MAP, namespace=ns, name=spec.config_map)
        data = str_map(cm.get("data"))
        if CONFIG_KEY not in data:
            raise ClusterError(
                f"ConfigMap {spec.config_map} has no key {CONFIG_KEY} "
                f"(keys: {', '.join(sorted(data)) or 'none'})",
                where=f"configmap/{ns}/{spec.config_map}",
                hint="point `cluster.configMap` at the web app's spawner config",
            )
        return cm
    from kubernetes.client.exceptions import ApiException

    candidates = mounted_config_maps(deployment)
    with_key: list[dict[str, Any]] = []
    without: list[dict[str, Any]] = []
    missing: list[str] = []
    with api_errors("get", "configmaps", ns):
        for name in candidates:
            try:
                cm = kube_api.get(api, kube_api.CONFIG_MAP, namespace=ns, name=name)
            except ApiException as e:
                if e.status != 404:
                    raise api_error(e, "get", "configmaps", ns, name) from None
                missing.append(name)
                continue
            (with_key if CONFIG_KEY in str_map(cm.get("data")) else without).append(cm)
    if len(with_key) == 1:
        return with_key[0]
    found = _describe(
        [
            ("with the key", [_name(c) for c in with_key]),
            ("without it", [_name(c) for c in without]),
            ("missing", missing),
        ]
    )
    if not with_key:
        raise ClusterError(
            f"Deployment {dep} mounts no ConfigMap holding {CONFIG_KEY} ({found})",
            where=f"deployment/{ns}/{dep}",
            hint="name it with `cluster.configMap: NAME` in workspace.yaml",
        )
    raise ClusterError(
        f"Deployment {dep} mounts several ConfigMaps holding {CONFIG_KEY} ({found})",
        where=f"deployment/{ns}/{dep}",
        hint="choose one with `cluster.configMap: NAME` in workspace.yaml",
    )


def _describe(groups: Iterable[tuple[str, list[str]]]) -> str:
    parts = [f"{label}: {', '.join(names)}" for label, names in groups if names]
    return "; ".join(parts) or "it mounts no ConfigMap"


def _meta(kind: str, obj: dict[str, Any]) -> tuple[str, dict[str, str], dict[str, str], list[str]]:
    meta = field(obj, "metadata")
    managers = [str(m["manager"]) for m in _managed(obj) if m.get("manager")]
    return (
        f"{kind}/{_name(obj)}",
        str_map(field(meta, "labels")),
        str_map(field(meta, "annotations")),
        managers,
    )


def _managed(obj: dict[str, Any]) -> list[dict[str, Any]]:
    entries = field(obj, "metadata", "managedFields")
    return [m for m in entries if isinstance(m, dict)] if isinstance(entries, list) else []


def observe_cluster(cluster_spec: ClusterSpec, *, context: str | None) -> SpawnerState:
    """The live spawner config and the web app serving it. Raises ClusterError when they can't
    be found unambiguously, or the API refuses. Reads the objects as JSON (kfws.observe.kube_api
    says why not through the typed API classes)."""
    api = load_api(context or cluster_spec.context)
    return _state(api, cluster_spec, find_deployment(api, cluster_spec))


def observe_if_there(cluster_spec: ClusterSpec, *, context: str | None) -> SpawnerState | None:
    """As observe_cluster, for a workspace that declares nothing of the spawner (usage and
    prune read every target): None when the namespace has no Jupyter web app at all (a
    Notebooks 2.0-only cluster offers nothing through a 1.x spawner). Everything else still
    raises: a refused or failed read (prune must not guess), several web apps, a web app
    without its spawner config, and a Deployment or ConfigMap the workspace names
    (`cluster.deployment`, `cluster.configMap`: it says there is one)."""
    api = load_api(context or cluster_spec.context)
    if cluster_spec.deployment or cluster_spec.config_map:
        return _state(api, cluster_spec, find_deployment(api, cluster_spec))
    dep = find_by_labels(api, cluster_spec)
    return None if dep is None else _state(api, cluster_spec, dep)


def _state(api: Any, cluster_spec: ClusterSpec, dep: dict[str, Any]) -> SpawnerState:
    cm = find_config_map(api, cluster_spec, dep)
    meta = field(cm, "metadata")
    return SpawnerState(
        namespace=cluster_spec.namespace,
        deployment=_name(dep),
        deployment_generation=int(field(dep, "metadata", "generation") or 0),
        deployment_labels=str_map(field(dep, "metadata", "labels")),
        config_map=_name(cm),
        config_map_resource_version=str(field(meta, "resourceVersion")),
        config_key=CONFIG_KEY,
        config_text=str_map(cm.get("data"))[CONFIG_KEY],
        config_annotations=str_map(field(meta, "annotations")),
        gitops_owner=detect_gitops([_meta("ConfigMap", cm), _meta("Deployment", dep)]),
        deployment_selector=str_map(field(dep, "spec", "selector", "matchLabels")),
        config_managers=tuple(
            (str(m.get("manager")), str(m.get("operation")), _rfc3339(m.get("time")))
            for m in _managed(cm)
        ),
    )


def _rfc3339(t: Any) -> str | None:
    if t is None:
        return None
    return str(t.strftime("%Y-%m-%dT%H:%M:%SZ") if hasattr(t, "strftime") else t)
