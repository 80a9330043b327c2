"""Which Kubeflow notebooks exist cluster-wide, the image each one names, and the digest its pod
runs: `Notebook` objects (notebooks.kubeflow.org, in every profile namespace; the image is the
first container's, a stopped one carries `kubeflow-resource-stopped`) and their pods (label
`notebook-name`, `status.containerStatuses[].imageID`).

Reads only, in pages (a big cluster has thousands of pods). Needs the usage ClusterRole
(deploy/rbac/kfws-usage-clusterrole.yaml). Without it nothing fails: the answer says what
could not be seen and which permission enables it.
"""

from __future__ import annotations

from typing import Any

from kfws.errors import ClusterError
from kfws.observe import kube_api
from kfws.observe.cluster import api_error, load_api
from kfws.observe.kube_api import field, str_map
from kfws.usage.model import NOTEBOOK_LABEL, STOPPED_ANNOTATION, Notebooks, NotebookUse
from kfws.usage.refs import running_digest

GROUP = "kubeflow.org"
VERSIONS = ("v1", "v1beta1")  # Kubeflow 1.3+ serves v1; older releases v1beta1
PAGE = 500
USAGE_ROLE_FILE = "deploy/rbac/kfws-usage-clusterrole.yaml"
GRANT = f"`kfws rbac --role usage | kubectl apply -f -` ({USAGE_ROLE_FILE} in the source)"


def observe_notebooks(context: str | None) -> Notebooks:
    """Every notebook the identity may list, with the digests their pods run. Objects are read
    as JSON (kfws.observe.kube_api says why not through the typed API classes)."""
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    api = load_api(context)
    try:
        raw = _list_notebooks(api)
    except ApiException as e:
        if e.status == 403:
            return Notebooks(
                unseen=(
                    "which notebooks use which image: listing notebooks.kubeflow.org in all "
                    f"namespaces was refused (403); the usage ClusterRole allows it: {GRANT}",
                ),
                notebooks_visible=False,
            )
        raise api_error(e, "list", "notebooks.kubeflow.org", "(all namespaces)") from None
    except HTTPError as e:
        raise ClusterError(
            f"cannot reach the Kubernetes API to list notebooks: {e}",
            where="notebooks.kubeflow.org",
            hint="check the kubeconfig's server address and that the cluster is up",
        ) from None
    if raw is None:  # no Notebook CRD: no Kubeflow notebooks on this cluster
        return Notebooks()
    unseen: list[str] = []
    digests: dict[tuple[str, str], str] = {}
    try:
        digests = _pod_digests(api, [_name(nb) for nb in raw])
    except ApiException as e:
        if e.status != 403:
            raise api_error(e, "list", "pods", "(all namespaces)") from None
        unseen.append(
            "the digests running notebooks run: listing pods in all namespaces was refused "
            f"(403); notebooks are matched by the image they name only. {GRANT} allows it"
        )
    uses = []
    for nb in raw:
        ns, name = _name(nb)
        notes = _dict(nb, "metadata", "annotations")
        uses.append(
            NotebookUse(
                namespace=ns,
                name=name,
                image=_image(nb),
                stopped=STOPPED_ANNOTATION in notes,
                running_digest=digests.get((ns, name)),
            )
        )
    uses.sort(key=lambda u: (u.namespace, u.name))
    return Notebooks(tuple(uses), tuple(unseen))


def _list_notebooks(api: Any) -> list[dict[str, Any]] | None:
    """The Notebook objects of all namespaces; None when the API serves no Notebook version."""
    from kubernetes.client.exceptions import ApiException

    for version in VERSIONS:
        try:
            path, plural = kube_api.CUSTOM_OBJECTS, "notebooks"
            pages = kube_api.list_pages(
                api, path, limit=PAGE, group=GROUP, version=version, plural=plural
            )
            return list(pages)
        except ApiException as e:
            if e.status != 404:
                raise
    return None


def _pod_digests(api: Any, notebooks: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """(namespace, notebook) -> the registry digest its pod's notebook container runs."""
    wanted = set(notebooks)
    out: dict[tuple[str, str], str] = {}
    if not wanted:
        return out
    pods = kube_api.list_pages(api, kube_api.ALL_PODS, label_selector=NOTEBOOK_LABEL, limit=PAGE)
    for pod in pods:
        meta = field(pod, "metadata")
        key = (
            str(field(meta, "namespace")),
            str_map(field(meta, "labels")).get(NOTEBOOK_LABEL, ""),
        )
        statuses = [s for s in field(pod, "status", "containerStatuses") or [] if s]
        if key not in wanted or not statuses or field(meta, "deletionTimestamp"):
            continue
        # the notebook's own container (named after it; a sidecar may come first)
        status = next((s for s in statuses if field(s, "name") == key[1]), statuses[0])
        _, digest = running_digest(field(status, "imageID"))
        if digest:
            out[key] = digest
    return out


def _dict(value: Any, *keys: str) -> dict[str, Any]:
    """value[k1][k2]…, where every level must be a mapping (a hostile or odd object reads as
    empty, never a traceback)."""
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, dict) else {}


def _name(nb: dict[str, Any]) -> tuple[str, str]:
    meta = _dict(nb, "metadata")
    return str(meta.get("namespace", "")), str(meta.get("name", ""))


def _image(nb: dict[str, Any]) -> str:
    containers = _dict(nb, "spec", "template", "spec").get("containers")
    if not isinstance(containers, list) or not containers or not isinstance(containers[0], dict):
        return ""
    image = containers[0].get("image")
    return image if isinstance(image, str) else ""
