"""The architecture check (pure): an offered image's platforms against the nodes' architectures."""

from __future__ import annotations

import dataclasses

import pytest

from kfws.apply.images import refuse_build_mismatches
from kfws.errors import ApplyError
from kfws.observe.arch import node_arch
from kfws.observe.model import BuildPlatforms, Observed
from kfws.plan.arch import (
    arch_of,
    arch_warnings,
    build_mismatches,
    built_platforms,
    judge,
    mismatch,
    partial,
)
from kfws.plan.build import make_plan
from kfws.plan.model import Change, ChangeKind, ClusterKind
from kfws.spec.model import SpawnerGroup, SpawnerSpec, Spec
from tests.unit.factories import REGISTRY, cluster_state, image, inputs, observed, spec, state

REF = "reg/team/nb:1"


@pytest.mark.parametrize(
    ("platform", "arch"),
    [("linux/amd64", "amd64"), ("linux/arm64/v8", "arm64"), ("arm64", "arm64")],
)
def test_arch_of(platform: str, arch: str) -> None:
    assert arch_of(platform) == arch


# (image platforms, node archs, mismatch?)
CASES = [
    (["linux/amd64"], ["amd64"], False),
    (["linux/amd64", "linux/arm64/v8"], ["arm64"], False),
    (["linux/amd64"], ["amd64", "arm64"], False),  # runs on some: partial, not a mismatch
    (["linux/arm64/v8"], ["amd64"], True),
    (["linux/arm64", "linux/s390x"], ["amd64", "ppc64le"], True),
    ([], ["amd64"], False),  # platforms unknown: not judged
    (["linux/arm64"], [], False),  # nodes unknown: not judged
]


@pytest.mark.parametrize(("platforms", "nodes", "bad"), CASES)
def test_mismatch_only_when_no_node_can_run_it(
    platforms: list[str], nodes: list[str], bad: bool
) -> None:
    assert (mismatch(REF, platforms, nodes) is not None) == bad


def test_the_mismatch_message_names_image_platforms_and_nodes() -> None:
    assert mismatch(REF, ["linux/arm64/v8"], ["amd64"]) == (
        "reg/team/nb:1 provides only linux/arm64/v8, and the cluster's nodes are amd64: no node "
        "can run it (build it for one of them, e.g. `platform: linux/amd64`, or as a "
        "multi-platform image)"
    )
    many = [f"linux/arch{i}" for i in range(10)]
    assert "linux/arch7 and 2 more, and the cluster's nodes are amd64, arm64" in str(
        mismatch(REF, many, ["amd64", "arm64"])
    )


def test_partial_names_the_nodes_it_can_not_run_on() -> None:
    assert partial(REF, ["linux/amd64"], ["amd64", "arm64"]) == (
        "reg/team/nb:1 provides linux/amd64: notebooks with it run only on the amd64 nodes, "
        "not on the arm64 ones"
    )
    assert partial(REF, ["linux/amd64"], ["amd64"]) is None
    assert partial(REF, ["linux/s390x"], ["amd64"]) is None  # that is a mismatch


def test_warnings_sorted_and_the_skip_says_why() -> None:
    offered = {"b/y:1": ["linux/arm64"], "a/x:1": ["linux/amd64"], "c/z:1": ["linux/s390x"]}
    assert arch_warnings(offered, ["amd64", "arm64"], None) == [
        "a/x:1 provides linux/amd64: notebooks with it run only on the amd64 nodes, not on the "
        "arm64 ones",
        "b/y:1 provides linux/arm64: notebooks with it run only on the arm64 nodes, not on the "
        "amd64 ones",
        "c/z:1 provides only linux/s390x, and the cluster's nodes are amd64, arm64: no node can "
        "run it (build it for one of them, e.g. `platform: linux/amd64`, or as a multi-platform "
        "image)",
    ]
    assert arch_warnings(offered, [], "listing nodes is forbidden (403)") == [
        "the architecture check was skipped: listing nodes is forbidden (403)"
    ]


