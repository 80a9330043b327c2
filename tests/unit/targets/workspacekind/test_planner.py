"""The WorkspaceKind planner never plans what upstream's webhook refuses: tables of declared
values against live kinds, one behaviour per row."""

from __future__ import annotations

from dataclasses import replace

import pytest

from kfws.errors import KfwsError
from kfws.targets.workspacekind.model import (
    DeclaredImage,
    ImageValue,
    KindSpec,
    KindState,
    LiveValue,
    Port,
    Redirect,
)
from kfws.targets.workspacekind.planner import Action, KindPlan, derived_id, plan_kind

LAB = (Port("jupyterlab", 8888),)
KFWS = frozenset({"kfws"})
HAND = frozenset({"kubectl-edit"})


def value(vid: str, image: str = "", **kw: object) -> ImageValue:
    return ImageValue(id=vid, display_name=vid, image=image or f"reg/{vid}:1", ports=LAB, **kw)  # type: ignore[arg-type]


def live(vid: str, usage: int = 0, managers: frozenset[str] = KFWS, **kw: object) -> LiveValue:
    return LiveValue(value(vid, **kw), usage, managers)


def kind(
    *values: LiveValue, default: str = "base", ports: tuple[str, ...] = ("jupyterlab",)
) -> KindState:
    base = LiveValue(value("base"), 4, HAND)
    return KindState("jupyterlab", "7", default, (base, *values), ports)


def decl(*images: DeclaredImage, default: str | None = None) -> KindSpec:
    return KindSpec("jupyterlab", images, default, "workspace.yaml:10")


def image(vid: str, image: str = "", **kw: object) -> DeclaredImage:
    return DeclaredImage(vid, image or f"reg/{vid}:1", location="workspace.yaml:12", **kw)  # type: ignore[arg-type]


def actions(plan: KindPlan) -> dict[str, Action]:
    return {c.id: c.action for c in plan.changes}


def owned(plan: KindPlan) -> dict[str, ImageValue]:
    return {v.id: v for v in plan.owned}


def test_a_new_value_is_added_with_the_kinds_only_port_on_8888() -> None:
    plan = plan_kind(decl(image("tf", labels=(("python", "3.11"),))), kind(), {})
    assert actions(plan) == {"tf": Action.ADD}
    assert owned(plan)["tf"] == replace(value("tf"), labels=(("python", "3.11"),))
    (change,) = plan.changes
    assert ("image", None, "reg/tf:1") in change.fields and change.usage == 0


def test_a_managed_image_name_resolves_to_the_reference_the_plan_builds() -> None:
    plan = plan_kind(decl(image("tf", "jupyter-tf")), kind(), {"jupyter-tf": "r/j:kfws1-ab"})
    assert owned(plan)["tf"].image == "r/j:kfws1-ab"


def test_an_unchanged_value_is_no_change_but_stays_in_what_kfws_applies() -> None:
    plan = plan_kind(decl(image("tf")), kind(live("tf", usage=3)), {})
    assert plan.changes == () and not plan.has_changes
    assert set(owned(plan)) == {"tf"}


@pytest.mark.parametrize(
    ("declared", "field", "usage"),
    [
        (image("tf", display_name="TensorFlow"), "displayName", 3),  # in use: metadata may change
        (image("tf", description="new text"), "description", 3),
        (image("tf", hidden=True), "hidden", 3),
        (image("tf", labels=(("gpu", "no"),)), "labels", 3),
        (image("tf", "reg/tf:2"), "image", 0),  # unused: even the spec may change in place
        (image("tf", pull_policy="Always"), "pullPolicy", 0),
        (image("tf", ports=(Port("jupyterlab", 8080),)), "ports", 0),
    ],
)
def test_a_change_the_webhook_allows_is_made_in_place(
    declared: DeclaredImage, field: str, usage: int
) -> None:
    plan = plan_kind(decl(declared), kind(live("tf", usage=usage)), {})
    (change,) = plan.changes
    assert (change.id, change.action, change.usage) == ("tf", Action.CHANGE, usage)
    assert [f for f, _, _ in change.fields] == [field]


