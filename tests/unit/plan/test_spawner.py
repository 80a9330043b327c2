from __future__ import annotations

import dataclasses
import difflib
import json
from pathlib import Path

import pytest

from kfws.observe.model import ClusterState
from kfws.plan.model import PENDING_DIGEST, ChangeKind
from kfws.plan.spawner import plan_spawner, text_hash
from kfws.spawner_yaml import read_spawner
from kfws.spec.model import (
    ClusterSpec,
    OptionsMode,
    RestartMode,
    SpawnerGroup,
    SpawnerSpec,
    Spec,
)
from tests.unit.factories import image, spec

SEED = Path(__file__).resolve().parents[3] / "hack" / "k8s" / "seed"
KF110 = (SEED / "spawner_ui_config-kf1.10.yaml").read_text()
KF10 = (SEED / "spawner_ui_config-kf1.0.yaml").read_text()
SCIPY = "ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-scipy:v1.10.0"
SUDO = "reg.example.com/team/jupyter-sudo:kfws1-aaaaaaaaaaaaaaaaaaaaaaaa"


def cluster(text: str = KF110, gitops: str | None = None) -> ClusterState:
    return ClusterState(
        namespace="kubeflow",
        deployment="jupyter-web-app-deployment",
        deployment_generation=3,
        deployment_labels={"app": "jupyter-web-app"},
        config_map="jupyter-web-app-config-abc",
        config_map_resource_version="812",
        config_key="spawner_ui_config.yaml",
        config_text=text,
        gitops_owner=gitops,
    )


def live_options(text: str, key: str = "image") -> tuple[str, ...]:
    group = read_spawner(text).group(key)
    assert group is not None
    return group.options


def workspace(
    *groups: SpawnerGroup, restart: RestartMode = RestartMode.ROLLOUT, **flags: object
) -> Spec:
    s = spec(image("jupyter-sudo"), spawner=SpawnerSpec(groups=groups, **flags))  # type: ignore[arg-type]
    return dataclasses.replace(s, cluster=ClusterSpec(restart=restart))


def test_adding_a_managed_image_plans_exactly_that() -> None:
    options = (*live_options(KF110), "jupyter-sudo")
    ws = workspace(SpawnerGroup("image", SCIPY, options))
    part = plan_spawner(ws, {"jupyter-sudo": SUDO}, cluster())
    update, restart = part.changes
    assert update.kind is ChangeKind.UPDATE_SPAWNER
    assert update.target == "configmap/kubeflow/jupyter-web-app-config-abc"
    assert update.before == KF110
    changed = [
        d
        for d in difflib.unified_diff(KF110.splitlines(), update.after.splitlines(), n=0)
        if d[:1] in "+-" and d[:3] not in ("+++", "---")
    ]
    assert changed == [f"+      - {SUDO}"]
    diff = update.details["diff"]
    assert diff == {
        "groups": {"image": {"added": [SUDO], "removed": [], "reordered": False}},
        "flags": {},
    }
    assert update.details["resourceVersion"] == "812"
    assert update.details["afterHash"] == text_hash(update.after)
    assert update.reason == f"image: add {SUDO}"
    json.dumps(dict(update.details))  # JSON-able
    assert restart.kind is ChangeKind.RESTART_WEBAPP
    assert restart.target == "deployment/kubeflow/jupyter-web-app-deployment"
    assert restart.details["mode"] == "rollout"
    assert restart.details["configHash"] == update.details["afterHash"]
    assert {o.key: o.value for o in part.observations} == {
        "configmap:kubeflow/jupyter-web-app-config-abc": "rv=812 sha256="
        + text_hash(KF110).removeprefix("sha256:"),
        "deployment:kubeflow/jupyter-web-app-deployment": "generation=3",
    }
    assert part.warnings == []


def test_what_the_cluster_has_already_plans_nothing() -> None:
    live = read_spawner(KF110)
    groups = tuple(SpawnerGroup(g.key, g.value or "", g.options) for g in live.groups)
    ws = workspace(*groups, allow_custom_image=True, image_pull_policy="IfNotPresent")
    part = plan_spawner(ws, {}, cluster())
    assert (part.changes, part.observations, part.warnings) == ([], [], [])


