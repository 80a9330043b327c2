"""Which build is the newest, for BuildKit builds (kfws.images.built_at): two releases of one
image that differ only by an ENV line after a cached RUN, built by `kfws apply` on the
environment's buildkitd, carry the same image config `created`; kfws's dev.kfws.built-at label
tells them apart, so `kfws prune --keep 1` keeps the release built last and the plan compares a
new change with it (kfws.observe.last_built). The Docker Engine's legacy builder gets the label
too. The label is no input: the tag is still the input digest's, and a plan after the apply has
nothing to do."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kfws.images.built_at import BUILT_AT_LABEL, parse_time
from kfws.images.digest import content_tag
from kfws.observe.last_built import find_last_built
from kfws.observe.registry import RegistryClient
from kfws.spec.model import RegistryOptions
from tests.conftest import need_env
from tests.env import k8s_helpers as k8s
from tests.env.kfws_cli import run_kfws, unique, write_workspace
from tests.env.test_buildkit import image_parts


def workspace(folder: Path, prefix: str, release: str, run: str, engine: str) -> Path:
    registry = need_env("KFWS_TEST_REGISTRY")
    ctx = folder / "images" / "nb"
    ctx.mkdir(parents=True, exist_ok=True)
    base = need_env("KFWS_TEST_BASE_IMAGE")
    (ctx / "Dockerfile").write_text(
        f"FROM {base}\nRUN echo {run} > /tmp/run\nENV RELEASE={release}\n"
    )
    return write_workspace(
        folder,
        {
            "apiVersion": "kfws/v1alpha1",
            "kind": "Workspace",
            "registry": {
                "default": f"{registry}/{prefix}",
                "registries": {registry: {"insecure": True}},
            },
            "cluster": {"namespace": k8s.namespace()},
            "build": {"engine": engine},
            "images": [{"name": "nb", "build": {"context": "images/nb"}}],
        },
    )


def planned(ws: Path) -> dict[str, Any]:
    result = run_kfws("plan", "--format", "json", "-f", str(ws), cwd=ws.parent)
    assert result.code == 0, result.text
    doc: dict[str, Any] = json.loads(result.out)
    return doc


def planned_tag(ws: Path) -> str:
    (change,) = [c for c in planned(ws)["changes"] if c["details"].get("name") == "nb"]
    return str(change["target"]).rpartition(":")[2]


def config(repo: str, tag: str) -> dict[str, Any]:
    registry = need_env("KFWS_TEST_REGISTRY")
    cfg, _ = image_parts(registry, repo.removeprefix(f"{registry}/"), tag)
    return cfg


def test_buildkit_releases_differing_by_env_are_ordered_by_when_kfws_built_them(
    tmp_path: Path,
) -> None:
    registry = need_env("KFWS_TEST_REGISTRY")
    prefix, run = unique("built-at"), unique("run")
    repo = f"{registry}/{prefix}/nb"
    # the two releases' ENV values are chosen so that the second's tag sorts before the
    # first's: with equal `created` times, ordering by tag would then keep the first (the bug).
    # Picked among eight values planned before anything is built: the largest tag first, the
    # smallest second (a search for a second value below a given first tag can find none when
    # that tag happens to be small, as in one CI run)
    tags: dict[str, str] = {}
    for n in range(1, 9):
        tags[str(n)] = planned_tag(workspace(tmp_path, prefix, str(n), run, "buildkit"))
    first_value, second_value = max(tags, key=tags.__getitem__), min(tags, key=tags.__getitem__)
    first, second = tags[first_value], tags[second_value]
    assert second < first
    ws = workspace(tmp_path, prefix, first_value, run, "buildkit")
    applied = run_kfws("apply", "--auto-approve", "-f", str(ws), cwd=tmp_path)
    assert applied.code == 0, applied.text
    ws = workspace(tmp_path, prefix, second_value, run, "buildkit")
    applied = run_kfws("apply", "--auto-approve", "-f", str(ws), cwd=tmp_path)
    assert applied.code == 0, applied.text

    old, new = config(repo, first), config(repo, second)
    # the cause: BuildKit copies `created` from the cached RUN layer's history entry
    assert old["created"] == new["created"]
    old_labels, new_labels = old["config"]["Labels"], new["config"]["Labels"]
    old_at, new_at = parse_time(old_labels[BUILT_AT_LABEL]), parse_time(new_labels[BUILT_AT_LABEL])
    assert old_at is not None and new_at is not None and old_at < new_at
    # no input: the tag is still the one of the input digest, and nothing is left to do
    assert content_tag(new_labels["dev.kfws.input-digest"]) == second
    assert [c for c in planned(ws)["changes"] if c["details"].get("name") == "nb"] == []

    dry = run_kfws("prune", "--keep", "1", "--format", "json", "-f", str(ws), cwd=tmp_path)
    assert dry.code == 0, dry.text
    got = {t["tag"]: (t["action"], t["reasons"], t["builtAt"]) for t in json.loads(dry.out)["tags"]}
    assert got == {
        second: ("keep", [f"among the newest 1 kfws tags of {repo}"], new_labels[BUILT_AT_LABEL]),
        first: (
            "delete",
            ["older than the newest 1; not offered, used by a notebook or named by a backup"],
            old_labels[BUILT_AT_LABEL],
        ),
    }

    table = {registry: RegistryOptions(registry, insecure=True)}
    with RegistryClient(lambda h: table.get(h, RegistryOptions(h))) as client:
        found = find_last_built(client, repo, "nb")
    assert [(b.reference, b.built) for b in found.found] == [
        (f"{repo}:{second}", new_at),
        (f"{repo}:{first}", old_at),
    ]
    # what a user sees: a third release's plan compares with the second
    third = workspace(tmp_path, prefix, "third", run, "buildkit")
    plan = run_kfws("plan", "-f", str(third), cwd=tmp_path)
    assert plan.code == 0, plan.text
    assert (
        f"why    compared with {repo}:{second}, the last image kfws built for nb "
        f"(built {new_at:%Y-%m-%d %H:%M:%S} UTC)"
    ) in plan.out


def test_the_docker_engine_stamps_the_label_too(tmp_path: Path) -> None:
    prefix = unique("built-at-docker")
    repo = f"{need_env('KFWS_TEST_REGISTRY')}/{prefix}/nb"
    ws = workspace(tmp_path, prefix, "1", unique("run"), "docker")
    tag = planned_tag(ws)
    applied = run_kfws("apply", "--auto-approve", "-f", str(ws), cwd=tmp_path)
    assert applied.code == 0, applied.text
    labels = config(repo, tag)["config"]["Labels"]
    assert parse_time(labels[BUILT_AT_LABEL]) is not None
    assert content_tag(labels["dev.kfws.input-digest"]) == tag
    assert [c for c in planned(ws)["changes"] if c["details"].get("name") == "nb"] == []
