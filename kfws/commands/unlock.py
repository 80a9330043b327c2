"""kfws unlock: release the apply lock (the Lease) left by a kfws that is gone."""

from __future__ import annotations

import argparse
from typing import Any

from kfws import output
from kfws.commands.cluster_args import add_cluster_args, cluster_spec


def register(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser("unlock", help="release the cluster apply lock left by a killed kfws")
    add_cluster_args(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from kfws.apply.spawner import unlock

    output.out(unlock(cluster_spec(args), context=args.context))
    return 0
