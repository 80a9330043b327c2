"""The architecture check end to end: real KWOK nodes (amd64 as seeded, plus an arm64 one this
test adds), real images in the registry (the busybox base, amd64, and an arm64-only image made
from it through the registry API: a real manifest whose config says arm64), plan and apply from
the CLI as the least-privilege ServiceAccount, and the plan without the nodes ClusterRole."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from kubernetes import client

from tests.conftest import need_env
from tests.env import k8s_helpers as k8s
from tests.env.kfws_cli import run_kfws, unique, write_workspace

MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
BINDING = "kfws-nodes-reader-kubeflow"


@pytest.fixture
def env(pristine: None) -> dict[str, str]:
    """kfws as the writer ServiceAccount (subprocesses), on the pristine seed."""
    return {"KUBECONFIG": need_env("KFWS_TEST_KUBECONFIG_RESTRICTED")}


def arm64_image() -> str:
    """The busybox base re-labelled as linux/arm64/v8 (same layers, a new config), pushed to a
    new repository of the open registry: what a registry holds for an arm64-only image."""
    registry = need_env("KFWS_TEST_REGISTRY")
    base = need_env("KFWS_TEST_BASE_IMAGE").removeprefix(f"{registry}/")
    repo, tag = base.rsplit(":", 1)
    url = f"http://{registry}/v2"
    r = requests.get(f"{url}/{repo}/manifests/{tag}", headers={"Accept": MANIFEST}, timeout=30)
    r.raise_for_status()
    manifest = r.json()
    config = requests.get(f"{url}/{repo}/blobs/{manifest['config']['digest']}", timeout=30).json()
    config.update(architecture="arm64", variant="v8")
    body = json.dumps(config).encode()
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    target = f"archtest/{unique('arm64')}"
    for layer in manifest["layers"]:  # the same layers, mounted from the base's repository
        mounted = requests.post(
            f"{url}/{target}/blobs/uploads/?mount={layer['digest']}&from={repo}", timeout=30
        )
        assert mounted.status_code == 201, mounted.text
    upload = requests.post(f"{url}/{target}/blobs/uploads/", timeout=30)
    location = upload.headers["Location"]
    location = location if location.startswith("http") else f"http://{registry}{location}"
    sep = "&" if "?" in location else "?"
    requests.put(f"{location}{sep}digest={digest}", data=body, timeout=30).raise_for_status()
    manifest["config"] = {**manifest["config"], "digest": digest, "size": len(body)}
    put = requests.put(
        f"{url}/{target}/manifests/arm64",
        data=json.dumps(manifest).encode(),
        headers={"Content-Type": MANIFEST},
        timeout=30,
    )
    assert put.status_code == 201, put.text
    return f"{registry}/{target}:arm64"


@pytest.fixture
def arm64_node() -> Iterator[str]:
    """A KWOK node reporting arm64, tainted so that no pod of the other tests lands on it."""
    core = client.CoreV1Api(k8s.admin_client())
    name = unique("kwok-node-arm64")
    core.create_node(
        client.V1Node(
            metadata=client.V1ObjectMeta(
                name=name,
                annotations={"kwok.x-k8s.io/node": "fake"},
                labels={"type": "kwok", "kubernetes.io/arch": "arm64", "kubernetes.io/os": "linux"},
            ),
            spec=client.V1NodeSpec(
                taints=[client.V1Taint(key="kfws-test/arm64", value="1", effect="NoSchedule")]
            ),
        )
    )
    # KWOK plays it; its report is what the kubelet would say of an arm64 machine
    core.patch_node_status(name, {"status": {"nodeInfo": {"architecture": "arm64"}}})
    yield name
    core.delete_node(name)


def workspace(prefix: str, options: list[str]) -> dict[str, Any]:
    registry = need_env("KFWS_TEST_REGISTRY")
    return {
        "apiVersion": "kfws/v1alpha1",
        "kind": "Workspace",
        "registry": {
            "default": f"{registry}/{prefix}",
            "registries": {registry: {"insecure": True}},
        },
        "build": {"network": "host"},
        "cluster": {"namespace": k8s.namespace(), "restart": "none"},
        "images": [{"name": "nb", "from": need_env("KFWS_TEST_BASE_IMAGE"), "env": {"A": "1"}}],
        "spawner": {"image": {"default": options[0], "options": options}},
    }


def warnings(tmp: Path, env: dict[str, str]) -> list[str]:
    result = run_kfws("plan", "--format", "json", cwd=tmp, env=env)
    assert result.code == 0, result.text
    # the architecture check's warnings (others, e.g. usage's, are not under test here)
    found: list[str] = json.loads(result.out)["warnings"]
    return [w for w in found if " provides " in w or w.startswith("the architecture check")]


def live_text() -> str:
    api = k8s.admin_client()
    ns = k8s.namespace()
    name = k8s.configmap_of(client.AppsV1Api(api), ns)
    data = client.CoreV1Api(api).read_namespaced_config_map(name, ns).data
    return str(data[k8s.CONFIG_KEY])


def test_matching_images_pass_and_an_arm64_only_one_is_refused(
    tmp_path: Path, env: dict[str, str]
) -> None:
    write_workspace(tmp_path, workspace(unique("arch"), ["nb", need_env("KFWS_TEST_BASE_IMAGE")]))
    applied = run_kfws("apply", "--auto-approve", "--skip-check", "nb", cwd=tmp_path, env=env)
    assert applied.code == 0, applied.text  # amd64 images, amd64 nodes: nothing to say
    assert warnings(tmp_path, env) == []

    arm = arm64_image()
    write_workspace(tmp_path, workspace(unique("arch"), ["nb", arm]))
    expected = (
        f"{arm} provides only linux/arm64/v8, and the cluster's nodes are amd64: no node can run "
        "it (build it for one of them, e.g. `platform: linux/amd64`, or as a multi-platform image)"
    )
    assert warnings(tmp_path, env) == [expected]
    before = live_text()
    refused = run_kfws("apply", "--auto-approve", "--skip-check", "nb", cwd=tmp_path, env=env)
    assert refused.code == 1, refused.text
    assert "1 offered image can't run on any node of the cluster; the cluster was not touched" in (
        refused.err
    )
    assert expected in refused.err and "pushed before this check: " in refused.err
    assert live_text() == before  # not offered


def test_an_arm64_node_makes_each_image_run_on_some_nodes_only(
    tmp_path: Path, env: dict[str, str], arm64_node: str
) -> None:
    arm = arm64_image()
    amd = need_env("KFWS_TEST_BASE_IMAGE")
    write_workspace(tmp_path, workspace(unique("arch"), [amd, arm]))
    expected = [
        f"{amd} provides linux/amd64: notebooks with it run only on the amd64 nodes, not on "
        "the arm64 ones",
        f"{arm} provides linux/arm64/v8: notebooks with it run only on the arm64 nodes, not "
        "on the amd64 ones",
    ]
    assert sorted(warnings(tmp_path, env)) == sorted(expected)
    applied = run_kfws("apply", "--auto-approve", "--skip-check", "nb", cwd=tmp_path, env=env)
    assert applied.code == 0, applied.text  # some node can run each: offered


def test_without_the_nodes_cluster_role_the_plan_says_what_it_could_not_see(
    tmp_path: Path, env: dict[str, str]
) -> None:
    rbac = client.RbacAuthorizationV1Api(k8s.admin_client())
    binding = rbac.read_cluster_role_binding(BINDING)
    rbac.delete_cluster_role_binding(BINDING)
    try:
        write_workspace(tmp_path, workspace(unique("arch"), [arm64_image()]))
        assert warnings(tmp_path, env) == [
            "the architecture check was skipped: listing nodes is forbidden (403); bind the "
            "ClusterRole kfws-nodes-reader (get/list nodes: `kfws rbac --role nodes`) to enable it"
        ]
    finally:
        binding.metadata = client.V1ObjectMeta(name=BINDING, labels=binding.metadata.labels)
        rbac.create_cluster_role_binding(binding)
