"""The validated workspace: plain, immutable values. Built only by kfws.spec.load.

Paths are absolute (resolved against the workspace file's folder). `location` fields are
"file:line" strings pointing into workspace.yaml, for error messages further down the pipeline.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from kfws.targets.workspacekind.model import KindSpec

GroupKey = Literal["image", "imageGroupOne", "imageGroupTwo"]
GROUP_KEYS: tuple[GroupKey, ...] = ("image", "imageGroupOne", "imageGroupTwo")


BuildEngine = Literal["buildkit", "docker"]


@dataclass(frozen=True)
class BuildSecret:
    """A BuildKit build secret: only where its value is read at apply time (never the value)."""

    id: str
    env: str | None  # an environment variable, or
    file: Path | None  # a file (absolute)
    location: str  # "workspace.yaml:12"


@dataclass(frozen=True)
class BuildSettings:
    """The top-level `build:` keys kfws.build reads (network is folded into each image)."""

    engine: BuildEngine | None = None  # None: BuildKit when BUILDKIT_HOST is set, else Docker
    secrets: tuple[BuildSecret, ...] = ()


class RestartMode(Enum):
    ROLLOUT = "rollout"  # patch the Deployment's pod template annotation; wait for the rollout
    DELETE_PODS = "delete-pods"  # the manual way: delete the web app's pods, wait for new ones
    NONE = "none"  # the web app re-reads the file itself (1.3-1.8 per request, 1.9+ within 60 s)


class OptionsMode(Enum):
    EXACT = "exact"  # the cluster's list becomes exactly the declared list, in order
    MERGE = "merge"  # declared options are ensured present; others on the cluster are kept


class PinMode(Enum):
    TAG = "tag"  # options written as repository:tag
    DIGEST = "digest"  # options written as repository@sha256:... (what was pushed / resolved)


@dataclass(frozen=True)
class RegistryOptions:
    host: str  # "registry.example.com" or "127.0.0.1:5000"
    insecure: bool = False  # plain HTTP allowed
    ca_file: Path | None = None  # extra CA to verify the registry's TLS certificate
    immutable: bool = False  # tags there are never overwritten: refuse instead of re-pushing
    check: bool = True  # look up external spawner options there (false: report them unchecked)
    engine: BuildEngine | None = None  # `build: {engine: ...}` of this registry (kfws.build)


@dataclass(frozen=True)
class BuildSpec:
    """A managed image built from a Dockerfile in the repo."""

    context: Path
    dockerfile: Path  # absolute; may lie outside the context
    args: Mapping[str, str] = field(default_factory=dict)
    target: str | None = None
    # one platform, or several sorted and joined by "," (`platforms`: BuildKit pushes an index)
    platform: str | None = None
    # build args whose value is another managed image's reference (`{image: NAME}`): arg -> NAME;
    # the value is known once that image's inputs are (kfws.spec.graph)
    image_args: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class GeneratedSpec:
    """A managed image whose Dockerfile kfws generates from a short spec."""

    base: str  # the `from:` image reference, or a managed image's name (managed_base)
    sudo: Literal["passwordless"] | None = None
    apt: tuple[str, ...] = ()
    pip: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)  # ENV: kept in the image
    build_env: Mapping[str, str] = field(default_factory=dict)  # ARG: for the installs only
    # files the pip options name (-r/-c), as (name in the build context, absolute source);
    # `pip` entries refer to them by that context name
    files: tuple[tuple[str, Path], ...] = ()
    folders: tuple[str, ...] = ()  # absolute paths created and owned by the notebook user
    user: str = "jovyan"
    platform: str | None = None  # as BuildSpec.platform
    managed_base: bool = False  # `base` names a managed image: built first, FROM its reference


@dataclass(frozen=True)
class ImageSpec:
    name: str  # the short name spawner options refer to
    repository: str  # full repository without tag: "registry.example.com/ds-team/jupyter-tf"
    tag: str | None  # None = content-addressed tag (kfws1-<hex>) computed from the build inputs
    build: BuildSpec | None  # exactly one of build / generated is set
    generated: GeneratedSpec | None
    location: str  # "workspace.yaml:12"
    # the build's network: None = the engine's default; "host"/"none" only when the workspace
    # asks (its own key, else the top-level build.network). Not a build input: no tag change.
    network: str | None = None
    # BuildKit's registry build cache (a full reference), None: none. Not a build input.
    cache: str | None = None

    @property
    def registry_host(self) -> str:
        return self.repository.split("/", 1)[0]


@dataclass(frozen=True)
class SpawnerGroup:
    key: GroupKey
    # a managed image's name, or a full image reference; None = not declared (exact: keep the
    # live default if still offered, else the first option; merge: leave the live default alone)
    default: str | None
    options: tuple[str, ...]  # each a managed image's name or a full image reference
    mode: OptionsMode = OptionsMode.EXACT
    pin: PinMode = PinMode.TAG
    location: str = ""


@dataclass(frozen=True)
class SpawnerSpec:
    # only the groups present in the file, in GROUP_KEYS order
    groups: tuple[SpawnerGroup, ...] = ()
    # None = absent from the file: leave the cluster's value alone
    allow_custom_image: bool | None = None
    hide_registry: bool | None = None
    hide_tag: bool | None = None
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] | None = None

    def group(self, key: GroupKey) -> SpawnerGroup | None:
        return next((g for g in self.groups if g.key == key), None)


@dataclass(frozen=True)
class ClusterSpec:
    context: str | None = None  # kubeconfig context; None = current
    namespace: str = "kubeflow"
    config_map: str | None = None  # None = "auto": the one the web app Deployment mounts
    deployment: str | None = None  # None = "auto": found by label
    restart: RestartMode = RestartMode.ROLLOUT


@dataclass(frozen=True)
class Spec:
    path: Path  # the workspace file, absolute
    digest: str  # "sha256:<hex>" of the file's bytes
    default_registry: str  # "registry.example.com/ds-team": prefix for managed images
    registries: Mapping[str, RegistryOptions]  # by host
    cluster: ClusterSpec
    images: tuple[ImageSpec, ...]
    spawner: SpawnerSpec
    workspace_kinds: tuple[KindSpec, ...] = ()  # Notebooks 2.0 (kfws.targets.workspacekind)
    build: BuildSettings = field(default_factory=BuildSettings)

    def image(self, name: str) -> ImageSpec | None:
        return next((i for i in self.images if i.name == name), None)

    def registry_options(self, host: str) -> RegistryOptions:
        return self.registries.get(host) or RegistryOptions(host=host)
