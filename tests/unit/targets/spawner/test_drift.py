from __future__ import annotations

import dataclasses
import json
from xml.etree import ElementTree as ET

import pytest

from kfws.drift import DriftKind, DriftReport, report
from kfws.plan.model import Change, Plan
from kfws.render.drift import render_drift
from kfws.targets.spawner.drift import (
    AppliedRecord,
    DriftObserved,
    ManagerEntry,
    declared_vs_live,
    judged,
)
from kfws.targets.spawner.kinds import UPDATE
from kfws.targets.spawner.state import SpawnerState

STATE = SpawnerState("kf", "web", 1, {}, "cm", "1", "spawner_ui_config.yaml", "")


def find_drift(plan: Plan, obs: DriftObserved | None, *, strict: bool = False) -> DriftReport:
    """The spawner's findings, gathered as `kfws drift` does."""
    return report([judged(STATE, plan, obs)], strict=strict)


NO_CHANGES = Plan("workspace.yaml", "sha256:" + "a" * 64, (), ())
SPAWNER_CHANGE = Plan(
    "workspace.yaml",
    "sha256:" + "a" * 64,
    (),
    (Change(UPDATE, "configmap/kf/cm", "image.options: +1 -0", "a", "b", {}),),
)
RECORD = AppliedRecord(
    config_map="cm",
    owned_hash="h1",
    applied_at="2026-11-28T10:00:00Z",
    option_digests={"r/a:1": "sha256:aaa", "r/b:1": "sha256:bbb"},
)


def observed(**overrides: object) -> DriftObserved:
    base: dict[str, object] = {
        "config_map": "cm",
        "live_owned_hash": "h1",
        "record": RECORD,
        "managers": (ManagerEntry("kfws", "Update", "2026-11-28T10:00:00Z"),),
        "pods_started": (("web-1", "2026-11-28T10:00:05Z"),),
        "option_digests": {"r/a:1": "sha256:aaa", "r/b:1": "sha256:bbb"},
    }
    base.update(overrides)
    return DriftObserved(**base)  # type: ignore[arg-type]


def kinds(plan: Plan, obs: DriftObserved | None) -> list[DriftKind]:
    return [f.kind for f in find_drift(plan, obs).findings]


def test_nothing_moved_is_no_drift() -> None:
    assert kinds(NO_CHANGES, observed()) == []


def test_declared_differs() -> None:
    assert kinds(SPAWNER_CHANGE, observed()) == [DriftKind.NOT_AS_DECLARED]


def test_out_of_band_edit_names_the_latest_other_manager_and_when() -> None:
    managers = (
        ManagerEntry("kfws", "Update", "2026-11-28T10:00:00Z"),
        ManagerEntry("kubectl-edit", "Update", "2026-11-28T11:30:00Z"),
        ManagerEntry("kubectl-client-side-apply", "Update", "2026-11-27T09:00:00Z"),
    )
    report = find_drift(NO_CHANGES, observed(live_owned_hash="h2", managers=managers))
    (finding,) = report.findings
    assert finding.kind is DriftKind.CHANGED_OUT_OF_BAND
    assert "'kubectl-edit'" in finding.message and "2026-11-28T11:30:00Z" in finding.message


def test_replaced_configmap_is_reported_as_a_redeploy() -> None:
    report = find_drift(NO_CHANGES, observed(config_map="cm-new", live_owned_hash="h9"))
    (finding,) = report.findings
    assert finding.kind is DriftKind.REPLACED
    assert "cm-new" in finding.message and "re-deployed" in finding.message


@pytest.mark.parametrize(
    ("digests", "errors", "expected"),
    [
        ({"r/a:1": None, "r/b:1": "sha256:bbb"}, {}, [DriftKind.DANGLING]),
        ({"r/a:1": "sha256:zzz", "r/b:1": "sha256:bbb"}, {}, [DriftKind.MOVED]),
        ({"r/a:1": "sha256:aaa"}, {"r/b:1": "401"}, []),  # unchecked is not drift ...
        ({"r/a@sha256:aaa": "sha256:aaa"}, {}, []),
    ],
)
def test_images(
    digests: dict[str, str | None], errors: dict[str, str], expected: list[DriftKind]
) -> None:
    assert kinds(NO_CHANGES, observed(option_digests=digests, option_errors=errors)) == expected


