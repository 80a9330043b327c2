"""Benchmark: the Kubeflow contract check on the demo's JupyterLab image, and that a second apply
re-checks nothing.

1. Writes a workspace offering the demo's team JupyterLab image (images/jupyter-tools, built on
   the environment's Python base) in the Jupyter group of the local cluster, with a fresh state
   folder (so no pass is remembered), and applies it: build, push, check, spawner.
2. Times `kfws check --force` on that image --runs times (the check alone: start the server,
   probe it, test the home volume, clean up) and prints the median (goal <= 20 s on this machine)
   beside the same run's floor: `docker run` of the image until its own log says it serves
   (start-up the check cannot avoid), so the ratio is what the check adds.
3. Changes only the spawner (a flag) and applies again: prints how many checks that apply ran
   (goal: 0, the digest passed before) and its time beside the first apply's.

Needs the local environment with the cluster: `make env-up && source .kfws-env/env.sh &&
.venv/bin/python bench/check_speed.py`. Ratios and counts, not absolute goals alone: the
machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
KFWS = str(Path(sys.executable).with_name("kfws"))
PASSED = re.compile(r"Jupyter contract: passed in ([0-9.]+) s")


def need(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        sys.exit(f"{name} is not set: run `make env-up` and `source .kfws-env/env.sh`")
    return value


def workspace(folder: Path, prefix: str, hide_registry: bool) -> None:
    registry = need("KFWS_TEST_REGISTRY")
    context = folder / "images" / "jupyter-tools"
    if not context.exists():
        shutil.copytree(ROOT / "images" / "jupyter-tools", context)
    doc = {
        "apiVersion": "kfws/v1alpha1",
        "kind": "Workspace",
        "registry": {
            "default": f"{registry}/{prefix}",
            "registries": {registry: {"insecure": True}},
        },
        "cluster": {"namespace": need("KFWS_TEST_NAMESPACE"), "restart": "none"},
        "images": [
            {
                "name": "jupyter-tools",
                "tag": "v1.0",
                "build": {
                    "context": "images/jupyter-tools",
                    "args": {"BASE": need("KFWS_TEST_PYTHON_BASE_IMAGE")},
                },
            }
        ],
        "spawner": {
            "image": {"default": "jupyter-tools", "options": ["jupyter-tools"], "mode": "merge"},
            "hideRegistry": hide_registry,
        },
    }
    (folder / "workspace.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))


def kfws(
    *args: str, cwd: Path, env: dict[str, str]
) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    proc = subprocess.run(
        [KFWS, *args],
        cwd=cwd,
        env={**os.environ, "NO_COLOR": "1", **env},
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        sys.exit(f"kfws {' '.join(args)} failed:\n{proc.stdout}{proc.stderr}")
    return time.perf_counter() - start, proc


def serve_floor(image: str) -> float:
    """`docker run` of the image until its own log says it serves (the start-up floor)."""
    name = f"kfws-bench-{uuid.uuid4().hex[:8]}"
    start = time.perf_counter()
    subprocess.run(
        ["docker", "run", "-d", "--name", name, "--network", "none", image],
        check=True,
        capture_output=True,
    )
    try:
        while True:
            logs = subprocess.run(
                ["docker", "logs", name], capture_output=True, text=True, check=True
            )
            if "is running at" in logs.stdout + logs.stderr:
                return time.perf_counter() - start
            if time.perf_counter() - start > 300:
                sys.exit("the image never said it was running")
            time.sleep(0.1)
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kfws-bench-check-") as tmp:
        folder = Path(tmp)
        env = {"XDG_STATE_HOME": str(folder / "state")}
        prefix = f"bench-check-{uuid.uuid4().hex[:8]}"
        workspace(folder, prefix, hide_registry=False)
        first_s, first = kfws("apply", "--auto-approve", cwd=folder, env=env)
        found = PASSED.search(first.stdout)
        if not found:
            sys.exit(f"the first apply ran no check:\n{first.stdout}{first.stderr}")
        image = f"{need('KFWS_TEST_REGISTRY')}/{prefix}/jupyter-tools:v1.0"

        checks: list[float] = []
        floors: list[float] = []
        for _ in range(args.runs):  # interleaved, so both see the same load
            floors.append(serve_floor(image))
            _, run = kfws("check", "jupyter-tools", "--force", cwd=folder, env=env)
            match = PASSED.search(run.stdout)
            assert match, run.stdout
            checks.append(float(match.group(1)))

        workspace(folder, prefix, hide_registry=True)  # a spawner-only change
        second_s, second = kfws("apply", "--auto-approve", cwd=folder, env=env)
        rechecked = second.stderr.count("checking the")
        check, floor = statistics.median(checks), statistics.median(floors)
        print(
            f"check of the demo JupyterLab image: median {check:.1f} s over {args.runs} runs "
            f"(goal <= 20 s); first apply's check {float(found.group(1)):.1f} s"
        )
        print(
            f"  floor (docker run until JupyterLab says it serves): median {floor:.1f} s; "
            f"check / floor = {check / floor:.2f}"
        )
        print(
            f"second apply (spawner flag changed, image unchanged): {rechecked} checks run "
            f"(goal 0), {second_s:.1f} s vs the first apply's {first_s:.1f} s"
        )
        plan_line = [ln for ln in second.stdout.splitlines() if ln.startswith("Plan:")]
        print(f"  its plan: {plan_line[0] if plan_line else '?'}")


if __name__ == "__main__":
    main()
