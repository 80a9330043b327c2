"""Managed images built on managed images (kfws.spec.graph), end to end from the CLI against the
real dockerd and registry: plan knows every tag before anything is built, apply builds bases
first, the children really are built FROM their base, a base change rebuilds exactly its
dependants, and a failed base stops only the images built on it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import docker
import pytest

from tests.conftest import need_env
from tests.env.kfws_cli import run_kfws, unique, write_workspace


def workspace(
    tmp: Path, prefix: str, base_env: str = "1", *, broken_base: bool = False, engine: str = ""
) -> Path:
    registry = need_env("KFWS_TEST_REGISTRY")
    ctx = tmp / "images" / "tool"
    ctx.mkdir(parents=True, exist_ok=True)
    # the base's reference comes in as a build arg; the file proves it is that image
    (ctx / "Dockerfile").write_text("ARG BASE\nFROM ${BASE}\nRUN test \"$TEAM_BASE\" != ''\n")
    doc: dict[str, Any] = {
        "apiVersion": "kfws/v1alpha1",
        "kind": "Workspace",
        "registry": {
            "default": f"{registry}/{prefix}",
            "registries": {registry: {"insecure": True}},
        },
        "build": {"network": "host"},
        "images": [
            # declared before its base on purpose: the order comes from the graph
            {"name": "child", "from": "base", "env": {"CHILD": "yes"}},
            {
                "name": "base",
                "from": need_env("KFWS_TEST_BASE_IMAGE"),
                "env": {"TEAM_BASE": base_env},
            },
            {"name": "grandchild", "from": "child", "env": {"GRANDCHILD": "yes"}},
            {
                "name": "tool",
                "build": {"context": "images/tool", "args": {"BASE": {"image": "base"}}},
            },
            {"name": "alone", "from": need_env("KFWS_TEST_BASE_IMAGE"), "env": {"ALONE": "yes"}},
        ],
    }
    if engine:
        doc["build"]["engine"] = engine
    if broken_base:  # the busybox base has neither sudo nor apt-get: kfws's build fails
        doc["images"][1]["sudo"] = "passwordless"
    return write_workspace(tmp, doc)


def plan_json(tmp: Path) -> dict[str, Any]:
    result = run_kfws("plan", "--format", "json", cwd=tmp)
    assert result.code == 0, result.text
    plan: dict[str, Any] = json.loads(result.out)
    return plan


def targets(plan: dict[str, Any]) -> dict[str, str]:
    return {
        c["details"]["name"]: c["target"]
        for c in plan["changes"]
        if c["kind"] in ("build", "rebuild", "push")
    }


def image_env(engine: docker.DockerClient, ref: str) -> dict[str, str]:
    engine.images.pull(ref)  # what the registry serves, not what the build left locally
    env = engine.images.get(ref).attrs["Config"]["Env"] or []
    return dict(e.split("=", 1) for e in env)


@pytest.fixture
def engine() -> docker.DockerClient:
    return docker.from_env()


def test_a_chain_is_planned_whole_built_in_order_and_rebuilt_exactly(
    tmp_path: Path, engine: docker.DockerClient
) -> None:
    prefix = unique("graph")
    workspace(tmp_path, prefix)
    plan = plan_json(tmp_path)
    refs = targets(plan)
    # every tag is known before anything is built
    assert sorted(refs) == ["alone", "base", "child", "grandchild", "tool"]
    reasons = {c["details"]["name"]: c["reason"] for c in plan["changes"] if c["kind"] == "build"}
    assert reasons["grandchild"] == (
        "the tag is not in the registry; built after base, child (changed by this plan too)"
    )
    assert reasons["alone"] == "the tag is not in the registry"

    applied = run_kfws("apply", "--auto-approve", cwd=tmp_path)
    assert applied.code == 0, applied.text
    assert "Apply complete: 5 built, 5 pushed" in applied.out
    # the tags apply pushed are the ones the plan named
    no_changes = run_kfws("plan", "--detailed-exitcode", cwd=tmp_path)
    assert no_changes.code == 0, no_changes.text

    # children really are built FROM their base (its env is theirs), the tool with BASE = it
    grandchild = image_env(engine, refs["grandchild"])
    assert (grandchild["TEAM_BASE"], grandchild["CHILD"], grandchild["GRANDCHILD"]) == (
        "1",
        "yes",
        "yes",
    )
    assert image_env(engine, refs["tool"])["TEAM_BASE"] == "1"
    assert "TEAM_BASE" not in image_env(engine, refs["alone"])

    # a base change: exactly the base and the images on it get new tags
    workspace(tmp_path, prefix, base_env="2")
    second = targets(plan_json(tmp_path))
    assert sorted(second) == ["base", "child", "grandchild", "tool"]
    assert all(second[n] != refs[n] for n in second)
    applied = run_kfws("apply", "--auto-approve", cwd=tmp_path)
    assert applied.code == 0, applied.text
    assert image_env(engine, second["grandchild"])["TEAM_BASE"] == "2"


def test_a_failed_base_stops_only_the_images_built_on_it(tmp_path: Path) -> None:
    prefix = unique("graphfail")
    workspace(tmp_path, prefix, broken_base=True)
    result = run_kfws("apply", "--auto-approve", cwd=tmp_path)
    assert result.code == 1, result.text
    registry = need_env("KFWS_TEST_REGISTRY")
    assert "needs sudo, and this base image has neither sudo nor apt-get" in result.err
    assert "4 of 5 images failed; the cluster was not touched" in result.err
    assert "not built: the managed image it builds on (base) failed" in result.err
    assert "not built: the managed image it builds on (base, child) failed" in result.err
    # the independent image still finished, and the report says so
    assert any(
        f"{registry}/{prefix}/alone:" in line and "built and pushed" in line
        for line in result.err.splitlines()
    ), result.err


def test_a_rebuild_shows_the_dockerfile_diff_and_the_moved_base(tmp_path: Path) -> None:
    registry = need_env("KFWS_TEST_REGISTRY")
    prefix = unique("graphwhy")

    def write(base_env: str, child_env: str) -> None:
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
                "images": [
                    {
                        "name": "base",
                        "from": need_env("KFWS_TEST_BASE_IMAGE"),
                        "env": {"B": base_env},
                    },
                    # an explicit tag: the plan rebuilds it and compares with the tag's image
                    {"name": "child", "tag": "v1", "from": "base", "env": {"C": child_env}},
                ],
            },
        )

    write("1", "1")
    applied = run_kfws("apply", "--auto-approve", cwd=tmp_path)
    assert applied.code == 0, applied.text
    assert targets(plan_json(tmp_path)) == {}  # nothing left to do

    write("2", "2")
    plan = plan_json(tmp_path)
    (child,) = [c for c in plan["changes"] if c["details"]["name"] == "child"]
    (base,) = [c for c in plan["changes"] if c["details"]["name"] == "base"]
    assert child["kind"] == "rebuild"
    new_base = base["target"]
    why = child["details"]["why"]
    assert why[0] == "the Dockerfile changed"
    assert why[1] == f"  --- Dockerfile ({registry}/{prefix}/child:v1)"
    assert why[2] == "  +++ Dockerfile (now)"
    minus = [w for w in why if w.startswith("  -FROM ")]
    plus = [w for w in why if w.startswith("  +FROM ")]
    assert plus == [f"  +FROM {new_base}"]
    (old_from,) = minus
    assert (
        old_from.startswith(f"  -FROM {registry}/{prefix}/base:kfws1-") and new_base not in old_from
    )
    assert '  -ENV C="1"' in why and '  +ENV C="2"' in why
    assert why[-1] == (
        f"managed base {old_from.removeprefix('  -FROM ')} -> {new_base} changed: its inputs "
        "moved, so it is built first"
    )
    text = run_kfws("plan", cwd=tmp_path)
    assert f"      why      +FROM {new_base}" in text.out


@pytest.mark.parametrize("builder", ["docker", "buildkit"])
def test_a_failed_build_names_the_last_image_kfws_built_for_it(
    tmp_path: Path, builder: str
) -> None:
    prefix = unique("fallback")
    # the fallback finds kfws's earlier build in the registry (its labels), so it works with
    # BuildKit too, which leaves nothing in the Docker Engine
    workspace(tmp_path, prefix, engine=builder)
    applied = run_kfws("apply", "--auto-approve", cwd=tmp_path)
    assert applied.code == 0, applied.text
    refs_before = {  # from apply's progress lines: "<ref>: pushed sha256:…"
        line.split(": ", 1)[0].strip()
        for line in applied.err.splitlines()
        if "/base:" in line and "pushed sha256" in line
    }
    (base_ref,) = refs_before
    workspace(tmp_path, prefix, broken_base=True, engine=builder)
    failed = run_kfws("apply", "--auto-approve", cwd=tmp_path)
    assert failed.code == 1, failed.text
    assert (
        f"  base: the last image kfws built for it is still in the registry: {base_ref} (built "
    ) in failed.err
    assert (
        f"to offer that image while the build is fixed, list {base_ref} in place of base in "
        "spawner options"
    ) in failed.err