def test_unchecked_images_are_reported_apart_and_are_drift_only_when_strict() -> None:
    obs = observed(option_digests={"r/a:1": "sha256:aaa"}, option_errors={"ghcr.io/x:1": "dns"})
    report = find_drift(NO_CHANGES, obs)
    assert not report.drifted
    assert [(f.kind, f.subject) for f in report.unchecked] == [(DriftKind.UNCHECKED, "ghcr.io/x:1")]
    text = render_drift(report, "text")
    assert "No drift. 1 image not checked." in text and "ghcr.io/x:1: not checked: dns" in text
    assert json.loads(render_drift(report, "json"))["unchecked"][0]["subject"] == "ghcr.io/x:1"
    strict = find_drift(NO_CHANGES, obs, strict=True)  # ... unless asked
    assert strict.drifted and [f.kind for f in strict.findings] == [DriftKind.UNCHECKED]
    assert strict.unchecked == ()


def test_pods_older_than_the_apply_were_not_reloaded_unless_restart_is_none() -> None:
    old = (("web-0", "2026-11-28T09:59:00Z"),)
    assert kinds(NO_CHANGES, observed(pods_started=old)) == [DriftKind.NOT_RELOADED]
    assert kinds(NO_CHANGES, observed(pods_started=old, restart_mode="none")) == []


def test_never_applied_only_compares_with_the_declaration() -> None:
    assert kinds(SPAWNER_CHANGE, observed(record=None, live_owned_hash="x")) == [
        DriftKind.NOT_AS_DECLARED
    ]


def test_junit_parses_and_fails_exactly_the_drifted_checks() -> None:
    report = find_drift(SPAWNER_CHANGE, observed(option_digests={"r/a:1": None}))
    root = ET.fromstring(render_drift(report, "junit").split("?>", 1)[1])  # noqa: S314 (ours)
    suite = root.find("testsuite")
    assert suite is not None
    assert suite.get("tests") == "4" and suite.get("failures") == "2"
    failed = [c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None]
    assert failed == [
        "ConfigMap kf/cm matches workspace.yaml",
        "images offered by ConfigMap kf/cm exist and are unmoved",
    ]


def test_json_and_text_and_markdown() -> None:
    report = find_drift(NO_CHANGES, observed(option_digests={"r/a:1": None}))
    data = json.loads(render_drift(report, "json"))
    assert data["drift"] is True and data["findings"][0]["kind"] == "dangling-image"
    text = render_drift(report, "text")
    assert "FAIL images offered by ConfigMap kf/cm exist and are unmoved" in text
    assert "Drift: 1 finding." in text
    md = render_drift(report, "markdown")
    assert "| dangling-image | `r/a:1` |" in md
    assert render_drift(find_drift(NO_CHANGES, observed()), "text").endswith("No drift.\n")


DANGLING_MESSAGE = (
    "offered in the spawner but missing from its registry: notebooks from it will fail to start"
)
REPLACED_MESSAGE = (
    "the web app now mounts cm-new, not cm that kfws applied to: the Kubeflow manifests were "
    "re-deployed and the lists reset; run `kfws apply` to put them back"
)
EDITED = "the image lists were changed since kfws applied them"


@pytest.mark.parametrize(
    ("plan", "overrides", "expected"),
    [
        (
            SPAWNER_CHANGE,
            {},
            [
                (
                    DriftKind.NOT_AS_DECLARED,
                    "configmap/kf/cm",
                    "the spawner config differs from workspace.yaml: image.options: +1 -0",
                )
            ],
        ),
        (
            NO_CHANGES,
            {"config_map": "cm-new", "namespace": "kubeflow"},
            [(DriftKind.REPLACED, "configmap/kubeflow/cm-new", REPLACED_MESSAGE)],
        ),
        # only kfws wrote it: nobody else is named (kfws is not blamed for the edit)
        (
            NO_CHANGES,
            {"live_owned_hash": "h2"},
            [(DriftKind.CHANGED_OUT_OF_BAND, "configmap/cm", EDITED)],
        ),
        (
            NO_CHANGES,
            {
                "live_owned_hash": "h2",
                "managers": (
                    ManagerEntry("kfws", "Update", "2026-11-29T00:00:00Z"),
                    ManagerEntry("helm", "Apply", None),
                    ManagerEntry("kubectl", "Update", "2026-11-28T11:00:00Z"),
                ),
            },
            [
                (
                    DriftKind.CHANGED_OUT_OF_BAND,
                    "configmap/cm",
                    EDITED + " by 'kubectl' (Update) at 2026-11-28T11:00:00Z",
                )
            ],
        ),
        (
            NO_CHANGES,
            {"live_owned_hash": "h2", "managers": (ManagerEntry("helm", "Apply", None),)},
            [
                (
                    DriftKind.CHANGED_OUT_OF_BAND,
                    "configmap/cm",
                    EDITED + " by 'helm' (Apply) at an unknown time",
                )
            ],
        ),
        (
            NO_CHANGES,
            {"option_digests": {"r/b:1": None, "r/a:1": "sha256:zzz", "r/c:1": "sha256:new"}},
            [
                (
                    DriftKind.MOVED,
                    "r/a:1",
                    "the tag now points to sha256:zzz, not sha256:aaa as when applied",
                ),
                (DriftKind.DANGLING, "r/b:1", DANGLING_MESSAGE),
                # r/c:1 was not applied by kfws: no recorded digest to compare with
            ],
        ),
        (
            NO_CHANGES,
            {"pods_started": (("web-0", "2026-11-28T09:59:59Z"), ("web-1", RECORD.applied_at))},
            [
                (
                    DriftKind.NOT_RELOADED,
                    "pod/web-0",
                    "started 2026-11-28T09:59:59Z, before the last apply (2026-11-28T10:00:00Z): "
                    "it may still show the old image list",
                )
            ],
        ),
        (
            NO_CHANGES,
            {
                "record": AppliedRecord("cm", "h1", None, RECORD.option_digests),
                "pods_started": (("web-0", "2026-11-28T09:59:59Z"),),
            },
            [],  # no apply time recorded: nothing to compare the pods with
        ),
        (
            NO_CHANGES,
            {"record": None, "live_owned_hash": "x", "option_digests": {"r/a:1": "sha256:zzz"}},
            [],  # never applied: no record to be out of band or moved from
        ),
    ],
)
def test_findings_in_full(
    plan: Plan, overrides: dict[str, object], expected: list[tuple[DriftKind, str, str]]
) -> None:
    report = find_drift(plan, observed(**overrides))
    assert [(f.kind, f.subject, f.message) for f in report.findings] == expected
    assert report.drifted is bool(expected)
    assert report.unchecked == ()


