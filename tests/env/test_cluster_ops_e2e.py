"""Day-two cluster operations end to end from the CLI, against the real registry and cluster, as
the least-privilege writer ServiceAccount: a nightly drift after a `pin: digest` apply is green,
drift blames only who changed the data, an explicit ConfigMap the web app does not mount is
refused, and a GitOps-owned target is refused before anything is built."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from kubernetes import client

from kfws.plan.model import PENDING_DIGEST
from tests.conftest import need_env
from tests.env import k8s_helpers as k8s
from tests.env.kfws_cli import KFWS, Result, run_kfws, unique, write_workspace

MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


@pytest.fixture
def env() -> Iterator[dict[str, str]]:
    k8s.reseed()
    yield {"KUBECONFIG": need_env("KFWS_TEST_KUBECONFIG_RESTRICTED")}
    k8s.reseed()


def workspace(prefix: str, *, pin: str = "tag", **cluster: Any) -> dict[str, Any]:
    registry = need_env("KFWS_TEST_REGISTRY")
    base = need_env("KFWS_TEST_BASE_IMAGE")
    return {
        "apiVersion": "kfws/v1alpha1",
        "kind": "Workspace",
        "registry": {
            "default": f"{registry}/{prefix}",
            "registries": {registry: {"insecure": True}},
        },
        "cluster": {"namespace": k8s.namespace(), "restart": "rollout", **cluster},
        "images": [
            {"name": "nb-env", "from": base, "env": {"TEAM": "ds"}},
            {"name": "nb-data", "from": base, "folders": ["/home/jovyan/data"]},
        ],
        "spawner": {"image": {"default": "nb-env", "options": ["nb-env", "nb-data"], "pin": pin}},
    }


def answering(answer: str, *args: str, cwd: Path, env: dict[str, str]) -> Result:
    """Runs kfws with a terminal as its stdin (a pty) on which `answer` is typed."""
    master, slave = os.openpty()
    try:
        proc = subprocess.Popen(
            [KFWS, *args],
            cwd=cwd,
            env={**os.environ, "NO_COLOR": "1", **env},
            stdin=slave,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        os.write(master, f"{answer}\n".encode())
        out, err = proc.communicate(timeout=600)
    finally:
        os.close(slave)
        os.close(master)
    assert "Traceback" not in err, err
    return Result(proc.returncode, out, err)


def live_configmap(ns: str) -> Any:
    api = k8s.admin_client()
    name = k8s.configmap_of(client.AppsV1Api(api), ns)
    return client.CoreV1Api(api).read_namespaced_config_map(name, ns)


def registry_digest(reference: str) -> str | None:
    registry = need_env("KFWS_TEST_REGISTRY")
    repo, tag = reference.removeprefix(registry + "/").rsplit(":", 1)
    r = requests.head(
        f"http://{registry}/v2/{repo}/manifests/{tag}", headers={"Accept": MANIFEST}, timeout=10
    )
    return r.headers.get("Docker-Content-Digest") if r.status_code == 200 else None


def test_nightly_drift_after_a_pin_digest_apply_is_green(
    tmp_path: Path, env: dict[str, str]
) -> None:
    ns = k8s.namespace()
    prefix = unique("nightly")
    registry = need_env("KFWS_TEST_REGISTRY")
    write_workspace(tmp_path, workspace(prefix, pin="digest"))

    # the plan can't know the digests of images it builds yet
    planned = run_kfws("plan", "--format", "json", cwd=tmp_path, env=env)
    assert planned.code == 0, planned.text
    assert PENDING_DIGEST in planned.out
    built = [c["target"] for c in json.loads(planned.out)["changes"] if c["kind"] == "build"]
    assert len(built) == 2

    # busybox images can't serve Jupyter: offered unchecked (the contract check is not this
    # test's subject; tests/env/test_plans_drift_e2e.py covers it)
    skip = ("--skip-check", "nb-env", "--skip-check", "nb-data")
    applied = run_kfws("apply", "--auto-approve", *skip, cwd=tmp_path, env=env)
    assert applied.code == 0, applied.text
    assert "2 built, 2 pushed" in applied.out and "2 cluster changes" in applied.out

    # the record holds the digests the registry serves, never the placeholder
    cm = live_configmap(ns)
    notes = cm.metadata.annotations
    assert PENDING_DIGEST not in json.dumps(notes)
    owned = json.loads(notes["kfws.dev/applied-owned"])
    options = owned["image"]["options"]
    pushed = {f"{t.rsplit(':', 1)[0]}@{registry_digest(t)}" for t in built}
    assert set(options) == pushed and all(o.startswith(registry) for o in options)
    assert owned["image"]["value"] == options[0]
    assert cm.data[k8s.CONFIG_KEY].count("@sha256:") >= 2

    # the nightly cycle: nothing drifted, so drift is green and plan has nothing to do
    drift = run_kfws("drift", cwd=tmp_path, env=env)
    assert drift.code == 0, drift.text
    assert drift.out.endswith("No drift.\n")
    assert run_kfws("plan", "--detailed-exitcode", cwd=tmp_path, env=env).code == 0

    # a metadata-only write (what `kubectl replace` / `kubectl label` leave) is not drift ...
    api = k8s.admin_client()
    core = client.CoreV1Api(api)
    core.patch_namespaced_config_map(
        cm.metadata.name,
        ns,
        {"metadata": {"labels": {"team": "ds"}}},
        field_manager="kubectl-label",
    )
    assert run_kfws("drift", cwd=tmp_path, env=env).code == 0

    # ... and when the data does change, only the manager that owns the key is blamed
    text = live_configmap(ns).data[k8s.CONFIG_KEY]
    dropped = "\n".join(line for line in text.splitlines() if options[1] not in line) + "\n"
    core.patch_namespaced_config_map(
        cm.metadata.name,
        ns,
        {"data": {k8s.CONFIG_KEY: dropped}},
        field_manager="kubectl-edit",
        _content_type="application/merge-patch+json",
    )
    core.patch_namespaced_config_map(
        cm.metadata.name,
        ns,
        {"metadata": {"labels": {"team": "ml"}}},
        field_manager="kubectl-label",
    )
    drifted = run_kfws("drift", cwd=tmp_path, env=env)
    assert drifted.code == 2, drifted.text
    assert "by 'kubectl-edit'" in drifted.out and "kubectl-label" not in drifted.out
    assert f"missing on the cluster: {options[1]}" in drifted.out


def test_an_explicit_configmap_the_web_app_does_not_mount_is_refused(
    tmp_path: Path, env: dict[str, str]
) -> None:
    ns = k8s.namespace()
    api = k8s.admin_client()
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    mounted = k8s.configmap_of(apps, ns)
    decoy = "jupyter-web-app-config-decoy"
    core.create_namespaced_config_map(
        ns,
        client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name=decoy),
            data={k8s.CONFIG_KEY: k8s.pristine_config("kf1.10")},
        ),
    )
    generation = apps.read_namespaced_deployment(k8s.DEPLOYMENT, ns).metadata.generation
    write_workspace(tmp_path, workspace(unique("decoy"), configMap=decoy))
    for command in (["plan"], ["apply", "--auto-approve"]):
        refused = run_kfws(*command, cwd=tmp_path, env=env)
        assert refused.code == 1, refused.text
        assert f"does not mount it (it mounts {mounted})" in refused.err
        assert f"cluster.configMap: {mounted}" in refused.err
    assert core.read_namespaced_config_map(decoy, ns).data[k8s.CONFIG_KEY] == k8s.pristine_config()
    assert apps.read_namespaced_deployment(k8s.DEPLOYMENT, ns).metadata.generation == generation
    # naming the mounted one works
    write_workspace(tmp_path, workspace(unique("decoy"), configMap=mounted))
    assert run_kfws("plan", cwd=tmp_path, env=env).code == 0


def test_a_gitops_owned_target_is_refused_before_any_build_or_push(
    tmp_path: Path, env: dict[str, str]
) -> None:
    ns = k8s.namespace()
    cm = live_configmap(ns)
    client.CoreV1Api(k8s.admin_client()).patch_namespaced_config_map(
        cm.metadata.name,
        ns,
        {"metadata": {"labels": {"kustomize.toolkit.fluxcd.io/name": "apps"}}},
    )
    write_workspace(tmp_path, workspace(unique("gitops")))
    plan = json.loads(run_kfws("plan", "--format", "json", cwd=tmp_path, env=env).out)
    targets = [c["target"] for c in plan["changes"] if c["kind"] == "build"]
    assert len(targets) == 2
    refused = run_kfws("apply", "--auto-approve", cwd=tmp_path, env=env)
    assert refused.code == 1, refused.text
    assert "managed by Flux kustomize-controller" in refused.err
    assert "nothing was built or pushed" in refused.err
    assert "building" not in refused.text.lower()
    assert all(registry_digest(t) is None for t in targets)  # nothing pushed
    assert live_configmap(ns).data[k8s.CONFIG_KEY] == k8s.pristine_config()


def external_workspace(options: list[str]) -> dict[str, Any]:
    """A workspace offering only images kfws does not build: quick to apply."""
    registry = need_env("KFWS_TEST_REGISTRY")
    return {
        "apiVersion": "kfws/v1alpha1",
        "kind": "Workspace",
        "registry": {"default": f"{registry}/ext", "registries": {registry: {"insecure": True}}},
        "cluster": {"namespace": k8s.namespace(), "restart": "rollout"},
        "images": [],
        "spawner": {"image": {"default": options[0], "options": options}},
    }


def base_refs() -> tuple[str, str]:
    """Two references to the environment's base images (they exist in the open registry)."""
    return need_env("KFWS_TEST_BASE_IMAGE"), need_env("KFWS_TEST_PYTHON_BASE_IMAGE")


