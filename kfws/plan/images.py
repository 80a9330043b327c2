"""The images half of the planner (pure): for each managed image, build / rebuild / push / none.

- tag missing in the registry: `push` when the engine already holds the image built from the same
  inputs, else `build`;
- tag present: a content-addressed tag (kfws1-…) names its inputs, so present means done; an
  explicit tag is compared through the input-digest label of what the registry holds, and a
  mismatch is `rebuild` — or an error when the registry is marked immutable.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from kfws.errors import PlanError
from kfws.observe.model import BuildInputs, ImageState, Observed
from kfws.plan.model import PENDING_DIGEST, Change, ChangeKind, Observation
from kfws.spec import graph
from kfws.spec.model import ImageSpec, PinMode, Spec


@dataclass(frozen=True)
class ImagesPlanPart:
    changes: tuple[Change, ...]
    observations: tuple[Observation, ...]
    refs_by_tag: Mapping[str, str]  # managed name -> "host/repo:tag"
    refs_by_digest: Mapping[str, str]  # managed name -> "host/repo@sha256:…" (or pending)


def plan_images(spec: Spec, observed: Observed) -> ImagesPlanPart:
    changes: list[Change] = []
    observations: list[Observation] = []
    by_tag: dict[str, str] = {}
    by_digest: dict[str, str] = {}
    applied = observed.applied_digests
    for image in spec.images:
        inputs = observed.inputs[image.name]
        state = observed.images[image.name]
        observations.append(Observation(f"inputs:{image.name}", inputs.input_digest))
        observations.append(Observation(f"registry:{state.reference}", state.registry_digest))
        change = _image_change(spec, image, inputs, state, applied.get(state.reference))
        if change is not None:
            changes.append(change)
        by_tag[image.name] = state.reference
        digest = state.registry_digest if change is None else PENDING_DIGEST
        by_digest[image.name] = f"{image.repository}@{digest}"
    return ImagesPlanPart(
        tuple(_after_bases(spec, changes)), tuple(observations), by_tag, by_digest
    )


def _after_bases(spec: Spec, changes: list[Change]) -> list[Change]:
    """An image built on a managed image this plan also changes waits for it (apply builds the
    graph in dependency order): its reason says so."""
    deps = graph.dependencies(spec.images)
    changed = {str(c.details["name"]) for c in changes}
    out: list[Change] = []
    for change in changes:
        name = str(change.details["name"])
        first = [b for b in sorted(graph.closure(deps, deps.get(name, ()))) if b in changed]
        if first and change.kind is not ChangeKind.PUSH_IMAGE:
            reason = f"{change.reason}; built after {', '.join(first)} (changed by this plan too)"
            change = dataclasses.replace(change, reason=reason)
        out.append(change)
    return out


def _image_change(
    spec: Spec,
    image: ImageSpec,
    inputs: BuildInputs,
    state: ImageState,
    applied_digest: str | None = None,
) -> Change | None:
    details = {
        "name": image.name,
        "repository": image.repository,
        "tag": inputs.tag,
        "input_digest": inputs.input_digest,
        "generated": image.generated is not None,
    }
    if state.registry_digest is None:
        if state.engine_image_id is not None:
            return Change(
                kind=ChangeKind.PUSH_IMAGE,
                target=state.reference,
                reason="the engine already holds this image built from the same inputs; "
                "the registry does not have the tag",
                before=None,
                after=inputs.input_digest,
                details=details,
            )
        return Change(
            kind=ChangeKind.BUILD_IMAGE,
            target=state.reference,
            reason="the tag is not in the registry",
            before=None,
            after=inputs.input_digest,
            details=details,
        )
    if image.tag is None or state.registry_input_digest == inputs.input_digest:
        return None  # content tags name their inputs; a matching label means the same build
    found = (
        f"built from inputs {_short(state.registry_input_digest)}"
        if state.registry_input_digest
        else "not built by kfws (no input-digest label)"
    )
    if spec.registry_options(image.registry_host).immutable:
        raise PlanError(
            f"{state.reference} exists ({found}) but workspace.yaml now describes other inputs "
            f"({_short(inputs.input_digest)}), and {image.registry_host} is marked immutable",
            where=image.location,
            hint="give the image a new `tag` (or drop `tag` to use content-addressed tags)",
        )
    return Change(
        kind=ChangeKind.REBUILD_IMAGE,
        target=state.reference,
        reason=_rebuild_reason(state, inputs, applied_digest),
        before=state.registry_digest,
        after=inputs.input_digest,
        details=details,
    )


def _rebuild_reason(state: ImageState, inputs: BuildInputs, applied_digest: str | None) -> str:
    """Why an explicit tag is rebuilt, as a reviewer needs it: someone overwrote the tag kfws
    pushed (the spawner record says what it was), or the workspace now describes other inputs."""
    if applied_digest and applied_digest != state.registry_digest:
        by = (
            "with an image kfws did not build"
            if not state.registry_input_digest
            else f"with a build of other inputs ({_short(state.registry_input_digest)})"
        )
        return (
            f"the tag was overwritten since kfws applied it ({_short(applied_digest)} then, "
            f"{_short(state.registry_digest)} now) {by}: rebuild and re-push what "
            "workspace.yaml describes"
        )
    if not state.registry_input_digest:
        return (
            "the tag holds an image kfws did not build (no dev.kfws.input-digest label): it was "
            "pushed or overwritten by hand; rebuild and re-push what workspace.yaml describes"
        )
    return (
        f"workspace.yaml changed the image's inputs: the tag was built from inputs "
        f"{_short(state.registry_input_digest)}, they are now {_short(inputs.input_digest)}"
    )


def _short(digest: str | None) -> str:
    return (digest or "none").removeprefix("sha256:")[:12]


def spawner_refs(spec: Spec, part: ImagesPlanPart) -> dict[str, dict[str, str]]:
    """Per spawner group, managed name -> the reference that group writes (tag or digest)."""
    return {
        group.key: dict(part.refs_by_digest if group.pin is PinMode.DIGEST else part.refs_by_tag)
        for group in spec.spawner.groups
    }
