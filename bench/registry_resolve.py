"""Benchmark: RegistryClient.resolve over N tags, sequential vs resolve_many at parallelism 8 / 16,
and the floor: the same N manifest HEADs from a bare concurrent client (requests + threads).

1. Seeds N tags (default 500) in `kfws-bench/resolve` of the open registry (and, with --auth, of
   the TLS + basic-auth registry): the environment's base image manifest is put under each tag
   through the registry API, its blobs mounted from the base repository. Tags already there are
   reused.
2. Times each mode --runs times (interleaved, a fresh client per run, so every run pays its own
   connection set-up and auth challenge) and prints the medians and the ratios.

Needs the local environment: `make env-up && source .kfws-env/env.sh && .venv/bin/python
bench/registry_resolve.py`. Ratios, not absolute times: the machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

from kfws.observe.registry import MANIFEST_ACCEPT, RegistryClient
from kfws.spec.model import RegistryOptions

REPO = "kfws-bench/resolve"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


class Target:
    def __init__(self, host: str, *, tls: bool) -> None:
        self.host = host
        self.tls = tls
        self.ca = os.environ["KFWS_TEST_CA_FILE"] if tls else None
        self.scheme = "https" if tls else "http"
        self.auth: tuple[str, str] | None = None
        if tls:
            config = Path(os.environ["DOCKER_CONFIG"]) / "config.json"
            raw = base64.b64decode(json.loads(config.read_text())["auths"][host]["auth"]).decode()
            user, _, password = raw.partition(":")
            self.auth = (user, password)

    def options(self, host: str) -> RegistryOptions:
        if host == self.host and self.tls:
            return RegistryOptions(host, ca_file=Path(str(self.ca)))
        return RegistryOptions(host, insecure=True)

    def session(self, pool: int) -> requests.Session:
        s = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_maxsize=pool)
        s.mount("http://", adapter)
        s.mount("https://", adapter)
        s.auth = self.auth
        s.trust_env = False  # else REQUESTS_CA_BUNDLE would replace the CA file below
        s.verify = self.ca or True
        return s


def seed(t: Target, base: str, n: int) -> list[tuple[str, str]]:
    tags = [f"t{i:05d}" for i in range(n)]
    items = [(f"{t.host}/{REPO}", tag) for tag in tags]
    s = t.session(16)
    url = f"{t.scheme}://{t.host}/v2"
    last = s.head(f"{url}/{REPO}/manifests/{tags[-1]}", headers={"Accept": DOCKER_MANIFEST})
    if last.status_code == 200:
        return items
    base_repo, base_tag = base.split("/", 1)[1].rsplit(":", 1)
    r = s.get(f"{url}/{base_repo}/manifests/{base_tag}", headers={"Accept": DOCKER_MANIFEST})
    r.raise_for_status()
    manifest = r.content
    doc = json.loads(manifest)
    for digest in [doc["config"]["digest"], *(layer["digest"] for layer in doc["layers"])]:
        m = s.post(f"{url}/{REPO}/blobs/uploads/", params={"mount": digest, "from": base_repo})
        if m.status_code != 201:
            sys.exit(f"cannot mount {digest} into {t.host}/{REPO}: {m.status_code}")

    def put(tag: str) -> None:
        p = s.put(
            f"{url}/{REPO}/manifests/{tag}",
            data=manifest,
            headers={"Content-Type": DOCKER_MANIFEST},
        )
        if p.status_code != 201:
            raise RuntimeError(f"PUT {tag}: {p.status_code}")

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(put, tags))
    return items


def floor(t: Target, items: list[tuple[str, str]], parallelism: int) -> None:
    s = t.session(parallelism)

    def head(item: tuple[str, str]) -> None:
        repo, tag = item
        name = repo.split("/", 1)[1]
        r = s.head(
            f"{t.scheme}://{t.host}/v2/{name}/manifests/{tag}",
            headers={"Accept": MANIFEST_ACCEPT},
            timeout=10,
        )
        assert r.status_code == 200

    with ThreadPoolExecutor(parallelism) as pool:
        list(pool.map(head, items))


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench(t: Target, items: list[tuple[str, str]], runs: int) -> dict[str, float]:
    def sequential() -> None:
        client = RegistryClient(t.options)
        found = [client.resolve(*item) for item in items]
        assert all(found)

    def parallel(p: int) -> Callable[[], None]:
        def run() -> None:
            found = RegistryClient(t.options).resolve_many(items, parallelism=p)
            assert all(found.values())

        return run

    modes: dict[str, Callable[[], None]] = {
        "sequential": sequential,
        "parallelism 8": parallel(8),
        "parallelism 16": parallel(16),
        "bare HEADs, 16 threads": lambda: floor(t, items, 16),
    }
    times: dict[str, list[float]] = {name: [] for name in modes}
    for _ in range(runs):
        for name, fn in modes.items():
            times[name].append(timed(fn))
    return {name: statistics.median(v) for name, v in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=500, help="tags to resolve (default 500)")
    parser.add_argument("--runs", type=int, default=3, help="runs per mode; medians (default 3)")
    parser.add_argument("--auth", action="store_true", help="also the TLS + basic-auth registry")
    args = parser.parse_args()
    base = os.environ["KFWS_TEST_BASE_IMAGE"]
    targets = [Target(os.environ["KFWS_TEST_REGISTRY"], tls=False)]
    if args.auth:
        auth_host = os.environ["KFWS_TEST_REGISTRY_AUTH"]
        targets.append(Target(auth_host, tls=True))
        base = base.replace(targets[0].host, auth_host, 1)
    for t in targets:
        items = seed(t, base if t.tls else os.environ["KFWS_TEST_BASE_IMAGE"], args.n)
        medians = bench(t, items, args.runs)
        kind = "TLS + basic auth" if t.tls else "plain HTTP, no auth"
        print(f"\n{t.host} ({kind}): {args.n} tags, median of {args.runs} runs")
        seq = medians["sequential"]
        for name, secs in medians.items():
            print(f"  {name:<24} {secs:7.3f} s   sequential / this = {seq / secs:5.2f}x")
        floor_16 = medians["bare HEADs, 16 threads"]
        print(f"  kfws at 16 / bare floor at 16 = {medians['parallelism 16'] / floor_16:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