def writer_identity() -> str:
    return f"system:serviceaccount:{k8s.namespace()}:kfws"


def test_rollback_lists_backups_shows_the_diff_asks_and_restores(
    tmp_path: Path, env: dict[str, str]
) -> None:
    ns = k8s.namespace()
    one, two = base_refs()
    write_workspace(tmp_path, external_workspace([one]))
    assert run_kfws("apply", "--auto-approve", cwd=tmp_path, env=env).code == 0
    write_workspace(tmp_path, external_workspace([one, two]))
    assert run_kfws("apply", "--auto-approve", cwd=tmp_path, env=env).code == 0
    cm = live_configmap(ns)
    # the audit identity is the Kubernetes one kfws acted as, not the local OS user
    sa = writer_identity()
    assert cm.metadata.annotations["kfws.dev/applied-by"] == sa

    listed = run_kfws("rollback", "--list", cwd=tmp_path, env=env)
    assert listed.code == 0, listed.text
    lines = listed.out.splitlines()
    entries = [line for line in lines if line.strip()[:1].isdigit()]
    assert [e.split()[0] for e in entries] == ["1", "2"]
    assert all(f"by {sa}" in e and "sha256:" in e for e in entries)
    # what each would change, said against the live config
    assert f"drops {two}" in listed.out  # backup 2 is the config before `two` was added
    assert "brings back" in listed.out  # backup 1 is the pristine seed

    # without a terminal and without --auto-approve it shows the diff and refuses
    before = live_configmap(ns).data[k8s.CONFIG_KEY]
    refused = run_kfws("rollback", "--to", "1", cwd=tmp_path, env=env)
    assert refused.code == 1, refused.text
    assert "--- a/spawner_ui_config.yaml" in refused.out and "no terminal" in refused.err
    assert live_configmap(ns).data[k8s.CONFIG_KEY] == before

    # on a terminal it asks; anything but "yes" changes nothing
    declined = answering("no", "rollback", "--to", "1", cwd=tmp_path, env=env)
    assert declined.code == 1 and "Roll back to this config?" in declined.err
    assert "cancelled; nothing was changed" in declined.err
    assert live_configmap(ns).data[k8s.CONFIG_KEY] == before

    missing = run_kfws("rollback", "--to", "7", cwd=tmp_path, env=env)
    assert missing.code == 1 and "no backup 7 (kept: 1, 2)" in missing.err

    done = run_kfws("rollback", "--to", "1", "--auto-approve", cwd=tmp_path, env=env)
    assert done.code == 0, done.text
    assert "restored backup 1" in done.out
    assert live_configmap(ns).data[k8s.CONFIG_KEY] == k8s.pristine_config()
    left = run_kfws("rollback", "--list", cwd=tmp_path, env=env).out
    assert [line.split()[0] for line in left.splitlines() if line.strip()[:1].isdigit()] == ["2"]


