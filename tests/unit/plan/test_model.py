"""The plan as plain data: its kinds (the words a saved plan holds), its counts and marks."""

from __future__ import annotations

import dataclasses
import json

import pytest

from kfws.plan.model import (
    PENDING_DIGEST,
    PLAN_FORMAT_VERSION,
    Change,
    ChangeKind,
    ClusterKind,
    Observation,
    Plan,
)
from kfws.plan.planfile import plan_from_dict
from kfws.reference import ReferenceError, parse_reference
from kfws.targets.spawner.kinds import RESTART, UPDATE


def saved_change(kind: str, target: str = "r/a:1") -> dict[str, object]:
    return {"kind": kind, "target": target, "reason": "r", "before": None, "after": None}


# a plan file as kfws (format 1) writes it: plans saved earlier must still read
SAVED = {
    "formatVersion": 1,
    "workspace": {"path": "workspace.yaml", "digest": "sha256:" + "f" * 64},
    "summary": {},
    "changes": [
        {**saved_change(kind), "details": {}}
        for kind in ("build", "rebuild", "push", "check", "update-spawner")
    ],
    "fingerprint": [{"key": "inputs:a", "value": "x"}],
    "warnings": [],
}


def test_a_format_1_plan_file_reads_with_every_image_kind() -> None:
    plan = plan_from_dict(json.loads(json.dumps(SAVED)), source="saved.json")
    assert plan.format_version == PLAN_FORMAT_VERSION == 1
    assert [c.kind for c in plan.changes] == [
        ChangeKind.BUILD_IMAGE,
        ChangeKind.REBUILD_IMAGE,
        ChangeKind.PUSH_IMAGE,
        ChangeKind.CHECK_IMAGE,
        UPDATE,
    ]


@pytest.mark.parametrize(
    ("kind", "is_image"),
    [
        (ChangeKind.BUILD_IMAGE, True),
        (ChangeKind.REBUILD_IMAGE, True),
        (ChangeKind.PUSH_IMAGE, True),
        (ChangeKind.CHECK_IMAGE, False),  # runs an image, produces none
        (UPDATE, False),
        (RESTART, False),
    ],
)
def test_which_kinds_produce_an_image(kind: ChangeKind | ClusterKind, is_image: bool) -> None:
    assert kind.is_image is is_image


def test_the_image_kinds_are_declared_in_apply_order() -> None:
    assert list(ChangeKind) == [
        ChangeKind.BUILD_IMAGE,
        ChangeKind.REBUILD_IMAGE,
        ChangeKind.PUSH_IMAGE,
        ChangeKind.CHECK_IMAGE,
    ]


def test_a_cluster_kind_is_a_yellow_change_unless_it_says_otherwise() -> None:
    kind = ClusterKind("set-thing", "thing")
    assert (kind.symbol, kind.colour, kind.summary) == ("~", "yellow", "to change")
    assert repr(kind) == "<ClusterKind set-thing of thing>"


def test_the_pending_digest_tells_the_reader_and_is_no_reference_to_pull() -> None:
    # a plan shows repository@PENDING_DIGEST for an image it builds: the reader learns when the
    # digest is known, and nothing can pull (or a registry answer equal) such a reference
    assert PENDING_DIGEST.startswith("sha256:") and "known-after-apply" in PENDING_DIGEST
    with pytest.raises(ReferenceError, match="must look like sha256:<64 hex digits>"):
        parse_reference(f"reg.example.com/team/nb@{PENDING_DIGEST}")


def test_counts_and_has_changes() -> None:
    empty = Plan("workspace.yaml", "sha256:x", (), ())
    assert not empty.has_changes and empty.count(ChangeKind.BUILD_IMAGE) == 0
    assert empty.warnings == () and empty.format_version == PLAN_FORMAT_VERSION
    plan = Plan(
        "workspace.yaml",
        "sha256:x",
        (Observation("inputs:a", "x"),),
        (
            Change(ChangeKind.BUILD_IMAGE, "r/a:1", "missing"),
            Change(ChangeKind.BUILD_IMAGE, "r/b:1", "missing"),
            Change(ChangeKind.CHECK_IMAGE, "r/a:1", "offered"),
        ),
    )
    assert plan.has_changes
    assert [plan.count(k) for k in ChangeKind] == [2, 0, 0, 1]
    assert plan.changes[0].before is None and plan.changes[0].after is None
    assert plan.changes[0].details == {}


def test_a_plan_and_its_parts_cannot_be_changed_once_made() -> None:
    # apply compares a saved plan with a fresh one and then runs the fresh one: nothing may
    # alter either in between
    change = Change(ChangeKind.BUILD_IMAGE, "r/a:1", "missing")
    plan = Plan("workspace.yaml", "sha256:x", (Observation("inputs:a", "x"),), (change,))
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.changes = ()  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        change.target = "attacker/x:1"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.fingerprint[0].value = "y"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        UPDATE.value = "delete-everything"  # type: ignore[misc]


def test_observations_and_kinds_are_values_a_set_or_a_dict_can_hold() -> None:
    # the planner keeps each fingerprint fact once (a set); renderers count changes per kind
    assert {Observation("inputs:a", "x"), Observation("inputs:a", "x")} == {
        Observation("inputs:a", "x")
    }
    assert {UPDATE: 1, ClusterKind("update-spawner", "spawner"): 2} == {UPDATE: 2}