@pytest.mark.parametrize(
    ("status", "labels", "arch"),
    [
        ("amd64", {"kubernetes.io/arch": "arm64"}, "amd64"),  # the kubelet's report wins
        ("", {"kubernetes.io/arch": "arm64"}, "arm64"),
        (None, {}, None),
        (None, None, None),
        (42, {"kubernetes.io/arch": 7}, None),  # hostile shapes read as unknown
        ("x" * 100, {}, "x" * 64),
    ],
)
def test_node_arch(status: object, labels: object, arch: str | None) -> None:
    assert node_arch(status, labels) == arch


# -- images the plan builds: judged by what the build produces, before it runs ---------------


def _builds(
    platforms: tuple[str, ...], nodes: tuple[str, ...], *, registry: str | None = None
) -> tuple[Spec, Observed]:
    """A spawner offering `nb`, whose tag v1 is missing (registry None) or holds other inputs."""
    nb = image("nb", tag="v1")
    ws = spec(nb, spawner=SpawnerSpec((SpawnerGroup("image", "nb", ("nb",)),)))
    state_ = state(f"{nb.repository}:v1", registry=registry, label="sha256:" + "0" * 64)
    seen = dataclasses.replace(
        observed((inputs("nb", tag="v1"), state_)),
        targets={"spawner": cluster_state()},
        node_archs=nodes,
        # what the registry holds now under that tag (replaced by the build)
        platforms={state_.reference: ("linux/amd64",)} if registry else {},
        build_platforms={"nb": BuildPlatforms(platforms, "as the workspace sets")},
    )
    return ws, seen


NB = f"{REGISTRY}/team/nb:v1"
BUILT_ARM = (
    f"{NB} builds only linux/arm64 (as the workspace sets), and the cluster's nodes are amd64: "
    "no node can run it (build it for one of them, e.g. `platform: linux/amd64`, or as a "
    "multi-platform image)"
)


def _arch_lines(warnings: tuple[str, ...]) -> list[str]:
    return [w for w in warnings if " builds " in w or " provides " in w]


def test_a_build_for_no_node_s_architecture_is_said_by_the_plan() -> None:
    ws, seen = _builds(("linux/arm64",), ("amd64",))
    plan = make_plan(ws, seen, spec_path="w")
    assert plan.changes[0].kind is ChangeKind.BUILD_IMAGE
    assert _arch_lines(plan.warnings) == [BUILT_ARM]
    assert build_mismatches(plan.changes, seen) == {"nb": BUILT_ARM}
    # a rebuild: the platforms the registry holds now (amd64) are not what will be offered
    ws, seen = _builds(("linux/arm64",), ("amd64",), registry="sha256:" + "9" * 64)
    plan = make_plan(ws, seen, spec_path="w")
    assert plan.changes[0].kind is ChangeKind.REBUILD_IMAGE
    assert _arch_lines(plan.warnings) == [BUILT_ARM]


def test_a_build_some_node_runs_is_not_an_error() -> None:
    ws, seen = _builds(("linux/amd64",), ("amd64",))
    plan = make_plan(ws, seen, spec_path="w")
    assert _arch_lines(plan.warnings) == [] and build_mismatches(plan.changes, seen) == {}
    ws, seen = _builds(("linux/amd64", "linux/arm64"), ("arm64",))
    assert build_mismatches(make_plan(ws, seen, spec_path="w").changes, seen) == {}
    ws, seen = _builds(("linux/amd64",), ("amd64", "arm64"))
    assert _arch_lines(make_plan(ws, seen, spec_path="w").warnings) == [
        f"{NB} builds linux/amd64 (as the workspace sets): notebooks with it run only on the "
        "amd64 nodes, not on the arm64 ones"
    ]


