"""kfws.drift (pure): the findings every target reports are gathered into one report; images
whose registry could not be asked are set apart unless --strict; checks list in report order,
each titled with the object it judged (a WorkspaceKind's finding is never told as the
spawner's)."""

from __future__ import annotations

import dataclasses

import pytest

from kfws.drift import (
    IMAGES,
    MATCHES,
    RELOADED,
    UNCHANGED,
    Check,
    DriftKind,
    DriftReport,
    Finding,
    Judged,
    report,
)

SPAWNER = (MATCHES, UNCHANGED, IMAGES, RELOADED)
MOVED = Finding(DriftKind.MOVED, "r/a:1", "the tag now points elsewhere")
UNCHECKED = Finding(DriftKind.UNCHECKED, "r/b:1", "not checked: offline")
CHANGED = Finding(DriftKind.CHANGED_OUT_OF_BAND, "configmap/kf/cm", "edited by hand")
KIND_CHANGED = Finding(DriftKind.CHANGED_OUT_OF_BAND, "workspacekind/lab", "edited by hand")
KIND_MISSING = Finding(DriftKind.NOT_AS_DECLARED, "workspacekind/lab", "value 'a' missing")


def cm(*found: Finding) -> Judged:
    return Judged("ConfigMap kf/cm", SPAWNER, found)


def test_unchecked_images_are_reported_apart_and_are_not_drift() -> None:
    got = report([cm(UNCHECKED)])
    assert got.findings == () and got.unchecked == (UNCHECKED,)
    assert not got.drifted
    assert got.judged == (cm(),)


def test_strict_counts_unchecked_images_as_drift() -> None:
    got = report([cm(UNCHECKED, MOVED)], strict=True)
    assert got.findings == (UNCHECKED, MOVED) and got.unchecked == ()
    assert got.drifted


def test_findings_keep_their_order_and_group_by_check_titled_with_the_configmap() -> None:
    got = report([cm(CHANGED, UNCHECKED, MOVED)])
    assert got.findings == (CHANGED, MOVED)
    assert got.by_check() == [
        ("ConfigMap kf/cm matches workspace.yaml", []),
        ("ConfigMap kf/cm unchanged since the last apply", [CHANGED]),
        ("images offered by ConfigMap kf/cm exist and are unmoved", [MOVED]),
        ("web app reloaded since the last apply to ConfigMap kf/cm", []),
    ]


def test_a_workspacekinds_findings_are_titled_with_its_name_not_the_spawner() -> None:
    got = report(
        [
            cm(),
            Judged("WorkspaceKind lab", (MATCHES, UNCHANGED), (KIND_MISSING, KIND_CHANGED)),
            Judged("WorkspaceKind other", (MATCHES, UNCHANGED)),
        ]
    )
    assert got.findings == (KIND_MISSING, KIND_CHANGED)
    assert got.by_check() == [
        ("ConfigMap kf/cm matches workspace.yaml", []),
        ("ConfigMap kf/cm unchanged since the last apply", []),
        ("images offered by ConfigMap kf/cm exist and are unmoved", []),
        ("web app reloaded since the last apply to ConfigMap kf/cm", []),
        ("WorkspaceKind lab matches workspace.yaml", [KIND_MISSING]),
        ("WorkspaceKind lab unchanged since the last apply", [KIND_CHANGED]),
        ("WorkspaceKind other matches workspace.yaml", []),
        ("WorkspaceKind other unchanged since the last apply", []),
    ]


def test_a_finding_no_check_of_its_object_covers_gets_a_check_rather_than_going_unlisted() -> None:
    got = report([Judged("WorkspaceKind lab", (MATCHES,), (MOVED,))])
    assert got.by_check() == [
        ("WorkspaceKind lab matches workspace.yaml", []),
        ("images offered by WorkspaceKind lab exist and are unmoved", [MOVED]),
    ]


def test_a_title_takes_the_name_as_it_is() -> None:
    # str.format would read braces in a name as fields; the name is outside text
    assert Check("{target} x", ()).titled("a{0}b{target}") == "a{0}b{target} x"
    assert report([]).by_check() == [] and not report([]).drifted


def test_the_kinds_are_named_as_the_json_and_junit_reports_and_the_readme_give_them() -> None:
    """CI jobs match on these words (`kfws drift --format json`): they are an interface."""
    assert {k.name: k.value for k in DriftKind} == {
        "NOT_AS_DECLARED": "not-as-declared",
        "CHANGED_OUT_OF_BAND": "changed-out-of-band",
        "REPLACED": "configmap-replaced",
        "DANGLING": "dangling-image",
        "MOVED": "tag-moved",
        "UNCHECKED": "image-unchecked",
        "NOT_RELOADED": "not-reloaded",
    }


def test_checks_findings_and_reports_are_values_nobody_can_change() -> None:
    judged = cm(MOVED)
    drift = report([judged])
    for value, field in (
        (MATCHES, "title"),
        (MOVED, "message"),
        (judged, "target"),
        (drift, "unchecked"),
    ):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(value, field, None)
    assert isinstance(drift, DriftReport)
