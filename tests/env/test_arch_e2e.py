"""The architecture check end to end: real KWOK nodes (amd64 as seeded, plus an arm64 one this
test adds), real images in the registry (the busybox base, amd64, and an arm64-only image made
from it through the registry API: a real manifest whose config says arm64), plan and apply from
the CLI as the least-privilege ServiceAccount, and the plan without the nodes ClusterRole."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
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

    # KWOK plays it; its report is what the kubelet would say of an arm64 machine. KWOK's
    # node-initialize stage writes `architecture: amd64` when it read none, and it may have read
    # the node before this patch: wait until KWOK has made it Ready, then (again) until it reports
    # arm64, patching it once more if KWOK's write came last
    def ready_arm64() -> bool:
        node = core.read_node_status(name)
        conditions = node.status.conditions or []
        if not any(c.type == "Ready" and c.status == "True" for c in conditions):
            return False
        info = node.status.node_info
        if info is not None and info.architecture == "arm64":
            return True
        core.patch_node_status(name, {"status": {"nodeInfo": {"architecture": "arm64"}}})
        return False

    core.patch_node_status(name, {"status": {"nodeInfo": {"architecture": "arm64"}}})
    k8s.wait_for(f"KWOK to run node {name} as arm64", ready_arm64, timeout=120)
    yield name
    core.delete_node(name)


def workspace(
    prefix: str, options: list[str], *, platform: str | None = None, engine: str | None = None
) -> dict[str, Any]:
    registry = need_env("KFWS_TEST_REGISTRY")
    nb: dict[str, Any] = {"name": "nb", "from": need_env("KFWS_TEST_BASE_IMAGE"), "env": {"A": "1"}}
    if platform:
        nb["platform"] = platform
    return {
        "apiVersion": "kfws/v1alpha1",
        "kind": "Workspace",
        "registry": {
            "default": f"{registry}/{prefix}",
            "registries": {registry: {"insecure": True}},
        },
        "build": {"network": "host", **({"engine": engine} if engine else {})},
        "cluster": {"namespace": k8s.namespace(), "restart": "none"},
        "images": [nb],
        "spawner": {"image": {"default": options[0], "options": options}},
    }


def warnings(tmp: Path, env: dict[str, str]) -> list[str]:
    result = run_kfws("plan", "--format", "json", cwd=tmp, env=env)
    assert result.code == 0, result.text
    # the architecture check's warnings (others, e.g. usage's, are not under test here)
    found: list[str] = json.loads(result.out)["warnings"]
    words = (" provides ", " builds ")
    return [w for w in found if any(v in w for v in words) or w.startswith("the architecture")]


def built_ref(tmp: Path, env: dict[str, str]) -> str:
    """The reference the plan builds nb under."""
    result = run_kfws("plan", "--format", "json", cwd=tmp, env=env)
    assert result.code == 0, result.text
    (build,) = [c for c in json.loads(result.out)["changes"] if c["kind"] == "build"]
    return str(build["target"])


@contextmanager
def without_nodes_role() -> Iterator[None]:
    """The kfws identities without the nodes ClusterRole's binding, put back afterwards."""
    rbac = client.RbacAuthorizationV1Api(k8s.admin_client())
    binding = rbac.read_cluster_role_binding(BINDING)
    rbac.delete_cluster_role_binding(BINDING)
    try:
        yield
    finally:
        binding.metadata = client.V1ObjectMeta(name=BINDING, labels=binding.metadata.labels)
        rbac.create_cluster_role_binding(binding)


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
    assert warnings(tmp_path, env) == []  # nb is built for the builder's own amd64: matches
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
    with without_nodes_role():
        write_workspace(tmp_path, workspace(unique("arch"), [arm64_image()]))
        assert warnings(tmp_path, env) == [
            "the architecture check was skipped: listing nodes is forbidden (403); bind the "
            "ClusterRole kfws-nodes-reader (get/list nodes: `kfws rbac --role nodes`) to enable it"
        ]


def test_a_build_no_node_can_run_is_refused_before_anything_is_built(
    tmp_path: Path, env: dict[str, str]
) -> None:
    write_workspace(tmp_path, workspace(unique("arch"), ["nb"], platform="linux/arm64"))
    ref = built_ref(tmp_path, env)
    expected = (
        f"{ref} builds only linux/arm64 (as the workspace sets), and the cluster's nodes are "
        "amd64: no node can run it (build it for one of them, e.g. `platform: linux/amd64`, or "
        "as a multi-platform image)"
    )
    assert warnings(tmp_path, env) == [expected]
    before = live_text()
    refused = run_kfws("apply", "--auto-approve", cwd=tmp_path, env=env)
    assert refused.code == 1, refused.text
    assert (
        "1 offered image this apply would build can't run on any node of the cluster; nothing "
        "was built or pushed and the cluster was not touched (it is exactly as it was)."
    ) in refused.err
    assert expected in refused.err
    assert f"{ref}: pushed" not in refused.err and "building" not in refused.err
    assert built_ref(tmp_path, env) == ref  # still to build: nothing reached the registry
    assert live_text() == before


