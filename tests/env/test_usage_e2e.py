"""`kfws usage` end to end against the real cluster (Notebook objects, pods whose imageID KWOK
reports; WorkspaceKinds whose status counts each value's Workspaces) and the real registry, as
the read-only identity with the usage ClusterRole, and as an identity without it (the writer),
or without the right to read WorkspaceKinds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from tests.conftest import need_env
from tests.env import k8s_helpers as k8s
from tests.env import workspacekind_helpers as wsk
from tests.env.kfws_cli import Result, run_kfws, unique, write_workspace
from tests.env.notebooks import Notebooks, notebooks, profile_namespaces
from tests.env.registry_push import Pusher, kfws_labels


def workspace(folder: Path, repo_prefix: str, offered: list[str]) -> Path:
    registry = need_env("KFWS_TEST_REGISTRY")
    return write_workspace(
        folder,
        {
            "apiVersion": "kfws/v1alpha1",
            "kind": "Workspace",
            "registry": {
                "default": f"{registry}/{repo_prefix}",
                "registries": {registry: {"insecure": True}, "ghcr.io": {"check": False}},
            },
            "cluster": {"namespace": need_env("KFWS_TEST_NAMESPACE")},
            "images": [{"name": "nb", "from": need_env("KFWS_TEST_BASE_IMAGE")}],
            "spawner": {"image": {"options": offered}},
        },
    )


@pytest.fixture
def made(admin: client.ApiClient) -> Iterator[Notebooks]:
    with notebooks(admin) as nbs:
        yield nbs


def usage(path: Path, *args: str, identity: str = "KFWS_TEST_KUBECONFIG_READONLY") -> Result:
    result = run_kfws(
        "usage", "-f", str(path), *args, cwd=path.parent, env={"KUBECONFIG": need_env(identity)}
    )
    assert result.code == 0, result.text
    return result


def test_usage_counts_notebooks_per_image_by_tag_and_digest(
    tmp_path: Path, made: Notebooks
) -> None:
    registry = need_env("KFWS_TEST_REGISTRY")
    prefix = unique("kfws-usage")
    repo = f"{registry}/{prefix}/nb"
    pusher = Pusher(registry)
    old = pusher.image(f"{prefix}/nb", ["kfws1-old"], labels=kfws_labels("nb", "old"))
    new = pusher.image(f"{prefix}/nb", ["kfws1-new"], labels=kfws_labels("nb", "new"))
    alice, bob = profile_namespaces()
    made.create(alice, unique("by-tag"), f"{repo}:kfws1-old", runs=f"{repo}@{old}")
    made.create(bob, unique("by-digest"), f"{repo}@{old}")
    made.create(bob, unique("stopped"), f"{repo}:kfws1-old", stopped=True)
    path = workspace(tmp_path, prefix, ["nb"])
    doc = json.loads(usage(path, "--format", "json").out)
    rows = {r["image"]: r for r in doc["images"]}
    old_row = rows[f"{repo}:kfws1-old"]
    assert (old_row["offered"], old_row["built"], old_row["digest"]) == (False, True, old)
    assert (old_row["running"], old_row["stopped"]) == (2, 1)
    assert old_row["namespaces"] == sorted([alice, bob])
    assert sorted(n["by"] for n in old_row["notebooks"]) == ["digest", "tag", "tag"]
    new_row = rows[f"{repo}:kfws1-new"]
    assert (new_row["digest"], new_row["notebooks"]) == (new, [])
    assert f"{repo}:kfws1-old" in doc["notOfferedInUse"]
    # the seeded notebooks: the busybox base by tag (running, stopped) and by digest
    base = rows[need_env("KFWS_TEST_BASE_IMAGE")]
    assert (base["running"], base["stopped"]) == (2, 1)
    assert {
        "notebook": f"{bob}/retired",
        "image": f"{registry}/ds-team/retired:v0",
        "stopped": False,
    } in doc["missingFromRegistry"]
    assert doc["notebooksVisible"] is True and doc["unseen"] == []
    text = usage(path)
    line = next(x for x in text.out.splitlines() if x.startswith(f"{repo}:kfws1-old "))
    assert "no" in line and "3 notebooks (2 running, 1 stopped)" in line
    assert line.endswith("  tag 2, digest 1")
    assert f"{bob}/retired (running: a restart fails) names {registry}/ds-team/retired:v0" in (
        text.out
    )
    md = usage(path, "--format", "markdown")
    assert f"| `{repo}:kfws1-old` | no | 3 notebooks (2 running, 1 stopped) |" in md.out


def test_usage_without_the_cluster_role_says_what_it_could_not_see(tmp_path: Path) -> None:
    prefix = unique("kfws-usage")
    path = workspace(tmp_path, prefix, ["nb"])
    # the writer identity has no usage ClusterRole (hack/env-k8s.sh binds it to the read-only one)
    restricted = "KFWS_TEST_KUBECONFIG_RESTRICTED"
    doc = json.loads(usage(path, "--format", "json", identity=restricted).out)
    assert doc["notebooksVisible"] is False
    (unseen,) = doc["unseen"]
    assert "listing notebooks.kubeflow.org in all namespaces was refused (403)" in unseen
    assert "kfws rbac --role usage | kubectl apply -f -" in unseen
    assert all(r["notebooks"] == [] for r in doc["images"])
    assert any(r["offered"] for r in doc["images"])  # the rest of the answer is still there


def test_plan_names_who_still_uses_an_option_it_removes(tmp_path: Path, made: Notebooks) -> None:
    alice, bob = profile_namespaces()
    pytorch = "ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-pytorch-full:v1.10.0"
    made.create(alice, unique("torch"), pytorch)  # ghcr.io is never pulled: no imageID needed
    made.create(bob, unique("torch"), pytorch, stopped=True)
    path = workspace(tmp_path, unique("kfws-usage"), ["nb"])  # exact: every seeded option goes
    for identity in ("KFWS_TEST_KUBECONFIG_READONLY", "KFWS_TEST_KUBECONFIG_RESTRICTED"):
        result = run_kfws(
            "plan", "-f", str(path), cwd=tmp_path, env={"KUBECONFIG": need_env(identity)}
        )
        assert result.code == 0, result.text
        if identity == "KFWS_TEST_KUBECONFIG_READONLY":
            assert (
                f"spawner option {pytorch} goes: still used by 2 notebooks in 2 namespaces "
                f"(1 running, 1 stopped: {made.made[0][0]}/{made.made[0][1]}, "
                f"{made.made[1][0]}/{made.made[1][1]}); they keep running; restarts keep working "
                "while the tag exists"
            ) in result.text
            # the seeded stopped notebook on the spawner's default
            assert "jupyter-scipy:v1.10.0 goes: still used by 1 notebook in 1 namespace" in (
                result.text
            )
        else:  # no usage ClusterRole: the plan still works and says what it could not see
            assert "which notebooks use the 5 option(s) this plan removes was not seen" in (
                result.text
            )
            assert "kfws rbac --role usage" in result.text


SCIPY = "ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-scipy"


@pytest.fixture
def fresh_kind() -> Iterator[None]:
    wsk.reseed_kinds()
    yield
    wsk.reseed_kinds()  # its ClusterRoles and bindings too


@pytest.fixture
def second_kind(admin: client.ApiClient) -> Iterator[str]:
    """Another WorkspaceKind beside the seeded one: the seeded kind's spec under a new name."""
    name = unique("kfws-usage")
    seeded = wsk.get(admin)
    body = {"apiVersion": seeded["apiVersion"], "kind": seeded["kind"],
            "metadata": {"name": name}, "spec": seeded["spec"]}  # fmt: skip
    objects = client.CustomObjectsApi(admin)
    objects.create_cluster_custom_object(wsk.GROUP, wsk.VERSION, wsk.PLURAL, body)
    yield name
    objects.delete_cluster_custom_object(wsk.GROUP, wsk.VERSION, wsk.PLURAL, name)


