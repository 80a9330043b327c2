"""`kfws rbac --workspacekinds [KIND...]`: the WorkspaceKind ClusterRoles (kfws.rbac renders
them), naming the kinds given, else the kinds the workspace file declares. Returns the YAML:
the command prints it (only the CLI writes to the terminal)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from kfws.errors import KfwsError


def roles(kinds: Sequence[str], *, file: str, namespace: str) -> str:
    from kfws import rbac

    named = tuple(kinds)
    if not named and Path(file).exists():
        from kfws.spec.load import load_spec  # a target never reaches up into the commands

        named = tuple(k.name for k in load_spec(Path(file)).workspace_kinds)
    if not named:
        raise KfwsError(
            "no WorkspaceKind to name: the workspace file declares none",
            where="kfws rbac --workspacekinds",
            hint="name them: `kfws rbac --workspacekinds jupyterlab codeserver`",
        )
    try:
        return rbac.render_workspacekinds(named, namespace=namespace)
    except ValueError as e:
        raise KfwsError(
            str(e), where="kfws rbac", hint="pass the kinds' names as Kubernetes shows them"
        ) from None
