"""The WorkspaceKind target against the real API server (the CRD, no webhook): each step is
observe -> pure plan -> server-side apply as the least-privilege ServiceAccount, and the
kind is then read back as the admin. Values kfws never managed stay byte for byte."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client

from kfws.errors import ApplyError, StalePlanError
from kfws.targets.workspacekind.api import get_kind
from kfws.targets.workspacekind.findings import kind_findings
from kfws.targets.workspacekind.import_ import merge_kinds
from kfws.targets.workspacekind.model import DeclaredImage, KindSpec, KindState, Port
from kfws.targets.workspacekind.planner import Action, KindPlan, plan_kind
from kfws.targets.workspacekind.state import kind_state
from kfws.targets.workspacekind.write import apply_body, write_kind
from tests.env import k8s_helpers as k8s
from tests.env import workspacekind_helpers as wsk

SEEDED = ("jupyterlab_scipy_180", "jupyterlab_scipy_190", "jupyterlab_minimal", "team-geo")


@pytest.fixture
def fresh_kind() -> Iterator[None]:
    wsk.reseed_kinds()
    yield
    wsk.reseed_kinds()


@pytest.fixture(scope="module")
def kfws_api() -> client.ApiClient:
    return k8s.restricted_client()


def observe(api: client.ApiClient) -> KindState:
    return kind_state(get_kind(api, wsk.KIND))


def run(api: client.ApiClient, *images: DeclaredImage, default: str | None = None) -> KindPlan:
    """What `kfws apply` does for the kind: observe, plan, and write when there is a change."""
    kind = observe(api)
    plan = plan_kind(KindSpec(wsk.KIND, images, default, "workspace.yaml:9"), kind, {})
    if plan.has_changes:
        write_kind(api, apply_body(wsk.KIND, plan.owned, plan.default, kind.resource_version))
    return plan


def untouched(obj: dict[str, Any]) -> str:
    """Everything of the spec kfws must not change, as canonical JSON: the spec without kfws's
    values, the seeded values byte for byte (in their order), the labels."""
    spec = copy.deepcopy(obj["spec"])
    config = spec["podTemplate"]["options"]["imageConfig"]
    config["values"] = [v for v in config["values"] if v["id"] in SEEDED]
    return json.dumps([spec, obj["metadata"].get("labels")], sort_keys=True)


TF = DeclaredImage(
    "tf", "127.0.0.1:5000/ds/tf:1", display_name="TensorFlow", labels=(("py", "3.11"),)
)


@pytest.mark.usefixtures("fresh_kind")
def test_add_change_and_a_non_managed_value_left_alone(
    admin: client.ApiClient, kfws_api: client.ApiClient
) -> None:
    before = wsk.get(admin)
    plan = run(kfws_api, TF)
    assert [(c.id, c.action) for c in plan.changes] == [("tf", Action.ADD)]
    after = wsk.get(admin)
    assert wsk.values(after)["tf"]["spawner"]["labels"] == [{"key": "py", "value": "3.11"}]
    assert untouched(after) == untouched(before) and after["status"] == before["status"]
    assert wsk.default(after) == "jupyterlab_scipy_190"  # not declared: left alone
    # a second run: nothing to do, nothing written
    rv = after["metadata"]["resourceVersion"]
    assert run(kfws_api, TF).changes == ()
    assert wsk.get(admin)["metadata"]["resourceVersion"] == rv
    # metadata of an in-use value changes in place
    wsk.set_usage(admin, {"tf": 2})
    renamed = DeclaredImage(TF.id, TF.image, display_name="TensorFlow 2.16", labels=TF.labels)
    plan = run(kfws_api, renamed)
    assert [(c.id, c.action, c.usage) for c in plan.changes] == [("tf", Action.CHANGE, 2)]
    assert wsk.values(wsk.get(admin))["tf"]["spawner"]["displayName"] == "TensorFlow 2.16"
    assert untouched(wsk.get(admin)) == untouched(before).replace(
        '"workspaces": 9', '"workspaces": 9'
    )


@pytest.mark.usefixtures("fresh_kind")
def test_a_new_image_behind_an_in_use_id_is_a_new_id_and_the_old_one_redirected(
    admin: client.ApiClient, kfws_api: client.ApiClient
) -> None:
    run(kfws_api, TF)
    wsk.set_usage(admin, {"tf": 3})
    newer = DeclaredImage(
        TF.id, "127.0.0.1:5000/ds/tf:2", display_name="TensorFlow", labels=TF.labels
    )
    plan = run(kfws_api, newer)
    new_id = next(c.id for c in plan.changes if c.action is Action.ADD)
    assert {(c.id, c.action) for c in plan.changes} == {(new_id, Action.ADD), ("tf", Action.RETIRE)}
    values = wsk.values(wsk.get(admin))
    assert values["tf"]["spec"]["image"] == TF.image  # the in-use spec never changed
    assert values["tf"]["spawner"]["hidden"] is True
    assert values["tf"]["redirect"]["to"] == new_id
    assert values[new_id]["spec"]["image"] == newer.image
    # stable while in use; removed once unused
    assert run(kfws_api, newer).changes == ()
    wsk.set_usage(admin, {"tf": 0})
    plan = run(kfws_api, newer)
    assert [(c.id, c.action) for c in plan.changes] == [("tf", Action.REMOVE)]
    assert "tf" not in wsk.values(wsk.get(admin)) and new_id in wsk.values(wsk.get(admin))


@pytest.mark.usefixtures("fresh_kind")
def test_retire_in_use_hides_and_redirects_and_retire_unused_removes(
    admin: client.ApiClient, kfws_api: client.ApiClient
) -> None:
    old = DeclaredImage("old-lab", "127.0.0.1:5000/ds/old:1")
    unused = DeclaredImage("scratch", "127.0.0.1:5000/ds/scratch:1")
    run(kfws_api, TF, old, unused)
    wsk.set_usage(admin, {"old-lab": 4})
    replacing = DeclaredImage(
        TF.id, TF.image, display_name="TensorFlow", labels=TF.labels, replaces=("old-lab",)
    )
    plan = run(kfws_api, replacing)
    got = {c.id: (c.action, c.usage) for c in plan.changes}
    assert got == {"old-lab": (Action.RETIRE, 4), "scratch": (Action.REMOVE, 0)}
    values = wsk.values(wsk.get(admin))
    assert "scratch" not in values
    assert values["old-lab"]["spawner"]["hidden"] is True
    assert values["old-lab"]["redirect"] == {
        "to": "tf",
        "message": {
            "level": "Info",
            "text": "old-lab is retired: Workspaces move to tf on their next restart",
        },
    }
    assert set(SEEDED) <= set(values)


@pytest.mark.usefixtures("fresh_kind")
def test_a_change_since_the_plan_is_a_409_and_nothing_is_written(
    admin: client.ApiClient, kfws_api: client.ApiClient
) -> None:
    kind = observe(kfws_api)
    plan = plan_kind(KindSpec(wsk.KIND, (TF,)), kind, {})
    wsk.set_usage(admin, {"jupyterlab_minimal": 1})  # the controller moved the kind on
    moved = wsk.get(admin)
    with pytest.raises(StalePlanError, match="changed since the plan"):
        write_kind(kfws_api, apply_body(wsk.KIND, plan.owned, plan.default, kind.resource_version))
    assert wsk.get(admin) == moved


@pytest.mark.usefixtures("fresh_kind")
def test_a_field_another_manager_owns_is_a_conflict_not_overwritten(
    admin: client.ApiClient, kfws_api: client.ApiClient
) -> None:
    geo = wsk.values(wsk.get(admin))["team-geo"]
    claim = DeclaredImage(
        "team-geo",
        geo["spec"]["image"],
        display_name="Geo, by kfws",
        pull_policy="Always",
        ports=(Port("jupyterlab", 8888, "Lab (geo)"),),
    )
    before = wsk.get(admin)
    with pytest.raises(ApplyError) as e:
        run(kfws_api, claim)
    assert wsk.get(admin) == before
    assert e.value.message == (
        "workspacekind/jupyterlab: the apply was refused and nothing was written: fields kfws "
        "would change are managed by another field manager: "
        '.spec.podTemplate.options.imageConfig.values[id="team-geo"].spawner.displayName '
        '("kubectl-create" using kubeflow.org/v1beta1)'
    )
    # the kind's default, set by whoever created the kind, is theirs too
    with pytest.raises(ApplyError, match=r"imageConfig.spawner.default \("):
        run(kfws_api, TF, default="jupyterlab_minimal")
    assert wsk.get(admin) == before


@pytest.mark.usefixtures("fresh_kind")
def test_drift_after_a_hand_edit_names_who_edited(
    admin: client.ApiClient, kfws_api: client.ApiClient
) -> None:
    run(kfws_api, TF)
    obj = wsk.get(admin)
    values = obj["spec"]["podTemplate"]["options"]["imageConfig"]["values"]
    index = next(i for i, v in enumerate(values) if v["id"] == "tf")
    patch = [
        {
            "op": "replace",
            "path": f"/spec/podTemplate/options/imageConfig/values/{index}/spawner/displayName",
            "value": "edited by hand",
        }
    ]
    client.CustomObjectsApi(admin).patch_cluster_custom_object(
        wsk.GROUP,
        wsk.VERSION,
        wsk.PLURAL,
        wsk.KIND,
        patch,
        field_manager="kubectl-edit",
        _content_type="application/json-patch+json",
    )
    kind = observe(kfws_api)
    (finding,) = kind_findings(plan_kind(KindSpec(wsk.KIND, (TF,)), kind, {}), kind)
    assert finding.kind.value == "changed-out-of-band"
    assert finding.message == (
        "value 'tf': displayName is 'edited by hand' on the kind, the file says 'TensorFlow' "
        "(changed by kubectl-edit since kfws applied it)"
    )


@pytest.mark.usefixtures("fresh_kind")
def test_import_then_apply_changes_nothing(kfws_api: client.ApiClient, tmp_path: Any) -> None:
    from kfws.spec.load import load_spec

    kind = observe(kfws_api)
    text, notes = merge_kinds(None, [kind])
    path = tmp_path / "workspace.yaml"
    path.write_text(text)
    (decl,) = load_spec(path).workspace_kinds
    assert notes == [] and plan_kind(decl, kind, {}).changes == ()
