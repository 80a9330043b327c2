"""The commands table. Each module has `register(subparsers)` which adds its parser and sets
`run=` to a function `(argparse.Namespace) -> int` returning the exit code."""

from __future__ import annotations

import argparse
from typing import Any, Protocol


class Command(Protocol):
    def register(self, sub: argparse._SubParsersAction[Any]) -> None: ...


from kfws.commands import (  # noqa: E402
    apply,
    check,
    dockerfile,
    drift,
    import_,
    init,
    plan,
    prune,
    rbac,
    rollback,
    schema,
    show,
    unlock,
    usage,
    validate,
)

COMMANDS: list[Command] = [validate, plan, apply, show, drift, init, schema, dockerfile]
COMMANDS += [import_, rollback, unlock, check, rbac]
COMMANDS += [usage, prune]
