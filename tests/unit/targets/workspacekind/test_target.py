"""The target's bindings, pure: a plan part per declared kind with its fingerprint, the view the
renderers get, what it offers, and that a workspace without kinds reads nothing."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from kfws.plan.images import ImagesPlanPart
from kfws.plan.model import Observation
from kfws.spec.load import load_spec
from kfws.targets import workspacekind
from kfws.targets.workspacekind import KindsState
from kfws.targets.workspacekind.kinds import UPDATE
from kfws.targets.workspacekind.model import ImageValue, KindState, LiveValue, Port

WS = """\
apiVersion: kfws/v1alpha1
kind: Workspace
registry: {default: r.example.com/t}
images: [{name: lab, from: r.example.com/base/py:3}]
workspaceKinds:
  jupyterlab:
    images: [{id: lab, image: lab, displayName: Lab}]
"""
LAB = (Port("jupyterlab", 8888),)
OLD = ImageValue("old", "Old", "r/old:1", ports=LAB, hidden=True)


def state(*values: LiveValue) -> KindsState:
    return KindsState((KindState("jupyterlab", "12", "old", values, ("jupyterlab",)),))


def test_a_plan_part_per_kind_with_its_fingerprint_and_the_view(tmp_path: Path) -> None:
    path = tmp_path / "workspace.yaml"
    path.write_text(WS)
    spec = load_spec(path)
    images = ImagesPlanPart((), (), {"lab": "r.example.com/t/lab:kfws1-ab"}, {})
    part = workspacekind.plan(spec, state(LiveValue(OLD, 1, frozenset({"x"}))), images)
    (change,) = part.changes
    assert change.kind is UPDATE and change.target == "workspacekind/jupyterlab"
    (obs,) = part.observations
    assert isinstance(obs, Observation) and obs.key == "workspacekind:jupyterlab"
    assert obs.value is not None and obs.value.startswith("rv=12 sha256:")
    shown = workspacekind.view(change, str, lambda t: t.upper())
    assert shown.brief == "WORKSPACEKIND JUPYTERLAB: 1 TO ADD"  # every note goes through `text`
    assert shown.lines[0] == "+ LAB: ADD [UNUSED] - DECLARED IN THE FILE"
    assert shown.offers == (("r.example.com/t/lab:kfws1-ab", None),)
    # nothing to do: no change, the fingerprint still holds the kind
    live = LiveValue(
        ImageValue("lab", "Lab", "r.example.com/t/lab:kfws1-ab", ports=LAB), 0, frozenset({"kfws"})
    )
    again = workspacekind.plan(spec, state(live), images)
    assert again.changes == () and len(again.observations) == 1


def test_what_it_offers_includes_hidden_values_workspaces_may_run() -> None:
    s = state(LiveValue(OLD, 1), LiveValue(replace(OLD, id="o2"), 0))
    assert workspacekind.offered_images(s) == ("r/old:1",)
    assert workspacekind.applied_digests(s) == {} and workspacekind.last_writer(s) is None


def test_a_workspace_without_kinds_is_not_observed(tmp_path: Path) -> None:
    path = tmp_path / "workspace.yaml"
    path.write_text(WS.split("workspaceKinds")[0])
    assert workspacekind.observe(load_spec(path), context=None, reporter=None) is None  # type: ignore[arg-type]
