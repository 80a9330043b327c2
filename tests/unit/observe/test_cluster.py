from __future__ import annotations

import pytest

from kfws.observe.cluster import detect_gitops

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
