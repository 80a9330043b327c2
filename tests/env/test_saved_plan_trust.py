"""A saved plan is not trusted (issue 10 §1, issue 11 "saved plans"): a tampered plan is refused
and changes nothing on the real cluster or registry; an untouched one applies from any directory.
Runs the CLI as the least-privilege ServiceAccount against the local environment."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from kubernetes import client

from tests.conftest import need_env
from tests.env import k8s_helpers as k8s
from tests.env.kfws_cli import run_kfws, unique, write_workspace
from tests.env.test_plans_drift_e2e import workspace as plans_workspace

MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
EVIL = "evil.example.com/miner:latest"


@pytest.fixture
def env() -> Iterator[dict[str, str]]:
    k8s.reseed()
    yield {"KUBECONFIG": need_env("KFWS_TEST_KUBECONFIG_RESTRICTED")}
    k8s.reseed()


def workspace(prefix: str) -> dict[str, Any]:
    """One cheap image offered as the only option (nothing is built until the last step)."""
    doc = plans_workspace(prefix, ["nb-data"])
    doc["images"] = [i for i in doc["images"] if i["name"] == "nb-data"]
    return doc


def live(ns: str) -> tuple[str, str]:
    """(resourceVersion, text) of the spawner config the web app mounts in `ns`."""
    api = k8s.admin_client()
    name = k8s.configmap_of(client.AppsV1Api(api), ns)
    cm = client.CoreV1Api(api).read_namespaced_config_map(name, ns)
    return str(cm.metadata.resource_version), str(cm.data[k8s.CONFIG_KEY])


def in_registry(reference: str) -> bool:
    host, rest = reference.split("/", 1)
    repo, tag = rest.rsplit(":", 1)
    head = requests.head(
        f"http://{host}/v2/{repo}/manifests/{tag}", headers={"Accept": MANIFEST}, timeout=10
    )
    return head.status_code == 200


def _edit_after(plan: dict[str, Any]) -> None:
    change = next(c for c in plan["changes"] if c["kind"] == "update-spawner")
    text = yaml.safe_load(change["after"])
    text["spawnerFormDefaults"]["image"]["options"].append(EVIL)
    change["after"] = yaml.safe_dump(text)


def _empty_fingerprint(plan: dict[str, Any]) -> None:
    plan["fingerprint"] = []


def _other_namespace(plan: dict[str, Any]) -> None:
    ns, legacy = k8s.namespace(), k8s.legacy_namespace()
    for change in plan["changes"]:
        if not change["kind"].endswith(("spawner", "webapp")):
            continue
        change["target"] = change["target"].replace(f"/{ns}/", f"/{legacy}/")
        change["details"]["namespace"] = legacy
    for entry in plan["fingerprint"]:
        entry["key"] = entry["key"].replace(f":{ns}/", f":{legacy}/")


def _other_push_target(plan: dict[str, Any]) -> None:
    change = next(c for c in plan["changes"] if c["kind"] == "build")
    registry = need_env("KFWS_TEST_REGISTRY")
    change["target"] = change["target"].replace(f"{registry}/", f"{registry}/evil-")
    change["details"]["repository"] = change["details"]["repository"].replace(
        f"{registry}/", f"{registry}/evil-"
    )


def _other_repository(plan: dict[str, Any]) -> None:
    change = next(c for c in plan["changes"] if c["kind"] == "build")
    change["details"]["repository"] += "-evil"


TAMPERING: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "edited after text": (_edit_after, "update-spawner configmap/"),
    "emptied fingerprint": (_empty_fingerprint, "fingerprint is empty"),
    "changed namespace": (_other_namespace, "a fresh plan has update-spawner configmap/"),
    "changed push target": (_other_push_target, "a fresh plan has build "),
    "changed push repository": (_other_repository, "the push repository differs"),
}


def test_tampered_plans_are_refused_and_change_nothing(tmp_path: Path, env: dict[str, str]) -> None:
    project, plans, elsewhere = tmp_path / "project", tmp_path / "plans", tmp_path / "elsewhere"
    plans.mkdir()
    elsewhere.mkdir()
    write_workspace(project, workspace(unique("trust")))
    made = run_kfws("plan", "--out", str(plans / "plan.json"), cwd=project, env=env)
    assert made.code == 0, made.text
    original = json.loads((plans / "plan.json").read_text())
    assert original["workspace"]["path"] == "../project/workspace.yaml"
    built = next(c["target"] for c in original["changes"] if c["kind"] == "build")
    before = {ns: live(ns) for ns in (k8s.namespace(), k8s.legacy_namespace())}

    for name, (tamper, expected) in TAMPERING.items():
        forged = json.loads(json.dumps(original))
        tamper(forged)
        path = plans / f"{name.replace(' ', '-')}.json"
        path.write_text(json.dumps(forged, indent=2))
        refused = run_kfws("apply", str(path), "--auto-approve", cwd=elsewhere, env=env)
        assert refused.code == 1, f"{name}: {refused.text}"
        assert "nothing was touched" in refused.err and expected in refused.err, refused.err
        shown = run_kfws("show", str(path), cwd=elsewhere, env=env)
        assert shown.code == 0, shown.text
        assert shown.out.startswith("WARNING: this saved plan does not match a fresh plan"), name

    # nothing happened anywhere: both namespaces' configs byte for byte, nothing pushed
    assert {ns: live(ns) for ns in before} == before
    assert not in_registry(built)
    registry = need_env("KFWS_TEST_REGISTRY")
    assert not in_registry(built.replace(f"{registry}/", f"{registry}/evil-"))

    # the untouched plan applies, from another directory, through the workspace it records
    applied = run_kfws("apply", str(plans / "plan.json"), "--auto-approve", cwd=elsewhere, env=env)
    assert applied.code == 0, applied.text
    assert in_registry(built)
    assert EVIL not in live(k8s.namespace())[1]


def test_apply_plan_with_f_uses_that_file_and_a_missing_one_is_named(
    tmp_path: Path, env: dict[str, str]
) -> None:
    write_workspace(tmp_path / "a", workspace(unique("f")))
    assert run_kfws("plan", "--out", "plan.json", cwd=tmp_path / "a", env=env).code == 0
    # a copy elsewhere with the same bytes: -f makes apply use it (the plan still matches)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "ws.yaml").write_bytes((tmp_path / "a" / "workspace.yaml").read_bytes())
    (tmp_path / "a" / "workspace.yaml").unlink()
    missing = run_kfws("show", "plan.json", cwd=tmp_path / "a", env=env)
    assert "no such file" in missing.err and "kfws init" not in missing.err
    assert "-f FILE" in missing.err
    shown = run_kfws("show", "plan.json", "-f", "../b/ws.yaml", cwd=tmp_path / "a", env=env)
    assert shown.code == 0 and "WARNING" not in shown.out, shown.text
    device = run_kfws("apply", "plan.json", "-f", "/dev/zero", cwd=tmp_path / "a", env=env)
    assert device.code == 1 and "a device" in device.err


def test_a_plan_for_another_namespace_is_refused_after_namespace_changes(
    tmp_path: Path, env: dict[str, str]
) -> None:
    write_workspace(tmp_path, workspace(unique("ns")))
    legacy = k8s.legacy_namespace()
    made = run_kfws("plan", "--namespace", legacy, "--out", "plan.json", cwd=tmp_path, env=env)
    assert made.code == 0, made.text
    targets = [c["target"] for c in json.loads((tmp_path / "plan.json").read_text())["changes"]]
    assert f"configmap/{legacy}/{k8s.LEGACY_CONFIGMAP}" in targets
    before = live(legacy)
    refused = run_kfws("apply", "plan.json", "--auto-approve", cwd=tmp_path, env=env)
    assert refused.code == 1 and "nothing was touched" in refused.err, refused.text
    assert live(legacy) == before
