"""What the cluster offers users right now (reads only): the images of every cluster target
(kfws.targets.all_targets), whether or not the workspace manages it.

The one place usage and prune ask "is this image offered?"."""

from __future__ import annotations

from kfws.output import Reporter
from kfws.spec.model import Spec


def offered_now(spec: Spec, *, context: str | None, reporter: Reporter) -> tuple[str, ...]:
    """The image references offered now, as written there, in table order. Raises
    ClusterError when a target can't be read (prune must then not guess)."""
    from kfws.targets.all_targets import TARGETS

    refs: list[str] = []
    for target in TARGETS.values():
        state = target.observe(spec, context=context, reporter=reporter, undeclared=True)
        if state is not None:
            refs.extend(target.offered_images(state))
    return tuple(dict.fromkeys(refs))
