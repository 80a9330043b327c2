"""The `workspaceKinds:` section: what it reads into, and every problem reported at once with
its file:line:col, through the one workspace loader."""

from __future__ import annotations

from pathlib import Path

import pytest

from kfws.errors import SpecError
from kfws.spec.load import load_spec
from kfws.targets.workspacekind.model import DeclaredImage, KindSpec, Port

HEAD = """\
apiVersion: kfws/v1alpha1
kind: Workspace
registry: {default: registry.example.com/ds-team}
images:
  - {name: jupyter-tf, from: registry.example.com/base/py:3.11}
workspaceKinds:
  jupyterlab:
"""


def load(tmp_path: Path, body: str) -> tuple[KindSpec, ...]:
    path = tmp_path / "workspace.yaml"
    path.write_text(HEAD + body)
    return load_spec(path).workspace_kinds


def problems(tmp_path: Path, body: str) -> list[str]:
    with pytest.raises(SpecError) as e:
        load(tmp_path, body)
    return [f"{where.split(':', 1)[1]}: {msg}" for where, msg in e.value.problems]


def test_a_kind_reads_into_declared_images_with_their_lines(tmp_path: Path) -> None:
    (kind,) = load(
        tmp_path,
        """\
    default: tf
    images:
      - id: tf
        image: jupyter-tf
        displayName: TensorFlow 2.16
        labels: {python: "3.11", gpu: "no"}
        ports: [{id: jupyterlab, port: 8888, displayName: Lab}]
      - {id: old, image: "ghcr.io/x/y:1", hidden: true, pullPolicy: Always,
         redirectTo: tf, redirectMessage: {level: Warning, text: gone}}
      - {id: pt, image: "ghcr.io/x/pt:2", replaces: [older]}
""",
    )
    assert kind.name == "jupyterlab" and kind.default == "tf"
    assert kind.location.endswith("workspace.yaml:8")
    tf, old, pt = kind.images
    assert tf == DeclaredImage(
        id="tf",
        image="jupyter-tf",
        display_name="TensorFlow 2.16",
        labels=(("python", "3.11"), ("gpu", "no")),
        ports=(Port("jupyterlab", 8888, "Lab"),),
        location=tf.location,
    )
    assert tf.location.endswith("workspace.yaml:10")
    assert (old.hidden, old.pull_policy, old.redirect_to) == (True, "Always", "tf")
    assert (old.redirect_level, old.redirect_text, old.ports) == ("Warning", "gone", None)
    assert pt.replaces == ("older",) and pt.display_name is None


def test_no_section_is_no_kinds(tmp_path: Path) -> None:
    path = tmp_path / "workspace.yaml"
    path.write_text(HEAD.rsplit("workspaceKinds", 1)[0])
    assert load_spec(path).workspace_kinds == ()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "    images:\n      - {id: tf, image: jupyter-tv}\n",
            ["9:18: workspaceKinds.jupyterlab.images[0].image: 'jupyter-tv' is not a managed "
             "image's name; did you mean 'jupyter-tf'?"],
        ),
        (
            "    images:\n      - {id: tf, image: jupyter-tf}\n"
            "      - {id: tf, image: jupyter-tf}\n",
            ["10:10: workspaceKinds.jupyterlab.images[1].id: the id 'tf' is already used by "
             "images[0]"],
        ),
        (
            "    images:\n      - {id: t, image: jupyter-tf}\n",
            ["9:10: workspaceKinds.jupyterlab.images[0].id: an id shorter than 2 characters "
             "needs a `displayName` (2-128)"],
        ),
        (
            "    images:\n      - {id: tf, image: jupyter-tf, redirectTo: tf}\n",
            ["9:37: workspaceKinds.jupyterlab.images[0].redirectTo: a value can't redirect to "
             "itself"],
        ),
        (
            "    images:\n      - {id: tf, image: jupyter-tf, redirectMessage: {text: hi}}\n",
            ["9:37: workspaceKinds.jupyterlab.images[0].redirectMessage: needs `redirectTo`: "
             "the message is the redirect's"],
        ),
        (
            "    images:\n      - {id: tf, image: jupyter-tf, replaces: [tf]}\n",
            ["9:48: workspaceKinds.jupyterlab.images[0].replaces[0]: 'tf' is declared here: "
             "only a value the file drops can be replaced"],
        ),
        (
            "    images:\n      - id: tf\n        image: jupyter-tf\n"
            "        ports: [{id: lab, port: 1}, {id: lab, port: 2}]\n",
            ["11:9: workspaceKinds.jupyterlab.images[0].ports: port ids listed more than "
             "once: lab"],
        ),
        # the schema's bounds: the CRD's, so the API server never refuses what validate passed
        (
            "    images:\n"
            "      - {id: tf, image: jupyter-tf, labels: {p: x}, pullPolicy: Sometimes}\n",
            ["9:37: workspaceKinds.jupyterlab.images[0].labels: 'p' is too short",
             "9:53: workspaceKinds.jupyterlab.images[0].pullPolicy: 'Sometimes' is not one of "
             "'Always', 'IfNotPresent', 'Never'"],
        ),
        (
            "    images:\n"
            "      - {id: tf, image: jupyter-tf, displayName: x, ports: [{id: Lab, port: 0}]}\n",
            ["9:37: workspaceKinds.jupyterlab.images[0].displayName: 'x' is too short",
             "9:62: workspaceKinds.jupyterlab.images[0].ports[0].id: 'Lab' does not match the "
             "expected form ^[a-z0-9]([a-z0-9_-]*[a-z0-9])?$",
             "9:71: workspaceKinds.jupyterlab.images[0].ports[0].port: 0 is less than the "
             "minimum of 1"],
        ),
        ("    images: []\n", ["8:5: workspaceKinds.jupyterlab.images: [] should be non-empty"]),
        (
            "    images:\n      - {id: tf, imag: jupyter-tf}\n",
            ["9:9: workspaceKinds.jupyterlab.images[0]: 'image' is required",
             "9:18: workspaceKinds.jupyterlab.images[0].imag: unknown key; did you mean 'image'?"],
        ),
    ],
)  # fmt: skip
def test_problems_are_reported_together_at_their_place(
    tmp_path: Path, body: str, expected: list[str]
) -> None:
    assert problems(tmp_path, body) == expected


def test_a_bad_kind_name_is_refused(tmp_path: Path) -> None:
    body = (
        "    images: [{id: tf, image: jupyter-tf}]\n"
        "  Bad_Kind:\n    images: [{id: tf, image: jupyter-tf}]\n"
    )
    (problem,) = problems(tmp_path, body)
    assert "workspaceKinds" in problem and "Bad_Kind" in problem


def test_managed_images_a_kind_offers_get_the_contract_check_of_their_port(
    tmp_path: Path,
) -> None:
    from kfws.check import CheckKind, offered_kinds

    path = tmp_path / "workspace.yaml"
    path.write_text(
        HEAD.replace(
            "images:\n  - {name: jupyter-tf",
            "images:\n  - {name: code, from: registry.example.com/base/py:3.11}\n"
            "  - {name: jupyter-tf",
        )
        + "    images: [{id: tf, image: jupyter-tf}]\n"
        + "  codeserver:\n    images: [{id: c, image: code, displayName: Code,"
        + " ports: [{id: vscode, port: 8888}]}]\n"
    )
    assert offered_kinds(load_spec(path)) == {
        "code": (CheckKind.WEB,),
        "jupyter-tf": (CheckKind.JUPYTER,),
    }
