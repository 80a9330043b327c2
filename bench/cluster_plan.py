"""Benchmark: a cluster-only `kfws plan` against `kubectl get` of the same objects, whole processes,
measured in this run (median of --runs each, interleaved run by run), so the ratio holds on a
noisy machine. Goal: kfws <= 2x kubectl.

The case, defined to be fair to both sides: the images already exist, only the spawner list
changes. The workspace declares no image to build; its Jupyter group adds the environment's base
image (already in the local registry) with `mode: merge`, so Kubeflow's stock options stay; it
runs with `--offline`, so kfws asks no registry. kfws reads the workspace, then the cluster (the
web app Deployment found by its label, then the ConfigMap it mounts: two API requests), plans
the edit of the spawner config and prints the diff. kubectl gets the same two objects by name
(`kubectl get configmap/X deployment/Y -o json`, one process, its discovery cache warm). Both
load the same kubeconfig (the environment's admin, a client certificate) and talk TLS to the
same API server.

Shown too, not part of the goal: the same plan with `mode: exact` ("list replaced"), which
removes the five stock options, so kfws also asks the cluster which notebooks still use them
(a cluster-wide list of Notebooks and of their pods: more requests than kubectl makes).

Also printed, for scale: the floor the official Python client sets, `python -c "from kubernetes
import config"` (the kubeconfig loader kfws must use; it imports the HTTP, TLS and auth stack),
and CPU time (user + sys) of each, which moves less with the machine's load than wall time.

And the other cluster commands that once built the typed `CoreV1Api`/`AppsV1Api`/
`CoordinationV1Api` and now read through kfws.observe.kube_api: `kfws drift --offline` (the
ConfigMap, the Deployment, its pods, the namespace's ConfigMaps), `kfws unlock` (one Lease; there
is none, so it writes nothing), beside what those typed classes cost on their own, `python -c`
importing the config loader and the three classes (the floor those commands stood on before).

Needs the local environment: `make env-up && source .kfws-env/env.sh && .venv/bin/python
bench/cluster_plan.py`.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

PYTHON = sys.executable
# what apply, drift, rollback and unlock imported before they read through kube_api
TYPED = (
    "from kubernetes import client, config; "
    "client.CoreV1Api, client.AppsV1Api, client.CoordinationV1Api"
)
KFWS = str(Path(PYTHON).with_name("kfws"))
DEPLOYMENT = "jupyter-web-app-deployment"


def need(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        sys.exit(f"{name} is not set: run `make env-up && source .kfws-env/env.sh` first")
    return value


def workspace(path: Path, registry: str, image: str, namespace: str, mode: str) -> Path:
    doc = {
        "apiVersion": "kfws/v1alpha1",
        "kind": "Workspace",
        "registry": {"default": f"{registry}/bench", "registries": {registry: {"insecure": True}}},
        "cluster": {"namespace": namespace, "configMap": "auto", "deployment": "auto"},
        "spawner": {"image": {"mode": mode, "options": [image]}},
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def run(cmd: list[str], cwd: Path) -> tuple[float, float, subprocess.CompletedProcess[bytes]]:
    """Wall and CPU (user + sys) seconds of one whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc


def config_map_of(kubectl: str, namespace: str, cwd: Path) -> str:
    out = subprocess.run(
        [kubectl, "-n", namespace, "get", f"deployment/{DEPLOYMENT}", "-o",
         "jsonpath={.spec.template.spec.volumes[*].configMap.name}"],
        cwd=cwd, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    if len(out) != 1:
        sys.exit(f"expected one ConfigMap mounted by {DEPLOYMENT}, found {out}")
    return out[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    kubectl = need("KFWS_TEST_KUBECTL")
    namespace = need("KFWS_TEST_NAMESPACE")
    need("KUBECONFIG")
    with tempfile.TemporaryDirectory(prefix="kfws-bench-") as tmp:
        folder = Path(tmp)
        registry, image = need("KFWS_TEST_REGISTRY"), need("KFWS_TEST_BASE_IMAGE")
        workspace(folder / "workspace.yaml", registry, image, namespace, "merge")
        workspace(folder / "replace.yaml", registry, image, namespace, "exact")
        cm = config_map_of(kubectl, namespace, folder)
        cases = {
            "kubectl get": [kubectl, "-n", namespace, "get", f"configmap/{cm}",
                            f"deployment/{DEPLOYMENT}", "-o", "json"],
            "kfws plan": [KFWS, "plan", "--offline", "--detailed-exitcode"],
            "kfws plan, list replaced": [KFWS, "plan", "--offline", "--detailed-exitcode",
                                         "-f", "replace.yaml"],
            "kfws drift": [KFWS, "drift", "--offline"],
            "kfws unlock": [KFWS, "unlock"],
            "floor: import kubernetes.config": [PYTHON, "-c", "from kubernetes import config"],
            "floor: + typed Core/Apps/Coord": [PYTHON, "-c", TYPED],
        }  # fmt: skip
        for name, cmd in cases.items():  # warm-up (page cache, kubectl's discovery cache), checked
            _, _, proc = run(cmd, folder)
            # 2: a plan with changes / drift (the option is not on the cluster yet), as meant
            wanted = 2 if name.startswith(("kfws plan", "kfws drift")) else 0
            if proc.returncode != wanted:
                sys.exit(f"{name} exited {proc.returncode}:\n{proc.stderr.decode()[-2000:]}")
        walls: dict[str, list[float]] = {name: [] for name in cases}
        cpus: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.runs):
            for name, cmd in cases.items():
                wall, cpu, _ = run(cmd, folder)
                walls[name].append(wall)
                cpus[name].append(cpu)
    wall = {name: statistics.median(v) for name, v in walls.items()}
    cpu = {name: statistics.median(v) for name, v in cpus.items()}
    base = "kubectl get"
    for name in cases:
        print(
            f"{name:<32} wall {wall[name] * 1000:7.1f} ms ({wall[name] / wall[base]:4.2f}x)   "
            f"cpu {cpu[name] * 1000:7.1f} ms ({cpu[name] / cpu[base]:4.2f}x)"
        )
    ratio = wall["kfws plan"] / wall[base]
    print(
        f"cluster-only kfws plan / kubectl get: {ratio:.2f}x wall (goal <= 2), median of "
        f"{args.runs}, load average {os.getloadavg()[0]:.1f}"
    )
    typed = wall["floor: + typed Core/Apps/Coord"] - wall["floor: import kubernetes.config"]
    print(
        f"the typed classes alone: +{typed * 1000:.0f} ms wall per process "
        f"({typed / wall['kfws drift']:.0%} of a kfws drift, {typed / wall['kfws unlock']:.0%} "
        "of a kfws unlock now)"
    )


if __name__ == "__main__":
    main()
