"""Helpers over the local Kubernetes (hack/env-k8s.sh) for the environment tests.

The environment exports (see `.kfws-env/env.sh`):
  KUBECONFIG / KFWS_TEST_KUBECONFIG_ADMIN  cluster admin (client certificate, system:masters)
  KFWS_TEST_KUBECONFIG_RESTRICTED          ServiceAccount kubeflow/kfws, bound to the writer Role
                                           (deploy/rbac/kfws-role.yaml, narrowed by name to each
                                           namespace's web app ConfigMap) in both namespaces below
  KFWS_TEST_KUBECONFIG_READONLY            ServiceAccount kubeflow/kfws-readonly, bound to the
                                           read-only Role (deploy/rbac/kfws-readonly-role.yaml)
  KFWS_TEST_NAMESPACE                      `kubeflow`: the Kubeflow 1.10 layout (hashed ConfigMap)
  KFWS_TEST_LEGACY_NAMESPACE               `kubeflow-legacy`: the Kubeflow 1.0 layout
  KFWS_TEST_KUBE_API, KFWS_TEST_KUBECTL    the API server's URL and the kubectl built with it

Pod and Service IPs in this cluster are fake: never send traffic to them.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from kubernetes import client, config

from tests.conftest import need_env

ROOT = Path(__file__).resolve().parents[2]
ENV_K8S = ROOT / "hack" / "env-k8s.sh"
SEED_DIR = ROOT / "hack" / "k8s" / "seed"

DEPLOYMENT = "jupyter-web-app-deployment"
CONFIG_KEY = "spawner_ui_config.yaml"
CONFIG_MOUNT = "/etc/config"
# the selector the manual workflow (and kfws) finds the web app's pods by, in both layouts
APP_SELECTOR = "app.kubernetes.io/name=jupyter-web-app"
LEGACY_CONFIGMAP = "jupyter-web-app-config"
RESTART_ANNOTATION = "kubectl.kubernetes.io/restartedAt"

T = TypeVar("T")


def namespace() -> str:
    return need_env("KFWS_TEST_NAMESPACE")


def legacy_namespace() -> str:
    return need_env("KFWS_TEST_LEGACY_NAMESPACE")


def admin_client() -> client.ApiClient:
    return config.new_client_from_config(config_file=need_env("KFWS_TEST_KUBECONFIG_ADMIN"))


def restricted_client() -> client.ApiClient:
    return config.new_client_from_config(config_file=need_env("KFWS_TEST_KUBECONFIG_RESTRICTED"))


def readonly_client() -> client.ApiClient:
    return config.new_client_from_config(config_file=need_env("KFWS_TEST_KUBECONFIG_READONLY"))


def pristine_config(layout: str = "kf1.10") -> str:
    """The seeded spawner_ui_config.yaml text, byte for byte ("kf1.10" or "kf1.0")."""
    return (SEED_DIR / f"spawner_ui_config-{layout}.yaml").read_text()


def reseed(timeout: float = 240) -> None:
    """Put both namespaces back to the pristine seed: ConfigMaps and Deployments as seeded
    (rolled back if their pod template changed), other ConfigMaps, other Deployments and all
    Leases deleted, and wait until the web app is ready again. Same as `bash hack/env-k8s.sh
    reseed`."""
    proc = subprocess.run(
        ["bash", str(ENV_K8S), "reseed"],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if proc.returncode != 0:
        raise AssertionError(
            f"env-k8s.sh reseed failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}"
        )


def configmap_of(apps: client.AppsV1Api, ns: str, deployment: str = DEPLOYMENT) -> str:
    """The ConfigMap a Deployment mounts at /etc/config (the hashed name in the 1.10 layout)."""
    dep = apps.read_namespaced_deployment(deployment, ns)
    mounts = {m.name: m for c in dep.spec.template.spec.containers for m in c.volume_mounts or []}
    for vol in dep.spec.template.spec.volumes or []:
        mount = mounts.get(vol.name)
        if vol.config_map is not None and mount is not None and mount.mount_path == CONFIG_MOUNT:
            return str(vol.config_map.name)
    raise AssertionError(f"{ns}/{deployment} mounts no ConfigMap at {CONFIG_MOUNT}")


def wait_for(
    what: str, check: Callable[[], T | None], timeout: float = 90, every: float = 0.5
) -> T:
    """Poll `check` until it returns something truthy; fail naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(every)


def pod_ready(pod: Any) -> bool:
    if pod.metadata.deletion_timestamp is not None or pod.status.phase != "Running":
        return False
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])


def ready_pods(core: client.CoreV1Api, ns: str, selector: str = APP_SELECTOR) -> list[Any]:
    return [p for p in core.list_namespaced_pod(ns, label_selector=selector).items if pod_ready(p)]


def wait_new_ready_pod(
    core: client.CoreV1Api,
    ns: str,
    old_uids: Iterable[str],
    selector: str = APP_SELECTOR,
    timeout: float = 90,
) -> Any:
    """A Ready pod matching `selector` whose UID is none of `old_uids`."""
    old = set(old_uids)

    def check() -> Any:
        fresh = [p for p in ready_pods(core, ns, selector) if p.metadata.uid not in old]
        return fresh[0] if fresh else None

    return wait_for(f"a new Ready pod ({selector}) in {ns}", check, timeout)


def rollout_complete(apps: client.AppsV1Api, ns: str, name: str = DEPLOYMENT) -> bool:
    """What `kubectl rollout status` waits for: the controller saw the latest spec, every replica
    is updated and available, and no old replica is left."""
    dep = apps.read_namespaced_deployment(name, ns)
    want = dep.spec.replicas if dep.spec.replicas is not None else 1
    st = dep.status
    return bool(
        (st.observed_generation or 0) >= dep.metadata.generation
        and (st.updated_replicas or 0) == want
        and (st.replicas or 0) == want
        and (st.available_replicas or 0) == want
    )


def wait_rollout(
    apps: client.AppsV1Api, ns: str, name: str = DEPLOYMENT, timeout: float = 90
) -> None:
    wait_for(f"the rollout of {ns}/{name}", lambda: rollout_complete(apps, ns, name), timeout)


def restart_deployment(apps: client.AppsV1Api, ns: str, name: str = DEPLOYMENT) -> str:
    """`kubectl rollout restart`: stamp the pod template; returns the stamp."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()) + f"-{time.monotonic_ns()}"
    body = {"spec": {"template": {"metadata": {"annotations": {RESTART_ANNOTATION: stamp}}}}}
    apps.patch_namespaced_deployment(name, ns, body)
    return stamp
