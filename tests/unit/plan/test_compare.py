"""A saved plan against the fresh plan of the same workspace and observation (pure)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from kfws.plan.build import make_plan
from kfws.plan.compare import MAX_LINES, Comparison, compare_plans, last_writer
from kfws.plan.model import Change, ChangeKind, Kind, Observation, Plan
from kfws.plan.planfile import plan_from_dict, plan_to_json
from kfws.targets.spawner.kinds import UPDATE
from tests.unit.factories import cluster_state, full_plan, full_plan_inputs

WRITER = "'kubectl-edit' (Update) at 2026-11-28T20:39:15Z"


def edited(plan: Plan, edit: Any) -> Plan:
    """The plan after a JSON edit of its saved form, read back as apply reads it."""
    data = json.loads(plan_to_json(plan))
    edit(data)
    return plan_from_dict(data, source="plan.json")


def compare(saved: Plan, fresh: Plan | None = None) -> list[str]:
    result = compare_plans(
        saved, fresh or full_plan(), declared_images={"nb", "tools"}, config_writer=WRITER
    )
    return list(result.differences)


def test_the_same_plan_read_back_is_identical() -> None:
    assert compare(edited(full_plan(), lambda d: None)) == []


def test_edited_text_to_write_is_named_with_the_change() -> None:
    def edit(d: dict[str, Any]) -> None:
        d["changes"][4]["after"] = d["changes"][4]["after"].replace("tools:v1", "evil:v1")

    assert compare(edited(full_plan(), edit)) == [
        "change 5 (update-spawner configmap/kubeflow/jupyter-web-app-config-abc): "
        "the text to write differs"
    ]


def test_an_emptied_fingerprint_is_refused() -> None:
    lines = compare(edited(full_plan(), lambda d: d.update(fingerprint=[])))
    assert len(lines) == 1 and "fingerprint is empty; a fresh plan depends on 6" in lines[0]


def test_a_changed_namespace_names_the_targets_that_differ() -> None:
    def edit(d: dict[str, Any]) -> None:
        for c in d["changes"][4:]:  # after the two builds and their two checks
            c["target"] = c["target"].replace("/kubeflow/", "/other/")
            c["details"]["namespace"] = "other"
        for o in d["fingerprint"]:
            o["key"] = o["key"].replace(":kubeflow/", ":other/")

    saved = edited(full_plan(), edit)
    result = compare_plans(saved, full_plan(), declared_images={"nb", "tools"})
    assert not result.stale  # nothing moved: the file was edited
    lines = list(result.differences)
    assert (
        "the saved plan targets configmap/other/jupyter-web-app-config-abc; a fresh plan "
        "targets configmap/kubeflow/jupyter-web-app-config-abc" in lines
    )
    assert (
        "change 5 (update-spawner configmap/other/jupyter-web-app-config-abc): a fresh plan "
        "has update-spawner configmap/kubeflow/jupyter-web-app-config-abc here" in lines
    )
    assert any(line.startswith("change 6 (restart-webapp deployment/other/") for line in lines)


def test_a_changed_push_target_and_an_undeclared_image_are_refused() -> None:
    def edit(d: dict[str, Any]) -> None:
        d["changes"][0]["target"] = "attacker.example.com/x/nb:kfws1-" + "1" * 24
        d["changes"][1]["details"]["name"] = "evil"
        d["changes"][1]["details"]["repository"] = "attacker.example.com/x/tools"

    lines = compare(edited(full_plan(), edit))
    assert (
        "change 2 (rebuild reg.example.com/team/tools:v1): image 'evil' is not declared "
        "in the workspace" in lines
    )
    assert any("change 1 (build attacker.example.com/x/nb" in line for line in lines)
    assert (
        "change 2 (rebuild reg.example.com/team/tools:v1): the image name and the push "
        "repository differ" in lines
    )


def test_a_changed_restart_mode_is_named() -> None:
    def edit(d: dict[str, Any]) -> None:
        d["changes"][5]["details"]["mode"] = "delete-pods"
        d["changes"][4]["details"]["restart"] = "delete-pods"

    assert compare(edited(full_plan(), edit)) == [
        "change 5 (update-spawner configmap/kubeflow/jupyter-web-app-config-abc): "
        "the restart mode differs",
        "change 6 (restart-webapp deployment/kubeflow/jupyter-web-app-deployment): "
        "the restart mode differs",
    ]


def test_dropped_and_added_changes_are_named() -> None:
    def drop(d: dict[str, Any]) -> None:
        d["changes"].pop(1)
        d["summary"]["rebuild"] = 0

    lines = compare(edited(full_plan(), drop))
    assert (
        f"change 2 (check reg.example.com/team/nb:kfws1-{'1' * 24}): a fresh plan "
        "has rebuild reg.example.com/team/tools:v1 here" in lines
    )
    assert lines[-1].startswith("a fresh plan has change 6 (restart-webapp")


def test_a_configmap_changed_by_someone_else_is_stale_and_names_them() -> None:
    ws, seen = full_plan_inputs()
    assert "spawner" in seen.targets
    text = seen.targets["spawner"].config_text.replace("hideRegistry: true", "hideRegistry: false")
    moved = dataclasses.replace(
        seen, targets={"spawner": cluster_state(text=text, config_map_resource_version="900")}
    )
    fresh = make_plan(ws, moved, spec_path="workspace.yaml")
    result = compare_plans(
        full_plan(), fresh, declared_images={"nb", "tools"}, config_writer=WRITER
    )
    assert result.stale
    assert result.differences[0] == (
        "configmap/kubeflow/jupyter-web-app-config-abc was changed since the plan "
        f"(resourceVersion 812 then, 900 now), last written by {WRITER}"
    )
    # its consequences, one line per change (hashes restating the texts are not repeated)
    assert result.differences[1:] == (
        "change 5 (update-spawner configmap/kubeflow/jupyter-web-app-config-abc): the text to "
        "write, the text it replaces and the ConfigMap version it expects differ",
        "change 6 (restart-webapp deployment/kubeflow/jupyter-web-app-deployment): the config "
        "text it reloads for differs",
    )
    assert all("absent" not in line for line in result.differences)


def test_a_change_no_longer_needed_is_not_called_absent() -> None:
    """Someone applied the same edit by hand: the fresh plan has no spawner change at all."""
    ws, seen = full_plan_inputs()
    assert "spawner" in seen.targets
    after = next(c.after for c in full_plan().changes if c.kind.value == "update-spawner")
    done = dataclasses.replace(seen, targets={"spawner": cluster_state(text=after)})
    fresh = make_plan(ws, done, spec_path="workspace.yaml")
    result = compare_plans(
        full_plan(), fresh, declared_images={"nb", "tools"}, config_writer=WRITER
    )
    assert result.stale
    assert (
        "configmap/kubeflow/jupyter-web-app-config-abc needs no change now: it already matches "
        f"the workspace (last written by {WRITER})" in result.differences
    )
    assert all("absent" not in line for line in result.differences)


def test_a_changed_workspace_file_is_said_first_and_alone() -> None:
    saved = dataclasses.replace(full_plan(), spec_digest="sha256:" + "e" * 64)
    result = compare_plans(saved, full_plan(), declared_images={"nb", "tools"})
    assert result.stale and len(result.differences) == 1
    assert result.differences[0].startswith("the workspace file changed since the plan was made")


def test_an_altered_plan_is_not_called_stale_and_long_lists_are_cut() -> None:
    plan = full_plan()
    many = dataclasses.replace(
        plan,
        changes=plan.changes
        + tuple(
            Change(c.kind, f"{c.target}-{i}", c.reason, c.before, c.after, c.details)
            for i in range(20)
            for c in plan.changes[:1]
        ),
    )
    result = compare_plans(many, plan, declared_images={"nb", "tools"})
    assert not result.stale
    assert "edited" in result.headline()
    assert len(result.lines()) == MAX_LINES + 1 and result.lines()[-1].startswith("… and ")


def test_last_writer_is_the_most_recent_manager() -> None:
    managers = [
        ("kfws", "Apply", "2026-01-01T00:00:00Z"),
        ("helm", "Update", "2026-02-01T00:00:00Z"),
    ]
    assert last_writer(managers) == "'helm' (Update) at 2026-02-01T00:00:00Z"
    assert last_writer([]) is None


def test_up_to_twelve_differences_are_shown_and_the_rest_counted() -> None:
    twelve = Comparison(tuple(f"d{i}" for i in range(12)), stale=False)
    assert twelve.lines() == [f"d{i}" for i in range(12)]
    thirteen = Comparison(tuple(f"d{i}" for i in range(13)), stale=False)
    assert thirteen.lines() == [*(f"d{i}" for i in range(12)), "… and 1 more differences"]
    assert MAX_LINES == 12


def test_the_headlines_in_full() -> None:
    assert Comparison((), stale=True).headline() == (
        "the saved plan is stale: what it was computed from has changed since"
    )
    assert Comparison(("x",), stale=False).headline() == (
        "the saved plan does not match a fresh plan of the same workspace, cluster and "
        "registry: it was edited, or made by another version of kfws"
    )
    assert Comparison((), stale=False).identical and not Comparison(("x",), False).identical


def test_an_image_change_names_its_digests_and_a_detail_added_as_null() -> None:
    def edit(d: dict[str, Any]) -> None:
        d["changes"][0]["after"] = "sha256:" + "e" * 64
        d["changes"][1]["before"] = "sha256:" + "e" * 64
        d["changes"][1]["details"]["extra"] = None  # present (null) is not absent

    nb, tools = f"reg.example.com/team/nb:kfws1-{'1' * 24}", "reg.example.com/team/tools:v1"
    assert compare(edited(full_plan(), edit)) == [
        f"change 1 (build {nb}): the input digest to build differs",
        f"change 2 (rebuild {tools}): the registry digest it replaces and its detail 'extra' "
        "differ",
    ]


def _one(kind: Kind, **fields: Any) -> Plan:
    change = Change(kind, "t", fields.pop("reason", "r"), None, None, fields.pop("details", {}))
    return Plan("w.yaml", "sha256:" + "0" * 64, (), (change,))


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("restart", "the restart mode"),
        ("mode", "the restart mode"),
        ("namespace", "the namespace"),
        ("configMap", "the ConfigMap"),
        ("deployment", "the Deployment"),
        ("owned", "the owned part (lists and flags) it would write"),
        ("diff", "the list of option changes"),
        ("configHash", "the config text it reloads for"),
        ("kfwsAdded", "the record of options kfws added"),
        ("repository", "the push repository"),
        ("tag", "the tag"),
        ("name", "the image name"),
        ("input_digest", "the input digest"),
        ("resourceVersion", "the ConfigMap version it expects"),
        ("generation", "the Deployment generation it expects"),
        ("other", "its detail 'other'"),
    ],
)
def test_each_detail_is_named_in_words(key: str, words: str) -> None:
    saved = _one(UPDATE, details={key: "a", "size": 1})
    fresh = _one(UPDATE, details={key: "b", "size": 2})  # sizes: never
    assert compare_plans(saved, fresh, declared_images=()).differences == (
        f"change 1 (update-spawner t): {words} differs",
    )


@pytest.mark.parametrize("kind", [UPDATE, ChangeKind.PUSH_IMAGE])
def test_a_changed_reason_is_named_for_every_kind(kind: Kind) -> None:
    saved = _one(kind, reason="a", details={"name": "nb"})
    fresh = _one(kind, reason="b", details={"name": "nb"})
    assert compare_plans(saved, fresh, declared_images={"nb"}).differences == (
        f"change 1 ({kind.value} t): its reason differs",
    )


def test_a_comparison_is_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Comparison((), stale=False).stale = True  # type: ignore[misc]


def _fingerprinted(*observations: tuple[str, str | None]) -> Plan:
    return Plan(
        "w.yaml", "sha256:" + "0" * 64, tuple(Observation(k, v) for k, v in observations), ()
    )


@pytest.mark.parametrize(
    ("was", "now", "writer", "line"),
    [
        ("rv=1 h=a", "rv=2 h=b", None, "configmap/kf/cm was changed since the plan "
         "(resourceVersion 1 then, 2 now)"),
        ("rv=1 h=a", "h=b", "'x' (Update) at t", "configmap/kf/cm was changed since the plan, "
         "last written by 'x' (Update) at t"),
        # not written by a plan (no resourceVersion then): told as any other observation
        ("h=a", "rv=2", None, "configmap:kf/cm: h=a when planned, rv=2 now"),
        (None, "rv=2", None, "configmap:kf/cm: absent when planned, rv=2 now"),
    ],
)  # fmt: skip
def test_a_moved_configmap_names_its_versions_only_when_both_are_known(
    was: str | None, now: str | None, writer: str | None, line: str
) -> None:
    result = compare_plans(
        _fingerprinted(("configmap:kf/cm", was)),
        _fingerprinted(("configmap:kf/cm", now)),
        declared_images=(),
        config_writer=writer,
    )
    assert result.stale and result.differences == (line,)


def test_other_observations_say_absent_when_they_were_or_are() -> None:
    result = compare_plans(
        _fingerprinted(("registry:r/a:1", None), ("registry:r/b:1", "sha256:1")),
        _fingerprinted(("registry:r/a:1", "sha256:2"), ("registry:r/b:1", None)),
        declared_images=(),
    )
    assert result.stale and result.differences == (
        "registry:r/a:1: absent when planned, sha256:2 now",
        "registry:r/b:1: sha256:1 when planned, absent now",
    )


def test_an_emptied_fingerprint_is_one_line_naming_the_first_observation_and_not_stale() -> None:
    saved = _fingerprinted()
    fresh = _fingerprinted(("registry:r/b:1", "sha256:1"), ("inputs:a", "sha256:2"))
    result = compare_plans(saved, fresh, declared_images=())
    assert result.stale is False
    assert result.differences == (
        "the saved plan's fingerprint is empty; a fresh plan depends on 2 observations "
        "(e.g. inputs:a)",
    )


def test_every_moved_observation_is_named_not_only_the_first() -> None:
    result = compare_plans(
        _fingerprinted(("inputs:a", "x"), ("inputs:b", "y"), ("inputs:c", "z")),
        _fingerprinted(("inputs:a", "x"), ("inputs:b", "moved"), ("inputs:c", "z2")),
        declared_images=(),
    )
    assert result.stale is True
    assert result.differences == (
        "inputs:b: y when planned, moved now",
        "inputs:c: z when planned, z2 now",
    )


def test_identical_fingerprints_are_not_stale() -> None:
    result = compare_plans(
        _fingerprinted(("inputs:a", "x"), ("configmap:kf/cm", "rv=1 h=a")),
        _fingerprinted(("inputs:a", "x"), ("configmap:kf/cm", "rv=1 h=a")),
        declared_images=(),
    )
    assert result.stale is False and result.differences == ()


@pytest.mark.parametrize("prefix", ["inputs:", "registry:"])
def test_image_observations_of_other_names_are_not_a_retargeted_object(prefix: str) -> None:
    result = compare_plans(
        _fingerprinted((f"{prefix}a", "x")),
        _fingerprinted((f"{prefix}b", "x")),
        declared_images=(),
    )
    assert result.differences == (
        f"{prefix}a: the saved plan depends on it; a fresh plan does not",
        f"{prefix}b: a fresh plan depends on it; the saved plan's fingerprint lacks it",
    )


def test_several_objects_retargeted_are_listed_together() -> None:
    result = compare_plans(
        _fingerprinted(("configmap:a/x", "rv=1 h"), ("configmap:a/y", "rv=1 h")),
        _fingerprinted(("configmap:b/x", "rv=1 h")),
        declared_images=(),
    )
    assert result.differences == (
        "the saved plan targets configmap/a/x, configmap/a/y; a fresh plan targets configmap/b/x",
    )


def test_a_key_that_names_no_object_is_still_named_when_a_write_is_no_longer_needed() -> None:
    # the ConfigMap write is no longer needed: what only followed it is not repeated, but a
    # key that is no cluster object (no "KIND:" prefix, a hand-edited file) is still named
    result = compare_plans(
        _fingerprinted(
            ("configmap:kf/cm", "rv=1 h=a"),
            ("deployment:kf/web", "generation=3"),
            ("inputs:a", "x"),
            ("weird", "x"),
        ),
        _fingerprinted(("inputs:a", "x")),
        declared_images=(),
    )
    assert result.stale is True
    assert result.differences == (
        "configmap/kf/cm needs no change now: it already matches the workspace",
        "weird: the saved plan depends on it; a fresh plan does not",
    )


@pytest.mark.parametrize("key", ["size", "sizes", "why"])
def test_what_only_informs_the_reader_never_differs(key: str) -> None:
    saved = _one(UPDATE, details={key: "measured then"})
    fresh = _one(UPDATE, details={key: "measured now"})
    assert compare_plans(saved, fresh, declared_images=()).differences == ()


def test_a_write_the_fresh_plan_does_elsewhere_is_not_called_no_longer_needed() -> None:
    # the fresh plan writes another kind of object: the saved write is not "already matching"
    result = compare_plans(
        _fingerprinted(("configmap:kf/cm", "rv=1 h=a")),
        _fingerprinted(("workspacekind:kf/wk", "rv=4 h=b")),
        declared_images=(),
    )
    assert result.stale is False
    assert result.differences == (
        "configmap:kf/cm: the saved plan depends on it; a fresh plan does not",
        "workspacekind:kf/wk: a fresh plan depends on it; the saved plan's fingerprint lacks it",
    )


def test_the_changed_workspace_line_in_full() -> None:
    saved = dataclasses.replace(full_plan(), spec_digest="sha256:" + "e" * 64)
    result = compare_plans(saved, full_plan(), declared_images={"nb", "tools"})
    assert result.differences == (
        "the workspace file changed since the plan was made "
        f"(sha256:{'e' * 12}… then, sha256:{'f' * 12}… now)",
    )


def test_a_change_the_fresh_plan_lacks_and_one_it_adds_in_full() -> None:
    plan = full_plan()
    longer = dataclasses.replace(plan, changes=(*plan.changes, plan.changes[0]))
    nb = f"reg.example.com/team/nb:kfws1-{'1' * 24}"
    assert compare_plans(longer, plan, declared_images={"nb", "tools"}).differences == (
        f"change 7 (build {nb}): not in a fresh plan",
    )
    assert compare_plans(plan, longer, declared_images={"nb", "tools"}).differences == (
        f"a fresh plan has change 7 (build {nb}), which the saved plan lacks",
    )


def test_a_manager_without_a_time_is_never_the_latest_and_says_so_when_alone() -> None:
    managers = [("kfws", "Apply", None), ("helm", "Update", "2026-02-01T00:00:00Z")]
    assert last_writer(managers) == "'helm' (Update) at 2026-02-01T00:00:00Z"
    assert last_writer([("kfws", "Apply", None)]) == "'kfws' (Apply) at an unknown time"
