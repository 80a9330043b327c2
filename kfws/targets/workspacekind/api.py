"""The WorkspaceKind target's only contact with the cluster: read a kind by name, list the kinds
(for import), and write one by server-side apply; as JSON through kfws.observe.kube_api, like
the spawner target (no typed API class). The `kubernetes` package is imported inside functions:
`kfws validate` never loads it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kfws.errors import ApplyError, ClusterError, KfwsError, StalePlanError
from kfws.observe import kube_api
from kfws.targets.workspacekind.model import FIELD_MANAGER

GROUP, VERSION, PLURAL = "kubeflow.org", "v1beta1", "workspacekinds"
API_VERSION = f"{GROUP}/{VERSION}"
KIND = kube_api.CUSTOM_OBJECTS + "/{name}"  # WorkspaceKinds are cluster-scoped
APPLY_PATCH = "application/apply-patch+yaml"
REQUEST_TIMEOUT = 30.0
RBAC_HINT = (
    "give kfws's identity the WorkspaceKind ClusterRole: `kfws rbac --workspacekinds NAME... | "
    "kubectl apply -f -` (deploy/rbac/kfws-workspacekinds-role.yaml)"
)


@contextmanager
def kind_errors(verb: str, name: str | None) -> Iterator[None]:
    """API failures as one clean error naming the verb and the kind."""
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    what = f"workspacekind/{name}" if name else "workspacekinds"
    try:
        yield
    except ApiException as e:
        status = int(e.status or 0)
        if status == 403:
            raise ClusterError(
                f"the Kubernetes API refused to {verb} {what} (403 Forbidden)",
                where=what,
                hint=RBAC_HINT,
            ) from None
        if status == 404:
            raise ClusterError(
                f"{what} not found (or the WorkspaceKind CRD, kubeflow.org/v1beta1, is not "
                "installed)",
                where=what,
                hint="kfws manages the image values of kinds that exist: create the kind, or "
                "fix its name under `workspaceKinds:`",
            ) from None
        if status == 409:
            raise _conflict(e, what) from None
        raise ClusterError(
            f"the Kubernetes API failed to {verb} {what} ({status}: {_reason(e)})", where=what
        ) from None
    except HTTPError as e:
        raise ClusterError(
            f"cannot reach the Kubernetes API to {verb} {what}: {type(e).__name__}",
            where=what,
            hint="check the kubeconfig's server address and that the cluster is up",
        ) from None


def _body(e: Any) -> dict[str, Any]:
    import json

    try:
        body = json.loads(e.body)
    except (ValueError, TypeError):
        return {}
    return body if isinstance(body, dict) else {}


def _reason(e: Any) -> str:
    return str(_body(e).get("message") or getattr(e, "reason", ""))[:300]


def _conflict(e: Any, what: str) -> KfwsError:
    """A 409 is either a field another manager owns (server-side apply, not forced) or the
    resourceVersion precondition (the kind changed since it was read)."""
    causes = (_body(e).get("details") or {}).get("causes") or []
    owned = sorted(
        f"{c.get('field')} ({str(c.get('message', '')).removeprefix('conflict with ')})"
        for c in causes
        if isinstance(c, dict) and c.get("reason") == "FieldManagerConflict"
    )
    if owned:
        return ApplyError(
            f"{what}: the apply was refused and nothing was written: fields kfws would change "
            f"are managed by another field manager: {'; '.join(owned)[:1000]}",
            where=what,
            hint="these fields are someone else's: change them where they are managed, or "
            "leave them out of the workspace file (e.g. the kind's `default:` or that value)",
        )
    return StalePlanError(
        f"{what} changed since the plan (409 Conflict: resourceVersion moved); nothing was written",
        where=what,
        hint="run `kfws plan` again and review what changed",
    )


def get_kind(api: Any, name: str) -> dict[str, Any]:
    with kind_errors("get", name):
        return kube_api.get(api, KIND, group=GROUP, version=VERSION, plural=PLURAL, name=name)


def list_kinds(api: Any, *, missing_ok: bool = False) -> list[dict[str, Any]] | None:
    """Every kind; `missing_ok`: None when the cluster has no WorkspaceKind API (404)."""
    from kubernetes.client.exceptions import ApiException

    with kind_errors("list", None):
        try:
            return list(
                kube_api.list_pages(
                    api, kube_api.CUSTOM_OBJECTS, group=GROUP, version=VERSION, plural=PLURAL
                )
            )
        except ApiException as e:
            if missing_ok and e.status == 404:
                return None
            raise


def server_side_apply(
    api: Any, name: str, body: dict[str, Any], *, dry_run: bool = False
) -> dict[str, Any]:
    """Server-side apply as field manager `kfws`, never forced (the API's default: `force` is
    not sent): a field another manager owns is a 409 reported as such. `body` carries
    metadata.resourceVersion: a kind changed since it was read is a 409 too. Nothing is
    written on either."""
    with kind_errors("patch", name):
        return kube_api.write(
            api,
            "PATCH",
            KIND,
            body,
            field_manager=FIELD_MANAGER,
            dry_run=dry_run,
            content_type=APPLY_PATCH,
            group=GROUP,
            version=VERSION,
            plural=PLURAL,
            name=name,
        )
