"""Reading and writing Kubernetes objects as plain JSON dicts, through the official client's
wire layer: the plan's reads, and apply's, rollback's, drift's, unlock's and prune's reads and
writes (the Lease, the ConfigMap patch and its backups, the rollout).

Why not the typed API classes (`client.CoreV1Api`, `client.AppsV1Api`): in kubernetes 37 each
API module builds, when imported, a pydantic model for every type its operations name;
`CoreV1Api` alone is ~180 models (≈ 2-3 s of a `kfws plan` on a loaded 2-core machine), for a
plan that reads one Deployment and one ConfigMap. kfws reads a handful of fields, so it asks for
the JSON and reads it as dicts (the field names are the API's own camelCase ones).

What stays the official client's (`kubernetes.client.ApiClient` from `kubernetes.config`):
kubeconfig and in-cluster loading, exec and token plugins (the token is refreshed per request in
`param_serialize`), TLS and client certificates, proxies, retries, and `ApiException` for a
non-2xx answer (so callers' 401/403/404 handling is the same as with the typed classes). Path
parameters go through `param_serialize` too, which percent-encodes them: a name read from the
live cluster can't reach another path.

Nothing here imports `kubernetes` at module level: importing this module costs nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from kfws.errors import ClusterError

REQUEST_TIMEOUT = 30.0  # seconds, per API request

DEPLOYMENTS = "/apis/apps/v1/namespaces/{namespace}/deployments"
DEPLOYMENT = DEPLOYMENTS + "/{name}"
CONFIG_MAPS = "/api/v1/namespaces/{namespace}/configmaps"
CONFIG_MAP = CONFIG_MAPS + "/{name}"
PODS = "/api/v1/namespaces/{namespace}/pods"
POD = PODS + "/{name}"
ALL_PODS = "/api/v1/pods"
LEASES = "/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases"
LEASE = LEASES + "/{name}"
SELF_SUBJECT_REVIEWS = "/apis/authentication.k8s.io/v1/selfsubjectreviews"
MERGE_PATCH = "application/merge-patch+json"
CUSTOM_OBJECTS = "/apis/{group}/{version}/{plural}"  # of all namespaces


def request(
    api: Any,
    method: str,
    path: str,
    params: dict[str, str],
    *,
    query: list[tuple[str, str]] | None = None,
    body: dict[str, Any] | None = None,
    content_type: str = "application/json",
    timeout: float = REQUEST_TIMEOUT,
) -> dict[str, Any]:
    """One API call; returns the JSON object answered. `path` is a template whose `{...}` are
    filled (percent-encoded) from `params`. Raises the client's ApiException for a non-2xx
    answer and urllib3's HTTPError when the server can't be reached, as the typed classes do."""
    from kubernetes.client.exceptions import ApiException

    headers = {"Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = content_type
    serialized = api.param_serialize(
        method=method,
        resource_path=path,
        path_params=params,
        query_params=query or [],
        header_params=headers,
        body=body,
        auth_settings=["BearerToken"],  # what every typed operation names
    )
    response = api.call_api(*serialized, _request_timeout=timeout)
    response.read()
    raw: bytes = response.data or b""
    if not 200 <= response.status <= 299:
        raise ApiException.from_response(
            http_resp=response, body=raw.decode("utf-8", "replace"), data=None
        )
    try:
        answer = json.loads(raw)
    except ValueError:  # also UnicodeDecodeError
        answer = None
    if not isinstance(answer, dict):
        where = path.format(**params)
        raise ClusterError(
            f"the Kubernetes API answered {method} {where} with no JSON object",
            where=f"namespace {params.get('namespace', '?')}",
            hint="check that the kubeconfig's server is a Kubernetes API server",
        )
    return answer


def get(api: Any, path: str, **params: str) -> dict[str, Any]:
    """GET one object, e.g. `get(api, CONFIG_MAP, namespace=ns, name=name)`."""
    return request(api, "GET", path, params)


def write(
    api: Any,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    *,
    field_manager: str | None = None,
    dry_run: bool = False,
    content_type: str = "application/json",
    **params: str,
) -> dict[str, Any]:
    """POST (create), PUT (replace), PATCH or DELETE, with the query parameters the typed
    operations send: `fieldManager`, and `dryRun=All` for a server-side dry run. A PUT or a
    PATCH whose body names `metadata.resourceVersion` is refused with 409 when the object moved
    (the precondition the callers rely on)."""
    query = [("fieldManager", field_manager)] if field_manager else []
    if dry_run:
        query.append(("dryRun", "All"))
    return request(api, method, path, params, query=query, body=body, content_type=content_type)


def list_items(
    api: Any, path: str, *, label_selector: str | None = None, **params: str
) -> list[dict[str, Any]]:
    """The `items` of a list GET (one page: kfws lists only a namespace's web app Deployments)."""
    query = [("labelSelector", label_selector)] if label_selector else None
    return _items(request(api, "GET", path, params, query=query))


def list_pages(
    api: Any, path: str, *, label_selector: str | None = None, limit: int = 500, **params: str
) -> Iterator[dict[str, Any]]:
    """Every item of a list, `limit` per request, following `metadata.continue` (a cluster-wide
    list of pods can be thousands long)."""
    token: str | None = None
    while True:
        query = [("limit", str(limit))]
        if label_selector:
            query.append(("labelSelector", label_selector))
        if token:
            query.append(("continue", token))
        page = request(api, "GET", path, params, query=query)
        yield from _items(page)
        token = field(page, "metadata", "continue")
        if not token or not isinstance(token, str):
            return


def _items(page: dict[str, Any]) -> list[dict[str, Any]]:
    items = page.get("items")
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def field(obj: dict[str, Any] | None, *keys: str) -> Any:
    """obj[k1][k2]... or None when a step is missing or not an object (fields the API server
    omits when empty, like `data` or `labels`, read as None as with the typed models)."""
    cur: Any = obj
    for key in keys:
        if not isinstance(cur, dict):
            return None
        cur = cur.get(key)
    return cur


def str_map(value: Any) -> dict[str, str]:
    """A labels / annotations / data map: only string keys and values, the rest dropped."""
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}
