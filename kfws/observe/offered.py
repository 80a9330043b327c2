"""What the cluster offers users right now (reads only): the images of every cluster target
(kfws.targets.all_targets), whether or not the workspace manages it, and the users the targets
count per entry themselves (WorkspaceKind values).

The one place usage and prune ask "is this image offered?"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kfws.errors import ClusterError
from kfws.output import Reporter
from kfws.spec.model import Spec
from kfws.usage.model import EntryUsage


@dataclass(frozen=True)
class Offered:
    """`images`: the references offered, as written there, in table order; `entries`: the
    targets' own user counts per entry; `unseen`: what could not be read, and why (only when
    asked to go on past a target that can't be read)."""

    images: tuple[str, ...] = ()
    entries: tuple[EntryUsage, ...] = ()
    unseen: tuple[str, ...] = ()


def offered_now(spec: Spec, *, context: str | None, reporter: Reporter) -> tuple[str, ...]:
    """The image references offered now. Raises ClusterError when a target can't be read
    (prune must then not guess)."""
    return observe_offered(spec, context=context, reporter=reporter, strict=True).images


def observe_offered(
    spec: Spec, *, context: str | None, reporter: Reporter, strict: bool = False
) -> Offered:
    """Every target's offer and counts. A target that can't be read raises ClusterError when
    `strict`; else it is named in `unseen` and the other targets still answer (usage)."""
    from kfws.targets.all_targets import TARGETS
    from kfws.targets.dispatch import usage_counts

    refs: list[str] = []
    states: dict[str, Any] = {}
    unseen: list[str] = []
    for name, target in TARGETS.items():
        try:
            state = target.observe(spec, context=context, reporter=reporter, undeclared=True)
            if state is not None:
                refs.extend(target.offered_images(state))
                states[name] = state
        except ClusterError as e:
            if strict:
                raise
            hint = f"; {e.hint}" if e.hint else ""
            unseen.append(f"what the cluster offers: {e.message}{hint}")
    return Offered(tuple(dict.fromkeys(refs)), usage_counts(states), tuple(unseen))
