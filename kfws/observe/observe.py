"""observe(): everything kfws needs to know of the world, in one immutable Observed.

Order matters only for cost: build inputs first (disk, plus base image digests), then one batch
of manifest lookups at bounded parallelism, then labels only where an explicit tag must be
compared, then the engine only for images the registry lacks, then the cluster, then one batch
of manifest GETs for the sizes a plan shows (registry failures there only make a size unknown).
"""

from __future__ import annotations

import os
from contextlib import suppress
from typing import TYPE_CHECKING, Any, cast

from kfws.build.choose import buildkit_hosts, engine_for
from kfws.errors import EngineError, KfwsError, RegistryError
from kfws.images.digest import INPUTS_LABEL
from kfws.observe.inputs import check_build_args, read_all_inputs
from kfws.observe.model import (
    BuildInputs,
    ExternalImageState,
    ImageSize,
    ImageState,
    Observed,
)
from kfws.observe.registry import split_repository
from kfws.output import Reporter
from kfws.reference import parse_reference
from kfws.spec.model import Spec

if TYPE_CHECKING:
    from datetime import datetime

    from kfws.observe.registry import RegistryClient


class _OnFirstUse:
    """Stands in for the RegistryClient until a question is asked of it: a plan that asks the
    registry nothing (no image to build, its options not looked up with --offline) imports no
    client, transport or auth module. Every call that would ask nothing is skipped instead."""

    def __init__(self, spec: Spec) -> None:
        self._spec = spec
        self._client: RegistryClient | None = None

    def __getattr__(self, name: str) -> Any:
        if self._client is None:
            from kfws.observe.registry import RegistryClient

            self._client = RegistryClient(self._spec.registry_options)
        return getattr(self._client, name)


def _on_first_use(spec: Spec) -> RegistryClient:
    return cast("RegistryClient", _OnFirstUse(spec))


def split_reference(ref: str) -> tuple[str, str]:
    """ "host/repo:tag" or "host/repo@sha256:…" -> ("host/repo", "tag" or "sha256:…")."""
    parsed = parse_reference(ref)
    return parsed.repository_with_registry, parsed.digest or parsed.tag or "latest"


def external_options(spec: Spec) -> list[str]:
    """The images the workspace offers (through any target) that kfws does not build: full
    references, looked up alike (existence, then sizes and architectures), so no target offers
    an image that is not there without the plan saying so."""
    from kfws.targets.dispatch import declared_offers

    names = {i.name for i in spec.images}
    return sorted({o.image for o in declared_offers(spec) if o.image not in names})