@pytest.mark.parametrize(
    "declared",
    [
        image("tf", "reg/tf:2"),
        image("tf", pull_policy="Always"),
        image("tf", ports=(Port("jupyterlab", 8080),)),
    ],
)
def test_a_spec_change_behind_an_in_use_id_is_a_new_id_and_the_old_one_retired(
    declared: DeclaredImage,
) -> None:
    plan = plan_kind(decl(declared, default="tf"), kind(live("tf", usage=2)), {})
    new = next(c.id for c in plan.changes if c.action is Action.ADD)
    assert new.startswith("tf-") and len(new) == len("tf-") + 8
    assert actions(plan) == {new: Action.ADD, "tf": Action.RETIRE}
    old = owned(plan)["tf"]
    assert old.hidden and old.redirect is not None and old.redirect.to == new
    assert old.spec_key == value("tf").spec_key  # its spec is never touched
    assert plan.default == new
    retire = next(c for c in plan.changes if c.action is Action.RETIRE)
    assert retire.usage == 2 and "in use by 2" in retire.reason


def test_after_the_move_the_plan_is_stable_and_the_old_id_goes_once_unused() -> None:
    want = image("tf", "reg/tf:2")
    new = derived_id("tf", replace(value("tf"), image="reg/tf:2"))
    first = plan_kind(decl(want), kind(live("tf", usage=2)), {})
    applied = {v.id: v for v in first.owned}
    again = kind(LiveValue(applied["tf"], 2, KFWS), LiveValue(applied[new], 0, KFWS))
    assert plan_kind(decl(want), again, {}).changes == ()
    unused = kind(LiveValue(applied["tf"], 0, KFWS), LiveValue(applied[new], 2, KFWS))
    plan = plan_kind(decl(want), unused, {})
    assert actions(plan) == {"tf": Action.REMOVE} and set(owned(plan)) == {new}


def test_a_second_image_change_redirects_both_older_ids_to_the_newest() -> None:
    v2 = replace(value("tf"), image="reg/tf:2")
    mid = derived_id("tf", v2)
    live_kind = kind(
        live("tf", usage=1, hidden=True, redirect=Redirect(mid, "Info", "x")),
        LiveValue(replace(v2, id=mid), 1, KFWS),
    )
    plan = plan_kind(decl(image("tf", "reg/tf:3")), live_kind, {})
    newest = derived_id("tf", replace(value("tf"), image="reg/tf:3"))
    assert owned(plan)["tf"].redirect.to == newest  # type: ignore[union-attr]
    assert owned(plan)[mid].redirect.to == newest  # type: ignore[union-attr]


def test_a_dropped_unused_value_kfws_alone_manages_is_removed() -> None:
    plan = plan_kind(decl(image("tf")), kind(live("tf"), live("old")), {})
    assert actions(plan) == {"old": Action.REMOVE} and "old" not in owned(plan)


@pytest.mark.parametrize(
    ("declared", "default", "successor"),
    [
        ((image("tf", replaces=("old",)),), None, "tf"),  # named by the file
        ((image("tf"), image("pt")), "pt", "pt"),  # the default
        ((image("tf"),), None, "base"),  # the kind's default, left alone
    ],
)
def test_a_dropped_value_in_use_is_hidden_and_redirected_to_its_successor(
    declared: tuple[DeclaredImage, ...], default: str | None, successor: str
) -> None:
    plan = plan_kind(decl(*declared, default=default), kind(live("old", usage=3)), {})
    retire = next(c for c in plan.changes if c.id == "old")
    assert retire.action is Action.RETIRE and retire.usage == 3
    old = owned(plan)["old"]
    assert old.hidden and old.redirect == Redirect(
        successor, "Info", f"old is retired: Workspaces move to {successor} on their next restart"
    )
    assert dict((f, a) for f, _, a in retire.fields)["hidden"] is True