@pytest.mark.usefixtures("fresh_kind")
def test_usage_reports_each_workspacekind_values_workspaces_from_the_kinds_status(
    tmp_path: Path, admin: client.ApiClient, second_kind: str
) -> None:
    wsk.set_usage(admin, {"jupyterlab_minimal": 2})  # the controller counts two new Workspaces
    wsk.set_usage(admin, {"team-geo": 4}, name=second_kind)
    path = workspace(tmp_path, unique("kfws-usage"), ["nb"])  # declares no kind: every kind
    doc = json.loads(usage(path, "--format", "json").out)
    got = {(e["name"], e["id"]): e for e in doc["entries"]}
    assert [k for k in got if k[0] == wsk.KIND] == [
        (wsk.KIND, "jupyterlab_scipy_180"),
        (wsk.KIND, "jupyterlab_scipy_190"),
        (wsk.KIND, "jupyterlab_minimal"),
        (wsk.KIND, "team-geo"),
    ]  # the kind's own order
    assert got[(wsk.KIND, "jupyterlab_scipy_180")] == {
        "kind": "WorkspaceKind",
        "name": wsk.KIND,
        "id": "jupyterlab_scipy_180",
        "image": f"{SCIPY}:v1.8.0",
        "users": 3,
        "hidden": True,
        "redirect": "jupyterlab_scipy_190",
        "default": False,
    }
    counts = {k: (e["users"], e["default"]) for k, e in got.items()}
    assert counts[(wsk.KIND, "jupyterlab_scipy_190")] == (5, True)
    assert counts[(wsk.KIND, "jupyterlab_minimal")] == (2, False)
    assert counts[(second_kind, "team-geo")] == (4, False)  # every kind on the cluster
    # the values' images are offered, the hidden one too; the notebook table is unchanged
    rows = {r["image"]: r for r in doc["images"]}
    assert rows[f"{SCIPY}:v1.8.0"]["offered"] is True
    assert doc["unseen"] == []
    text = usage(path).out
    table = text.split("\nWORKSPACEKIND ", 1)[1]
    head, *lines = table.splitlines()
    assert head.split() == ["VALUE", "IMAGE", "WORKSPACES", "NOTES"]
    assert lines[0].split() == [wsk.KIND, "jupyterlab_scipy_180", f"{SCIPY}:v1.8.0", "3",
                                "hidden,", "redirects", "to", "jupyterlab_scipy_190"]  # fmt: skip
    assert lines[1].split()[-2:] == ["5", "default"]
    assert f"\nWorkspaceKind {wsk.KIND}: 11 workspaces on 4 values.\n" in text
    md = usage(path, "--format", "markdown").out
    assert "| WorkspaceKind | value | image | workspaces | notes |" in md
    minimal = "ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter:v1.9.0"
    assert f"| {wsk.KIND} | `jupyterlab_minimal` | `{minimal}` | 2 | - |" in md
    assert f"| {wsk.KIND} | `jupyterlab_scipy_190` | `{SCIPY}:v1.9.0` | 5 | default |" in md

    # a workspace that declares kinds: only those are read (by name)
    declared = write_workspace(
        tmp_path / "declared",
        {
            "apiVersion": "kfws/v1alpha1",
            "kind": "Workspace",
            "registry": {"default": "127.0.0.1:1/unused",
                         "registries": {"ghcr.io": {"check": False}}},
            "cluster": {"namespace": need_env("KFWS_TEST_NAMESPACE")},
            "workspaceKinds": {wsk.KIND: {"images": [{"id": "tf", "image": f"{SCIPY}:v1.9.0"}]}},
        },
    )  # fmt: skip
    only = json.loads(usage(declared, "--format", "json").out)
    assert {e["name"] for e in only["entries"]} == {wsk.KIND}
    assert len(only["entries"]) == 4  # what the kind holds; "tf" is not applied