def observe(
    spec: Spec,
    *,
    parallelism: int = 8,
    context: str | None = None,
    registry: RegistryClient | None = None,
    with_cluster: bool = True,
    offline: bool = False,
    reporter: Reporter,
) -> Observed:
    """`offline`: look up no offered image kfws does not build (they are reported as not
    checked); managed images and their bases are still looked up, as planning needs them."""
    check_build_args(spec)
    client = registry or _on_first_use(spec)

    base_digests: dict[str, str] = {}

    def resolve_base(ref: str) -> str | None:
        # many images share a base: ask the registry once per reference
        if ref in base_digests:
            return base_digests[ref]
        repo, reference = split_reference(ref)
        info = client.resolve(repo, reference)
        if info is None:
            raise RegistryError(
                f"the base image {ref} does not exist in its registry",
                where=f"image {ref}",
                hint="push the base image first, or fix the `from:` / FROM reference",
            )
        base_digests[ref] = info.digest
        return info.digest

    # bases first: a managed base's reference and input digest are in its children's inputs
    inputs: dict[str, BuildInputs] = read_all_inputs(spec, resolve_base)
    targets = {i.name: (i.repository, inputs[i.name].tag) for i in spec.images}
    items = sorted(set(targets.values()))
    found = client.resolve_many(items, parallelism=parallelism) if items else {}

    images: dict[str, ImageState] = {}
    missing: list[str] = []
    previous: dict[str, tuple[str, str | None]] = {}
    for image in spec.images:
        repo, tag = targets[image.name]
        info = found[(repo, tag)]
        label = None
        if info is not None and image.tag is not None:
            labels = client.image_labels(repo, tag)
            label = labels.get("dev.kfws.input-digest")
            if label != inputs[image.name].input_digest:  # rebuilt: say why
                previous[image.name] = (f"{repo}:{tag}", labels.get(INPUTS_LABEL))
        if info is None:
            missing.append(image.name)
        images[image.name] = ImageState(
            name=image.name,
            reference=f"{repo}:{tag}",
            registry_digest=info.digest if info else None,
            registry_input_digest=label,
            engine_image_id=None,
        )
    sizes: dict[str, ImageSize] = {}
    # only the Docker Engine keeps what it built: BuildKit's images are never a `push`
    hosts = buildkit_hosts(os.environ)
    in_engine = [
        i.name for i in spec.images if i.name in missing and engine_for(spec, i, hosts) == "docker"
    ]
    if in_engine:
        engine_states, engine_sizes = _engine_states(images, inputs, in_engine, reporter)
        images.update(engine_states)
        sizes.update(engine_sizes)

    externals = check_externals(
        spec, external_options(spec), client, parallelism=parallelism, offline=offline
    )
    states: dict[str, Any] = {}
    applied: dict[str, str] = {}
    live: list[str] = []
    if with_cluster:
        from kfws.targets.all_targets import TARGETS

        for name, target in TARGETS.items():
            state = target.observe(spec, context=context, reporter=reporter)
            if state is not None:
                states[name] = state
                applied.update(target.applied_digests(state))
                # a broken config: its planner reports it; sizes are not worth a second error
                with suppress(KfwsError):
                    live.extend(target.offered_images(state))
    wanted = _size_refs(spec, images, externals, live, offline=offline)
    got = client.sizes_each(list(wanted.values()), parallelism=parallelism) if wanted else {}
    sizes.update({ref: ImageSize(got[item], "registry") for ref, item in wanted.items()})
    from kfws.observe.check_cache import CheckCache

    checks = CheckCache().passed()
    notes: dict[str, tuple[str, ...]] = {}
    if states:
        # every image to build, whichever builder: the image it replaces says why (its label)
        previous.update(_offered_inputs(spec, missing, live, client))
    if with_cluster:  # a plan: nothing offered to compare with, so the last one kfws built
        to_build = [n for n in missing if images[n].engine_image_id is None and n not in previous]
        last, notes = _last_built_inputs(spec, to_build, client, parallelism)
        previous.update(last)
    observed = Observed(
        inputs,
        images,
        externals,
        states,
        checks,
        sizes,
        previous_inputs=previous,
        previous_notes=notes,
        applied_digests=applied,
    )
    if states:  # the architecture check: only where images are offered
        from kfws.observe.arch import observe_architectures

        observed = observe_architectures(
            spec, observed, client, context=context or spec.cluster.context, parallelism=parallelism
        )
    return observed


def _offered_inputs(
    spec: Spec, names: list[str], live: list[str], client: RegistryClient
) -> dict[str, tuple[str, str | None]]:
    """For each image to build: the image of the same repository a cluster target offers now
    (the image it replaces) and that image's inputs label, None when it has none or can't be
    read (the plan then says it can't tell why)."""
    out: dict[str, tuple[str, str | None]] = {}
    by_name = {i.name: i for i in spec.images}
    for name in names:
        for option in live:
            try:
                repo, reference = split_reference(option)
            except (KfwsError, ValueError):
                continue
            if repo != by_name[name].repository:
                continue
            try:
                label = client.image_labels(repo, reference).get(INPUTS_LABEL)
            except RegistryError:
                label = None
            out[name] = (option, label)
            break
    return out


def _last_built_inputs(
    spec: Spec, names: list[str], client: RegistryClient, parallelism: int
) -> tuple[dict[str, tuple[str, str | None]], dict[str, tuple[str, ...]]]:
    """For each image to build that no cluster target offers: the last image kfws built for
    its name, found in the registry (whichever builder built it), with its inputs label; and
    the notes the plan shows with it (which image that is, a search cut short)."""
    found: dict[str, tuple[str, str | None]] = {}
    notes: dict[str, tuple[str, ...]] = {}
    if not names:
        return found, notes
    from kfws.observe.last_built import find_last_built

    for name in names:
        image = spec.image(name)
        assert image is not None
        search = find_last_built(client, image.repository, name, parallelism=parallelism)
        said: list[str] = []
        if search.found:
            last = search.found[0]
            found[name] = (last.reference, last.inputs)
            said.append(
                f"compared with {last.reference}, the last image kfws built for {name}"
                f"{built_when(last.built)}"
            )
        if search.note:
            said.append(search.note)
        if said:
            notes[name] = tuple(said)
    return found, notes


