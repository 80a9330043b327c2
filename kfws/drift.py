"""Drift (pure): does the cluster and the registry still match what we declared and applied?

Each cluster target finds its own drift (kfws.targets.base.Target.drift) as Findings of the
kinds below; `report` gathers them into a DriftReport. Each check that ran is listed too, so a
JUnit report shows passed checks as well as failed ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum


class DriftKind(Enum):
    NOT_AS_DECLARED = "not-as-declared"  # the live lists differ from workspace.yaml
    CHANGED_OUT_OF_BAND = "changed-out-of-band"  # someone edited what kfws applied
    REPLACED = "configmap-replaced"  # the web app mounts another ConfigMap (manifests re-deployed)
    DANGLING = "dangling-image"  # an option's image is gone from its registry
    MOVED = "tag-moved"  # an option's tag points to another digest than the one applied
    UNCHECKED = "image-unchecked"  # an option's registry could not be asked
    NOT_RELOADED = "not-reloaded"  # the web app's pods started before the last apply


# The checks, in report order: (check name, the kinds it can find)
CHECKS: tuple[tuple[str, tuple[DriftKind, ...]], ...] = (
    ("spawner matches workspace.yaml", (DriftKind.NOT_AS_DECLARED,)),
    ("spawner unchanged since the last apply", (DriftKind.CHANGED_OUT_OF_BAND, DriftKind.REPLACED)),
    (
        "spawner images exist and are unmoved",
        (DriftKind.DANGLING, DriftKind.MOVED, DriftKind.UNCHECKED),
    ),
    ("web app reloaded since the last apply", (DriftKind.NOT_RELOADED,)),
)


@dataclass(frozen=True)
class Finding:
    kind: DriftKind
    subject: str  # what drifted: a ConfigMap, an image reference, a pod
    message: str


@dataclass(frozen=True)
class DriftReport:
    findings: tuple[Finding, ...]
    # images whose registry could not be (or was not to be) asked: reported, but not drift --
    # an air-gapped cluster's nightly drift stays green -- unless `--strict` puts them in findings
    unchecked: tuple[Finding, ...] = ()

    @property
    def drifted(self) -> bool:
        return bool(self.findings)

    def by_check(self) -> list[tuple[str, list[Finding]]]:
        return [(name, [f for f in self.findings if f.kind in kinds]) for name, kinds in CHECKS]


def report(findings: Iterable[Finding], *, strict: bool = False) -> DriftReport:
    """Images whose registry could not be asked are set apart unless `strict`."""
    found = tuple(findings)
    if strict:
        return DriftReport(found)
    unchecked = tuple(f for f in found if f.kind is DriftKind.UNCHECKED)
    return DriftReport(tuple(f for f in found if f.kind is not DriftKind.UNCHECKED), unchecked)