def test_exact_removes_and_reorders_merge_keeps_existing_first() -> None:
    old = live_options(KF110)
    exact = workspace(SpawnerGroup("image", "jupyter-sudo", ("jupyter-sudo", old[1], old[0])))
    diff = plan_spawner(exact, {"jupyter-sudo": SUDO}, cluster()).changes[0].details["diff"]
    assert diff["groups"]["image"] == {
        "added": [SUDO],
        "removed": list(old[2:]),
        "reordered": True,
        "default": {"before": SCIPY, "after": SUDO},
    }
    merge = workspace(
        SpawnerGroup("image", SCIPY, ("jupyter-sudo", old[0]), mode=OptionsMode.MERGE)
    )
    part = plan_spawner(merge, {"jupyter-sudo": SUDO}, cluster())
    assert live_options(part.changes[0].after) == (*old, SUDO)


def test_pinned_group_gets_the_pending_digest_and_other_groups_the_tag() -> None:
    ws = workspace(
        SpawnerGroup("image", SCIPY, (SCIPY, "jupyter-sudo")),
        SpawnerGroup("imageGroupOne", "jupyter-sudo", ("jupyter-sudo",)),
    )
    pinned = f"reg.example.com/team/jupyter-sudo@{PENDING_DIGEST}"
    part = plan_spawner(
        ws,
        {"jupyter-sudo": SUDO},
        cluster(),
        group_refs={"imageGroupOne": {"jupyter-sudo": pinned}},
    )
    after = part.changes[0].after
    assert live_options(after) == (SCIPY, SUDO)
    assert live_options(after, "imageGroupOne") == (pinned,)


def test_restart_none_and_flags_and_a_new_group_on_the_legacy_layout() -> None:
    ws = workspace(
        SpawnerGroup("imageGroupOne", "code:1", ("code:1",)),
        restart=RestartMode.NONE,
        hide_tag=True,
    )
    part = plan_spawner(ws, {}, cluster(KF10))
    (update,) = part.changes
    assert update.details["diff"] == {
        "groups": {
            "imageGroupOne": {
                "added": ["code:1"],
                "removed": [],
                "reordered": False,
                "created": True,
                "default": {"before": None, "after": "code:1"},
            }
        },
        "flags": {"hideTag": {"before": None, "after": True}},
    }
    assert update.details["owned"] == {
        "imageGroupOne": {"value": "code:1", "options": ["code:1"]},
        "hideTag": True,
    }
    assert [o.key for o in part.observations] == ["configmap:kubeflow/jupyter-web-app-config-abc"]
    assert "hideTag: unset -> true" in update.reason


def test_gitops_owned_config_map_warns_where_the_change_belongs() -> None:
    ws = workspace(SpawnerGroup("image", SCIPY, (SCIPY,)))
    part = plan_spawner(ws, {}, cluster(gitops="Argo CD (application kubeflow)"))
    (warning,) = part.warnings
    assert "Argo CD (application kubeflow)" in warning and "revert" in warning
    assert "Git source" in warning
    assert part.changes[0].details["gitopsOwner"] == "Argo CD (application kubeflow)"


def test_same_inputs_same_plan() -> None:
    ws = workspace(SpawnerGroup("image", SCIPY, (SCIPY, "jupyter-sudo")))
    a = plan_spawner(ws, {"jupyter-sudo": SUDO}, cluster())
    b = plan_spawner(ws, {"jupyter-sudo": SUDO}, cluster())
    assert a == b


def test_malformed_live_config_names_the_config_map() -> None:
    from kfws.errors import ClusterError

    ws = workspace(SpawnerGroup("image", SCIPY, (SCIPY,)))
    with pytest.raises(ClusterError) as e:
        plan_spawner(ws, {}, cluster("spawnerFormDefaults:\n  image: [\n"))
    assert e.value.where == (
        "configmap/kubeflow/jupyter-web-app-config-abc key spawner_ui_config.yaml"
    )