def test_unchecked_in_full_and_checks_group_findings_in_report_order() -> None:
    obs = observed(
        live_owned_hash="h2",
        option_digests={"r/a:1": None},
        option_errors={"r/b:1": "401"},
        pods_started=(("web-0", "2026-11-28T09:00:00Z"),),
    )
    report = find_drift(SPAWNER_CHANGE, obs, strict=True)
    assert [name for name, _ in report.by_check()] == [
        "ConfigMap kf/cm matches workspace.yaml",
        "ConfigMap kf/cm unchanged since the last apply",
        "images offered by ConfigMap kf/cm exist and are unmoved",
        "web app reloaded since the last apply to ConfigMap kf/cm",
    ]
    grouped = [[(f.kind, f.subject) for f in found] for _, found in report.by_check()]
    assert grouped == [
        [(DriftKind.NOT_AS_DECLARED, "configmap/kf/cm")],
        [(DriftKind.CHANGED_OUT_OF_BAND, "configmap/cm")],
        [(DriftKind.DANGLING, "r/a:1"), (DriftKind.UNCHECKED, "r/b:1")],
        [(DriftKind.NOT_RELOADED, "pod/web-0")],
    ]
    (unchecked,) = [f for f in report.findings if f.kind is DriftKind.UNCHECKED]
    assert unchecked.message == "not checked: 401"
    assert find_drift(NO_CHANGES, observed()).by_check()[0] == (
        "ConfigMap kf/cm matches workspace.yaml",
        [],
    )


def test_kinds_are_the_names_reports_and_json_use() -> None:
    assert [k.value for k in DriftKind] == [
        "not-as-declared",
        "changed-out-of-band",
        "configmap-replaced",
        "dangling-image",
        "tag-moved",
        "image-unchecked",
        "not-reloaded",
    ]


def test_only_a_manager_that_owns_the_data_key_is_blamed() -> None:
    managers = (
        ManagerEntry("kfws", "Update", "2026-11-28T10:00:00Z"),
        # a later replace that left the data as it was owns only metadata: not the culprit
        ManagerEntry("kubectl-replace", "Update", "2026-11-28T12:00:00Z", covers_key=False),
        ManagerEntry("kubectl-edit", "Update", "2026-11-28T11:30:00Z"),
    )
    (finding,) = find_drift(NO_CHANGES, observed(live_owned_hash="h2", managers=managers)).findings
    assert "'kubectl-edit'" in finding.message and "kubectl-replace" not in finding.message
    only_meta = (managers[0], managers[1])
    (finding,) = find_drift(NO_CHANGES, observed(live_owned_hash="h2", managers=only_meta)).findings
    assert "kubectl-replace" not in finding.message


def test_the_text_kfws_wrote_unchanged_is_no_out_of_band_change() -> None:
    record = AppliedRecord("cm", "h1", "2026-11-28T10:00:00Z", text_hash="sha256:t")
    same = observed(record=record, live_owned_hash="h-other", live_text_hash="sha256:t")
    assert kinds(NO_CHANGES, same) == []
    edited = observed(record=record, live_owned_hash="h-other", live_text_hash="sha256:u")
    assert kinds(NO_CHANGES, edited) == [DriftKind.CHANGED_OUT_OF_BAND]