def test_rollback_restores_the_whole_text_when_the_live_config_is_broken(
    tmp_path: Path, env: dict[str, str]
) -> None:
    ns = k8s.namespace()
    one, _ = base_refs()
    write_workspace(tmp_path, external_workspace([one]))
    assert run_kfws("apply", "--auto-approve", cwd=tmp_path, env=env).code == 0
    applied = live_configmap(ns)
    broken = applied.data[k8s.CONFIG_KEY] + "  image: [unclosed\n"
    client.CoreV1Api(k8s.admin_client()).patch_namespaced_config_map(
        applied.metadata.name,
        ns,
        {"data": {k8s.CONFIG_KEY: broken}},
        field_manager="kubectl-edit",
    )
    # plan refuses to touch a broken config; rollback is the way out
    assert run_kfws("plan", cwd=tmp_path, env=env).code == 1
    listed = run_kfws("rollback", "--list", cwd=tmp_path, env=env)
    assert listed.code == 0 and "the live config is broken" in listed.out
    done = run_kfws("rollback", "--auto-approve", cwd=tmp_path, env=env)
    assert done.code == 0, done.text
    assert live_configmap(ns).data[k8s.CONFIG_KEY] == k8s.pristine_config()


def test_unlock_says_whether_the_holder_renews_and_asks_before_breaking_a_live_lock(
    tmp_path: Path, env: dict[str, str]
) -> None:
    from datetime import UTC, datetime, timedelta

    from kfws.targets.lock import LEASE_NAME

    ns = k8s.namespace()
    coord = client.CoordinationV1Api(k8s.admin_client())

    def hold(renewed: datetime) -> None:
        stamp = renewed.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        coord.create_namespaced_lease(
            ns,
            {
                "metadata": {
                    "name": LEASE_NAME,
                    "annotations": {
                        "kfws.dev/holder-user": "system:serviceaccount:ci:deployer",
                        "kfws.dev/holder-host": "runner-3",
                        "kfws.dev/holder-pid": "77",
                        "kfws.dev/holder-since": "2026-11-29T01:00:00Z",
                    },
                },
                "spec": {
                    "holderIdentity": "deployer@runner-3 pid 77 (z)",
                    "leaseDurationSeconds": 120,
                    "acquireTime": stamp,
                    "renewTime": stamp,
                },
            },
        )

    def holder() -> str | None:
        return coord.read_namespaced_lease(LEASE_NAME, ns).spec.holder_identity

    hold(datetime.now(UTC).replace(microsecond=1000))
    kept = run_kfws("unlock", "--namespace", ns, cwd=tmp_path, env=env)
    assert kept.code == 1, kept.text
    assert "still renewing" in kept.err and "runner-3" in kept.err and "--force" in kept.err
    assert holder() == "deployer@runner-3 pid 77 (z)"
    forced = run_kfws("unlock", "--namespace", ns, "--force", cwd=tmp_path, env=env)
    assert forced.code == 0 and "released" in forced.out and "still renewing" in forced.out
    assert not holder()

    # on a terminal it asks before breaking a live lock, and "yes" breaks it
    coord.delete_namespaced_lease(LEASE_NAME, ns)
    hold(datetime.now(UTC).replace(microsecond=1000))
    asked = answering("yes", "unlock", "--namespace", ns, cwd=tmp_path, env=env)
    assert asked.code == 0, asked.text
    assert "Break this live lock?" in asked.err and not holder()

    coord.delete_namespaced_lease(LEASE_NAME, ns)
    hold(datetime.now(UTC) - timedelta(minutes=10))
    gone = run_kfws("unlock", "--namespace", ns, cwd=tmp_path, env=env)
    assert gone.code == 0, gone.text
    assert "its holder is gone" in gone.out and not holder()


