"""kfws.targets.dispatch: what generic code asks of the observed targets goes through the table
(here the spawner target, with a hand-built state)."""

from __future__ import annotations

import dataclasses

from kfws.observe.model import Observed
from kfws.plan.model import Change, ChangeKind
from kfws.targets.dispatch import backup_subject, last_writer, offered_images, usage_counts, view
from kfws.targets.spawner.kinds import RESTART
from tests.unit.factories import cluster_state

SEEN = Observed(inputs={}, images={}, targets={"spawner": cluster_state()})


def test_offered_images_are_every_observed_targets_in_order_without_repeats() -> None:
    refs = offered_images(SEEN)
    assert refs and len(refs) == len(set(refs))
    assert all(":" in r for r in refs)


def test_a_target_whose_config_does_not_parse_offers_nothing_here() -> None:
    broken = dataclasses.replace(SEEN, targets={"spawner": cluster_state(text="a: [")})
    assert offered_images(broken) == ()
    assert offered_images(Observed(inputs={}, images={})) == ()


def test_the_last_writer_is_the_targets_newest_manager() -> None:
    assert last_writer(SEEN) == "'kubectl-edit' (Update) at 2026-11-28T20:39:15Z"
    assert last_writer(Observed(inputs={}, images={})) is None


def test_only_cluster_changes_have_a_view() -> None:
    assert view(Change(ChangeKind.BUILD_IMAGE, "r/a:1", "missing")) is None
    shown = view(Change(RESTART, "deployment/kf/web", "reload", details={"mode": "rollout"}))
    assert shown is not None and shown.lines == ("mode rollout",) and shown.brief == "reload"


def test_declared_offers_are_each_target_s_in_table_then_file_order() -> None:
    from kfws.spec.model import SpawnerGroup, SpawnerSpec
    from kfws.targets.base import Offer
    from kfws.targets.dispatch import declared_offers
    from kfws.targets.workspacekind.model import DeclaredImage, KindSpec
    from tests.unit.factories import image, spec

    groups = (
        SpawnerGroup("image", "reg/d:1", ("nb", "reg/a:1", "reg/d:1")),
        SpawnerGroup("imageGroupOne", None, ("reg/b:1",)),
    )
    kind = KindSpec("jupyterlab", (DeclaredImage("lab", "nb"), DeclaredImage("q", "reg/q:1")))
    ws = dataclasses.replace(
        spec(image("nb"), spawner=SpawnerSpec(groups)), workspace_kinds=(kind,)
    )
    assert declared_offers(ws) == (
        Offer("nb", "spawner option"),
        Offer("reg/a:1", "spawner option"),
        Offer("reg/d:1", "spawner option"),  # once: listed and preselected
        Offer("reg/b:1", "spawner option", jupyter=False),  # VS Code: the web contract
        Offer("nb", "WorkspaceKind image", "jupyterlab value lab"),
        Offer("reg/q:1", "WorkspaceKind image", "jupyterlab value q"),
    )
    assert Offer("reg/q:1", "WorkspaceKind image", "jupyterlab value q").subject() == (
        "WorkspaceKind image reg/q:1 (jupyterlab value q)"
    )
    assert declared_offers(spec(image("nb"))) == ()


def test_each_backup_text_is_named_by_the_target_whose_kind_of_backup_it_is() -> None:
    spawner = cluster_state().config_text
    kind = '{\n "format": 1,\n "values": [],\n "workspaceKind": "jupyterlab"\n}'
    assert backup_subject(spawner) == "the spawner config"
    assert backup_subject('"spawnerFormDefaults": {}') == "the spawner config"
    assert backup_subject(kind) == "WorkspaceKind jupyterlab"
    # a top-level key only: the section named inside a kind's text is not a spawner config
    assert backup_subject('{"format": 1, "workspaceKind": "x", "spawnerFormDefaults": 1}') == (
        "WorkspaceKind x"
    )
    assert backup_subject("  spawnerFormDefaults: {}") is None
    assert backup_subject("something else") is None


def test_only_targets_that_count_their_users_report_counts() -> None:
    assert usage_counts(SEEN.targets) == ()  # the spawner's users are Notebook objects
