"""Which Kubeflow notebooks exist cluster-wide, the image each one names, and the digest its pod
runs: `Notebook` objects (notebooks.kubeflow.org, in every profile namespace; the image is the
first container's, a stopped one carries `kubeflow-resource-stopped`) and their pods (label
`notebook-name`, `status.containerStatuses[].imageID`).

Reads only, in pages (a big cluster has thousands of pods). Needs the usage ClusterRole
(deploy/rbac/kfws-usage-clusterrole.yaml). Without it nothing fails: the answer says what
could not be seen and which permission enables it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from kfws.errors import ClusterError
from kfws.observe.cluster import REQUEST_TIMEOUT, api_error, load_api
from kfws.usage.model import NOTEBOOK_LABEL, STOPPED_ANNOTATION, Notebooks, NotebookUse
from kfws.usage.refs import running_digest

GROUP = "kubeflow.org"
VERSIONS = ("v1", "v1beta1")  # Kubeflow 1.3+ serves v1; older releases v1beta1
PAGE = 500
USAGE_ROLE_FILE = "deploy/rbac/kfws-usage-clusterrole.yaml"
GRANT = f"`kfws rbac --role usage | kubectl apply -f -` ({USAGE_ROLE_FILE} in the source)"


def observe_notebooks(context: str | None) -> Notebooks:
    """Every notebook the identity may list, with the digests their pods run."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    api = load_api(context)
    custom = client.CustomObjectsApi(api)
    core = client.CoreV1Api(api)
    try:
        raw = _list_notebooks(custom)
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
        digests = _pod_digests(core, [_name(nb) for nb in raw])
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
        meta = nb.get("metadata") or {}
        notes = meta.get("annotations") or {}
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


def _pages(list_page: Callable[..., Any]) -> Iterator[Any]:
    token = None
    while True:
        page = list_page(limit=PAGE, _continue=token, _request_timeout=REQUEST_TIMEOUT)
        yield page
        if isinstance(page, dict):
            token = (page.get("metadata") or {}).get("continue")
        else:
            token = page.metadata._continue if page.metadata is not None else None
        if not token:
            return


def _list_notebooks(custom: Any) -> list[dict[str, Any]] | None:
    """The Notebook objects of all namespaces; None when the API serves no Notebook version."""
    from kubernetes.client.exceptions import ApiException

    for version in VERSIONS:
        try:
            items: list[dict[str, Any]] = []
            for page in _pages(
                lambda v=version, **kw: custom.list_cluster_custom_object(
                    GROUP, v, "notebooks", **kw
                )
            ):
                items.extend(i for i in page.get("items") or [] if isinstance(i, dict))
            return items
        except ApiException as e:
            if e.status != 404:
                raise
    return None


def _pod_digests(core: Any, notebooks: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """(namespace, notebook) -> the registry digest its pod's notebook container runs."""
    wanted = set(notebooks)
    out: dict[tuple[str, str], str] = {}
    if not wanted:
        return out
    for page in _pages(
        lambda **kw: core.list_pod_for_all_namespaces(label_selector=NOTEBOOK_LABEL, **kw)
    ):
        for pod in page.items:
            key = (str(pod.metadata.namespace), str((pod.metadata.labels or {})[NOTEBOOK_LABEL]))
            statuses = (pod.status.container_statuses or []) if pod.status else []
            if key not in wanted or not statuses or pod.metadata.deletion_timestamp:
                continue
            # the notebook's own container (named after it; a sidecar may come first)
            status = next((s for s in statuses if s.name == key[1]), statuses[0])
            _, digest = running_digest(status.image_id)
            if digest:
                out[key] = digest
    return out


def _name(nb: dict[str, Any]) -> tuple[str, str]:
    meta = nb.get("metadata") or {}
    return str(meta.get("namespace", "")), str(meta.get("name", ""))


def _image(nb: dict[str, Any]) -> str:
    spec = ((nb.get("spec") or {}).get("template") or {}).get("spec") or {}
    containers = spec.get("containers") if isinstance(spec, dict) else None
    if not isinstance(containers, list) or not containers or not isinstance(containers[0], dict):
        return ""
    image = containers[0].get("image")
    return image if isinstance(image, str) else ""
