"""Each image value's Workspaces as `kfws usage` reports them: read from a live kind's status
(state.py), every value in the kind's order, hidden and redirected ones too."""

from __future__ import annotations

from kfws.targets import workspacekind
from kfws.targets.workspacekind.state import kind_state
from kfws.usage.model import EntryUsage
from tests.unit.targets.workspacekind.test_state import OBJ


def test_every_value_is_counted_from_the_kinds_status_in_its_order() -> None:
    state = workspacekind.KindsState((kind_state(OBJ),))
    assert workspacekind.usage_counts(state) == (
        EntryUsage("WorkspaceKind", "jupyterlab", "value", "a", "r/a:1", 3, "workspace",
                   default=True),
        # a malformed count reads as unused, as the planner reads it
        EntryUsage("WorkspaceKind", "jupyterlab", "value", "b", "r/b:1", 0, "workspace",
                   hidden=True, redirect="a"),
        EntryUsage("WorkspaceKind", "jupyterlab", "value", "c", "r/c:1", 0, "workspace"),
    )  # fmt: skip


def test_kinds_follow_one_another_and_none_observed_counts_nothing() -> None:
    other = {**OBJ, "metadata": {"name": "codeserver"}}
    state = workspacekind.KindsState((kind_state(OBJ), kind_state(other)))
    assert [(e.owner, e.id) for e in workspacekind.usage_counts(state)] == [
        ("jupyterlab", "a"), ("jupyterlab", "b"), ("jupyterlab", "c"),
        ("codeserver", "a"), ("codeserver", "b"), ("codeserver", "c"),
    ]  # fmt: skip
    assert workspacekind.usage_counts(workspacekind.KindsState(())) == ()
