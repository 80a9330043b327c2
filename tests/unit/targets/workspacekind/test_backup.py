"""A kept version declares exactly the values kfws managed then: planning it against the kind as
it was is no change, and against a later kind it brings them back without what the webhook
would refuse."""

from __future__ import annotations

from dataclasses import replace

import pytest

from kfws.errors import KfwsError
from kfws.targets.workspacekind.backup import backup_name, declaration, payload, subject
from kfws.targets.workspacekind.model import ImageValue, KindState, LiveValue, Port, Redirect
from kfws.targets.workspacekind.planner import Action, plan_kind

LAB = (Port("jupyterlab", 8888, "Lab"),)
KFWS = frozenset({"kfws"})


def kind(*values: LiveValue, default_managers: frozenset[str] = frozenset()) -> KindState:
    foreign = LiveValue(ImageValue("base", "Base", "r/base:1", ports=LAB), 2, frozenset({"x"}))
    return KindState("jupyterlab", "5", "base", (foreign, *values), ("jupyterlab",),
                     default_managers)  # fmt: skip


TF = ImageValue("tf", "TF", "r/tf:1", "Always", LAB, "d", (("py", "3"),))
OLD = ImageValue("old", "Old", "r/old:1", ports=LAB, hidden=True,
                 redirect=Redirect("tf", "Warning", "moved"))  # fmt: skip


def test_a_kept_version_plans_no_change_against_the_kind_it_was_taken_from() -> None:
    then = kind(LiveValue(TF, 1, KFWS), LiveValue(OLD, 3, KFWS))
    decl = declaration(payload(then), "backup 3")
    assert decl.name == "jupyterlab" and decl.default is None  # the default was not kfws's
    assert plan_kind(decl, then, {}).changes == ()
    assert backup_name("jupyterlab") == "workspacekind-jupyterlab"


def test_restoring_brings_values_back_and_retires_what_was_added_since() -> None:
    then = kind(LiveValue(TF, 1, KFWS))
    tf2 = replace(TF, id="tf2", image="r/tf:2")
    now = kind(LiveValue(replace(TF, display_name="TF!"), 1, KFWS), LiveValue(tf2, 2, KFWS))
    plan = plan_kind(declaration(payload(then), "backup 1"), now, {})
    assert {c.id: c.action for c in plan.changes} == {"tf": Action.CHANGE, "tf2": Action.RETIRE}
    assert {v.id: v for v in plan.owned}["tf"] == TF


def test_a_default_kfws_owned_is_restored() -> None:
    then = replace(kind(LiveValue(TF, 0, KFWS), default_managers=KFWS), default="tf")
    assert declaration(payload(then), "b").default == "tf"


@pytest.mark.parametrize(
    "text",
    ["", "[]", '{"format": 2}', '{"format": 1, "workspaceKind": 3}',
     '{"format": 1, "workspaceKind": "k", "values": [{"id": 1}]}'],
)  # fmt: skip
def test_an_unreadable_backup_is_refused_naming_it(text: str) -> None:
    with pytest.raises(KfwsError) as e:
        declaration(text, "kfws-backup-workspacekind-jupyterlab 4.yaml")
    assert e.value.where == "kfws-backup-workspacekind-jupyterlab 4.yaml"
    assert e.value.message.startswith("the kept version can't be read")


def test_a_kept_payload_says_which_kind_it_is_a_backup_of_and_nothing_else_does() -> None:
    assert subject(payload(kind(LiveValue(TF, 1, KFWS)))) == "WorkspaceKind jupyterlab"
    for text in (
        "spawnerFormDefaults:\n  image: {value: r/a:1}\n",  # the spawner's kind of backup
        "{",
        "[]",
        '{"format": 2, "workspaceKind": "lab"}',  # a format kfws does not write
        '{"format": 1, "workspaceKind": ["lab"]}',
        '{"format": 1, "workspaceKind": ""}',
    ):
        assert subject(text) is None, text
