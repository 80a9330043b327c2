"""The WorkspaceKind target through the CLI, as a user runs it (the least-privilege
ServiceAccount's kubeconfig): plan in every format, a saved plan applied, the stale-plan check,
drift after a hand edit (exit 2, JUnit), rollback and import."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from kubernetes import client

from tests.conftest import need_env
from tests.env import workspacekind_helpers as wsk
from tests.env.kfws_cli import run_kfws, unique, write_workspace

TF = "ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-tensorflow:v1.10.0"
TF2 = "ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-tensorflow:v1.11.0"


@pytest.fixture
def fresh_kind() -> Iterator[None]:
    wsk.reseed_kinds()
    yield
    wsk.reseed_kinds()


@pytest.fixture
def env() -> dict[str, str]:
    return {"KUBECONFIG": need_env("KFWS_TEST_KUBECONFIG_RESTRICTED")}


def workspace(folder: Path, *images: dict[str, Any]) -> Path:
    return write_workspace(
        folder,
        {
            "apiVersion": "kfws/v1alpha1",
            "kind": "Workspace",
            "registry": {
                "default": "127.0.0.1:1/unused",
                "registries": {"ghcr.io": {"check": False}},
            },
            "cluster": {"namespace": "kubeflow"},
            "workspaceKinds": {wsk.KIND: {"images": list(images)}},
        },
    )


@pytest.mark.usefixtures("fresh_kind")
def test_plan_save_apply_and_no_change_after(
    tmp_path: Path, env: dict[str, str], admin: client.ApiClient
) -> None:
    workspace(
        tmp_path, {"id": "tf", "image": TF, "displayName": "TensorFlow", "labels": {"py": "3.11"}}
    )
    shown = run_kfws("plan", "--format", "json", "--out", "plan.json", cwd=tmp_path, env=env)
    assert shown.code == 0, shown.text
    (change,) = [c for c in json.loads(shown.out)["changes"] if c["kind"] == "update-workspacekind"]
    assert change["target"] == "workspacekind/jupyterlab"
    assert [(v["id"], v["action"], v["usage"]) for v in change["details"]["values"]] == [
        ("tf", "add", 0)
    ]
    markdown = run_kfws("plan", "--format", "markdown", cwd=tmp_path, env=env)
    # the kind's lines in a block of their own, one per line (not run into one paragraph)
    assert "\n```\n+ tf: add [unused] - declared in the file\n" in markdown.out, markdown.out
    applied = run_kfws("apply", "--auto-approve", "plan.json", cwd=tmp_path, env=env)
    assert applied.code == 0, applied.text
    assert "WorkspaceKind jupyterlab: 1 to add (previous values kept as backup 1)" in applied.out
    assert wsk.values(wsk.get(admin))["tf"]["spec"]["image"] == TF
    again = run_kfws("plan", "--detailed-exitcode", cwd=tmp_path, env=env)
    assert again.code == 0 and "No changes" in again.out, again.text


@pytest.mark.usefixtures("fresh_kind")
def test_a_saved_plan_is_stale_once_the_kind_moved(
    tmp_path: Path, env: dict[str, str], admin: client.ApiClient
) -> None:
    workspace(tmp_path, {"id": "tf", "image": TF})
    assert run_kfws("plan", "--out", "plan.json", cwd=tmp_path, env=env).code == 0
    wsk.set_usage(admin, {"jupyterlab_minimal": 2})  # the controller counts a new Workspace
    before = wsk.get(admin)
    applied = run_kfws("apply", "--auto-approve", "plan.json", cwd=tmp_path, env=env)
    assert applied.code == 1 and "stale" in applied.err.lower(), applied.text
    assert wsk.get(admin) == before


@pytest.mark.usefixtures("fresh_kind")
def test_in_use_image_change_then_drift_then_rollback(
    tmp_path: Path, env: dict[str, str], admin: client.ApiClient
) -> None:
    workspace(tmp_path, {"id": "tf", "image": TF, "displayName": "TensorFlow"})
    assert run_kfws("apply", "--auto-approve", cwd=tmp_path, env=env).code == 0
    wsk.set_usage(admin, {"tf": 2})
    workspace(tmp_path, {"id": "tf", "image": TF2, "displayName": "TensorFlow"})
    plan = run_kfws("plan", cwd=tmp_path, env=env)
    assert "↪ tf: hide + redirect [in use by 2]" in plan.out, plan.text
    assert run_kfws("apply", "--auto-approve", cwd=tmp_path, env=env).code == 0
    values = wsk.values(wsk.get(admin))
    (new_id,) = [i for i in values if i.startswith("tf-")]
    assert values["tf"]["redirect"]["to"] == new_id and values["tf"]["spec"]["image"] == TF
    # a hand edit is drift (exit 2), in JUnit too
    obj = wsk.get(admin)
    index = [v["id"] for v in obj["spec"]["podTemplate"]["options"]["imageConfig"]["values"]].index(
        new_id
    )
    client.CustomObjectsApi(admin).patch_cluster_custom_object(
        wsk.GROUP, wsk.VERSION, wsk.PLURAL, wsk.KIND,
        [{"op": "replace", "value": "by hand",
          "path": f"/spec/podTemplate/options/imageConfig/values/{index}/spawner/displayName"}],
        field_manager="kubectl-edit", _content_type="application/json-patch+json",
    )  # fmt: skip
    drift = run_kfws("drift", "--format", "junit", cwd=tmp_path, env=env)
    assert drift.code == 2, drift.text
    suite = ET.fromstring(drift.out.split("?>", 1)[1]).find("testsuite")  # noqa: S314 (ours)
    assert suite is not None
    # the failed check is titled with the kind, never with the spawner it has nothing to do with
    failed = [(c.get("name"), c.findtext("failure")) for c in suite if len(c)]
    assert [name for name, _ in failed] == [
        f"WorkspaceKind {wsk.KIND} unchanged since the last apply"
    ]
    assert f"value '{new_id}': displayName is 'by hand'" in (failed[0][1] or "")
    # rollback to before the image change: tf visible again with its image, the new id retired
    listed = run_kfws("rollback", "--target", "workspacekind", "--list", cwd=tmp_path, env=env)
    assert "backup 2 (kept" in listed.out, listed.text
    back = run_kfws("rollback", "--target", "workspacekind", "--to", "2", "--auto-approve",
                    cwd=tmp_path, env=env)  # fmt: skip
    assert back.code == 0, back.text
    values = wsk.values(wsk.get(admin))
    assert values["tf"]["spawner"]["hidden"] is False and "redirect" not in values["tf"]


@pytest.mark.usefixtures("fresh_kind")
def test_import_writes_the_live_values_and_a_plan_after_shows_no_change(
    tmp_path: Path, env: dict[str, str]
) -> None:
    out = tmp_path / "workspace.yaml"
    imported = run_kfws(
        "import", "--target", "workspacekind", "-o", str(out), cwd=tmp_path, env=env
    )
    assert imported.code == 0, imported.text
    assert "jupyterlab (4)" in imported.out
    text = out.read_text()
    assert "team-geo" in text and 'gpu: "no"' in text
    # the seeded images' registries are not reachable from here: not looked up (--offline)
    plan = run_kfws("plan", "--offline", "--detailed-exitcode", cwd=tmp_path, env=env)
    assert plan.code == 0 and "No changes" in plan.out, plan.text


@pytest.mark.parametrize(
    ("image", "kind", "code", "expected"),
    [
        # the planner refuses what the webhook would, at the file's line
        ({"id": "tf", "image": TF, "redirectTo": "nowhere"}, wsk.KIND, 1,
         "workspace.yaml:13: image value 'tf': redirectTo 'nowhere' names no other value"),
        ({"id": "tf", "image": TF, "ports": [{"id": "vscode", "port": 8888}]}, wsk.KIND, 1,
         "port id 'vscode' is not one of the kind 'jupyterlab''s ports (jupyterlab)"),
        # a kind the ClusterRole does not name: refused by RBAC, with what to grant
        ({"id": "tf", "image": TF}, "codeserver", 1,
         "the Kubernetes API refused to get workspacekind/codeserver (403 Forbidden)"),
    ],
)  # fmt: skip
def test_plan_errors_name_the_line_or_the_object_and_touch_nothing(
    tmp_path: Path,
    env: dict[str, str],
    admin: client.ApiClient,
    image: dict[str, Any],
    kind: str,
    code: int,
    expected: str,
) -> None:
    path = workspace(tmp_path, image)
    path.write_text(path.read_text().replace(f"  {wsk.KIND}:", f"  {kind}:"))
    before = wsk.get(admin)
    result = run_kfws("plan", cwd=tmp_path, env=env)
    assert result.code == code and expected in result.err, result.text
    assert wsk.get(admin) == before


@pytest.mark.usefixtures("fresh_kind")
def test_a_managed_image_is_built_checked_and_offered_by_its_content_tag(
    tmp_path: Path, env: dict[str, str], admin: client.ApiClient
) -> None:
    registry, base = need_env("KFWS_TEST_REGISTRY"), need_env("KFWS_TEST_BASE_IMAGE")
    prefix = unique("wsk")
    write_workspace(
        tmp_path,
        {
            "apiVersion": "kfws/v1alpha1",
            "kind": "Workspace",
            "registry": {
                "default": f"{registry}/{prefix}",
                "registries": {registry: {"insecure": True}},
            },
            "build": {"network": "host"},
            "cluster": {"namespace": "kubeflow"},
            "images": [{"name": "lab", "from": base, "env": {"TEAM": "ds"}}],
            "workspaceKinds": {wsk.KIND: {"images": [{"id": "lab", "image": "lab"}]}},
        },
    )
    state = {"XDG_STATE_HOME": str(tmp_path / "state")}
    plan = run_kfws("plan", "--format", "json", cwd=tmp_path, env=env | state)
    assert plan.code == 0, plan.text
    kinds = [c["kind"] for c in json.loads(plan.out)["changes"]]
    assert kinds == ["build", "check", "update-workspacekind"]
    applied = run_kfws("apply", "--auto-approve", cwd=tmp_path, env=env | state)
    assert applied.code == 0, applied.text
    assert "Jupyter contract: passed" in applied.text
    image = wsk.values(wsk.get(admin))["lab"]["spec"]["image"]
    assert image.startswith(f"{registry}/{prefix}/lab:kfws1-")
    assert run_kfws("plan", "--detailed-exitcode", cwd=tmp_path, env=env | state).code == 0


@pytest.mark.usefixtures("fresh_kind")
def test_a_full_reference_is_looked_up_in_its_registry_like_a_spawner_option(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """A value naming an image kfws does not build: the plan says when its registry lacks it
    (it used to offer it without a word), and says nothing of one that is there."""
    registry, base = need_env("KFWS_TEST_REGISTRY"), need_env("KFWS_TEST_BASE_IMAGE")
    gone = f"{registry}/{unique('wsk-gone')}/lab:v1"
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
                wsk.KIND: {"images": [{"id": "base", "image": base}, {"id": "gone", "image": gone}]}
            },
        },
    )
    plan = run_kfws("plan", "--format", "json", cwd=tmp_path, env=env)
    assert plan.code == 0, plan.text
    assert json.loads(plan.out)["warnings"] == [
        f"WorkspaceKind image {gone} ({wsk.KIND} value gone) does not exist in its registry"
    ]
    offline = run_kfws("plan", "--offline", "--format", "json", cwd=tmp_path, env=env)
    assert json.loads(offline.out)["warnings"] == [
        f"2 WorkspaceKind images not looked up in the registry (--offline): {base}, {gone}"
    ]
