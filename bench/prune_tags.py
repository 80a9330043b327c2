"""Benchmark: kfws prune's registry side on one repository with many tags (default 2,000),
against the floor of the same run: the bare tag list plus one manifest HEAD per tag from a bare
concurrent client (requests + threads, same parallelism).

prune reads, per tag, what it decides on: the manifest (one GET: it carries the digest, so no
HEAD first) and the image config (kfws's labels, the creation time; one GET per distinct
config, and none for a config an earlier run on this machine read: the config cache), then
decides (pure). Here every tag is its own kfws build (its own config), the worst case for
prune; the goal is at most 3x the floor. Timed, interleaved in each run:

- floor: the bare tag list, then a HEAD per tag;
- reads: what prune must read when it remembers nothing, from the same bare client (the tag
  list, then per tag the manifest GET and the config GET): the reference for prune's own cost;
- kfws prune, cold: a config cache that is empty (a first run on this machine);
- kfws prune, warm: a config cache an earlier (untimed) run filled (every later run: only new
  tags' configs are read).

1. Seeds N tags in `kfws-bench/prune` of the open registry through the registry API: one small
   shared layer, a config per tag carrying kfws's labels and a creation time (tags already
   there are reused).
2. Times each --runs times, interleaved, a fresh client per run, and prints medians and the
   ratios.

Needs the local environment: `make env-up && source .kfws-env/env.sh && .venv/bin/python
bench/prune_tags.py`. Ratios, not absolute times: the machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from kfws.observe.inventory import tag_facts
from kfws.observe.registry import MANIFEST_ACCEPT, RegistryClient
from kfws.observe.registry.config_cache import ConfigCache
from kfws.prune.decide import TagInfo, decide
from kfws.spec.model import RegistryOptions

REPO = "kfws-bench/prune"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


def seed(host: str, count: int, parallelism: int) -> None:
    base = f"http://{host}"
    s = requests.Session()
    s.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=parallelism))
    have = s.get(f"{base}/v2/{REPO}/tags/list", timeout=30)
    existing = set(have.json().get("tags") or []) if have.status_code == 200 else set()
    wanted = [f"kfws1-{i:024x}" for i in range(count)]
    missing = [t for t in wanted if t not in existing]
    if not missing:
        return

    def blob(data: bytes) -> dict[str, object]:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        if s.head(f"{base}/v2/{REPO}/blobs/{digest}", timeout=30).status_code != 200:
            loc = s.post(f"{base}/v2/{REPO}/blobs/uploads/", timeout=30).headers["Location"]
            url = loc if loc.startswith("http") else base + loc
            sep = "&" if "?" in url else "?"
            s.put(f"{url}{sep}digest={digest}", data=data, timeout=30).raise_for_status()
        return {"digest": digest, "size": len(data)}

    layer = blob(b"kfws bench layer" * 64)

    def one(tag: str) -> None:
        i = int(tag.split("-")[1], 16)
        config = json.dumps(
            {
                "architecture": "amd64",
                "os": "linux",
                "created": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T00:00:{i % 60:02d}Z",
                "config": {
                    "Labels": {
                        "dev.kfws.input-digest": "sha256:"
                        + hashlib.sha256(tag.encode()).hexdigest(),
                        "dev.kfws.image-name": "bench",
                    }
                },
                "rootfs": {"type": "layers", "diff_ids": []},
            }
        ).encode()
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": DOCKER_MANIFEST,
                "config": {
                    "mediaType": "application/vnd.docker.container.image.v1+json",
                    **blob(config),
                },
                "layers": [
                    {"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", **layer}
                ],
            }
        ).encode()
        s.put(
            f"{base}/v2/{REPO}/manifests/{tag}",
            data=manifest,
            headers={"Content-Type": DOCKER_MANIFEST},
            timeout=30,
        ).raise_for_status()

    print(f"seeding {len(missing)} tags in {host}/{REPO} …", flush=True)
    with ThreadPoolExecutor(max_workers=parallelism) as pool:
        list(pool.map(one, missing))


def floor(host: str, parallelism: int) -> int:
    """The bare minimum: the tag list, then a HEAD per tag."""
    s = requests.Session()
    s.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=parallelism))
    tags = s.get(f"http://{host}/v2/{REPO}/tags/list", timeout=30).json()["tags"]

    def head(tag: str) -> str:
        r = s.head(
            f"http://{host}/v2/{REPO}/manifests/{tag}",
            headers={"Accept": MANIFEST_ACCEPT},
            timeout=30,
        )
        return r.headers["Docker-Content-Digest"]

    with ThreadPoolExecutor(max_workers=parallelism) as pool:
        digests = list(pool.map(head, tags))
    s.close()
    return len(digests)


def reads(host: str, parallelism: int) -> int:
    """What prune must read with nothing remembered, from the floor's bare client: the tag
    list, then per tag the manifest and the config it names."""
    s = requests.Session()
    s.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=parallelism))
    tags = s.get(f"http://{host}/v2/{REPO}/tags/list", timeout=30).json()["tags"]

    def one(tag: str) -> object:
        manifest = s.get(
            f"http://{host}/v2/{REPO}/manifests/{tag}",
            headers={"Accept": MANIFEST_ACCEPT},
            timeout=30,
        ).json()
        digest = manifest["config"]["digest"]
        return s.get(f"http://{host}/v2/{REPO}/blobs/{digest}", timeout=30).json()["config"]

    with ThreadPoolExecutor(max_workers=parallelism) as pool:
        configs = list(pool.map(one, tags))
    s.close()
    return len(configs)


def prune(host: str, parallelism: int, cache: Path) -> int:
    """What kfws prune does on the registry side, then its decision."""
    with RegistryClient(
        lambda h: RegistryOptions(h, insecure=True), config_cache=ConfigCache(cache)
    ) as client:
        facts = tag_facts(client, [f"{host}/{REPO}"], parallelism)
    tags = [
        TagInfo(r, t, f.digest, f.labels, f.created, f.size, f.blobs) for (r, t), f in facts.items()
    ]
    plan = decide(tags, keep=3, offered=(), notebooks=(), backups=())
    assert len(plan.deleted_tags) == len(tags) - 3
    return len(tags)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tags", type=int, default=2000)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--parallelism", type=int, default=8)
    args = p.parse_args()
    host = os.environ.get("KFWS_TEST_REGISTRY")
    if not host:
        print("KFWS_TEST_REGISTRY is not set: run `make env-up` and source .kfws-env/env.sh")
        return 1
    seed(host, args.tags, args.parallelism)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="kfws-bench-") as tmp:
        warm_cache = Path(tmp) / "warm.json"
        prune(host, args.parallelism, warm_cache)  # untimed: fills the warm cache
        cold = iter(Path(tmp) / f"cold-{i}.json" for i in range(args.runs))
        contenders: dict[str, Callable[[str, int], int]] = {
            "floor": floor,
            "reads": reads,
            "cold": lambda h, p: prune(h, p, next(cold)),
            "warm": lambda h, p: prune(h, p, warm_cache),
        }
        times: dict[str, list[float]] = {name: [] for name in contenders}
        for _ in range(args.runs):
            for name, fn in contenders.items():
                t0 = time.perf_counter()
                n = fn(host, args.parallelism)
                times[name].append(time.perf_counter() - t0)
                assert n >= args.tags, (name, n)
    m = {name: statistics.median(t) for name, t in times.items()}
    print(
        f"tags in {host}/{REPO}: {args.tags}, parallelism {args.parallelism}, "
        f"medians of {args.runs} interleaved runs, load average {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after"
    )
    print(f"  floor (tag list + a HEAD per tag, bare client): {m['floor']:.3f} s")
    print(f"  reads (tag list + manifest and config GET per tag, bare client): {m['reads']:.3f} s")
    print(f"  kfws prune, cold cache (listing, manifests, configs, decision): {m['cold']:.3f} s")
    print(f"  kfws prune, warm cache (listing, manifests, decision): {m['warm']:.3f} s")
    print(f"  ratio reads/floor: {m['reads'] / m['floor']:.2f}x (what prune must read cold)")
    print(f"  ratio cold/floor: {m['cold'] / m['floor']:.2f}x (goal <= 3x)")
    print(f"  ratio cold/reads: {m['cold'] / m['reads']:.2f}x (kfws's own cost)")
    print(f"  ratio warm/floor: {m['warm'] / m['floor']:.2f}x (goal <= 3x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
