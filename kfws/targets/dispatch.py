"""Dispatch through the target table (kfws.targets.all_targets) for the code that must not name
a target: every change kind a plan can hold, the target of a change, and the questions generic
code asks of whatever targets were observed."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from kfws.errors import KfwsError
from kfws.observe.model import Observed
from kfws.plan.model import Change, ChangeKind, ClusterKind, Kind
from kfws.targets.all_targets import TARGETS
from kfws.targets.base import ChangeView, Offer, Target

if TYPE_CHECKING:
    from kfws.spec.model import Spec
    from kfws.usage.model import EntryUsage


def all_kinds() -> tuple[Kind, ...]:
    """The image kinds, then each target's kinds in table order: the order a plan's summary
    counts them in."""
    return (*ChangeKind, *(k for t in TARGETS.values() for k in t.KINDS))


def kind_named(value: str) -> Kind | None:
    """The kind a plan file names by its value; None when no image kind or target has it."""
    return next((k for k in all_kinds() if k.value == value), None)


def target_of(kind: ClusterKind) -> Target:
    return TARGETS[kind.target]


def view(
    change: Change, code: Callable[[str], str] = str, text: Callable[[str], str] = str
) -> ChangeView | None:
    """How a cluster change is shown (None for an image change). `code` and `text` quote a
    reference and escape a note for the output format (default: as they are)."""
    if not isinstance(change.kind, ClusterKind):
        return None
    return target_of(change.kind).view(change, code, text)


def offered_images(observed: Observed) -> tuple[str, ...]:
    """Every image reference the observed targets offer now, in table order (for sizes, usage
    and prune)."""
    refs: list[str] = []
    for name, state in observed.targets.items():
        try:
            refs.extend(TARGETS[name].offered_images(state))
        except KfwsError:
            continue  # its planner reports what can't be read
    return tuple(dict.fromkeys(refs))


def last_writer(observed: Observed) -> str | None:
    """Who last wrote an observed target's object (the first that says), for stale plans."""
    for name, state in observed.targets.items():
        writer = TARGETS[name].last_writer(state)
        if writer:
            return writer
    return None


def declared_offers(spec: Spec) -> tuple[Offer, ...]:
    """Every image the workspace file offers users, target by target in table order."""
    return tuple(o for target in TARGETS.values() for o in target.declared_offers(spec))


def usage_counts(states: Mapping[str, Any]) -> tuple[EntryUsage, ...]:
    """The users each observed target counts per entry (target name -> its state), in table
    order."""
    return tuple(e for name, state in states.items() for e in TARGETS[name].usage_counts(state))


def backup_subject(text: str) -> str | None:
    """What a kept backup text is a backup of, as the first target that knows its kind of
    backup says it; None when none does."""
    return next((s for t in TARGETS.values() if (s := t.backup_subject(text))), None)
