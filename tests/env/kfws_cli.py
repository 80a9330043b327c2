"""Run kfws as a user does (a subprocess of the installed console script) and build throwaway
workspaces for it. Shared by the end-to-end tests under tests/env/."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import yaml

KFWS = str(Path(sys.executable).with_name("kfws"))


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def run_kfws(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 600
) -> Result:
    full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}
    proc = subprocess.run(
        [KFWS, *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert "Traceback" not in proc.stderr, proc.stderr  # users never see one
    return Result(proc.returncode, proc.stdout, proc.stderr)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def write_workspace(folder: Path, document: dict[str, object]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "workspace.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path
