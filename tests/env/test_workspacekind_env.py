"""The environment's Notebooks 2.0 part is real: the WorkspaceKind CRD validates what kfws
writes (ids, display names, labels, redirect, pull policy, ports), server-side apply owns
image values by id, the seeded kind's usage counts come through the status subresource, and the
WorkspaceKind ClusterRoles let kfws's ServiceAccounts do exactly what they ship for."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.env import k8s_helpers as k8s
from tests.env import workspacekind_helpers as wsk

GROUP, VERSION, PLURAL, KIND = wsk.GROUP, wsk.VERSION, wsk.PLURAL, wsk.KIND


@pytest.fixture
def fresh_kind() -> Iterator[None]:
    wsk.reseed_kinds()
    yield
    wsk.reseed_kinds()


VALUE: dict[str, Any] = {
    "id": "kfws-env-probe",
    "spawner": {"displayName": "probe", "labels": [{"key": "py", "value": "3.11"}]},
    "redirect": {"to": "jupyterlab_scipy_190", "message": {"level": "Info", "text": "moved"}},
    "spec": {
        "image": "127.0.0.1:5000/x:1",
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"id": "jupyterlab", "port": 8888}],
    },
}


def body(value: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "WorkspaceKind",
        "metadata": {"name": KIND},
        "spec": {"podTemplate": {"options": {"imageConfig": {"values": [value]}}}},
    }


def ssa(api: client.ApiClient, value: dict[str, Any], **kw: Any) -> Any:
    return client.CustomObjectsApi(api).patch_cluster_custom_object(
        GROUP,
        VERSION,
        PLURAL,
        KIND,
        body(value),
        field_manager="kfws",
        _content_type="application/apply-patch+yaml",
        **kw,
    )


def status_of(call: Any, *args: Any, **kwargs: Any) -> int:
    try:
        call(*args, **kwargs)
    except ApiException as e:
        return int(e.status)
    return 200


values = wsk.values


def test_the_seeded_kind_has_values_in_use_set_through_the_status(admin: client.ApiClient) -> None:
    obj = wsk.get(admin)
    assert set(values(obj)) == {
        "jupyterlab_scipy_180",
        "jupyterlab_scipy_190",
        "jupyterlab_minimal",
        "team-geo",
    }
    usage = {m["id"]: m["workspaces"] for m in obj["status"]["podTemplateOptions"]["imageConfig"]}
    assert usage == {
        "jupyterlab_scipy_180": 3,
        "jupyterlab_scipy_190": 5,
        "jupyterlab_minimal": 0,
        "team-geo": 1,
    }
    # the status is a subresource: a write of the main resource can't change it
    assert any(m.get("subresource") == "status" for m in obj["metadata"]["managedFields"]), obj[
        "metadata"
    ]["managedFields"]


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        (("id",), ""),
        (("spawner", "displayName"), "x"),  # 2-128
        (("spawner", "labels", 0, "key"), "p"),  # 2-64
        (("redirect", "message", "level"), "Fatal"),  # Info | Warning | Danger
        (("spec", "imagePullPolicy"), "Sometimes"),
        (("spec", "ports", 0, "port"), 70000),
        (("spec", "ports", 0, "id"), "Bad_Port!"),
        (("spec", "image"), "x"),
    ],
)
def test_the_crd_refuses_what_the_documented_api_refuses(
    admin: client.ApiClient, path: tuple[Any, ...], bad: Any
) -> None:
    value = copy.deepcopy(VALUE)
    node: Any = value
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = bad
    assert status_of(ssa, admin, value) == 422  # refused: nothing was written


@pytest.mark.usefixtures("fresh_kind")
def test_server_side_apply_owns_its_value_and_conflicts_with_another_manager(
    admin: client.ApiClient,
) -> None:
    restricted = k8s.restricted_client()
    before = values(wsk.get(admin))
    after = values(ssa(restricted, VALUE))
    assert after.pop("kfws-env-probe")["spec"]["image"] == VALUE["spec"]["image"]
    assert after == before  # every other value untouched
    # hiding a value another manager set `hidden: false` on is a conflict unless forced
    geo = {"id": "team-geo", "spawner": {"displayName": "Geo team (GDAL)", "hidden": True}}
    assert status_of(ssa, restricted, geo) == 409
    # omitting the value kfws alone owns removes it
    assert "kfws-env-probe" not in values(ssa(restricted, {**VALUE, "id": "other-probe"}))


def test_the_cluster_roles_allow_get_and_patch_by_name_only() -> None:
    restricted = client.CustomObjectsApi(k8s.restricted_client())
    readonly = client.CustomObjectsApi(k8s.readonly_client())
    assert status_of(restricted.get_cluster_custom_object, GROUP, VERSION, PLURAL, KIND) == 200
    assert status_of(restricted.list_cluster_custom_object, GROUP, VERSION, PLURAL) == 200
    assert status_of(readonly.get_cluster_custom_object, GROUP, VERSION, PLURAL, KIND) == 200
    # not named in the ClusterRole: 403 before any 404
    assert status_of(restricted.get_cluster_custom_object, GROUP, VERSION, PLURAL, "other") == 403
    nothing = {"metadata": {"labels": {"x": "y"}}}
    assert (
        status_of(restricted.patch_cluster_custom_object, GROUP, VERSION, PLURAL, "other", nothing)
        == 403
    )
    assert (
        status_of(readonly.patch_cluster_custom_object, GROUP, VERSION, PLURAL, KIND, nothing)
        == 403
    )
    assert status_of(restricted.delete_cluster_custom_object, GROUP, VERSION, PLURAL, KIND) == 403
    assert (
        status_of(
            restricted.patch_cluster_custom_object_status, GROUP, VERSION, PLURAL, KIND, nothing
        )
        == 403
    )
