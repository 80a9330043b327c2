"""kfws.drift (pure): the findings every target reports are gathered into one report; images
whose registry could not be asked are set apart unless --strict; checks list in report order."""

from __future__ import annotations

from kfws.drift import CHECKS, DriftKind, Finding, report

MOVED = Finding(DriftKind.MOVED, "r/a:1", "the tag now points elsewhere")
UNCHECKED = Finding(DriftKind.UNCHECKED, "r/b:1", "not checked: offline")
CHANGED = Finding(DriftKind.CHANGED_OUT_OF_BAND, "configmap/kf/cm", "edited by hand")


def test_unchecked_images_are_reported_apart_and_are_not_drift() -> None:
    got = report([UNCHECKED])
    assert got.findings == () and got.unchecked == (UNCHECKED,)
    assert not got.drifted


def test_strict_counts_unchecked_images_as_drift() -> None:
    got = report([UNCHECKED, MOVED], strict=True)
    assert got.findings == (UNCHECKED, MOVED) and got.unchecked == ()
    assert got.drifted


def test_findings_keep_their_order_and_group_by_check() -> None:
    got = report([CHANGED, UNCHECKED, MOVED])
    assert got.findings == (CHANGED, MOVED)
    groups = dict(got.by_check())
    assert list(groups) == [name for name, _ in CHECKS]
    assert groups["spawner unchanged since the last apply"] == [CHANGED]
    assert groups["spawner images exist and are unmoved"] == [MOVED]
    assert groups["spawner matches workspace.yaml"] == []