def test_plan_and_drift_work_read_only_and_apply_is_refused_with_a_clear_403(
    tmp_path: Path, env: dict[str, str]
) -> None:
    ns = k8s.namespace()
    one, two = base_refs()
    write_workspace(tmp_path, external_workspace([one]))
    assert run_kfws("apply", "--auto-approve", cwd=tmp_path, env=env).code == 0
    ro = {"KUBECONFIG": need_env("KFWS_TEST_KUBECONFIG_READONLY")}
    assert run_kfws("plan", "--detailed-exitcode", cwd=tmp_path, env=ro).code == 0
    green = run_kfws("drift", cwd=tmp_path, env=ro)
    assert green.code == 0, green.text
    write_workspace(tmp_path, external_workspace([one, two]))
    planned = run_kfws("plan", "--detailed-exitcode", cwd=tmp_path, env=ro)
    assert planned.code == 2, planned.text
    drifted = run_kfws("drift", cwd=tmp_path, env=ro)
    assert drifted.code == 2 and f"missing on the cluster: {two}" in drifted.out
    before = live_configmap(ns).data[k8s.CONFIG_KEY]
    refused = run_kfws("apply", "--auto-approve", cwd=tmp_path, env=ro)
    assert refused.code == 1, refused.text
    assert "403 Forbidden" in refused.err and "leases/kfws-apply" in refused.err
    assert "kfws rbac --role writer" in refused.err
    assert live_configmap(ns).data[k8s.CONFIG_KEY] == before