@pytest.mark.parametrize(
    ("builder", "source"),
    [("docker", "the Docker Engine's platform"), ("buildkit", "BuildKit's default platform")],
)
def test_a_build_without_a_platform_is_judged_by_its_builder_s_own(
    tmp_path: Path, env: dict[str, str], arm64_node: str, builder: str, source: str
) -> None:
    write_workspace(tmp_path, workspace(unique("arch"), ["nb"], engine=builder))
    ref = built_ref(tmp_path, env)
    assert warnings(tmp_path, env) == [
        f"{ref} builds linux/amd64 ({source}): notebooks with it run only on the amd64 nodes, "
        "not on the arm64 ones"
    ]
    write_workspace(tmp_path, workspace(unique("arch"), ["nb"], platform="linux/arm64"))
    ref = built_ref(tmp_path, env)
    assert warnings(tmp_path, env) == [
        f"{ref} builds linux/arm64 (as the workspace sets): notebooks with it run only on the "
        "arm64 nodes, not on the amd64 ones"
    ]


ARM_FAILS = (
    "{arm} provides only linux/arm64/v8, and the cluster's nodes are amd64: no node can run it "
    "(build it for one of them, e.g. `platform: linux/amd64`, or as a multi-platform image)"
)


def test_kfws_check_fails_an_image_no_node_runs_without_running_it(
    tmp_path: Path, env: dict[str, str]
) -> None:
    arm, amd = arm64_image(), need_env("KFWS_TEST_BASE_IMAGE")
    write_workspace(tmp_path, workspace(unique("arch"), [amd]))
    env = {**env, "XDG_STATE_HOME": str(tmp_path / "state")}
    result = run_kfws("check", arm, amd, cwd=tmp_path, env=env)
    assert result.code == 1, result.text
    assert f"  ✗ {arm} ({arm}), architecture: FAILED\n      - {ARM_FAILS.format(arm=arm)}" in (
        result.out
    )
    assert f"{arm}: checking" not in result.err  # not run: no node could run it
    # the amd64 base matches the nodes: no architecture word about it; its contract ran
    assert f"{amd} ({amd}), architecture" not in result.out
    assert f"  ✓ {amd} ({amd}), Jupyter contract: passed in " in result.out
    assert "warning" not in result.err
    assert "1 of 2 checks failed" in result.err


def test_kfws_check_notes_nodes_an_image_can_not_run_on(
    tmp_path: Path, env: dict[str, str], arm64_node: str
) -> None:
    amd = need_env("KFWS_TEST_BASE_IMAGE")
    write_workspace(tmp_path, workspace(unique("arch"), [amd]))
    env = {**env, "XDG_STATE_HOME": str(tmp_path / "state")}
    result = run_kfws("check", amd, "kfws-test/not-pushed:1", cwd=tmp_path, env=env)
    assert (
        f"warning: {amd} provides linux/amd64: notebooks with it run only on the amd64 nodes, "
        "not on the arm64 ones"
    ) in result.err
    # a registry the workspace does not name is not asked (no traffic to Docker Hub)
    assert (
        "warning: the architecture of kfws-test/not-pushed:1 was not checked: its registry "
        "(docker.io) is not in the workspace's `registry.registries`"
    ) in result.err


def test_kfws_check_without_the_nodes_cluster_role_says_the_check_was_skipped(
    tmp_path: Path, env: dict[str, str]
) -> None:
    with without_nodes_role():
        arm = arm64_image()
        write_workspace(tmp_path, workspace(unique("arch"), [arm]))
        env = {**env, "XDG_STATE_HOME": str(tmp_path / "state")}
        result = run_kfws("check", arm, cwd=tmp_path, env=env)
        assert (
            "warning: the architecture check was skipped: listing nodes is forbidden (403); bind "
            "the ClusterRole kfws-nodes-reader (get/list nodes: `kfws rbac --role nodes`) to "
            "enable it"
        ) in result.err
        assert "architecture: FAILED" not in result.out  # not judged: its contract runs