def test_not_as_declared_is_told_from_the_cluster_side() -> None:
    diff = {
        "groups": {
            "image": {
                "added": ["r/new:1"],
                "removed": ["r/extra:1"],
                "reordered": False,
                "default": {"before": "r/extra:1", "after": "r/new:1"},
            }
        },
        "flags": {"allowCustomImage": {"before": None, "after": True}},
    }
    change = Change(UPDATE, "configmap/kf/cm", "image: add r/new:1", "a", "b", {"diff": diff})
    (finding,) = find_drift(Plan("w", "sha256:" + "a" * 64, (), (change,)), None).findings
    assert "missing on the cluster: r/new:1" in finding.message
    assert "on the cluster but not declared: r/extra:1" in finding.message
    assert "default is r/extra:1 on the cluster, declared r/new:1" in finding.message
    assert "allowCustomImage is unset on the cluster, declared true" in finding.message
    assert "add " not in finding.message


def test_a_replaced_option_is_told_as_what_the_cluster_offers_instead() -> None:
    diff = {
        "groups": {
            "image": {
                "added": [],
                "removed": [],
                "replaced": [{"before": "r/a:1", "after": "r/a:2"}],
                "reordered": False,
            }
        },
        "flags": {},
    }
    change = Change(UPDATE, "configmap/kf/cm", "x", "a", "b", {"diff": diff})
    (finding,) = find_drift(Plan("w", "sha256:" + "a" * 64, (), (change,)), None).findings
    assert "r/a:1 on the cluster where r/a:2 is declared" in finding.message


def test_an_observation_with_only_the_required_fields_has_nothing_else_to_report() -> None:
    # what drift_observe passes when the cluster has no managers, pods or options to show
    bare = DriftObserved("cm", "h2", AppliedRecord("cm", "h1", "2026-11-28T10:00:00Z"))
    report = find_drift(NO_CHANGES, bare)
    assert [(f.kind, f.subject, f.message) for f in report.findings] == [
        (DriftKind.CHANGED_OUT_OF_BAND, "configmap/cm", EDITED)
    ]
    assert report.unchecked == ()
    assert find_drift(NO_CHANGES, DriftObserved("cm", "h1", None)).findings == ()


@pytest.mark.parametrize(
    ("value", "attribute"),
    [
        (RECORD, "owned_hash"),
        (ManagerEntry("kfws", "Update", None), "manager"),
        (observed(), "config_map"),
        (find_drift(NO_CHANGES, observed()), "findings"),
        (find_drift(SPAWNER_CHANGE, observed()).findings[0], "message"),
    ],
)
def test_drift_values_are_immutable(value: object, attribute: str) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(value, attribute, "changed")


def spawner_diff(groups: object, flags: object) -> Change:
    details = {"diff": {"groups": groups, "flags": flags}}
    return Change(UPDATE, "configmap/kf/cm", "the plan's reason", "a", "b", details)


@pytest.mark.parametrize(
    ("groups", "flags", "told"),
    [
        (
            {
                "junk": "not a mapping",  # skipped, the next groups still told
                "image": {
                    "replaced": [{"before": "r/a:1", "after": "r/a:2"}],
                    "added": ["r/n:1", "r/m:1"],
                    "removed": ["r/x:1", "r/y:1"],
                    "reordered": True,
                },
                "imageGroupOne": {"reordered": False},
            },
            {"allowCustomImage": {"before": False, "after": True}},
            "image: r/a:1 on the cluster where r/a:2 is declared; missing on the cluster: "
            "r/n:1, r/m:1; on the cluster but not declared: r/x:1, r/y:1; in another order on "
            "the cluster; imageGroupOne: differs; allowCustomImage is false on the cluster, "
            "declared true",
        ),
        ({"image": {"added": ["r/n:1"]}}, None, "the plan's reason"),  # no flags: no diff
        (None, {}, "the plan's reason"),
    ],
)
def test_declared_vs_live_is_told_in_full(groups: object, flags: object, told: str) -> None:
    assert declared_vs_live(spawner_diff(groups, flags)) == told


def test_a_digest_reference_never_moves_and_later_refs_are_still_checked() -> None:
    pinned = "r/a@sha256:" + "a" * 64
    record = AppliedRecord("cm", "h1", None, {pinned: "sha256:old", "r/z:1": "sha256:zzz"})
    obs = observed(
        record=record,
        option_digests={pinned: "sha256:new", "r/z:1": "sha256:moved"},
        option_errors={"r/b:1": "401"},
    )
    report = find_drift(NO_CHANGES, obs, strict=True)
    assert [(f.kind, f.subject) for f in report.findings] == [
        (DriftKind.UNCHECKED, "r/b:1"),
        (DriftKind.MOVED, "r/z:1"),
    ]
