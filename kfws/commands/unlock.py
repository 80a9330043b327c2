"""kfws unlock: release the apply lock (the Lease) left by a kfws that is gone. Says whether
its holder is still renewing it, and asks before breaking a live lock."""

from __future__ import annotations

import argparse
import sys

from kfws import output
from kfws.commands.cluster_args import add_cluster_args, cluster_spec


def register(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Release the apply lock (Lease kfws-apply). A lock whose holder stopped renewing "
        "is released at once; one still being renewed belongs to a running apply, so kfws "
        "says so and asks first (--force or --auto-approve to skip the question). Exit "
        "codes: 0 released or no lock, 1 not released or error."
    )
    add_cluster_args(p)
    p.add_argument("--force", action="store_true", help="break the lock even if it is live")
    p.add_argument("--auto-approve", action="store_true", help="same as --force: don't ask")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from kfws.targets.lock import unlock

    def confirm(state: str) -> bool:
        output.err(state)
        if not sys.stdin.isatty():
            return False
        output.err("Break this live lock? Only 'yes' is accepted: ", end="")
        return sys.stdin.readline().strip() == "yes"

    output.out(
        unlock(
            cluster_spec(args),
            context=args.context,
            force=args.force or args.auto_approve,
            confirm=confirm,
        )
    )
    return 0
