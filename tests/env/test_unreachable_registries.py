"""Registries kfws can't reach from where it runs (air-gapped clusters; the stock ghcr.io
options of the seeded Kubeflow config, since this machine resolves no public name): plan and a
nightly drift stay usable. End to end from the CLI against the real registry and cluster."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import need_env
from tests.env import k8s_helpers as k8s
from tests.env.kfws_cli import run_kfws, unique, write_workspace
from tests.env.test_plans_drift_e2e import workspace

GHCR = "ghcr.io/kubeflow/kubeflow/notebook-servers"
SCIPY = f"{GHCR}/jupyter-scipy:v1.10.0"
PYTORCH = f"{GHCR}/jupyter-pytorch-full:v1.10.0"


@pytest.fixture
def env() -> Iterator[dict[str, str]]:
    k8s.reseed()
    yield {"KUBECONFIG": need_env("KFWS_TEST_KUBECONFIG_RESTRICTED")}
    k8s.reseed()


def test_unreachable_images_are_unchecked_not_drift(tmp_path: Path, env: dict[str, str]) -> None:
    # the team's own image plus two stock ones from the seeded config, on ghcr.io
    doc = workspace(unique("airgap"), ["nb-sudo", SCIPY, PYTORCH])
    write_workspace(tmp_path, doc)

    plan = run_kfws("plan", "--format", "json", cwd=tmp_path, env=env)
    assert plan.code == 0, plan.text
    warnings = json.loads(plan.out)["warnings"]
    unresolved = [w for w in warnings if "could not be checked" in w]
    assert len(unresolved) == 2 and all("does not resolve" in w for w in unresolved)
    assert "insecure" not in plan.text  # the DNS hint is not about plain HTTP

    applied = run_kfws("apply", "--auto-approve", cwd=tmp_path, env=env)
    assert applied.code == 0, applied.text

    # the nightly drift: nothing drifted, so exit 0; the two images are reported as unchecked
    nightly = run_kfws("drift", cwd=tmp_path, env=env)
    assert nightly.code == 0, nightly.text
    assert "No drift. 2 images not checked." in nightly.out
    assert f"{SCIPY}: not checked: the host name ghcr.io does not resolve" in nightly.out

    # --strict: not being able to check them is drift
    strict = run_kfws("drift", "--strict", "--format", "json", cwd=tmp_path, env=env)
    assert strict.code == 2, strict.text
    kinds = {(f["kind"], f["subject"]) for f in json.loads(strict.out)["findings"]}
    assert kinds == {("image-unchecked", SCIPY), ("image-unchecked", PYTORCH)}


def test_check_false_and_offline_look_nothing_up_and_say_so(
    tmp_path: Path, env: dict[str, str]
) -> None:
    doc = workspace(unique("nocheck"), ["nb-sudo", SCIPY])
    write_workspace(tmp_path, doc)
    assert run_kfws("apply", "--auto-approve", cwd=tmp_path, env=env).code == 0

    offline = run_kfws("plan", "--offline", "--format", "json", cwd=tmp_path, env=env)
    assert offline.code == 0, offline.text
    assert json.loads(offline.out)["warnings"] == [
        f"1 spawner option not looked up in the registry (--offline): {SCIPY}"
    ]
    drift = run_kfws("drift", "--offline", cwd=tmp_path, env=env)
    assert drift.code == 0, drift.text
    assert f"{SCIPY}: not checked: --offline" in drift.out

    doc["registry"]["registries"]["ghcr.io"] = {"check": False}
    write_workspace(tmp_path, doc)
    plan = run_kfws("plan", "--format", "json", cwd=tmp_path, env=env)
    assert plan.code == 0, plan.text
    assert json.loads(plan.out)["warnings"] == [
        f"1 spawner option not looked up in the registry (registry ghcr.io has check: false): "
        f"{SCIPY}"
    ]
    nightly = run_kfws("drift", "--format", "json", cwd=tmp_path, env=env)
    assert nightly.code == 0, nightly.text
    report = json.loads(nightly.out)
    assert report["drift"] is False and report["findings"] == []
    assert report["unchecked"] == [
        {
            "subject": SCIPY,
            "message": "not checked: registry ghcr.io has check: false",
        }
    ]
