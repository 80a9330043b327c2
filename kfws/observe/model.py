"""What kfws observed of the world: immutable values produced by the observe adapters and read by
the pure planners. Nothing here does I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class BuildInputs:
    """A managed image's build inputs, read from disk, and their content digest."""

    name: str
    input_digest: str  # "sha256:<hex>" over Dockerfile, context files, args, target, platform, base
    dockerfile: str  # the Dockerfile text (given or generated)
    base_digest: str | None  # the FROM image's registry digest, when it could be resolved
    tag: str  # the explicit tag, or the content-addressed "kfws1-<hex>"
    manifest: str = ""  # the compact inputs manifest (kfws.images.digest.inputs_manifest)
    # the build args to build with: the workspace's, and managed images' references for
    # `{image: NAME}` args (kfws.spec.graph)
    args: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ImageState:
    """A managed image's target reference as the registry and the engine know it."""

    name: str
    reference: str  # "host/repo:tag"
    registry_digest: str | None  # None = the registry has no such tag (404)
    registry_input_digest: str | None  # the dev.kfws.input-digest label of what the registry has
    engine_image_id: str | None  # the engine holds this tag built from the same inputs


@dataclass(frozen=True)
class ExternalImageState:
    """An offered image kfws does not build (a spawner option or a WorkspaceKind image value
    given as a full reference)."""

    reference: str
    digest: str | None  # None = missing (404) or not checked
    error: str | None = None  # unreachable: reported in the plan, not fatal
    skipped: str | None = None  # why the registry was not asked (--offline, check: false)


@dataclass(frozen=True)
class ImageSize:
    """How big an image is, for the plan's reader. `source`: "registry" = compressed (config +
    layers, what a node pulls); "engine" = the uncompressed size of a local build not yet
    pushed. `size` None = unknown (the registry failed or answered nonsense)."""

    size: int | None
    source: str  # "registry" | "engine"


@dataclass(frozen=True)
class BuildPlatforms:
    """The platforms a build of a managed image produces, for the architecture check before
    anything is built: the workspace's `platform:` / `platforms:`, else the builder's own."""

    platforms: tuple[str, ...]  # "os/arch[/variant]"
    source: str  # words for the plan: "its `platform:`", "BuildKit's default platform"


@dataclass(frozen=True)
class Observed:
    inputs: Mapping[str, BuildInputs]  # by managed image name
    images: Mapping[str, ImageState]  # by managed image name
    externals: Mapping[str, ExternalImageState] = field(default_factory=dict)  # by reference
    # by cluster target name (kfws.targets.all_targets): each observed target's own state;
    # a target the workspace declares nothing for is absent
    targets: Mapping[str, Any] = field(default_factory=dict)
    # contract checks passed on this machine: kfws.check.cache_key strings (digest, kind, version)
    checks: frozenset[str] = frozenset()
    # by reference as a spawner option writes it ("host/repo:tag" or "host/repo@sha256:…"): the
    # images a plan builds or offers, and the live options they replace
    sizes: Mapping[str, ImageSize] = field(default_factory=dict)
    # by managed name, for images the plan (re)builds: (the image it replaces — the tag's current
    # image, the spawner's live option of the same repository, else the last image kfws built
    # for that name (kfws.observe.last_built) —, its inputs-manifest label)
    previous_inputs: Mapping[str, tuple[str, str | None]] = field(default_factory=dict)
    # by managed name: what the reader of the `why` lines must know of that comparison (it is
    # with the last image kfws built for the name; the registry search was cut short)
    previous_notes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # option reference -> the digest it had when kfws last applied it to a target (a moved tag)
    applied_digests: Mapping[str, str] = field(default_factory=dict)
    # the architecture check (kfws.plan.arch): the nodes' CPU architectures, or why they are
    # unknown; and the platforms of the offered images the registry holds, by reference
    node_archs: tuple[str, ...] = ()
    node_archs_skipped: str | None = None
    platforms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # by managed name, for the offered images a plan may build: what the build produces
    build_platforms: Mapping[str, BuildPlatforms] = field(default_factory=dict)
