"""`kfws rbac --workspacekinds [KIND...]`: the WorkspaceKind ClusterRoles (kfws.rbac renders
them), naming the kinds given, else the kinds the workspace file declares."""

from __future__ import annotations

import argparse
from pathlib import Path

from kfws import output
from kfws.errors import KfwsError


def print_rbac(args: argparse.Namespace) -> int:
    from kfws import rbac
    from kfws.commands.cluster_args import cluster_spec

    cluster = cluster_spec(args)
    kinds = tuple(args.workspacekinds)
    if not kinds and Path(args.file).exists():
        from kfws.commands.common import load

        kinds = tuple(k.name for k in load(args.file).workspace_kinds)
    if not kinds:
        raise KfwsError(
            "no WorkspaceKind to name: the workspace file declares none",
            where="kfws rbac --workspacekinds",
            hint="name them: `kfws rbac --workspacekinds jupyterlab codeserver`",
        )
    try:
        text = rbac.render_workspacekinds(kinds, namespace=cluster.namespace)
    except ValueError as e:
        raise KfwsError(
            str(e), where="kfws rbac", hint="pass the kinds' names as Kubernetes shows them"
        ) from None
    output.out(text, end="")
    return 0
