"""How many Workspaces use each image value (pure): the counts the controller writes to a kind's
status.podTemplateOptions.imageConfig[] (read by state.py), as `kfws usage` reports them."""

from __future__ import annotations

from collections.abc import Iterable

from kfws.targets.workspacekind.model import KindState
from kfws.usage.model import EntryUsage


def entries(kinds: Iterable[KindState]) -> tuple[EntryUsage, ...]:
    """Every value of each kind, in the kind's own order (a value the status does not list
    counts 0, as the planner counts it)."""
    return tuple(
        EntryUsage(
            kind="WorkspaceKind",
            owner=k.name,
            noun="value",
            id=v.value.id,
            image=v.value.image,
            users=v.usage,
            users_noun="workspace",
            hidden=v.value.hidden,
            redirect=v.value.redirect.to if v.value.redirect else None,
            default=v.value.id == k.default,
        )
        for k in kinds
        for v in k.values
    )