def test_a_retired_value_keeps_its_redirect_message_and_is_no_change_again() -> None:
    r = Redirect("tf", "Warning", "custom words")
    plan = plan_kind(
        decl(image("tf")), kind(live("old", 3, hidden=True, redirect=r), live("tf")), {}
    )
    assert plan.changes == () and owned(plan)["old"].redirect == r


def test_a_value_others_also_manage_is_retired_never_removed() -> None:
    both = frozenset({"kfws", "kubectl-create"})
    plan = plan_kind(decl(image("tf")), kind(live("tf"), live("old", 0, both)), {})
    (change,) = plan.changes
    assert change.action is Action.RETIRE and "kubectl-create" in change.reason


def test_a_value_still_redirected_to_is_retired_not_removed() -> None:
    foreign = live("team", 1, HAND, redirect=Redirect("old"))
    plan = plan_kind(decl(image("tf")), kind(live("tf"), live("old"), foreign), {})
    assert actions(plan) == {"old": Action.RETIRE}


def test_values_kfws_never_managed_are_left_alone() -> None:
    plan = plan_kind(decl(image("tf")), kind(live("team", 0, HAND)), {})
    assert actions(plan) == {"tf": Action.ADD} and "team" not in owned(plan)


def test_the_kinds_default_leaving_moves_to_its_successor() -> None:
    plan = plan_kind(decl(image("tf")), kind(live("tf"), live("old"), default="old"), {})
    assert actions(plan) == {"old": Action.REMOVE} and plan.default == "tf"


def test_a_default_kfws_owns_is_kept_in_what_it_applies() -> None:
    k = replace(kind(), default_managers=KFWS)
    assert plan_kind(decl(image("tf")), k, {}).default == "base"


def test_a_declared_redirect_resolves_ids_and_has_a_message_only_when_given() -> None:
    plan = plan_kind(decl(image("tf", redirect_to="base", hidden=True)), kind(), {})
    assert owned(plan)["tf"].redirect == Redirect("base")
    moved = image("pt", "reg/pt:2", redirect_to="tf", redirect_text="use TF")
    plan = plan_kind(decl(image("tf"), moved), kind(live("pt", 1, image="reg/pt:2")), {})
    assert owned(plan)["pt"].redirect == Redirect("tf", "Info", "use TF")
    assert actions(plan) == {"tf": Action.ADD, "pt": Action.CHANGE}


@pytest.mark.parametrize(
    ("spec", "state", "message", "line"),
    [
        (
            decl(image("tf", redirect_to="nope")),
            kind(),
            "redirectTo 'nope' names no other value",
            12,
        ),
        (decl(image("tf", redirect_to="tf")), kind(), "names no other value", 12),
        (
            decl(image("a", redirect_to="b"), image("b", redirect_to="a")),
            kind(),
            "cycle: a -> b -> a",
            10,
        ),
        (decl(image("tf"), default="nope"), kind(), "the default 'nope' is not a value", 10),
        (
            decl(image("tf", ports=(Port("vscode", 8888),))),
            kind(),
            "port id 'vscode' is not one of the kind 'jupyterlab''s ports (jupyterlab)",
            12,
        ),
        (decl(image("tf")), kind(ports=("a", "b")), "has ports a, b: say which", 12),
        (
            decl(image("tf", hidden=True)),
            replace(kind(live("old", 2)), default=None),
            "'old' is used by 2 workspace(s) and needs a successor",
            10,
        ),
        (decl(image("tf", replaces=("tf",))), kind(), "which the file still declares", 12),
    ],
)
def test_what_the_webhook_would_refuse_is_refused_at_plan_time(
    spec: KindSpec, state: KindState, message: str, line: int
) -> None:
    with pytest.raises(KfwsError) as e:
        plan_kind(spec, state, {})
    assert message in e.value.message and e.value.where == f"workspace.yaml:{line}"
