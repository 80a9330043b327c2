"""The narrow Kubernetes adapter: find the Jupyter web app and the spawner config it mounts.

Reads only what the plan needs, in the one namespace: the web app's Deployment (a label-selected
list in that namespace, or a get by name), the ConfigMap(s) it mounts (gets by name) — no
cluster-wide lists, no watches — so it is cheap on a big cluster and works under the
read-only Role in deploy/rbac/kfws-readonly-role.yaml.

The `kubernetes` package is imported inside functions: `kfws validate` never loads it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from kfws.errors import ClusterError
from kfws.observe import kube_api
from kfws.observe.kube_api import REQUEST_TIMEOUT as REQUEST_TIMEOUT  # the apply modules' too
from kfws.observe.kube_api import field, str_map
from kfws.observe.model import ClusterState
from kfws.spec.model import ClusterSpec

CONFIG_KEY = "spawner_ui_config.yaml"
RBAC_FILE = "deploy/rbac/kfws-role.yaml"
READ_ONLY_RBAC_FILE = "deploy/rbac/kfws-readonly-role.yaml"
READ_VERBS = ("get", "list", "watch")
APP_SELECTORS = ("app=jupyter-web-app", "app.kubernetes.io/name=jupyter-web-app")


def load_api(context: str | None) -> Any:
    """An ApiClient from the kubeconfig (`KUBECONFIG` honoured, several files merged as kubectl
    does) and the given context; inside a pod without a kubeconfig, the pod's ServiceAccount."""
    from kubernetes import config

    path = os.environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")
    has_file = any(os.path.exists(p) for p in path.split(os.pathsep) if p)
    if not has_file and os.environ.get("KUBERNETES_SERVICE_HOST") and context is None:
        from kubernetes import client

        cfg = client.Configuration()
        config.load_incluster_config(client_configuration=cfg)  # type: ignore[no-untyped-call]
        return client.ApiClient(cfg)
    try:
        return config.new_client_from_config(config_file=path, context=context)  # type: ignore[no-untyped-call]
    except config.ConfigException as e:
        raise ClusterError(
            f"cannot load the kubeconfig ({e})",
            where=f"kubeconfig {path}" + (f", context {context}" if context else ""),
            hint="set KUBECONFIG, or pick a context with --context / cluster.context",
        ) from None
    except (OSError, ValueError, TypeError) as e:
        raise ClusterError(
            f"cannot load the kubeconfig: {e}",
            where=f"kubeconfig {path}",
            hint="set KUBECONFIG to a readable kubeconfig",
        ) from None