def built_when(when: datetime | None) -> str:
    """ " (built 2026-11-29 10:01:02 UTC)" (kfws.observe.last_built's Built.built), or nothing."""
    return f" (built {when:%Y-%m-%d %H:%M:%S} UTC)" if when else ""


def _size_refs(
    spec: Spec,
    images: dict[str, ImageState],
    externals: dict[str, ExternalImageState],
    live: list[str],
    *,
    offline: bool,
) -> dict[str, tuple[str, str]]:
    """The references whose size a plan shows, as (repository, reference) to ask: every managed
    image the registry holds (by tag and by digest, as `pin` writes it), every external option
    that resolved, and the images the cluster targets offer now of the same repositories (the
    images they replace)."""
    wanted: dict[str, tuple[str, str]] = {}
    for image in spec.images:
        state = images[image.name]
        if state.registry_digest is not None:
            wanted[state.reference] = split_reference(state.reference)
            wanted[f"{image.repository}@{state.registry_digest}"] = (
                image.repository,
                state.registry_digest,
            )
    for ref, ext in externals.items():
        if ext.digest is not None:
            wanted[ref] = split_reference(ref)
    if not live:
        return wanted
    repos = {repo for repo, _ in wanted.values()} | {i.repository for i in spec.images}
    for option in live:
        try:
            repo, reference = split_reference(option)
            host, _ = split_repository(repo)
        except (KfwsError, ValueError):
            continue  # someone typed it into the live config: not an image to weigh
        if repo in repos and not offline and spec.registry_options(host).check:
            wanted.setdefault(option, (repo, reference))
    return wanted


def _engine_states(
    images: dict[str, ImageState],
    inputs: dict[str, BuildInputs],
    missing: list[str],
    reporter: Reporter,
) -> tuple[dict[str, ImageState], dict[str, ImageSize]]:
    """For images the registry lacks: does the engine already hold the exact build? An engine
    that can't be reached only costs us the `push` shortcut, so plan says `build` and warns."""
    from kfws.observe.engine import EngineClient

    try:
        engine = EngineClient()
    except EngineError as e:
        reporter.warn(f"{e.message}; planning builds without checking local images")
        return {}, {}
    updated: dict[str, ImageState] = {}
    sizes: dict[str, ImageSize] = {}
    for name in missing:
        state = images[name]
        found = engine.local_image(state.reference, inputs[name].input_digest)
        image_id = found[0] if found else None
        if found:
            sizes[state.reference] = ImageSize(found[1], "engine")
        updated[name] = ImageState(
            name=state.name,
            reference=state.reference,
            registry_digest=None,
            registry_input_digest=None,
            engine_image_id=image_id,
        )
    return updated, sizes


def check_externals(
    spec: Spec,
    refs: list[str],
    client: RegistryClient,
    *,
    parallelism: int,
    offline: bool,
) -> dict[str, ExternalImageState]:
    """Images kfws doesn't build: does each resolve? A registry that can't be reached makes its
    images unchecked (reported, not fatal); with --offline, or in a registry marked
    `check: false`, they are not looked up at all."""
    states: dict[str, ExternalImageState] = {}
    asked: dict[tuple[str, str], list[str]] = {}
    for ref in refs:
        try:
            repo, reference = split_reference(ref)
            host, _ = split_repository(repo)
        except (RegistryError, ValueError) as e:  # someone typed it into the live config
            states[ref] = ExternalImageState(
                ref, None, error=f"not a valid image reference ({type(e).__name__})"
            )
            continue
        if offline:
            states[ref] = ExternalImageState(ref, None, skipped="--offline")
        elif not spec.registry_options(host).check:
            states[ref] = ExternalImageState(ref, None, skipped=f"registry {host} has check: false")
        else:
            asked.setdefault((repo, reference), []).append(ref)
    answers = client.resolve_each(list(asked), parallelism=parallelism) if asked else {}
    for item, answer in answers.items():
        for ref in asked[item]:
            if isinstance(answer, RegistryError):
                states[ref] = ExternalImageState(ref, None, error=answer.message)
            else:
                states[ref] = ExternalImageState(ref, answer.digest if answer else None)
    return {ref: states[ref] for ref in refs}
