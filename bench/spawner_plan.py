"""Benchmark: reading and planning the spawner config, against one bare PyYAML compose of the
same text (the floor: kfws needs the pure-Python parser's character positions to splice), all
measured in this run (median of --runs each, interleaved), so the ratios hold on a noisy machine.
Two texts: Kubeflow 1.10's config as seeded here (~10 KiB) and one padded to the 256 KiB kfws
reads at most. No environment needed. Usage: .venv/bin/python bench/spawner_plan.py
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from kfws.spec.model import ClusterSpec, OptionsMode, SpawnerGroup, SpawnerSpec, Spec
from kfws.targets.spawner.config_yaml import MAX_TEXT, _locate, read_spawner
from kfws.targets.spawner.plan import plan_spawner
from kfws.targets.spawner.state import SpawnerState

REPO = Path(__file__).resolve().parents[1]
SEED = (REPO / "hack" / "k8s" / "seed" / "spawner_ui_config-kf1.10.yaml").read_text()


def padded(limit: int) -> str:
    out, i = [SEED], 0
    size = len(SEED)
    while True:
        chunk = f"  extra{i}:\n    # padding\n    value: '{i}'\n    readOnly: false\n"
        if size + len(chunk) > limit:
            return "".join(out)
        out.append(chunk)
        size += len(chunk)
        i += 1


def cluster(text: str) -> SpawnerState:
    return SpawnerState("kubeflow", "web", 1, {}, "cm", "1", "spawner_ui_config.yaml", text)


def timed(fn: Callable[[], object]) -> float:
    _locate.cache_clear()  # a cold parse each time: what one `kfws plan` does
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    group = SpawnerGroup("image", None, ("a.io/x:1",), mode=OptionsMode.MERGE)
    ws = Spec(REPO / "w.yaml", "sha256:0", "a.io/t", {}, ClusterSpec(), (), SpawnerSpec((group,)))
    for name, text in (("Kubeflow 1.10 seed", SEED), ("padded to the cap", padded(MAX_TEXT))):
        floor, read, plan = [], [], []
        for _ in range(args.runs):
            floor.append(timed(lambda t=text: yaml.compose(t, Loader=yaml.SafeLoader)))
            read.append(timed(lambda t=text: read_spawner(t)))
            plan.append(timed(lambda t=text: plan_spawner(ws, {}, cluster(t))))
        f, r, p = (statistics.median(x) for x in (floor, read, plan))
        print(
            f"{name} ({len(text) / 1024:.0f} KiB): one compose {f * 1000:.1f} ms; "
            f"read_spawner {r * 1000:.1f} ms ({r / f:.2f}x); "
            f"plan (read, edit, verify, re-read) {p * 1000:.1f} ms ({p / f:.2f}x)"
        )


if __name__ == "__main__":
    main()