def acting_identity(api: Any, context: str | None) -> str:
    """Who the API server sees kfws as, for the audit records (backups' "by", the applied-by
    annotation, the lock's holder): the SelfSubjectReview (authentication.k8s.io/v1, GA in
    Kubernetes 1.28, allowed to every authenticated user), else the kubeconfig's user name."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    try:
        review = client.AuthenticationV1Api(api).create_self_subject_review(
            client.V1SelfSubjectReview(), _request_timeout=REQUEST_TIMEOUT
        )
        info = review.status.user_info if review.status else None
        user = info.username if info else None
        if user:
            return str(user)
    except (ApiException, HTTPError, ValueError, AttributeError):
        pass  # an older API server, or the review refused: the kubeconfig says who we meant
    return kubeconfig_user(context)


def kubeconfig_user(context: str | None) -> str:
    from kubernetes import config

    path = os.environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")
    try:
        contexts, active = config.list_kube_config_contexts(config_file=path)  # type: ignore[no-untyped-call]
    except (config.ConfigException, OSError, ValueError, TypeError):
        sa = os.environ.get("KUBERNETES_SERVICE_HOST") and _in_cluster_account()
        return sa or "an unknown Kubernetes user"
    chosen = next((c for c in contexts if c.get("name") == context), active) if context else active
    user = ((chosen or {}).get("context") or {}).get("user")
    return f"kubeconfig user {user}" if user else "an unknown Kubernetes user"


def _in_cluster_account() -> str | None:
    ns_file = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
    try:
        with open(ns_file, encoding="utf-8") as f:
            return f"a ServiceAccount in namespace {f.read().strip()}"
    except OSError:
        return None


@contextmanager
def api_errors(verb: str, resource: str, namespace: str, name: str | None = None) -> Iterator[None]:
    """Turns API failures into one clean ClusterError naming the verb and resource."""
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    what = f"{resource}/{name}" if name else resource
    try:
        yield
    except ApiException as e:
        raise api_error(e, verb, resource, namespace, name) from None
    except HTTPError as e:
        raise ClusterError(
            f"cannot reach the Kubernetes API to {verb} {what}: {_short(e)}",
            where=f"namespace {namespace}",
            hint="check the kubeconfig's server address and that the cluster is up",
        ) from None


def api_error(
    e: Any, verb: str, resource: str, namespace: str, name: str | None = None
) -> ClusterError:
    status = int(getattr(e, "status", 0) or 0)
    what = f"{resource}/{name}" if name else resource
    where = f"namespace {namespace}"
    if status == 403:
        return ClusterError(
            f"the Kubernetes API refused to {verb} {what} in namespace {namespace} "
            f"(403 Forbidden{_reason(e)})",
            where=where,
            hint=_rbac_hint(verb, resource, namespace),
        )
    if status == 401:
        return ClusterError(
            "the Kubernetes API did not accept kfws's credentials (401 Unauthorized)",
            where=where,
            hint="refresh the kubeconfig's token or certificate (e.g. log in again)",
        )
    if status == 404:
        return ClusterError(f"{what} not found in namespace {namespace}", where=where)
    return ClusterError(
        f"the Kubernetes API failed to {verb} {what} ({status or 'error'}{_reason(e)})",
        where=where,
    )


def _rbac_hint(verb: str, resource: str, namespace: str) -> str:
    if verb in READ_VERBS and resource != "leases":  # only writers take the lock
        return (
            f"the identity kfws runs as needs `{verb}` on `{resource}` there; plan and drift "
            f"need only the read-only Role: `kfws rbac --role read-only | kubectl apply -n "
            f"{namespace} -f -` ({READ_ONLY_RBAC_FILE} in the source), or ask your cluster "
            "admin to"
        )
    return (
        f"writing needs the writer Role, which names the objects it may change: `kfws rbac "
        f"--role writer --detect | kubectl apply -n {namespace} -f -` ({RBAC_FILE} in the "
        "source; re-run it when a re-deploy renamed the spawner ConfigMap). A read-only "
        "identity (CI's plan job) can plan and check drift, not apply"
    )


def _reason(e: Any) -> str:
    reason = getattr(e, "reason", None)
    return f": {reason}" if reason and str(reason) not in ("Forbidden", "") else ""


def _short(e: Exception) -> str:
    text = str(e)
    return text if len(text) < 200 else text[:200] + "…"


def find_deployment(api: Any, spec: ClusterSpec) -> dict[str, Any]:
    ns = spec.namespace
    if spec.deployment:
        with api_errors("get", "deployments", ns, spec.deployment):
            return kube_api.get(api, kube_api.DEPLOYMENT, namespace=ns, name=spec.deployment)
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
    with api_errors("list", "deployments", ns):
        others = kube_api.list_items(api, kube_api.DEPLOYMENTS, namespace=ns)
    listed = ", ".join(sorted(_name(d) for d in others)) or "none"
    raise ClusterError(
        f"no Jupyter web app Deployment in namespace {ns} (looked for labels "
        f"{' and '.join(APP_SELECTORS)}); Deployments there: {listed}",
        where=f"namespace {ns}",
        hint="set `cluster.namespace` to where Kubeflow runs, or `cluster.deployment: NAME`",
    )


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


def detect_gitops(
    objects: Iterable[tuple[str, Mapping[str, str], Mapping[str, str], list[str]]],
) -> str | None:
    """Who syncs these objects from Git, if anyone: (kind/name, labels, annotations, managedFields
    managers) per object -> "Argo CD (application X, tracking the ConfigMap)" / "Flux ..." / None.
    A bare `app.kubernetes.io/instance` label is not enough (Kubeflow's own manifests set it):
    it counts only together with another Argo CD trace."""
    for what, labels, notes, managers in objects:
        tracking = notes.get("argocd.argoproj.io/tracking-id")
        if tracking:
            app = tracking.split(":", 1)[0]
            return f"Argo CD (application {app}, tracking {what})"
        argo_trace = any(k.startswith("argocd.argoproj.io/") for k in notes) or any(
            m.startswith("argocd") for m in managers
        )
        instance = labels.get("app.kubernetes.io/instance")
        if instance and argo_trace:
            return f"Argo CD (application {instance}, tracking {what})"
        for kind, controller, res in (
            ("kustomize", "kustomize-controller", "Kustomization"),
            ("helm", "helm-controller", "HelmRelease"),
        ):
            name = labels.get(f"{kind}.toolkit.fluxcd.io/name")
            if name or any(k.startswith(f"{kind}.toolkit.fluxcd.io/") for k in labels):
                owner_ns = labels.get(f"{kind}.toolkit.fluxcd.io/namespace", "")
                ref = f"{owner_ns}/{name}" if owner_ns and name else name or "?"
                return f"Flux {controller} ({res} {ref}, applying {what})"
        for controller in ("kustomize-controller", "helm-controller"):
            if controller in managers:
                return f"Flux {controller} (field manager of {what})"
        if argo_trace:
            return f"Argo CD (tracking {what})"
    return None


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


def observe_cluster(cluster_spec: ClusterSpec, *, context: str | None) -> ClusterState:
    """The live spawner config and the web app serving it. Raises ClusterError when they can't
    be found unambiguously, or the API refuses. Reads the objects as JSON (kfws.observe.kube_api
    says why not through the typed API classes)."""
    api = load_api(context or cluster_spec.context)
    dep = find_deployment(api, cluster_spec)
    cm = find_config_map(api, cluster_spec, dep)
    meta = field(cm, "metadata")
    return ClusterState(
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
