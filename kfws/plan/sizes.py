"""Sizes in the plan (pure): how big each image the plan builds or offers is, and the change
against the image it replaces where a cluster target offers it, so a reviewer sees a 2 GB
surprise before every user's node pulls it.

A size entry (JSON-able, in a change's details): {"bytes": int | None, "source": "registry"
(compressed: config + layers, what a node pulls) | "engine" (uncompressed: a local build not yet
pushed) | "pending" (known after build) | "unknown", "replaces": the live option of the same
repository or None, "replacesBytes": its compressed size or None}. Image changes get one as
`details["size"]`; a cluster change offering images (its view's `offers`) gets `details["sizes"]`,
one per image it adds or replaces, with "image" naming it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from kfws.observe.model import Observed
from kfws.plan.model import PENDING_DIGEST, Change, ChangeKind
from kfws.plan.why import why_rebuilt
from kfws.reference import repository
from kfws.targets.dispatch import offered_images, view


def with_sizes(changes: list[Change], observed: Observed) -> list[Change]:
    """The changes, image and spawner changes carrying their size entries."""
    pending = {c.target: c for c in changes if c.kind.is_image}
    live = list(offered_images(observed))
    out: list[Change] = []
    for change in changes:
        if change.kind.is_image:
            old = _replaced(change.target, live)
            if change.kind is ChangeKind.REBUILD_IMAGE:
                old = change.target  # the tag's current image is the one replaced
            entry = {**_new_size(change.target, observed, pending), **_old_size(old, observed)}
            out.append(_add(change, size=entry, **_why(change, observed)))
        elif (shown := view(change)) is not None and shown.offers:
            rows = [
                {"image": new, **_new_size(new, observed, pending), **_old_size(old, observed)}
                for new, old in shown.offers
            ]
            out.append(_add(change, sizes=rows))
        else:
            out.append(change)
    return out


def _why(change: Change, observed: Observed) -> dict[str, list[str]]:
    name = str(change.details.get("name"))
    inputs, previous = observed.inputs.get(name), observed.previous_inputs.get(name)
    if inputs is None or change.kind is ChangeKind.PUSH_IMAGE:
        return {}
    # what it is compared with (the last image kfws built for the name), a search cut short
    why = list(observed.previous_notes.get(name, ()))
    if previous is not None:
        why += why_rebuilt(inputs.manifest, *previous)
    return {"why": why} if why else {}


def _add(change: Change, **extra: Any) -> Change:
    return dataclasses.replace(change, details={**change.details, **extra})


def _replaced(ref: str, live: list[str]) -> str | None:
    return next((o for o in live if repository(o) == repository(ref) and o != ref), None)


def _new_size(
    ref: str, observed: Observed, pending: Mapping[str, Change]
) -> dict[str, int | str | None]:
    target = _managed_target(ref, observed) or ref
    change = pending.get(target)
    if change is not None and change.kind is not ChangeKind.PUSH_IMAGE:
        return {"bytes": None, "source": "pending"}  # (re)built: known after the build
    known = observed.sizes.get(ref) or observed.sizes.get(target)
    if known is None or known.size is None:
        return {"bytes": None, "source": "unknown"}
    return {"bytes": known.size, "source": known.source}


def _old_size(ref: str | None, observed: Observed) -> dict[str, int | str | None]:
    known = observed.sizes.get(ref) if ref else None
    bytes_ = known.size if known is not None and known.source == "registry" else None
    return {"replaces": ref, "replacesBytes": bytes_}


def _managed_target(ref: str, observed: Observed) -> str | None:
    """The managed image's tag reference for an option naming it by tag or by (pending)
    digest; None for an image kfws does not build."""
    for state in observed.images.values():
        repo = repository(state.reference)
        if ref == state.reference or ref in (
            f"{repo}@{PENDING_DIGEST}",
            f"{repo}@{state.registry_digest}",
        ):
            return state.reference
    return None
