"""The plan: a passive, versioned record between plan and apply (plain data, no I/O).

A Plan holds the digest of the workspace file it came from, the fingerprint of everything
observed that its changes depend on (apply re-observes and refuses a stale plan), and the ordered
changes: images first, cluster last. Values are JSON-able so a plan can be saved, shown and
applied later; nothing in it is a credential or a secret-looking build argument value. A saved
plan is not trusted when read back: apply compares it with a fresh plan (plan/compare.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

PLAN_FORMAT_VERSION = 1

# Written where a `pin: digest` option refers to an image this plan builds: its digest is only
# known after the push. The applier substitutes it and refuses to write text still holding it.
PENDING_DIGEST = "sha256:known-after-apply"


class ChangeKind(Enum):
    # images: the order here is the order apply runs them in
    BUILD_IMAGE = "build"  # the tag is missing from the registry: build and push
    REBUILD_IMAGE = "rebuild"  # the tag exists but was built from other inputs: rebuild, re-push
    PUSH_IMAGE = "push"  # the engine already holds the exact image; the registry doesn't
    # run the image as Kubeflow would and probe it (kfws.check); a failure stops the apply here
    CHECK_IMAGE = "check"

    @property
    def is_image(self) -> bool:
        return self in (ChangeKind.BUILD_IMAGE, ChangeKind.REBUILD_IMAGE, ChangeKind.PUSH_IMAGE)


@dataclass(frozen=True)
class ClusterKind:
    """A change kind of a cluster target (kfws.targets): declared by the target in its `KINDS`,
    so the planner, apply, the renderers and plan files dispatch on `target` (its name in
    kfws.targets.all_targets) and never name one. Cluster changes run after the image work."""

    value: str  # as written in plans, e.g. "update-spawner"
    target: str  # the target's name in the table, e.g. "spawner"
    symbol: str = "~"  # the text renderer's mark
    colour: str = "yellow"
    summary: str = "to change"  # "Plan: 1 to change"

    @property
    def is_image(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"<ClusterKind {self.value} of {self.target}>"


Kind = ChangeKind | ClusterKind


@dataclass(frozen=True)
class Observation:
    """One fact a change depends on, as seen at plan time. `value` None = absent."""

    key: str  # e.g. "registry:127.0.0.1:15001/ds-team/jupyter:kfws1-ab12…"
    value: str | None  # e.g. "sha256:…", or "rv=123 sha256=…" for a ConfigMap


@dataclass(frozen=True)
class Change:
    kind: Kind
    target: str  # full image reference, or "configmap/NAMESPACE/NAME", "deployment/NS/NAME"
    reason: str  # one line a reviewer reads: why this change is needed
    before: Any = None  # JSON-able; e.g. registry digest, or old spawner YAML text
    after: Any = None  # JSON-able; e.g. new input digest, or the spawner YAML text to write
    details: Mapping[str, Any] = field(default_factory=dict)  # kind-specific, JSON-able


@dataclass(frozen=True)
class Plan:
    # the workspace file: as given on the command line; in a saved plan, relative to the plan
    # file (planfile.workspace_path resolves it). Never compared: spec_digest is.
    spec_path: str
    spec_digest: str  # "sha256:…" of the workspace file's bytes
    fingerprint: tuple[Observation, ...]  # sorted by key
    changes: tuple[Change, ...]  # in apply order
    warnings: tuple[str, ...] = ()  # e.g. GitOps ownership, unreachable external images
    format_version: int = PLAN_FORMAT_VERSION

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    def count(self, kind: Kind) -> int:
        return sum(1 for c in self.changes if c.kind is kind)