def test_apply_refuses_a_mismatched_build_before_building_unless_skipped() -> None:
    ws, seen = _builds(("linux/arm64",), ("amd64",))
    changes = make_plan(ws, seen, spec_path="w").changes
    with pytest.raises(ApplyError) as e:
        refuse_build_mismatches(seen, changes)
    assert e.value.message == (
        "1 offered image this apply would build can't run on any node of the cluster; nothing "
        "was built or pushed and the cluster was not touched (it is exactly as it was).\n"
        f"  - {BUILT_ARM}"
    )
    assert e.value.where == "apply: architecture"
    refuse_build_mismatches(seen, changes, skip={"nb"})  # --skip-check nb: let through


def test_kfws_check_fails_an_image_no_node_runs_and_notes_one_some_nodes_cannot() -> None:
    platforms = {"a/x:1": ("linux/amd64",), "b/y:1": ("linux/arm64/v8",), "c/z:1": ()}
    failures, notes = judge(platforms, ["amd64"])
    assert failures == {"b/y:1": mismatch("b/y:1", ["linux/arm64/v8"], ["amd64"])}
    assert notes == []
    failures, notes = judge(platforms, ["amd64", "arm64"])
    assert failures == {}
    assert notes == [
        "a/x:1 provides linux/amd64: notebooks with it run only on the amd64 nodes, not on the "
        "arm64 ones",
        "b/y:1 provides linux/arm64/v8: notebooks with it run only on the arm64 nodes, not on "
        "the amd64 ones",
    ]
    assert judge(platforms, []) == ({}, [])  # nodes unknown: nothing judged


def test_many_platforms_are_listed_up_to_eight_then_counted() -> None:
    nine = [f"linux/arch{i}" for i in range(9)]
    assert mismatch(REF, nine, ["amd64"]) == (
        "reg/team/nb:1 provides linux/arch0, linux/arch1, linux/arch2, linux/arch3, linux/arch4, "
        "linux/arch5, linux/arch6, linux/arch7 and 1 more, and the cluster's nodes are amd64: no "
        "node can run it (build it for one of them, e.g. `platform: linux/amd64`, or as a "
        "multi-platform image)"
    )
    # exactly eight: all listed, nothing counted; two: no "only"
    assert "linux/arch7, and the cluster's" in str(mismatch(REF, nine[:8], ["amd64"]))
    assert mismatch(REF, nine[:2], ["amd64"]) == (
        "reg/team/nb:1 provides linux/arch0, linux/arch1, and the cluster's nodes are amd64: no "
        "node can run it (build it for one of them, e.g. `platform: linux/amd64`, or as a "
        "multi-platform image)"
    )


def test_partial_lists_every_node_architecture_on_each_side() -> None:
    nodes = ["amd64", "arm64", "s390x", "ppc64le"]
    assert partial(REF, ["linux/amd64", "linux/arm64"], nodes) == (
        "reg/team/nb:1 provides linux/amd64, linux/arm64: notebooks with it run only on the "
        "amd64, arm64 nodes, not on the s390x, ppc64le ones"
    )


def test_only_image_changes_are_judged_by_their_build_platforms() -> None:
    """A cluster change whose details carry a name that is also a managed image's (a
    WorkspaceKind called like an image) is not an image build."""
    kind = ClusterKind("update-thing", "thing")
    cluster = Change(kind, "thing/nb", "r", details={"name": "nb"})
    build = Change(ChangeKind.BUILD_IMAGE, NB, "r", details={"name": "nb"})
    seen = dataclasses.replace(
        observed(),
        node_archs=("amd64",),
        build_platforms={"nb": BuildPlatforms(("linux/arm64",), "as the workspace sets")},
    )
    assert built_platforms([cluster], seen) == {}
    assert build_mismatches([cluster], seen) == {}
    assert built_platforms([cluster, build], seen) == {NB: seen.build_platforms["nb"]}
    assert build_mismatches([cluster, build], seen) == {"nb": BUILT_ARM}
