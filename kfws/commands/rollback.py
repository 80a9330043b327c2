"""kfws rollback: restore the spawner config kept before the last kfws write (same safe path)."""

from __future__ import annotations

import argparse
from typing import Any

from kfws import output
from kfws.commands.cluster_args import add_cluster_args, cluster_spec
from kfws.commands.common import add_write_args


def register(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "rollback", help="restore the spawner config as it was before the last kfws apply"
    )
    add_cluster_args(p)
    add_write_args(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from kfws.apply.spawner import rollback

    for line in rollback(
        cluster_spec(args),
        context=args.context,
        lock_timeout=args.lock_timeout,
        rollout_timeout=args.rollout_timeout,
        allow_gitops_owned=args.allow_gitops_owned,
    ):
        output.out(line)
    return 0
