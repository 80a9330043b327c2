"""`kfws usage` end to end against the real cluster (Notebook objects, pods whose imageID KWOK
reports) and the real registry, as the read-only identity with the usage ClusterRole, and as an
identity without it (the writer)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from tests.conftest import need_env
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
