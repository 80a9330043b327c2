"""A cluster-only `kfws plan` against the local API server loads only what it needs: the official
client's kubeconfig loader and HTTP layer, never the typed API classes and their pydantic models
(seconds of import), the Docker SDK, deepdiff, the WorkspaceKind target or the plan schema. The
guard of bench/cluster_plan.py's gain, without timing anything."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from kubernetes import client

from tests.conftest import need_env
from tests.env import k8s_helpers as k8s
from tests.env.kfws_cli import write_workspace

# kfws's own entry point, then the modules the process holds, written where the test reads them
RUN_KFWS = """
import json, os, sys
from kfws.cli import main
code = main(sys.argv[1:])
with open(os.environ["MODULES_OUT"], "w") as f:
    json.dump(sorted(sys.modules), f)
sys.exit(code)
"""


def run_modules(
    folder: Path, *argv: str, code: int
) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Runs kfws in `folder`; the modules the process held at the end."""
    out = folder / "modules.json"
    proc = subprocess.run(
        [sys.executable, "-c", RUN_KFWS, *argv],
        cwd=folder,
        env={**os.environ, "NO_COLOR": "1", "MODULES_OUT": str(out)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == code, proc.stdout + proc.stderr
    return proc, set(json.loads(out.read_text()))


def plan_modules(folder: Path, mode: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    image = need_env("KFWS_TEST_BASE_IMAGE")
    registry = need_env("KFWS_TEST_REGISTRY")
    write_workspace(
        folder,
        {
            "apiVersion": "kfws/v1alpha1",
            "kind": "Workspace",
            "registry": {"default": f"{registry}/t", "registries": {registry: {"insecure": True}}},
            "cluster": {"namespace": k8s.namespace()},
            "spawner": {"image": {"mode": mode, "options": [image]}},
        },
    )
    # 2: a plan with changes: the cluster was read
    return run_modules(folder, "plan", "--offline", "--detailed-exitcode", code=2)


def heavy(modules: set[str]) -> list[str]:
    return sorted(
        m
        for m in modules
        if m.startswith(("kubernetes.client.api.", "kubernetes.client.models."))
        or m.split(".")[0] in ("docker", "deepdiff")
        or (
            m.startswith(("kfws.targets.workspacekind.", "kfws.plan.planfile"))
            and m != "kfws.targets.workspacekind.kinds"
        )  # the targets table names its change kind
    )


def test_a_plan_adding_an_option_reads_the_cluster_without_the_typed_api(
    tmp_path: Path, pristine: None
) -> None:
    proc, modules = plan_modules(tmp_path, "merge")
    assert f"+      - {need_env('KFWS_TEST_BASE_IMAGE')}" in proc.stdout
    assert "kubernetes.client.rest" in modules  # the official client did the HTTP
    assert heavy(modules) == []
    # nothing removed: nobody to look up, so the usage observer is not even imported
    assert not {"kfws.observe.usage", "kfws.observe.notebooks", "kfws.usage.report"} & modules
    assert not_for_this_plan(modules) == []


def not_for_this_plan(modules: set[str]) -> list[str]:
    """What a valid workspace, planned --offline with nothing to build, does not need: jsonschema
    (kfws.spec.schema_check finds the file valid), the registry client (nothing is asked of a
    registry), the other commands' modules (kfws.cli builds only the command it runs), the
    spawner's apply, rollback and import."""
    commands = {"kfws.commands.plan", "kfws.commands.common"}
    spawner = ("applier", "restore", "import_")
    return sorted(
        m
        for m in modules
        if m.split(".")[0] in ("jsonschema", "referencing", "attrs")
        or m.startswith(("kfws.observe.registry.client", "kfws.observe.registry.transport"))
        or (m.startswith("kfws.commands.") and m not in commands)
        or m in {f"kfws.targets.spawner.{name}" for name in spawner}
        or m in ("kfws.targets.lock", "kfws.targets.backups")
    )


def test_a_plan_removing_options_asks_who_uses_them_without_the_typed_api(
    tmp_path: Path, pristine: None
) -> None:
    proc, modules = plan_modules(tmp_path, "exact")
    assert "- ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-scipy:v1.10.0" in proc.stdout
    assert "kfws.observe.notebooks" in modules  # the notebooks and their pods were listed
    assert heavy(modules) == []


def typed(modules: set[str]) -> list[str]:
    return sorted(
        m for m in modules if m.startswith(("kubernetes.client.api.", "kubernetes.client.models."))
    )


def test_drift_apply_and_unlock_read_and_write_without_the_typed_api(
    tmp_path: Path, pristine: None
) -> None:
    """They read and write through kfws.observe.kube_api (JSON), as the plan does: the lock's
    Lease, the ConfigMap's precondition, dry run, backup and patch, the rollout, the drift reads."""
    plan_modules(tmp_path, "merge")
    proc, modules = run_modules(tmp_path, "drift", "--offline", code=2)
    assert "not-as-declared" in proc.stdout
    assert "kubernetes.client.rest" in modules and typed(modules) == []
    proc, modules = run_modules(tmp_path, "apply", "--auto-approve", code=0)
    assert "rolled out deployment/" in proc.stdout, proc.stdout
    assert "kfws.targets.lock" in modules and "kfws.targets.backups" in modules
    assert typed(modules) == []
    proc, modules = run_modules(tmp_path, "unlock", code=0)
    assert "no apply lock" in proc.stdout and typed(modules) == []


def test_a_workspacekind_plan_and_apply_read_and_write_without_the_typed_api(
    tmp_path: Path, admin: client.ApiClient
) -> None:
    """The WorkspaceKind target reads the kind and server-side applies it through kube_api too
    (it used CustomObjectsApi)."""
    from tests.env import workspacekind_helpers as wsk

    registry = need_env("KFWS_TEST_REGISTRY")
    wsk.reseed_kinds()
    try:
        write_workspace(
            tmp_path,
            {
                "apiVersion": "kfws/v1alpha1",
                "kind": "Workspace",
                "registry": {
                    "default": f"{registry}/unused",
                    "registries": {registry: {"insecure": True}},
                },
                "cluster": {"namespace": "kubeflow"},
                "workspaceKinds": {
                    wsk.KIND: {
                        "images": [{"id": "base", "image": need_env("KFWS_TEST_BASE_IMAGE")}]
                    }
                },
            },
        )
        proc, modules = run_modules(tmp_path, "plan", "--offline", "--detailed-exitcode", code=2)
        assert "kfws.targets.workspacekind.api" in modules and typed(modules) == []
        proc, modules = run_modules(tmp_path, "apply", "--auto-approve", code=0)
        assert typed(modules) == [], proc.stdout
        assert wsk.values(wsk.get(admin))["base"]["spec"]["image"] == need_env(
            "KFWS_TEST_BASE_IMAGE"
        )
    finally:
        wsk.reseed_kinds()
