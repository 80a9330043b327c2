"""Reading a live WorkspaceKind: values, usage from the status, who manages which value (from
managedFields, the status subresource's managers left out), and hostile objects refused."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import yaml

from kfws.errors import ClusterError
from kfws.targets.workspacekind.model import ImageValue, Port, Redirect
from kfws.targets.workspacekind.state import kind_state
from kfws.targets.workspacekind.write import apply_body


def key(vid: str) -> str:
    return "k:" + json.dumps({"id": vid}, separators=(",", ":"))


def fields(*ids: str, default: bool = False) -> dict[str, Any]:
    config: dict[str, Any] = {"f:values": {key(i): {".": {}, "f:id": {}} for i in ids}}
    if default:
        config["f:spawner"] = {"f:default": {}}
    return {"f:spec": {"f:podTemplate": {"f:options": {"f:imageConfig": config}}}}


ODD = {"f:values": {"k:not json": {}, 'k:["x"]': {}}}
OBJ: dict[str, Any] = yaml.safe_load("""
metadata: {name: jupyterlab, resourceVersion: "42", uid: u-1}
spec:
  podTemplate:
    ports: [{id: jupyterlab}, {id: vscode}]
    options:
      imageConfig:
        spawner: {default: a}
        values:
          - id: a
            spawner: {displayName: A}
            spec: {image: "r/a:1", ports: [{id: jupyterlab, port: 8888}]}
          - id: b
            spawner: {displayName: B, hidden: true, labels: [{key: py, value: "3"}]}
            redirect: {to: a, message: {level: Warning, text: go}}
            spec:
              image: "r/b:1"
              imagePullPolicy: Always
              ports: [{id: vscode, port: 80, displayName: Code}]
          - id: c
            spawner: {displayName: C, description: see}
            spec: {image: "r/c:1", ports: []}
status:
  podTemplateOptions:
    imageConfig: [{id: a, workspaces: 3}, {id: b, workspaces: many}]
""")
OBJ["metadata"]["managedFields"] = [
    {"manager": "kubectl-create", "operation": "Update",
     "fieldsV1": fields("a", "b", default=True)},
    {"manager": "kfws", "operation": "Apply", "fieldsV1": fields("b", "c")},
    {"manager": "ctl", "operation": "Update", "subresource": "status", "fieldsV1": fields("a")},
    {"manager": "odd", "operation": "Update", "fieldsV1": fields() | {"f:spec": {"f:podTemplate": {
        "f:options": {"f:imageConfig": ODD}}}}},
]  # fmt: skip


def test_values_usage_and_managers_are_read() -> None:
    k = kind_state(OBJ)
    assert (k.name, k.resource_version, k.uid, k.default) == ("jupyterlab", "42", "u-1", "a")
    assert k.port_ids == ("jupyterlab", "vscode")
    assert k.default_managers == {"kubectl-create"}
    got = {v.value.id: (v.usage, set(v.managers), v.kfws_owned) for v in k.values}
    assert got == {
        "a": (3, {"kubectl-create"}, False),  # the status manager is not the value's
        "b": (0, {"kubectl-create", "kfws"}, True),  # a malformed count reads as unused
        "c": (0, {"kfws"}, True),
    }
    assert k.values[1].value == ImageValue(
        id="b",
        display_name="B",
        image="r/b:1",
        pull_policy="Always",
        ports=(Port("vscode", 80, "Code"),),
        labels=(("py", "3"),),
        hidden=True,
        redirect=Redirect("a", "Warning", "go"),
    )
    assert k.values[0].value.pull_policy == "IfNotPresent"  # the API's default


@pytest.mark.parametrize(
    ("path", "bad", "message"),
    [
        (("values",), "x", "no spec.podTemplate.options.imageConfig.values list"),
        (("values", 0), "x", "a value is not an object"),
        (("values", 0, "id"), 7, "value.id is not text"),
        (("values", 0, "spec", "image"), None, "value 'a'.image is not text"),
        (("values", 0, "spec", "ports", 0, "port"), "8888", "value 'a': a port has no number"),
        (("values", 1, "spawner", "labels", 0), "py=3", "value 'b': a label is not an object"),
        (("values", 1, "redirect", "message"), "go", "redirect.message is not an object"),
        (("values", 0, "spawner"), ["x"], "value 'a': spawner/spec is not an object"),
    ],
)
def test_a_malformed_kind_is_refused_naming_what_is_wrong(
    path: tuple[Any, ...], bad: Any, message: str
) -> None:
    obj = copy.deepcopy(OBJ)
    node: Any = obj["spec"]["podTemplate"]["options"]["imageConfig"]
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = bad
    with pytest.raises(ClusterError) as e:
        kind_state(obj)
    assert message in e.value.message and e.value.where == "workspacekind/jupyterlab"


def test_the_apply_body_holds_only_kfws_fields_and_the_precondition() -> None:
    v = ImageValue("tf", "TF", "r/tf:1", ports=(Port("jupyterlab", 8888),), labels=(("p", "3"),))
    assert apply_body("jupyterlab", [v], "tf", "42") == {
        "apiVersion": "kubeflow.org/v1beta1",
        "kind": "WorkspaceKind",
        "metadata": {"name": "jupyterlab", "resourceVersion": "42"},
        "spec": {
            "podTemplate": {
                "options": {
                    "imageConfig": {
                        "values": [
                            {
                                "id": "tf",
                                "spawner": {
                                    "displayName": "TF",
                                    "labels": [{"key": "p", "value": "3"}],
                                    "hidden": False,
                                },
                                "spec": {
                                    "image": "r/tf:1",
                                    "imagePullPolicy": "IfNotPresent",
                                    "ports": [{"id": "jupyterlab", "port": 8888}],
                                },
                            }
                        ],
                        "spawner": {"default": "tf"},
                    }
                }
            }
        },
    }
    no_default = apply_body("k", [], None, None)
    assert no_default["metadata"] == {"name": "k"}
    assert no_default["spec"]["podTemplate"]["options"]["imageConfig"] == {"values": []}
