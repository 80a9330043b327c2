"""The commands table: name -> (module, one-line help), in the order `kfws --help` lists them.
Each module has `register(parser)`, which adds its arguments (and description) to the parser
kfws.cli made for it and sets `run=` to a function `(argparse.Namespace) -> int` returning the
exit code.

The modules are imported by name, only when needed: a run imports the one command it runs (a
plan does not load apply's contract check, rollback, import...), while `kfws --help` lists every
command from this table alone."""

from __future__ import annotations

import argparse
import importlib
from typing import NamedTuple, Protocol, cast


class Command(Protocol):
    def register(self, p: argparse.ArgumentParser) -> None: ...


class Entry(NamedTuple):
    module: str  # under kfws.commands
    help: str


COMMANDS: dict[str, Entry] = {
    "validate": Entry("validate", "check workspace.yaml (no network)"),
    "plan": Entry("plan", "show what apply would change (reads only)"),
    "apply": Entry("apply", "build, push and update the spawner (a saved plan, or plan now)"),
    "show": Entry("show", "render a saved plan, warning when it is stale or altered"),
    "drift": Entry("drift", "check the cluster and registry against what was applied"),
    "init": Entry("init", "write a commented starter workspace.yaml"),
    "schema": Entry("schema", "print the JSON Schema of workspace.yaml"),
    "dockerfile": Entry("dockerfile", "print the Dockerfile of a managed image"),
    "import": Entry(
        "import_",
        "write a cluster target's live image lists into the workspace file (the spawner's "
        "into `spawner`, WorkspaceKinds' into `workspaceKinds` with --target)",
    ),
    "rollback": Entry(
        "rollback", "restore what kfws kept before a write (--list shows the backups)"
    ),
    "unlock": Entry("unlock", "release the cluster apply lock left by a killed kfws"),
    "check": Entry(
        "check", "run images as Kubeflow would and check they work there (the contract)"
    ),
    "rbac": Entry(
        "rbac", "print the least-privilege Roles: writer (apply) and read-only (plan, drift)"
    ),
    "usage": Entry("usage", "which notebooks use each offered or kfws-built image (reads only)"),
    "prune": Entry(
        "prune", "delete kfws-built tags nobody uses, beyond the newest N (dry run unless --yes)"
    ),
}


def command(name: str) -> Command:
    """The module of command `name` (imported now)."""
    return cast(Command, importlib.import_module(f"kfws.commands.{COMMANDS[name].module}"))
