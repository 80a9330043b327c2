"""Kubeflow notebooks for the usage and prune tests: a Notebook object and the StatefulSet the
notebook controller would make of it (hack/k8s/notebooks/seed.py writes both), and, for a
running one, waiting until KWOK reports its pod Running with the imageID it was told. Cleaned up
by `notebooks()` (and by `hack/env-k8s.sh reseed`: only the seeded ones stay)."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kubernetes import client

from tests.conftest import need_env
from tests.env import k8s_helpers as k8s

SEED = k8s.ROOT / "hack" / "k8s" / "notebooks" / "seed.py"
_spec = importlib.util.spec_from_file_location("kfws_notebook_seed", SEED)
assert _spec is not None and _spec.loader is not None
seed: Any = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(seed)


def profile_namespaces() -> tuple[str, str]:
    alice, bob = need_env("KFWS_TEST_PROFILE_NAMESPACES").split()
    return alice, bob


class Notebooks:
    def __init__(self, api: client.ApiClient) -> None:
        self.custom = client.CustomObjectsApi(api)
        self.apps = client.AppsV1Api(api)
        self.core = client.CoreV1Api(api)
        self.made: list[tuple[str, str]] = []

    def create(
        self, ns: str, name: str, image: str, *, stopped: bool = False, runs: str | None = None
    ) -> None:
        """A notebook naming `image`; running unless `stopped`, its pod reporting `runs`
        (repository@digest) as imageID."""
        nb = seed.notebook(ns, name, image, stopped)
        nb["metadata"]["labels"].pop(seed.SEED_LABEL)
        sts = seed.statefulset(ns, name, image, runs, stopped)
        sts["metadata"]["labels"].pop(seed.SEED_LABEL)
        self.custom.create_namespaced_custom_object("kubeflow.org", "v1", ns, "notebooks", nb)
        self.made.append((ns, name))
        self.apps.create_namespaced_stateful_set(ns, sts)
        if not stopped:
            k8s.wait_for(f"notebook pod {ns}/{name}-0 running", lambda: self._running(ns, name))

    def _running(self, ns: str, name: str) -> bool:
        pods = self.core.list_namespaced_pod(ns, label_selector=f"notebook-name={name}").items
        return any(
            p.status.phase == "Running" and p.status.container_statuses is not None for p in pods
        )

    def delete_all(self) -> None:
        for ns, name in self.made:
            for kind in ("notebook", "statefulset"):
                try:
                    if kind == "notebook":
                        self.custom.delete_namespaced_custom_object(
                            "kubeflow.org", "v1", ns, "notebooks", name
                        )
                    else:
                        self.apps.delete_namespaced_stateful_set(name, ns)
                except client.ApiException as e:
                    if e.status != 404:
                        raise
        self.made.clear()


@contextmanager
def notebooks(api: client.ApiClient) -> Iterator[Notebooks]:
    made = Notebooks(api)
    try:
        yield made
    finally:
        made.delete_all()
