"""A plan a reviewer can read, end to end from the CLI against the real registry and cluster.

Sizes: the live spawner offers jupyter-tf:2.15, the
workspace moves it to 2.16 (bigger by ~3 MB of incompressible bytes, both pushed to the real
registry) and adds an image still to build. Text, Markdown and JSON show each size, the delta
and "known after build".

Why: kfws builds and offers an image (its inputs recorded in a label), then the build context
changes; the plan names the files added and changed, read from the label of the image the live
spawner offers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
import yaml
from kubernetes import client

from kfws.render.sizes import delta, human
from tests.conftest import need_env
from tests.env import k8s_helpers as k8s
from tests.env.kfws_cli import run_kfws, unique, write_workspace
from tests.env.test_registry import _docker_push, registry_env
from tests.env.test_registry_sizes import blob_sizes, build_sized


@pytest.fixture
def kube_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    k8s.reseed()
    yield {
        "KUBECONFIG": need_env("KFWS_TEST_KUBECONFIG_RESTRICTED"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }
    k8s.reseed()


def _offer_by_hand(ns: str, option: str) -> None:
    """An admin put `option` into the live image list (kubectl edit)."""
    api = k8s.admin_client()
    name = k8s.configmap_of(client.AppsV1Api(api), ns)
    core = client.CoreV1Api(api)
    doc = yaml.safe_load(core.read_namespaced_config_map(name, ns).data[k8s.CONFIG_KEY])
    doc["spawnerFormDefaults"]["image"]["options"].append(option)
    core.patch_namespaced_config_map(
        name,
        ns,
        {"data": {k8s.CONFIG_KEY: yaml.safe_dump(doc)}},
        field_manager="kubectl-edit",
        _content_type="application/merge-patch+json",
    )


def test_plan_shows_sizes_and_the_change(tmp_path: Path, kube_env: dict[str, str]) -> None:
    reg = registry_env()
    prefix = unique("sizes")
    repo = f"{prefix}/jupyter-tf"
    engine = docker.DockerClient(base_url=need_env("DOCKER_HOST"))
    for tag, extra in (("2.15", 1_000_000), ("2.16", 4_000_000)):
        engine_image = build_sized(engine, need_env("KFWS_TEST_BASE_IMAGE"), extra)
        engine_image.tag(f"{reg.open}/{repo}", tag)
        _docker_push(engine, f"{reg.open}/{repo}", tag)
    old, new = f"{reg.open}/{repo}:2.15", f"{reg.open}/{repo}:2.16"
    old_size = blob_sizes(reg, reg.open, "2.15", repo)
    new_size = blob_sizes(reg, reg.open, "2.16", repo)
    ns = k8s.namespace()
    _offer_by_hand(ns, old)
    write_workspace(
        tmp_path,
        {
            "apiVersion": "kfws/v1alpha1",
            "kind": "Workspace",
            "registry": {
                "default": f"{reg.open}/{prefix}",
                "registries": {reg.open: {"insecure": True}},
            },
            "cluster": {"namespace": ns, "restart": "none"},
            "images": [{"name": "nb", "from": need_env("KFWS_TEST_BASE_IMAGE")}],
            "spawner": {"image": {"default": "nb", "options": ["nb", new]}},
        },
    )
    text = run_kfws("plan", cwd=tmp_path, env=kube_env)
    assert text.code == 0, text.text
    words = f"{human(new_size)}, {delta(new_size, old_size)} (replaces {old}, {human(old_size)})"
    assert f"size of {new}: {words}" in text.out
    assert "      size   size known after build" in text.out  # nb: not built yet
    md = run_kfws("plan", "--format", "markdown", cwd=tmp_path, env=kube_env)
    assert "| offered image | size |" in md.out
    row = next(line for line in md.out.splitlines() if line.startswith(f"| `{new}` |"))
    assert row.endswith(f"| {words} |")
    plan = json.loads(run_kfws("plan", "--format", "json", cwd=tmp_path, env=kube_env).out)
    spawner = next(c for c in plan["changes"] if c["kind"] == "update-spawner")
    assert {
        "image": new,
        "bytes": new_size,
        "source": "registry",
        "replaces": old,
        "replacesBytes": old_size,
    } in spawner["details"]["sizes"]


def test_plan_names_the_inputs_that_changed(tmp_path: Path, kube_env: dict[str, str]) -> None:
    registry = need_env("KFWS_TEST_REGISTRY")
    context = tmp_path / "nb"
    context.mkdir()
    (context / "Dockerfile").write_text(
        f"FROM {need_env('KFWS_TEST_BASE_IMAGE')}\nCOPY . /opt/app/\n"
    )
    (context / "app.py").write_text("print(1)\n")
    write_workspace(
        tmp_path,
        {
            "apiVersion": "kfws/v1alpha1",
            "kind": "Workspace",
            "registry": {
                "default": f"{registry}/{unique('why')}",
                "registries": {registry: {"insecure": True}},
            },
            "cluster": {"namespace": k8s.namespace(), "restart": "none"},
            "build": {"network": "host"},
            "images": [{"name": "nb", "build": {"context": "nb"}}],
            "spawner": {"image": {"default": "nb", "options": ["nb"]}},
        },
    )
    # the stand-in image is no JupyterLab: skip the contract check, which is not under test
    applied = run_kfws("apply", "--auto-approve", "--skip-check", "nb", cwd=tmp_path, env=kube_env)
    assert applied.code == 0, applied.text
    (context / "app.py").write_text("print(2)\n")
    (context / "data.csv").write_text("a,b\n")
    plan = run_kfws("plan", cwd=tmp_path, env=kube_env)
    assert plan.code == 0, plan.text
    assert "      why    context files added: data.csv" in plan.out
    assert "      why    context files changed: app.py" in plan.out
    assert "Dockerfile" not in plan.out.split("why", 1)[1].split("\n", 1)[0]
    md = run_kfws("plan", "--format", "markdown", cwd=tmp_path, env=kube_env)
    assert "- context files changed: app.py" in md.out
