"""The WorkspaceKind target's change kind: one per kind whose values kfws changes."""

from __future__ import annotations

from kfws.plan.model import ClusterKind

NAME = "workspacekind"  # its name in kfws.targets.all_targets
# server-side apply of the values kfws manages in one WorkspaceKind (no restart: the
# Notebooks 2.0 backend reads the kind live)
UPDATE = ClusterKind(
    "update-workspacekind", NAME, symbol="~", colour="yellow", summary="WorkspaceKind to change"
)
KINDS: tuple[ClusterKind, ...] = (UPDATE,)
