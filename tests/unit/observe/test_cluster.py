from __future__ import annotations

from pathlib import Path

import pytest

from kfws.errors import ClusterError
from kfws.observe.cluster import detect_gitops, load_api

CM = "ConfigMap/jupyter-web-app-config-abc"


@pytest.mark.parametrize(
    ("labels", "annotations", "managers", "expected"),
    [
        ({}, {}, ["kubectl-client-side-apply", "kfws"], None),
        # Kubeflow's own manifests set the instance label: not a GitOps trace on its own
        ({"app.kubernetes.io/instance": "jupyter-web-app-v1.0.0"}, {}, ["kubectl"], None),
        (
            {},
            {"argocd.argoproj.io/tracking-id": "kubeflow:/ConfigMap:kubeflow/x"},
            [],
            f"Argo CD (application kubeflow, tracking {CM})",
        ),
        (
            {"app.kubernetes.io/instance": "kf"},
            {},
            ["argocd-controller"],
            f"Argo CD (application kf, tracking {CM})",
        ),
        (
            {
                "kustomize.toolkit.fluxcd.io/name": "apps",
                "kustomize.toolkit.fluxcd.io/namespace": "flux-system",
            },
            {},
            [],
            f"Flux kustomize-controller (Kustomization flux-system/apps, applying {CM})",
        ),
        (
            {"helm.toolkit.fluxcd.io/name": "kubeflow"},
            {},
            [],
            f"Flux helm-controller (HelmRelease kubeflow, applying {CM})",
        ),
        ({}, {}, ["helm-controller"], f"Flux helm-controller (field manager of {CM})"),
    ],
)
def test_gitops_owner(
    labels: dict[str, str], annotations: dict[str, str], managers: list[str], expected: str | None
) -> None:
    assert detect_gitops([(CM, labels, annotations, managers)]) == expected


KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {{server: "https://127.0.0.1:{port}"}}
users:
- name: u
  user: {{token: t}}
contexts:
- {{name: one, context: {{cluster: c, user: u}}}}
- {{name: two, context: {{cluster: c, user: u}}}}
current-context: one
"""


def test_the_api_client_is_loaded_once_per_kubeconfig_and_context(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plan reads through one kubeconfig load (and one connection pool); another context, or
    the kubeconfig changed on disk, is loaded anew. No request is made here."""
    path = tmp_path / "kubeconfig"
    path.write_text(KUBECONFIG.format(port=1))
    monkeypatch.setenv("KUBECONFIG", str(path))
    first = load_api(None)
    assert load_api(None) is first
    assert first.configuration.host == "https://127.0.0.1:1"
    assert load_api("two") is not first and load_api("two") is load_api("two")
    path.write_text(KUBECONFIG.format(port=2))  # another size: changed, whatever the clock says
    assert load_api(None).configuration.host == "https://127.0.0.1:2"
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    with pytest.raises(ClusterError, match="cannot load the kubeconfig"):
        load_api(None)
