"""Import, drift and the plan's view of a kind, pure: importing the seeded kind gives a file whose
plan shows no change; a hand edit shows as drift naming who made it; the view shows every value
with its action and usage."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from kfws.drift import DriftKind, report
from kfws.plan.model import Change, Plan
from kfws.spec.load import load_spec
from kfws.targets.workspacekind import KindsState
from kfws.targets.workspacekind.change import observation, parts
from kfws.targets.workspacekind.findings import judged, kind_findings, kind_plan
from kfws.targets.workspacekind.import_ import merge_kinds
from kfws.targets.workspacekind.kinds import UPDATE
from kfws.targets.workspacekind.model import (
    DeclaredImage,
    KindSpec,
    KindState,
    LiveValue,
)
from kfws.targets.workspacekind.planner import plan_kind
from kfws.targets.workspacekind.show import offers, value_lines
from kfws.targets.workspacekind.state import kind_state

SEED = Path(__file__).resolve().parents[4] / "hack" / "k8s" / "workspacekind"


def seeded() -> KindState:
    obj: dict[str, Any] = yaml.safe_load((SEED / "jupyterlab.yaml").read_text())
    obj |= yaml.safe_load((SEED / "jupyterlab-status.yaml").read_text())
    obj["metadata"]["resourceVersion"] = "9"
    return kind_state(obj)


def test_an_imported_kind_plans_no_change(tmp_path: Path) -> None:
    kind = seeded()
    text, notes = merge_kinds("# ours\nregistry: {default: r.example.com/t}\n", [kind])
    assert notes == [] and text.startswith("# ours\n")
    path = tmp_path / "workspace.yaml"
    path.write_text(text)
    (decl,) = load_spec(path).workspace_kinds
    assert [i.id for i in decl.images] == [v.value.id for v in kind.values]
    plan = plan_kind(decl, kind, {})
    assert plan.changes == () and plan.default == kind.default == "jupyterlab_scipy_190"


def test_import_leaves_out_ids_the_file_cant_declare() -> None:
    kind = seeded()
    odd = replace(kind.values[0].value, id="-odd id")
    text, notes = merge_kinds(None, [replace(kind, values=(*kind.values, LiveValue(odd, 0)))])
    assert "-odd id" not in text and notes == [
        "workspaceKinds.jupyterlab: left out value '-odd id' (an id the file can't declare); "
        "kfws leaves it alone"
    ]
    assert text.startswith("apiVersion: kfws/v1alpha1\nkind: Workspace\n")


def test_drift_names_a_hand_edit_and_what_is_missing() -> None:
    kind = seeded()
    geo = kind.value("team-geo")
    assert geo is not None
    edited = LiveValue(
        replace(geo.value, display_name="Geo (edited)"), 1, frozenset({"kfws", "kubectl-edit"})
    )
    kind = replace(kind, values=tuple(edited if v is geo else v for v in kind.values))
    decl = KindSpec(
        "jupyterlab",
        (
            DeclaredImage("team-geo", geo.value.image, display_name=geo.value.display_name,
                          description=geo.value.description, labels=geo.value.labels,
                          pull_policy="Always", ports=geo.value.ports),
            DeclaredImage("new", "r/new:1"),
        ),
    )  # fmt: skip
    findings = kind_findings(kind_plan(parts(plan_kind(decl, kind, {}), kind)["details"]), kind)
    assert [(f.kind, f.subject, f.message) for f in findings] == [
        (
            DriftKind.CHANGED_OUT_OF_BAND,
            "workspacekind/jupyterlab",
            "value 'team-geo': displayName is 'Geo (edited)' on the kind, the file says "
            "'Geo team (GDAL)' (changed by kubectl-edit since kfws applied it)",
        ),
        (
            DriftKind.NOT_AS_DECLARED,
            "workspacekind/jupyterlab",
            "value 'new' is declared in the file but not on the kind",
        ),
    ]


def test_drift_checks_are_titled_with_each_kinds_own_name() -> None:
    kind = seeded()
    clean = replace(kind, name="other")
    decl = KindSpec("jupyterlab", (DeclaredImage("new", "r/new:1"),))
    change = Change(UPDATE, **parts(plan_kind(decl, kind, {}), kind))
    plan = Plan("workspace.yaml", "sha256:" + "a" * 64, (), (change,))
    got = report(judged(plan, KindsState((kind, clean))))
    assert [(title, [f.message for f in found]) for title, found in got.by_check()] == [
        (
            "WorkspaceKind jupyterlab matches workspace.yaml",
            ["value 'new' is declared in the file but not on the kind"],
        ),
        ("WorkspaceKind jupyterlab unchanged since the last apply", []),
        ("WorkspaceKind other matches workspace.yaml", []),
        ("WorkspaceKind other unchanged since the last apply", []),
    ]


def test_the_change_and_its_view() -> None:
    kind = seeded()
    old = kind.value("jupyterlab_scipy_180")
    assert old is not None
    kind = replace(
        kind,
        values=tuple(replace(v, managers=frozenset({"kfws"})) if v is old else v
                     for v in kind.values),
    )  # fmt: skip
    decl = KindSpec("jupyterlab", (DeclaredImage("tf", "jupyter-tf", replaces=("minimal",)),))
    plan = plan_kind(decl, kind, {"jupyter-tf": "r/tf:kfws1-ab"})
    got = parts(plan, kind)
    assert kind_plan(got["details"]).changes == plan.changes  # drift reads the change back
    assert got["target"] == "workspacekind/jupyterlab"
    assert got["reason"] == "WorkspaceKind jupyterlab: 1 to add"  # the 180 value is already retired
    assert [v["id"] for v in got["after"]["values"]] == ["tf", "jupyterlab_scipy_180"]
    assert got["details"]["resourceVersion"] == "9"
    assert value_lines(got["details"]) == [
        "+ tf: add [unused] - declared in the file",
        "    displayName: tf",
        "    image: r/tf:kfws1-ab",
        "    pullPolicy: IfNotPresent",
        '    ports: [{"id": "jupyterlab", "port": 8888}]',
    ]
    assert offers(got["before"], got["after"]) == [("r/tf:kfws1-ab", None)]
    key, value = observation(kind)
    assert key == "workspacekind:jupyterlab" and value.startswith("rv=9 sha256:")


def test_a_retired_value_reads_as_where_it_goes_and_the_default_move() -> None:
    details = {
        "values": [
            {
                "id": "tf",
                "action": "retire",
                "usage": 2,
                "reason": "in use by 2 workspace(s): hidden and redirected to tf-1",
                "fields": [
                    ["hidden", False, True],
                    ["redirect", None, {"to": "tf-1", "message": {"level": "Info", "text": "m"}}],
                ],
            },
            {"id": "x", "action": "remove", "usage": 0, "reason": "unused", "fields": []},
        ],
        "defaultBefore": "tf",
        "defaultAfter": "tf-1",
    }
    assert value_lines(details) == [
        "↪ tf: hide + redirect [in use by 2] - in use by 2 workspace(s): hidden and redirected "
        "to tf-1",
        "    hidden: false -> true",
        "    redirect: none -> to tf-1 (Info: m)",
        "- x: remove [unused] - unused",
        "default: tf -> tf-1",
    ]
