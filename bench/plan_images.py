"""Benchmark: `kfws plan` over N managed images against the floor measured in the same run.

1. Writes a workspace with N generated images (FROM the environment's base image).
2. Makes every image present in the local registry cheaply: one small manifest pushed through the
   registry API under each image's content tag (what kfws would have pushed is irrelevant to
   the plan, which only HEADs the tags).
3. Times `kfws plan` (median of --runs) and the floor: the same N manifest HEADs from a bare
   concurrent HTTP client (requests + threads) at the same parallelism, interleaved run by run.
4. Prints the ratio (goal <= 1.5), the peak RSS of `kfws plan` at --big (goal < 200 MB), and a
   second `kfws apply`'s counts (goal: nothing built, pushed or written).

Needs the local environment: `make env-up && source .kfws-env/env.sh && .venv/bin/python
bench/plan_images.py`. Ratios, not absolute times: the machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
import yaml

KFWS = str(Path(sys.executable).with_name("kfws"))
MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


def workspace(folder: Path, registry: str, prefix: str, n: int, base: str) -> Path:
    doc = {
        "apiVersion": "kfws/v1alpha1",
        "kind": "Workspace",
        "registry": {
            "default": f"{registry}/{prefix}",
            "registries": {registry: {"insecure": True}},
        },
        "build": {"network": "host"},  # the local dockerd has no bridge network
        "images": [{"name": f"img-{i:05d}", "from": base, "env": {"N": str(i)}} for i in range(n)],
    }
    path = folder / "workspace.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def kfws(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [KFWS, *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def targets(folder: Path) -> list[tuple[str, str]]:
    proc = kfws("plan", "--format", "json", cwd=folder)
    if proc.returncode != 0:
        sys.exit(f"kfws plan failed:\n{proc.stderr}")
    plan = json.loads(proc.stdout)
    out = []
    for entry in plan["fingerprint"]:
        if entry["key"].startswith("registry:"):
            repo, tag = entry["key"].removeprefix("registry:").split("/", 1)[1].rsplit(":", 1)
            out.append((repo, tag))
    return out


def seed_registry(registry: str, refs: list[tuple[str, str]], parallelism: int) -> None:
    """One tiny image (empty config, no layers) put under every repo:tag through the API."""
    session = requests.Session()
    config = b"{}"
    config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST,
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": len(config),
                "digest": config_digest,
            },
            "layers": [],
        }
    ).encode()

    def put(ref: tuple[str, str]) -> None:
        repo, tag = ref
        base = f"http://{registry}/v2/{repo}"
        r = session.post(f"{base}/blobs/uploads/", timeout=30)
        r.raise_for_status()
        location = r.headers["Location"]
        sep = "&" if "?" in location else "?"
        upload = location if location.startswith("http") else f"http://{registry}{location}"
        session.put(
            f"{upload}{sep}digest={config_digest}", data=config, timeout=30
        ).raise_for_status()
        session.put(
            f"{base}/manifests/{tag}", data=manifest, headers={"Content-Type": MANIFEST}, timeout=30
        ).raise_for_status()

    with ThreadPoolExecutor(parallelism) as pool:
        list(pool.map(put, refs))


def floor(registry: str, refs: list[tuple[str, str]], parallelism: int) -> float:
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_maxsize=parallelism)
    session.mount("http://", adapter)

    def head(ref: tuple[str, str]) -> int:
        r = session.head(
            f"http://{registry}/v2/{ref[0]}/manifests/{ref[1]}",
            headers={"Accept": MANIFEST},
            timeout=30,
        )
        return r.status_code

    start = time.perf_counter()
    with ThreadPoolExecutor(parallelism) as pool:
        codes = list(pool.map(head, refs))
    elapsed = time.perf_counter() - start
    assert all(c == 200 for c in codes), "floor: not every tag is present"
    return elapsed


FLOOR_SCRIPT = """
import json, sys
from concurrent.futures import ThreadPoolExecutor
import requests
registry, parallelism, refs = sys.argv[1], int(sys.argv[2]), json.load(sys.stdin)
session = requests.Session()
session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=parallelism))
def head(ref):
    return session.head(f"http://{registry}/v2/{ref[0]}/manifests/{ref[1]}",
                        headers={"Accept": sys.argv[3]}, timeout=30).status_code
with ThreadPoolExecutor(parallelism) as pool:
    assert all(c == 200 for c in pool.map(head, refs))
"""


def floor_process(registry: str, refs: list[tuple[str, str]], parallelism: int) -> float:
    """The same HEADs from a bare client as a whole process (interpreter start and the requests
    import included), the like-for-like floor for `kfws plan` measured as a whole process."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", FLOOR_SCRIPT, registry, str(parallelism), MANIFEST],
        input=json.dumps(refs),
        text=True,
        check=True,
    )
    return time.perf_counter() - start


def timed_plan(folder: Path, parallelism: int) -> float:
    start = time.perf_counter()
    proc = kfws("plan", "--parallelism", str(parallelism), "--detailed-exitcode", cwd=folder)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(
            f"kfws plan should report no changes here, got {proc.returncode}:\n"
            + proc.stdout
            + proc.stderr
        )
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=500)
    parser.add_argument("--big", type=int, default=5000, help="N for the memory figure (0 = skip)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--parallelism", type=int, default=8)
    args = parser.parse_args()
    registry = os.environ["KFWS_TEST_REGISTRY"]
    base = os.environ["KFWS_TEST_BASE_IMAGE"]
    prefix = f"bench-{os.getpid()}"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        workspace(folder, registry, prefix, args.n, base)
        refs = targets(folder)
        seed_registry(registry, refs, 16)
        kfws_times, floor_times, process_times = [], [], []
        for _ in range(args.runs):  # interleaved, so all see the same machine load
            kfws_times.append(timed_plan(folder, args.parallelism))
            floor_times.append(floor(registry, refs, args.parallelism))
            process_times.append(floor_process(registry, refs, args.parallelism))
        k = statistics.median(kfws_times)
        f = statistics.median(floor_times)
        fp = statistics.median(process_times)
        print(f"N={args.n} parallelism={args.parallelism} runs={args.runs} (medians)")
        print(f"  kfws plan, whole process               {k:.3f}s")
        print(f"  floor: {args.n} bare HEADs, whole process  {fp:.3f}s  ratio {k / fp:.2f}")
        print(f"  floor: {args.n} bare HEADs, in-process     {f:.3f}s  ratio {k / f:.2f}")
        print("  goal: ratio <= 1.5")

        second = kfws("apply", "--auto-approve", "--parallelism", str(args.parallelism), cwd=folder)
        print(f"  second apply: exit {second.returncode}: {second.stdout.strip().splitlines()[-1]}")

    if args.big:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            workspace(folder, registry, prefix + "-big", args.big, base)
            refs = targets(folder)
            seed_registry(registry, refs, 16)
            code = (
                "import resource,subprocess,sys;"
                f"subprocess.run([{KFWS!r},'plan','--parallelism','{args.parallelism}'],cwd={str(folder)!r},"
                "stdout=subprocess.DEVNULL,check=True);"
                "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
            )
            rss_kb = int(
                subprocess.run(
                    [sys.executable, "-c", code], capture_output=True, text=True, check=True
                ).stdout
            )
            print(f"N={args.big}: peak RSS of kfws plan {rss_kb / 1024:.0f} MB  (goal < 200 MB)")


if __name__ == "__main__":
    main()
