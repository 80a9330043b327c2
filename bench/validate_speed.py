"""Benchmark: `kfws validate` on the example workspace.yaml against `python -c pass`, both
measured in this run (median of --runs each, interleaved), so the ratio holds on a noisy
machine. Goal: validate under 0.25 s wall. Usage: .venv/bin/python bench/validate_speed.py
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
KFWS = str(Path(sys.executable).with_name("kfws"))


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    validate, floor, help_ = [], [], []
    for _ in range(args.runs):
        validate.append(timed([KFWS, "validate", "-f", "workspace.yaml"]))
        help_.append(timed([KFWS, "--help"]))
        floor.append(timed([sys.executable, "-c", "pass"]))
    v, h, f = (statistics.median(x) for x in (validate, help_, floor))
    print(f"runs={args.runs} (medians)")
    print(f"  python -c pass          {f * 1000:7.1f} ms")
    print(f"  kfws --help             {h * 1000:7.1f} ms  ({h / f:.1f}x python startup)")
    print(f"  kfws validate (example) {v * 1000:7.1f} ms  ({v / f:.1f}x python startup)")
    print(f"  goal: validate < 250 ms: {'met' if v < 0.25 else 'NOT met'}")


if __name__ == "__main__":
    main()
