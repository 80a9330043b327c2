"""Arguments of the commands that only talk to the cluster (rollback, unlock, import): the
workspace file gives `cluster:`; without one, `--namespace` (default kubeflow) and detection."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from kfws.commands.common import add_file_arg
from kfws.spec.model import ClusterSpec

if TYPE_CHECKING:
    from kfws.targets.base import Target


def add_cluster_args(parser: argparse.ArgumentParser) -> None:
    add_file_arg(parser)
    parser.add_argument(
        "--context", help="kubeconfig context (default: the workspace's, else current)"
    )
    parser.add_argument(
        "--namespace", help="where the Kubeflow web app runs (default: the workspace's, kubeflow)"
    )


def cluster_spec(args: argparse.Namespace, *, need_file: bool = False) -> ClusterSpec:
    spec = ClusterSpec()
    if need_file or Path(args.file).exists():
        from kfws.commands.common import load

        spec = load(args.file).cluster
    if args.namespace:
        spec = dataclasses.replace(spec, namespace=args.namespace)
    return spec


def add_target_arg(parser: argparse.ArgumentParser) -> None:
    """--target NAME: which cluster target (kfws.targets.all_targets) the command works on; the
    table loads only when the command runs."""
    parser.add_argument(
        "--target",
        metavar="NAME",
        help="the cluster target: spawner (Kubeflow 1.x's ConfigMap, the default) or "
        "workspacekind (Notebooks 2.0)",
    )


def target_named(args: argparse.Namespace) -> Target:
    from kfws.errors import KfwsError
    from kfws.targets.all_targets import TARGETS

    name = args.target or next(iter(TARGETS))
    if name not in TARGETS:
        raise KfwsError(
            f"there is no cluster target {name!r}",
            where="--target",
            hint=f"choose one of: {', '.join(TARGETS)}",
        )
    return TARGETS[name]
