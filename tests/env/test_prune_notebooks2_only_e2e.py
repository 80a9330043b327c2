"""`kfws prune` where Kubeflow runs Notebooks 2.0 only: a namespace with no Jupyter web app (so no
spawner ConfigMap), on the real API server, as the read-only identity with the read-only Role
there. The spawner target offers nothing there, so prune goes on (saying so); a namespace where
the Deployments can't be listed (no Role: 403) still stops it before anything is deleted, and so
does a missing web app that the workspace declares a spawner for."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from kfws.rbac import render
from tests.conftest import need_env
from tests.env import k8s_helpers as k8s
from tests.env.kfws_cli import Result, run_kfws, unique, write_workspace
from tests.env.registry_push import Pusher, kfws_labels


@pytest.fixture
def namespaces(admin: client.ApiClient) -> Iterator[tuple[str, str]]:
    """(a namespace with the read-only Role and no web app, one without the Role)."""
    core, rbac = client.CoreV1Api(admin), client.RbacAuthorizationV1Api(admin)
    readable, closed = unique("kf2-only"), unique("kf2-closed")
    for ns in (readable, closed):
        core.create_namespace({"metadata": {"name": ns}})
    docs = [d for d in yaml.safe_load_all(render("read-only", namespace=k8s.namespace())) if d]
    for doc in docs:  # the Role as `kfws rbac` prints it, bound to the environment's identity
        if doc["kind"] == "Role":
            rbac.create_namespaced_role(readable, doc)
        elif doc["kind"] == "RoleBinding":
            rbac.create_namespaced_role_binding(readable, doc)
    yield readable, closed
    for ns in (readable, closed):
        core.delete_namespace(ns)


def workspace(folder: Path, registry: str, prefix: str, **more: Any) -> Path:
    """Builds into registry/prefix/nb; declares no spawner (a Notebooks 2.0 workspace) unless
    `more` does."""
    return write_workspace(
        folder,
        {
            "apiVersion": "kfws/v1alpha1",
            "kind": "Workspace",
            "registry": {
                "default": f"{registry}/{prefix}",
                "registries": {registry: {"insecure": True}},
            },
            "cluster": {"namespace": k8s.namespace()},
            "images": [{"name": "nb", "from": need_env("KFWS_TEST_BASE_IMAGE")}],
            **more,
        },
    )


def prune(ws: Path, namespace: str, *args: str) -> Result:
    env = {"KUBECONFIG": need_env("KFWS_TEST_KUBECONFIG_READONLY")}
    return run_kfws("prune", "--namespace", namespace, *args, "-f", str(ws), cwd=ws.parent, env=env)


def test_prune_without_a_jupyter_web_app_prunes_and_a_refused_read_still_stops_it(
    tmp_path: Path, namespaces: tuple[str, str]
) -> None:
    readable, closed = namespaces
    registry = need_env("KFWS_TEST_REGISTRY")
    prefix = unique("kfws-prune-kf2")
    name = f"{prefix}/nb"
    push = Pusher(registry)
    for day in (1, 2):
        push.image(
            name,
            [f"t{day}"],
            labels=kfws_labels("nb", f"{prefix}-{day}"),
            created=f"2026-11-0{day}T00:00:00Z",
            content=f"{prefix}-{day}",
        )
    ws = workspace(tmp_path, registry, prefix)

    refused = prune(ws, closed, "--keep", "1", "--yes")
    assert refused.code == 1, refused.text
    assert f"refused to list deployments in namespace {closed} (403 Forbidden)" in refused.err
    assert push.tags(name) == {"t1", "t2"}

    dry = prune(ws, readable, "--keep", "1", "--format", "json")
    assert dry.code == 0, dry.text
    assert (
        f"no Jupyter web app in namespace {readable}: the Kubeflow 1.x spawner offers nothing "
        "there (if it runs in another namespace, set `cluster.namespace` or pass --namespace)"
    ) in dry.err
    got: dict[str, Any] = {t["tag"]: t["action"] for t in json.loads(dry.out)["tags"]}
    assert got == {"t2": "keep", "t1": "delete"}
    done = prune(ws, readable, "--keep", "1", "--yes")
    assert done.code == 0, done.text
    assert "Deleted 1 tag (1 manifest)" in done.out
    assert push.tags(name) == {"t2"}

    # a workspace that declares the spawner says there is a web app: its absence is an error
    base = need_env("KFWS_TEST_BASE_IMAGE")
    spawner = {"image": {"default": base, "options": [base]}}
    declared = workspace(tmp_path / "declared", registry, prefix, spawner=spawner)
    missing = prune(declared, readable, "--keep", "0", "--yes")
    assert missing.code == 1, missing.text
    assert f"no Jupyter web app Deployment in namespace {readable}" in missing.err
    assert push.tags(name) == {"t2"}
