"""The spawner target's observe, for a workspace that declares no spawner: not asked, it reads
nothing; asked for what the cluster offers (usage, prune), an API server it can't reach is an
error, never "nothing offered" (that answer is only for a namespace with no Jupyter web app,
tested against the real API server in tests/env/test_prune_notebooks2_only_e2e.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kfws.errors import ClusterError
from kfws.observe.offered import observe_offered, offered_now
from kfws.spec.load import load_spec
from kfws.spec.model import Spec
from kfws.targets import spawner
from tests.unit.observe.test_kube_api import closed_port

WORKSPACE = """\
apiVersion: kfws/v1alpha1
kind: Workspace
registry: {default: reg.example.com/team}
cluster: {namespace: kf}
images:
  - {name: nb, from: "reg.example.com/base:1"}
"""


class Said:
    """A Reporter that keeps what it is told."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def progress(self, text: str) -> None:
        self.lines.append(text)

    def warn(self, text: str) -> None:
        self.lines.append(f"warning: {text}")

    def err(self, text: str) -> None:
        self.lines.append(text)


def workspace(tmp: Path) -> Spec:
    path = tmp / "workspace.yaml"
    path.write_text(WORKSPACE)
    return load_spec(path)


def unreachable(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """KUBECONFIG names a port nothing listens on: every connection is refused."""
    kubeconfig = tmp / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\n"
        f"clusters: [{{name: c, cluster: {{server: 'https://127.0.0.1:{closed_port()}'}}}}]\n"
        "users: [{name: u, user: {token: not-a-real-token}}]\n"
        "contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n"
    )
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))


def test_a_workspace_without_a_spawner_reads_nothing_unless_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))  # any read would fail
    said = Said()
    assert spawner.observe(workspace(tmp_path), context=None, reporter=said) is None
    assert said.lines == []


def test_an_api_server_it_cannot_reach_stops_prune_and_is_unseen_for_usage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    unreachable(tmp_path, monkeypatch)
    spec, said = workspace(tmp_path), Said()
    with pytest.raises(ClusterError) as raised:
        spawner.observe(spec, context=None, reporter=said, undeclared=True)
    assert raised.value.message.startswith("cannot reach the Kubernetes API to list deployments")
    assert raised.value.where == "namespace kf"
    with pytest.raises(ClusterError):
        offered_now(spec, context=None, reporter=said)  # prune's question
    unseen = observe_offered(spec, context=None, reporter=said).unseen  # usage's
    assert any("cannot reach the Kubernetes API to list deployments" in u for u in unseen)
    assert not any("no Jupyter web app" in line for line in said.lines)
