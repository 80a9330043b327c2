"""The whole planner: images, then the cluster targets, the contract checks between them, the
warnings about spawner options kfws does not build, and the fingerprint."""

from __future__ import annotations

import dataclasses

from kfws.observe.model import ExternalImageState, Observed
from kfws.plan.build import make_plan
from kfws.plan.model import ChangeKind
from kfws.targets.spawner.kinds import RESTART, UPDATE
from tests.unit import factories as f

NB = f"{f.REGISTRY}/team/nb:kfws1-{'1' * 24}"
TOOLS = f"{f.REGISTRY}/team/tools:v1"


def test_images_then_their_checks_then_the_cluster() -> None:
    ws, seen = f.full_plan_inputs()
    plan = make_plan(ws, seen, spec_path="ws/workspace.yaml")
    assert [(c.kind, c.target) for c in plan.changes] == [
        (ChangeKind.BUILD_IMAGE, NB),
        (ChangeKind.REBUILD_IMAGE, TOOLS),
        (ChangeKind.CHECK_IMAGE, NB),
        (ChangeKind.CHECK_IMAGE, TOOLS),
        (UPDATE, "configmap/kubeflow/jupyter-web-app-config-abc"),
        (RESTART, "deployment/kubeflow/jupyter-web-app-deployment"),
    ]
    assert (plan.spec_path, plan.spec_digest) == ("ws/workspace.yaml", "sha256:" + "f" * 64)
    # every change went through the sizes step
    assert all("size" in c.details for c in plan.changes[:2])


def test_the_fingerprint_is_sorted_by_key_and_holds_each_fact_once() -> None:
    ws, seen = f.full_plan_inputs()
    # a second image observed at the same reference: its registry fact is kept once
    twin = dataclasses.replace(ws, images=(*ws.images, f.image("nb2")))
    same = dataclasses.replace(
        seen,
        inputs={**seen.inputs, "nb2": f.inputs("nb2", "1")},
        images={**seen.images, "nb2": seen.images["nb"]},
    )
    plan = make_plan(twin, same, spec_path="workspace.yaml")
    assert [o.key for o in plan.fingerprint] == [
        "configmap:kubeflow/jupyter-web-app-config-abc",
        "deployment:kubeflow/jupyter-web-app-deployment",
        "inputs:nb",
        "inputs:nb2",
        "inputs:tools",
        f"registry:{NB}",
        f"registry:{TOOLS}",
    ]
    facts = {o.key: o.value for o in plan.fingerprint}
    assert facts["deployment:kubeflow/jupyter-web-app-deployment"] == "generation=3"
    assert facts[f"registry:{NB}"] is None
    assert facts[f"registry:{TOOLS}"] == "sha256:" + "9" * 64


def externals(*states: ExternalImageState) -> Observed:
    return Observed(
        inputs={"nb": f.inputs("nb", "1")},
        images={"nb": f.state(NB, registry="sha256:" + "1" * 64)},
        externals={s.reference: s for s in states},
    )


def test_warnings_about_spawner_options_kfws_does_not_build() -> None:
    seen = externals(
        ExternalImageState("reg/z:1", None, error="connection refused"),
        ExternalImageState("reg/a:1", None),
        ExternalImageState("reg/ok:1", "sha256:" + "2" * 64),
        ExternalImageState("reg/s2:1", None, skipped="--offline"),
        ExternalImageState("reg/s1:1", None, skipped="--offline"),
        ExternalImageState("reg/c:1", None, skipped="check: false"),
        # skipped wins over an error: the registry was not asked
        ExternalImageState("reg/e:1", None, error="boom", skipped="check: false"),
    )
    plan = make_plan(f.spec(f.image("nb")), seen, spec_path="workspace.yaml")
    assert plan.warnings == (
        "spawner option reg/a:1 does not exist in its registry",
        "spawner option reg/z:1 could not be checked: connection refused",
        "2 spawner options not looked up in the registry (--offline): reg/s1:1, reg/s2:1",
        "2 spawner options not looked up in the registry (check: false): reg/c:1, reg/e:1",
    )
    assert plan.changes == ()  # nothing changes: no check either


def test_one_skipped_option_is_named_in_the_singular() -> None:
    seen = externals(ExternalImageState("reg/s:1", None, skipped="--offline"))
    plan = make_plan(f.spec(f.image("nb")), seen, spec_path="workspace.yaml")
    assert plan.warnings == ("1 spawner option not looked up in the registry (--offline): reg/s:1",)


def test_the_architecture_check_runs_only_when_a_cluster_target_was_observed() -> None:
    ws, seen = f.full_plan_inputs()
    skipped = dataclasses.replace(seen, node_archs_skipped="no ClusterRole to read nodes")
    plan = make_plan(ws, skipped, spec_path="workspace.yaml")
    assert plan.warnings[-1] == "the architecture check was skipped: no ClusterRole to read nodes"
    images_only = dataclasses.replace(skipped, targets={})
    plan = make_plan(ws, images_only, spec_path="workspace.yaml")
    assert not any("architecture" in w for w in plan.warnings)
    assert all(c.kind.is_image or c.kind is ChangeKind.CHECK_IMAGE for c in plan.changes)


def test_an_arch_mismatch_of_an_offered_image_is_a_warning() -> None:
    ws, seen = f.full_plan_inputs()
    amd = dataclasses.replace(seen, node_archs=("amd64",), platforms={TOOLS: ("linux/arm64",)})
    plan = make_plan(ws, amd, spec_path="workspace.yaml")
    assert plan.warnings[-1].startswith(f"{TOOLS} provides only linux/arm64, and the cluster's")


def test_a_workspacekind_s_external_image_is_named_with_its_kind_and_value() -> None:
    from kfws.targets.workspacekind.model import DeclaredImage, KindSpec

    kind = KindSpec(
        "jupyterlab",
        (
            DeclaredImage("lab", "reg/a:1"),
            DeclaredImage("z", "reg/z:1"),
            DeclaredImage("s", "reg/s:1"),
        ),
    )
    ws = dataclasses.replace(f.spec(f.image("nb")), workspace_kinds=(kind,))
    seen = externals(
        ExternalImageState("reg/a:1", None),
        ExternalImageState("reg/z:1", None, error="connection refused"),
        ExternalImageState("reg/s:1", None, skipped="--offline"),
        ExternalImageState("reg/o:1", None, skipped="--offline"),  # a spawner option's
    )
    plan = make_plan(ws, seen, spec_path="workspace.yaml")
    assert plan.warnings == (
        "WorkspaceKind image reg/a:1 (jupyterlab value lab) does not exist in its registry",
        "WorkspaceKind image reg/z:1 (jupyterlab value z) could not be checked: connection refused",
        "1 WorkspaceKind image not looked up in the registry (--offline): reg/s:1",
        "1 spawner option not looked up in the registry (--offline): reg/o:1",
    )


def test_an_image_both_targets_offer_is_told_as_the_spawner_s() -> None:
    from kfws.spec.model import SpawnerGroup, SpawnerSpec
    from kfws.targets.workspacekind.model import DeclaredImage, KindSpec

    kind = KindSpec("jupyterlab", (DeclaredImage("lab", "reg/a:1"),))
    ws = dataclasses.replace(
        f.spec(f.image("nb"), spawner=SpawnerSpec((SpawnerGroup("image", "reg/a:1", ()),))),
        workspace_kinds=(kind,),
    )
    plan = make_plan(ws, externals(ExternalImageState("reg/a:1", None)), spec_path="w.yaml")
    assert plan.warnings == ("spawner option reg/a:1 does not exist in its registry",)
