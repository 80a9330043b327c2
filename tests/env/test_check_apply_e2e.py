"""apply's check step end to end: a broken image is pushed but never offered, the cluster is left
exactly as it was, and `--skip-check` is the explicit way past it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from tests.conftest import need_env
from tests.env import k8s_helpers as k8s
from tests.env.kfws_cli import run_kfws, unique, write_workspace


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    k8s.reseed()
    yield {
        "KUBECONFIG": need_env("KFWS_TEST_KUBECONFIG_RESTRICTED"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }
    k8s.reseed()


def live_text(ns: str) -> str:
    api = k8s.admin_client()
    name = k8s.configmap_of(client.AppsV1Api(api), ns)
    text: str = client.CoreV1Api(api).read_namespaced_config_map(name, ns).data[k8s.CONFIG_KEY]
    return text


def workspace(tmp: Path, prefix: str) -> dict[str, Any]:
    registry, base = need_env("KFWS_TEST_REGISTRY"), need_env("KFWS_TEST_BASE_IMAGE")
    ctx = tmp / "images" / "broken"
    ctx.mkdir(parents=True)
    # the stand-in server, started without NB_PREFIX: it answers /api/kernels, not the prefix
    (ctx / "Dockerfile").write_text(
        f"FROM {base}\n"
        'CMD ["env", "-u", "NB_PREFIX", "nc", "-ll", "-p", "8888", '
        '"-e", "/usr/local/bin/nb-http"]\n'
    )
    return {
        "apiVersion": "kfws/v1alpha1",
        "kind": "Workspace",
        "registry": {
            "default": f"{registry}/{prefix}",
            "registries": {registry: {"insecure": True}},
        },
        "cluster": {"namespace": k8s.namespace(), "restart": "none"},
        "images": [
            {"name": "good", "from": base, "env": {"TEAM": "ds"}},
            {"name": "broken", "build": {"context": "images/broken"}},
        ],
        "spawner": {"image": {"default": "good", "options": ["good", "broken"]}},
    }


def test_a_broken_image_is_pushed_but_never_offered_until_skipped(
    tmp_path: Path, env: dict[str, str]
) -> None:
    ns = k8s.namespace()
    write_workspace(tmp_path, workspace(tmp_path, unique("verify")))
    before = live_text(ns)

    planned = run_kfws("plan", cwd=tmp_path, env=env)
    assert "Plan: 2 to build, 2 to check, 1 to change." in planned.out, planned.text
    assert "? check" in planned.out and "contract jupyter" in planned.out

    refused = run_kfws("apply", "--auto-approve", cwd=tmp_path, env=env)
    assert refused.code == 1, refused.text
    assert (
        "apply: check: 1 image check failed the Kubeflow contract; the cluster was not "
        in refused.err
    )
    assert "touched (it is exactly as it was)" in refused.err
    assert f"404 at /notebook/{ns}/check/api/kernels: the server ignores NB_PREFIX" in refused.err
    assert "Jupyter contract: passed in " in refused.err  # the good one passed
    pushed = refused.err.split("pushed before the check: ", 1)[1].splitlines()[0]
    assert "/good:kfws1-" in pushed and "/broken:kfws1-" in pushed
    assert "--skip-check NAME" in refused.err
    assert live_text(ns) == before

    # the good image's pass is remembered; the broken one is still to check
    again = run_kfws("plan", "--format", "json", cwd=tmp_path, env=env)
    checks = [c for c in yaml.safe_load(again.out)["changes"] if c["kind"] == "check"]
    assert [c["details"]["name"] for c in checks] == ["broken"]

    skipped = run_kfws("apply", "--auto-approve", "--skip-check", "broken", cwd=tmp_path, env=env)
    assert skipped.code == 0, skipped.text
    assert (
        "broken (" in skipped.out and "Jupyter contract: NOT checked (--skip-check)" in skipped.out
    )
    options = yaml.safe_load(live_text(ns))["spawnerFormDefaults"]["image"]["options"]
    assert any("/broken:kfws1-" in o for o in options)
