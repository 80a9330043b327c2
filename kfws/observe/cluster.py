"""The Kubernetes adapter shared by every cluster target: the API client from the kubeconfig,
who kfws acts as, API failures turned into one clean error naming the verb and object (with the
Role to fix a 403), and who syncs an object from Git. What each target reads lives in its
package (kfws.targets.NAME).

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

RBAC_FILE = "deploy/rbac/kfws-role.yaml"
READ_ONLY_RBAC_FILE = "deploy/rbac/kfws-readonly-role.yaml"
READ_VERBS = ("get", "list", "watch")


# (kubeconfig path, context, each file's identity and mtime, in a pod?) -> its ApiClient
_APIS: dict[tuple[Any, ...], Any] = {}


def load_api(context: str | None) -> Any:
    """An ApiClient from the kubeconfig (`KUBECONFIG` honoured, several files merged as kubectl
    does) and the given context; inside a pod without a kubeconfig, the pod's ServiceAccount.

    One per kubeconfig (as it is on disk now) and context for the life of the process: a plan
    reads the web app, its ConfigMap and the nodes through one load of the kubeconfig (each
    load parses it again, writes its certificates out, runs its exec plugin) and one TLS
    connection. Expiring tokens are the client's to refresh (its refresh_api_key_hook)."""
    path = os.environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")
    files = tuple(_file_identity(p) for p in path.split(os.pathsep) if p)
    key = (path, context, files, os.environ.get("KUBERNETES_SERVICE_HOST"))
    if key not in _APIS:
        _APIS[key] = _new_api(path, context)
    return _APIS[key]


def _file_identity(path: str) -> tuple[int, int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)


def _new_api(path: str, context: str | None) -> Any:
    from kubernetes import config

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
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    review = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    try:  # as JSON (kube_api): the typed AuthenticationV1Api would import its models
        answer = kube_api.write(api, "POST", kube_api.SELF_SUBJECT_REVIEWS, review)
        user = kube_api.field(answer, "status", "userInfo", "username")
        if isinstance(user, str) and user:
            return user
    except (ApiException, HTTPError, ClusterError):
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

    try:
        yield
    except ApiException as e:
        raise api_error(e, verb, resource, namespace, name) from None
    except HTTPError as e:
        raise unreachable(e, verb, resource, namespace, name) from None


def unreachable(
    e: Exception, verb: str, resource: str, namespace: str, name: str | None = None
) -> ClusterError:
    what = f"{resource}/{name}" if name else resource
    return ClusterError(
        f"cannot reach the Kubernetes API to {verb} {what}: {_short(e)}",
        where=f"namespace {namespace}",
        hint="check the kubeconfig's server address and that the cluster is up",
    )


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
