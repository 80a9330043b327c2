"""Plans you can trust and nightly drift, end to end from the CLI against the real registry and
cluster, as the least-privilege ServiceAccount (issue: saved plans, staleness, drift)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
import requests
import yaml
from kubernetes import client

from tests.conftest import need_env
from tests.env import k8s_helpers as k8s
from tests.env.kfws_cli import run_kfws, unique, write_workspace

MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    k8s.reseed()
    # its own state folder: no contract-check pass remembered from another test
    yield {
        "KUBECONFIG": need_env("KFWS_TEST_KUBECONFIG_RESTRICTED"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }
    k8s.reseed()


def workspace(prefix: str, options: list[str]) -> dict[str, Any]:
    registry = need_env("KFWS_TEST_REGISTRY")
    base = need_env("KFWS_TEST_BASE_IMAGE")
    return {
        "apiVersion": "kfws/v1alpha1",
        "kind": "Workspace",
        "registry": {
            "default": f"{registry}/{prefix}",
            "registries": {registry: {"insecure": True}},
        },
        "cluster": {"namespace": k8s.namespace(), "restart": "rollout"},
        "build": {"network": "host"},  # the local dockerd has no bridge network
        "images": [
            {
                # sudo needs a base with sudo (or apt to install it): the Debian one; and a
                # JupyterLab, since apply checks every offered image (the base has none)
                "name": "nb-sudo",
                "from": need_env("KFWS_TEST_PYTHON_BASE_IMAGE"),
                "sudo": "passwordless",
                "pip": ["jupyterlab==4.*"],
            },
            {"name": "nb-data", "from": base, "folders": ["/home/jovyan/data"]},
        ],
        "spawner": {"image": {"default": options[0], "options": options}},
    }


def live_config(ns: str) -> tuple[str, str]:
    api = k8s.admin_client()
    name = k8s.configmap_of(client.AppsV1Api(api), ns)
    cm = client.CoreV1Api(api).read_namespaced_config_map(name, ns)
    return name, cm.data[k8s.CONFIG_KEY]


def edit_by_hand(ns: str, drop: str, manager: str = "kubectl-edit") -> None:
    """What an admin does with `kubectl edit`: remove an option line, as field manager `manager`."""
    name, text = live_config(ns)
    new = "\n".join(line for line in text.splitlines() if drop not in line) + "\n"
    client.CoreV1Api(k8s.admin_client()).patch_namespaced_config_map(
        name,
        ns,
        {"data": {k8s.CONFIG_KEY: new}},
        field_manager=manager,
        _content_type="application/merge-patch+json",
    )


def test_saved_plan_staleness_apply_and_drift(tmp_path: Path, env: dict[str, str]) -> None:
    ns = k8s.namespace()
    prefix = unique("plans")
    write_workspace(tmp_path, workspace(prefix, ["nb-sudo", "nb-data"]))

    # plan --out: images to build and the spawner to change
    planned = run_kfws("plan", "--out", "plan.json", cwd=tmp_path, env=env)
    assert planned.code == 0, planned.text
    assert "Plan: 2 to build, 2 to check, 1 to change, 1 to restart." in planned.out
    saved = json.loads((tmp_path / "plan.json").read_text())
    kinds = {c["kind"] for c in saved["changes"]}
    assert kinds == {"build", "check", "update-spawner", "restart-webapp"}
    assert any(f["key"].startswith("configmap:") for f in saved["fingerprint"])

    # the same inputs give a byte-identical plan
    again = run_kfws("plan", "--out", "plan2.json", cwd=tmp_path, env=env)
    assert again.code == 0
    assert (tmp_path / "plan.json").read_bytes() == (tmp_path / "plan2.json").read_bytes()

    # Markdown for the PR comment
    md = run_kfws("plan", "--format", "markdown", cwd=tmp_path, env=env)
    assert "| update-spawner | `configmap/" in md.out and "```diff" in md.out

    # someone edits the ConfigMap between plan and apply: the saved plan is stale
    edit_by_hand(ns, "jupyter-pytorch-full")
    _, before = live_config(ns)
    stale = run_kfws("apply", "plan.json", cwd=tmp_path, env=env)
    assert stale.code == 1
    assert "stale" in stale.err and "nothing was touched" in stale.err
    assert "was changed since the plan" in stale.err and "'kubectl-edit'" in stale.err
    assert "absent" not in stale.err  # the ConfigMap and everything else still exist
    assert live_config(ns)[1] == before  # the cluster is exactly as it was
    assert (
        "build" in run_kfws("plan", "--format", "json", cwd=tmp_path, env=env).out
    )  # nothing pushed

    # show still renders the stale plan, with the warning on top
    shown = run_kfws("show", "plan.json", cwd=tmp_path, env=env)
    assert shown.code == 0
    assert shown.out.startswith("WARNING: this saved plan does not match a fresh plan")

    # re-plan and apply: then nothing is left to do
    assert run_kfws("plan", "--out", "plan.json", cwd=tmp_path, env=env).code == 0
    applied = run_kfws("apply", "plan.json", cwd=tmp_path, env=env)
    assert applied.code == 0, applied.text
    assert "2 built, 2 pushed, 2 checked, 2 cluster changes" in applied.out
    assert applied.out.count("Jupyter contract: passed in ") == 2
    assert run_kfws("plan", "--detailed-exitcode", cwd=tmp_path, env=env).code == 0
    clean = run_kfws("drift", cwd=tmp_path, env=env)
    assert clean.code == 0, clean.text
    assert clean.out.endswith("No drift.\n")

    # an out-of-band edit: drift exits 2 naming the field manager
    options = yaml.safe_load(live_config(ns)[1])["spawnerFormDefaults"]["image"]["options"]
    data_ref = next(o for o in options if "/nb-data:" in o)
    edit_by_hand(ns, data_ref, manager="kubectl-edit")
    drift = run_kfws("drift", cwd=tmp_path, env=env)
    assert drift.code == 2, drift.text
    assert "changed-out-of-band" in drift.out and "'kubectl-edit'" in drift.out
    assert "not-as-declared" in drift.out

    # JUnit for CI: parses as XML, the drifted checks fail
    junit = run_kfws("drift", "--format", "junit", cwd=tmp_path, env=env)
    assert junit.code == 2
    suite = ET.fromstring(junit.out.split("?>", 1)[1]).find("testsuite")  # noqa: S314 (ours)
    assert suite is not None
    cm = live_config(ns)[0]
    assert [c.get("name") for c in suite if len(c)] == [
        f"ConfigMap {ns}/{cm} matches workspace.yaml",
        f"ConfigMap {ns}/{cm} unchanged since the last apply",
    ]

    # put it back, then delete an offered image from the registry: drift names the dangling option
    assert run_kfws("apply", "--auto-approve", cwd=tmp_path, env=env).code == 0
    registry = need_env("KFWS_TEST_REGISTRY")
    repo, tag = data_ref.removeprefix(registry + "/").rsplit(":", 1)
    head = requests.head(
        f"http://{registry}/v2/{repo}/manifests/{tag}", headers={"Accept": MANIFEST}, timeout=10
    )
    digest = head.headers["Docker-Content-Digest"]
    assert requests.delete(f"http://{registry}/v2/{repo}/manifests/{digest}", timeout=10).ok
    dangling = run_kfws("drift", "--format", "json", cwd=tmp_path, env=env)
    assert dangling.code == 2, dangling.text
    findings = json.loads(dangling.out)["findings"]
    assert any(f["kind"] == "dangling-image" and f["subject"] == data_ref for f in findings)


def test_a_changed_workspace_file_makes_the_saved_plan_refused(
    tmp_path: Path, env: dict[str, str]
) -> None:
    write_workspace(tmp_path, workspace(unique("ws"), ["nb-sudo"]))
    assert run_kfws("plan", "--out", "plan.json", cwd=tmp_path, env=env).code == 0
    doc = workspace(unique("ws"), ["nb-sudo", "nb-data"])
    write_workspace(tmp_path, doc)
    refused = run_kfws("apply", "plan.json", cwd=tmp_path, env=env)
    assert refused.code == 1
    assert "workspace file changed since the plan" in refused.err


def test_plan_files_hold_no_credentials(tmp_path: Path, env: dict[str, str]) -> None:
    auth_registry = need_env("KFWS_TEST_REGISTRY_AUTH")
    doc = workspace(unique("cred"), ["nb-sudo"])
    doc["registry"]["default"] = f"{auth_registry}/cred"
    doc["registry"]["registries"][auth_registry] = {"caFile": need_env("KFWS_TEST_CA_FILE")}
    write_workspace(tmp_path, doc)
    assert run_kfws("plan", "--out", "plan.json", cwd=tmp_path, env=env).code == 0
    config = json.loads((Path(need_env("DOCKER_CONFIG")) / "config.json").read_text())
    secret = config["auths"][auth_registry]["auth"]
    text = (tmp_path / "plan.json").read_text()
    password = base64.b64decode(secret).decode().split(":", 1)[1]
    assert secret not in text and password not in text


def test_drift_sees_a_redeploy_and_a_moved_tag(tmp_path: Path, env: dict[str, str]) -> None:
    ns = k8s.namespace()
    write_workspace(tmp_path, workspace(unique("redeploy"), ["nb-sudo", "nb-data"]))
    assert run_kfws("apply", "--auto-approve", cwd=tmp_path, env=env).code == 0
    assert run_kfws("drift", cwd=tmp_path, env=env).code == 0

    # a tag moved: push another image under the nb-sudo reference kfws applied
    import docker

    options = yaml.safe_load(live_config(ns)[1])["spawnerFormDefaults"]["image"]["options"]
    sudo_ref = next(o for o in options if "/nb-sudo:" in o)
    engine = docker.DockerClient(base_url=need_env("DOCKER_HOST"))
    other = engine.images.get(need_env("KFWS_TEST_BASE_IMAGE"))
    repo, tag = sudo_ref.rsplit(":", 1)
    other.tag(repo, tag)
    for _ in engine.api.push(repo, tag=tag, stream=True, decode=True):
        pass
    moved = run_kfws("drift", "--format", "json", cwd=tmp_path, env=env)
    assert moved.code == 2, moved.text
    kinds = {(f["kind"], f["subject"]) for f in json.loads(moved.out)["findings"]}
    assert ("tag-moved", sudo_ref) in kinds

    # a re-deploy of the Kubeflow manifests: a new hash-named ConfigMap with the pristine lists,
    # and the Deployment now mounts it
    api = k8s.admin_client()
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    new_name = "jupyter-web-app-config-redeploy01"
    core.create_namespaced_config_map(
        ns,
        client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name=new_name),
            data={k8s.CONFIG_KEY: k8s.pristine_config("kf1.10")},
        ),
    )
    dep = apps.read_namespaced_deployment(k8s.DEPLOYMENT, ns)
    volumes = [
        {"name": v.name, "configMap": {"name": new_name}}
        for v in dep.spec.template.spec.volumes
        if v.config_map is not None
    ]
    apps.patch_namespaced_deployment(
        k8s.DEPLOYMENT, ns, {"spec": {"template": {"spec": {"volumes": volumes}}}}
    )
    replaced = run_kfws("drift", cwd=tmp_path, env=env)
    assert replaced.code == 2, replaced.text
    assert "configmap-replaced" in replaced.out and new_name in replaced.out
    assert "re-deployed" in replaced.out
