"""Helpers over the environment's WorkspaceKinds (hack/k8s/workspacekind/): the seeded kind put
back as seeded (deleted and created again, so no field manager a test left behind survives), its
values and usage counts read and set as the controller would, through the status subresource."""

from __future__ import annotations

import subprocess
from typing import Any

from kubernetes import client

from tests.conftest import need_env
from tests.env import k8s_helpers as k8s

GROUP, VERSION, PLURAL = "kubeflow.org", "v1beta1", "workspacekinds"
KIND = "jupyterlab"
SEED = k8s.ROOT / "hack" / "k8s" / "workspacekind" / "seed.sh"


def reseed_kinds(timeout: float = 120) -> None:
    """The seeded WorkspaceKinds back to the seed, with their status (same as env-k8s's reseed
    does for them, without touching the namespaces)."""
    log = k8s.ROOT / ".kfws-env" / "k8s" / "seed.log"
    proc = subprocess.run(
        [
            "bash",
            str(SEED),
            "reseed",
            need_env("KFWS_TEST_KUBECTL"),
            need_env("KFWS_TEST_KUBECONFIG_ADMIN"),
            str(k8s.ROOT),
            str(log),
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if proc.returncode != 0:
        raise AssertionError(f"seed.sh reseed failed ({proc.returncode}); see {log}")


def get(api: client.ApiClient, name: str = KIND) -> dict[str, Any]:
    obj: dict[str, Any] = client.CustomObjectsApi(api).get_cluster_custom_object(
        GROUP, VERSION, PLURAL, name
    )
    return obj


def values(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["id"]: v for v in obj["spec"]["podTemplate"]["options"]["imageConfig"]["values"]}


def default(obj: dict[str, Any]) -> str:
    return str(obj["spec"]["podTemplate"]["options"]["imageConfig"]["spawner"]["default"])


def set_usage(api: client.ApiClient, usage: dict[str, int], name: str = KIND) -> None:
    """What the controller would report: `usage` (id -> workspaces) merged into the kind's
    status.podTemplateOptions.imageConfig (a list keyed by id: a JSON merge patch replaces the
    list, so the current entries are carried over)."""
    current = {
        m["id"]: m["workspaces"]
        for m in get(api, name)
        .get("status", {})
        .get("podTemplateOptions", {})
        .get("imageConfig", [])
    }
    current.update(usage)
    metrics = [{"id": i, "workspaces": n} for i, n in current.items()]
    client.CustomObjectsApi(api).patch_cluster_custom_object_status(
        GROUP,
        VERSION,
        PLURAL,
        name,
        {"status": {"podTemplateOptions": {"imageConfig": metrics}}},
    )