@pytest.mark.usefixtures("fresh_kind")
def test_usage_without_the_right_to_read_workspacekinds_says_so_and_reports_the_rest(
    tmp_path: Path, admin: client.ApiClient
) -> None:
    # the read-only identity loses its WorkspaceKind ClusterRole (fresh_kind binds it again)
    client.RbacAuthorizationV1Api(admin).delete_cluster_role_binding("kfws-workspacekinds-readonly")
    review = client.V1SelfSubjectAccessReview(
        spec=client.V1SelfSubjectAccessReviewSpec(
            resource_attributes=client.V1ResourceAttributes(
                group=wsk.GROUP, resource=wsk.PLURAL, verb="list"
            )
        )
    )
    readonly = client.AuthorizationV1Api(k8s.readonly_client())
    k8s.wait_for(
        "the read-only identity to lose list on workspacekinds",
        lambda: not readonly.create_self_subject_access_review(review).status.allowed,
    )
    path = workspace(tmp_path, unique("kfws-usage"), ["nb"])
    doc = json.loads(usage(path, "--format", "json").out)
    assert doc["entries"] == []
    (unseen,) = doc["unseen"]
    assert unseen.startswith(
        "what the cluster offers: the Kubernetes API refused to list workspacekinds (403 "
        "Forbidden); give kfws's identity the WorkspaceKind ClusterRole: `kfws rbac "
        "--workspacekinds NAME... | kubectl apply -f -`"
    ), unseen
    assert doc["notebooksVisible"] is True  # the notebooks and the spawner still answer
    assert any(r["offered"] for r in doc["images"])
    assert f"{SCIPY}:v1.8.0" not in {r["image"] for r in doc["images"] if r["offered"]}
    text = usage(path).out
    assert "\nNot seen:\n  what the cluster offers: the Kubernetes API refused to list " in text
    assert "WORKSPACEKIND" not in text
