"""Benchmark: the fresh-runner case BuildKit's registry cache is for, in one run.

1. Starts a buildkitd with an empty state (its own root and socket in a temporary folder).
2. Cold: `kfws apply` of the demo's TensorFlow image (workspace.yaml's `jupyter-tf`: apt
   graphviz, pip JupyterLab + tensorflow-cpu + pandas), exporting the registry cache.
3. Changes one late line (the image's `env`, the generated Dockerfile's last instruction).
4. Stops that daemon and starts another with an EMPTY state, as a fresh CI runner has: `kfws
   apply` again; every install step comes from the registry cache.
5. The same changed image through the Docker Engine's legacy builder (what kfws did before),
   whose cache has never seen these inputs either.
Prints the three times and the ratios (goal: cached rebuild <= 25% of the cold build).

Each run is new to every cache: a unique `buildEnv` value (an ARG the install steps see) makes
its inputs unseen. Needs the local environment and the network (pip reads PyPI):
  make env-up && source .kfws-env/env.sh && nice -n 10 .venv/bin/python bench/buildkit_cache.py
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import yaml

KFWS = str(Path(sys.executable).with_name("kfws"))
ROOT = Path(__file__).resolve().parent.parent


def need(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        sys.exit(f"{name} is not set: run `make env-up` and `source .kfws-env/env.sh`")
    return value


def tf_image(registry: str, run: str) -> dict[str, Any]:
    demo = yaml.safe_load((ROOT / "workspace.yaml").read_text())
    image: dict[str, Any] = next(i for i in demo["images"] if i["name"] == "jupyter-tf")
    image["from"] = image["from"].replace("127.0.0.1:15001", registry)
    image["buildEnv"] = {"KFWS_BENCH_RUN": run}
    return image


def workspace(folder: Path, registry: str, prefix: str, image: dict[str, Any], engine: str) -> None:
    doc = {
        "apiVersion": "kfws/v1alpha1",
        "kind": "Workspace",
        "registry": {
            "default": f"{registry}/{prefix}",
            "registries": {registry: {"insecure": True}},
        },
        "build": {
            "engine": engine,
            "network": "host",
            "cache": {"registry": f"{registry}/bench-buildcache/{prefix}"},
        },
        "images": [image],
    }
    (folder / "workspace.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))


class Buildkitd:
    """A buildkitd with an empty state of its own, like a fresh runner's."""

    def __init__(self, folder: Path, registry: str) -> None:
        self.folder = folder
        folder.mkdir(parents=True)
        socket = folder / "buildkitd.sock"
        self.address = f"unix://{socket}"
        (folder / "buildkitd.toml").write_text(
            f'root = "{folder}/root"\n'
            f'[grpc]\n  address = ["{self.address}"]\n'
            f'[otel]\n  socketPath = "{folder}/otel.sock"\n'
            '[worker.oci]\n  enabled = true\n  snapshotter = "overlayfs"\n'
            "[worker.containerd]\n  enabled = false\n"
            f'[registry."{registry}"]\n  http = true\n'
        )
        self.log = (folder / "buildkitd.log").open("w")
        self.proc = subprocess.Popen(
            [
                need("KFWS_TEST_BUILDKITD"),
                "--config",
                str(folder / "buildkitd.toml"),
                "--oci-worker-net=host",
                "--allow-insecure-entitlement",
                "network.host",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        buildctl = shutil.which("buildctl") or "buildctl"
        deadline = time.monotonic() + 120  # a safety net; the loop ends when it answers
        while time.monotonic() < deadline:
            ok = subprocess.run(
                [buildctl, "--addr", self.address, "debug", "workers"],
                capture_output=True,
                check=False,
            )
            if ok.returncode == 0:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        self.stop()
        sys.exit(f"buildkitd did not start; see {folder / 'buildkitd.log'}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=120)
        self.log.close()
        shutil.rmtree(self.folder / "root", ignore_errors=True)


def apply(folder: Path, env: dict[str, str], label: str) -> float:
    t0 = time.monotonic()
    result = subprocess.run(
        [KFWS, "apply", "--auto-approve", "--log-dir", str(folder / "logs" / label)],
        cwd=folder,
        env={**os.environ, "NO_COLOR": "1", **env},
        capture_output=True,
        text=True,
        check=False,
    )
    took = time.monotonic() - t0
    if result.returncode != 0 or "1 built, 1 pushed" not in result.stdout:
        sys.exit(f"{label}: kfws apply failed:\n{result.stdout}\n{result.stderr}")
    print(f"  {label:<44} {took:8.1f} s", flush=True)
    return took


def on_fresh_daemon(work: Path, registry: str, label: str) -> float:
    daemon = Buildkitd(Path(tempfile.mkdtemp(prefix="daemon-", dir=work)) / "d", registry)
    try:
        return apply(work, {"BUILDKIT_HOST": daemon.address}, label)
    finally:
        daemon.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    registry = need("KFWS_TEST_REGISTRY")
    need("DOCKER_HOST")
    run = uuid.uuid4().hex[:8]
    prefix = f"bench-bk-{run}"
    print(f"BuildKit registry cache, the demo's jupyter-tf image (run {run}):")
    with tempfile.TemporaryDirectory(prefix="kfws-bench-bk-") as tmp:
        work = Path(tmp)
        image = tf_image(registry, run)

        workspace(work, registry, prefix, image, "buildkit")
        cold = on_fresh_daemon(work, registry, "cold build (BuildKit, empty state)")

        image["env"] = {**image.get("env", {}), "MPLBACKEND": "svg"}  # one late line changed
        workspace(work, registry, prefix, image, "buildkit")
        cached = on_fresh_daemon(work, registry, "rebuild, new daemon + registry cache")

        # the legacy builder: the same changed image, to another repository (same tag there)
        workspace(work, registry, prefix + "-legacy", image, "docker")
        legacy = apply(work, {}, "same rebuild, Docker Engine legacy builder")

    print()
    print(f"  cached rebuild / cold build:   {cached / cold:6.1%}   (goal <= 25%)")
    print(f"  legacy rebuild / cold build:   {legacy / cold:6.1%}")
    print(f"  legacy rebuild / cached:       {legacy / cached:6.1f}x")


if __name__ == "__main__":
    main()
