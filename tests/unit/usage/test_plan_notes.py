"""The plan's note on options it stops offering (kfws.usage.plan_notes)."""

from __future__ import annotations

from kfws.plan.model import Change, Plan
from kfws.targets.spawner.kinds import UPDATE
from kfws.usage.model import Notebooks, NotebookUse
from kfws.usage.plan_notes import removed_options, usage_notes
from kfws.usage.report import build_report

OLD = "reg.example.com/team/nb:v1"
GONE = "reg.example.com/team/old:v0"


def plan(*details: dict[str, object]) -> Plan:
    changes = tuple(Change(UPDATE, "configmap/kubeflow/cm", "r", details=d) for d in details)
    return Plan("ws.yaml", "sha256:" + "0" * 64, (), changes)


def test_removed_options_are_read_from_every_group_of_the_structured_diff() -> None:
    p = plan(
        {"diff": {"groups": {"image": {"removed": [OLD, GONE], "added": ["x:1"]}}}},
        {"diff": {"groups": {"image": {"replaced": [{"before": "nb:v1", "after": "nb:v2"}]}}}},
        {"diff": {"groups": {"image": {"replaced": "nonsense", "removed": None}}}},
        {"diff": {"groups": {"imageGroupOne": {"removed": [OLD, "vs:1"]}}}},
        {"diff": "not a diff"},  # a saved plan is anyone's text: ignored, never a traceback
        {"diff": {"groups": {"image": {"removed": "x"}}}},
        {},
    )
    assert removed_options(p) == [OLD, GONE, "nb:v1", "vs:1"]


def test_each_removed_option_in_use_gets_its_notebooks_counted() -> None:
    uses = tuple(
        NotebookUse(ns, name, OLD, stopped)
        for ns, name, stopped in [
            ("alice", "a", False),
            ("alice", "b", True),
            ("bob", "c", False),
            ("carol", "d", False),
            ("dave", "e", False),
            ("erin", "f", False),
        ]
    )
    report = build_report(
        offered=[OLD, GONE],
        tags=[],
        managed_repositories=[],
        notebooks=Notebooks(uses),
        lookups={},
    )
    assert usage_notes([OLD, GONE], report) == [
        f"spawner option {OLD} goes: still used by 6 notebooks in 5 namespaces (5 running, "
        "1 stopped: alice/a, alice/b, bob/c, carol/d, dave/e, …); they keep running; restarts "
        "keep working while the tag exists"
    ]
    assert usage_notes([], report) == []


def test_unseen_usage_is_said_once() -> None:
    report = build_report(
        offered=[OLD],
        tags=[],
        managed_repositories=[],
        notebooks=Notebooks(unseen=("refused (403); grant it",), notebooks_visible=False),
        lookups={},
    )
    assert usage_notes([OLD], report) == [
        "which notebooks use the 1 option(s) this plan removes was not seen: refused (403); "
        "grant it"
    ]
