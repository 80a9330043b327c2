"""Arguments and steps shared by the commands that plan or apply."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kfws.spec.model import Spec

DEFAULT_WORKSPACE = "workspace.yaml"


def add_file_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-f", "--file", default=DEFAULT_WORKSPACE, help="the workspace file (default: %(default)s)"
    )


def add_target_args(
    parser: argparse.ArgumentParser, *, parallel: str = "registry lookups at once"
) -> None:
    """--context, --namespace and --parallelism; `parallel` says what runs in parallel in this
    command (only apply builds and pushes)."""
    parser.add_argument(
        "--context", help="kubeconfig context (default: the workspace's, else current)"
    )
    parser.add_argument(
        "--namespace",
        help="the Kubeflow namespace, instead of the workspace's cluster.namespace",
    )
    parser.add_argument(
        "--parallelism",
        type=_positive_int,
        default=_default_parallelism(),
        help=f"{parallel} (default: %(default)s; $KFWS_PARALLELISM sets it)",
    )


def _default_parallelism() -> int:
    try:
        return _positive_int(os.environ.get("KFWS_PARALLELISM", "8"))
    except argparse.ArgumentTypeError:
        return 8  # a bad environment value must not crash --help; the flag still checks


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= value <= 256:
        raise argparse.ArgumentTypeError(f"must be between 1 and 256, not {value}")
    return value


def add_offline_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--offline",
        action="store_true",
        help="look up no spawner option kfws does not build (they are reported as not checked); "
        "images kfws builds are still looked up in their registry",
    )


def add_write_args(parser: argparse.ArgumentParser) -> None:
    """The knobs of every command that writes to the cluster (apply, rollback)."""
    parser.add_argument(
        "--lock-timeout", type=float, default=60.0, help="seconds to wait for the apply lock"
    )
    parser.add_argument(
        "--rollout-timeout", type=float, default=300.0, help="seconds to wait for the web app"
    )
    parser.add_argument(
        "--allow-gitops-owned",
        action="store_true",
        help="write even though Argo CD or Flux manages the ConfigMap (its next sync reverts it)",
    )


def add_format_arg(parser: argparse.ArgumentParser, choices: tuple[str, ...]) -> None:
    parser.add_argument(
        "--format", choices=choices, default=choices[0], help="output format (default: %(default)s)"
    )


def load(path: str | Path, *, namespace: str | None = None) -> Spec:
    """The workspace file, with `--namespace` (if given) in place of its cluster.namespace."""
    import dataclasses

    from kfws.spec.load import load_spec

    spec = load_spec(Path(path))
    if namespace:
        spec = dataclasses.replace(
            spec, cluster=dataclasses.replace(spec.cluster, namespace=namespace)
        )
    return spec
