"""Benchmark: a cluster-only `kfws plan` against `kubectl get` of the same objects, whole processes,
measured in this run (median of --runs each, interleaved run by run), so the ratio holds on a
noisy machine. Goal: kfws <= 2x kubectl.

The case, defined to be fair to both sides: the images already exist, only the spawner list
changes. The workspace declares no image to build; its Jupyter group adds the environment's base
image (already in the local registry) with `mode: merge`, so Kubeflow's stock options stay; it
runs with `--offline`, so kfws asks no registry. kfws reads the workspace, then the cluster (the
web app Deployment found by its label, then the ConfigMap it mounts, then the nodes for the
architecture check: three API requests), plans the edit of the spawner config and prints the
diff. kubectl gets the same two objects by name (`kubectl get configmap/X deployment/Y -o json`,
one process, its discovery cache warm). Both
load the same kubeconfig (the environment's admin, a client certificate) and talk TLS to the
same API server.

Shown too, not part of the goal: the same plan with `mode: exact` ("list replaced"), which
removes the five stock options, so kfws also asks the cluster which notebooks still use them
(a cluster-wide list of Notebooks and of their pods: more requests than kubectl makes).

Also printed, for scale: the floor the official Python client sets, `python -c "from kubernetes
import config"` (the kubeconfig loader kfws must use; it imports the HTTP, TLS and auth stack),
the interpreter's own start (`python -c pass`), and CPU time (user + sys) of each, which moves
less with the machine's load than wall time.

kfws runs from compiled bytecode, as an installed kfws does (pip compiles it at install, as it
did the kubernetes client's): the bench compiles the kfws tree first and runs every process
without PYTHONDONTWRITEBYTECODE, which would otherwise have kfws compile its ~70 modules from
source on every run while the floor's stay compiled.

`--compare DIR` times the plan of another kfws tree too (`git worktree add DIR main`, or `git
archive main | tar -x -C DIR`), interleaved with the rest: before and after in one run.

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
import compileall
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


def run(
    cmd: list[str], cwd: Path, env: dict[str, str]
) -> tuple[float, float, subprocess.CompletedProcess[bytes]]:
    """Wall and CPU (user + sys) seconds of one whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, check=False)
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
    parser.add_argument("--compare", metavar="DIR", help="another kfws source tree to time too")
    args = parser.parse_args()
    import kfws

    trees = [Path(kfws.__file__).parent]
    if args.compare:
        trees.append(Path(args.compare).resolve() / "kfws")
        if not (trees[-1] / "cli.py").is_file():
            sys.exit(f"--compare {args.compare}: no kfws/cli.py there")
    for tree in trees:  # what pip does at install: the runs below load bytecode, as the floor's
        if not compileall.compile_dir(tree, quiet=1):
            sys.exit(f"cannot compile {tree}")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
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
            "python -c pass": [PYTHON, "-c", "pass"],
        }  # fmt: skip
        envs = dict.fromkeys(cases, env)
        if args.compare:
            name = f"kfws plan ({args.compare})"
            cases[name] = cases["kfws plan"]
            envs[name] = {**env, "PYTHONPATH": str(trees[-1].parent)}
        for name, cmd in cases.items():  # warm-up (page cache, kubectl's discovery cache), checked
            _, _, proc = run(cmd, folder, envs[name])
            # 2: a plan with changes / drift (the option is not on the cluster yet), as meant
            wanted = 2 if name.startswith(("kfws plan", "kfws drift")) else 0
            if proc.returncode != wanted:
                sys.exit(f"{name} exited {proc.returncode}:\n{proc.stderr.decode()[-2000:]}")
        walls: dict[str, list[float]] = {name: [] for name in cases}
        cpus: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.runs):
            for name, cmd in cases.items():
                wall, cpu, _ = run(cmd, folder, envs[name])
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
    ratio, cpu_ratio = wall["kfws plan"] / wall[base], cpu["kfws plan"] / cpu[base]
    print(
        f"cluster-only kfws plan / kubectl get: {ratio:.2f}x wall, {cpu_ratio:.2f}x CPU (goal "
        f"<= 2), median of {args.runs}, load average {os.getloadavg()[0]:.1f}"
    )
    floor = cpu["floor: import kubernetes.config"]
    print(
        f"kfws's own, above the official client's floor: {(cpu['kfws plan'] - floor) * 1000:.0f} "
        f"ms CPU; the floor alone is {floor / cpu[base]:.2f}x kubectl's CPU"
    )
    typed = wall["floor: + typed Core/Apps/Coord"] - wall["floor: import kubernetes.config"]
    print(
        f"the typed classes alone: +{typed * 1000:.0f} ms wall per process "
        f"({typed / wall['kfws drift']:.0%} of a kfws drift, {typed / wall['kfws unlock']:.0%} "
        "of a kfws unlock now)"
    )


if __name__ == "__main__":
    main()
