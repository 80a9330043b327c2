"""The architecture check (pure): an offered image's platforms against the nodes' architectures."""

from __future__ import annotations

import pytest

from kfws.observe.arch import node_arch
from kfws.plan.arch import arch_of, arch_warnings, mismatch, partial

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
