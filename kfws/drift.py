"""Drift (pure): does the cluster and the registry still match what we declared and applied?

Each cluster target finds its own drift (kfws.targets.base.Target.drift): per object it judged
(the spawner's ConfigMap, each WorkspaceKind), the checks it ran and the Findings of the kinds
below. `report` gathers them into a DriftReport. Each check is titled with the object it judged
(a WorkspaceKind's finding is never told as the spawner's), and every check that ran is listed,
so a JUnit report shows passed checks as well as failed ones.
"""

from __future__ import annotations

import dataclasses
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


@dataclass(frozen=True)
class Check:
    title: str  # "{target}" is replaced by the judged object's name
    kinds: tuple[DriftKind, ...]  # the finding kinds that fail it

    def titled(self, target: str) -> str:
        return self.title.replace("{target}", target)


MATCHES = Check("{target} matches workspace.yaml", (DriftKind.NOT_AS_DECLARED,))
UNCHANGED = Check(
    "{target} unchanged since the last apply",
    (DriftKind.CHANGED_OUT_OF_BAND, DriftKind.REPLACED),
)
IMAGES = Check(
    "images offered by {target} exist and are unmoved",
    (DriftKind.DANGLING, DriftKind.MOVED, DriftKind.UNCHECKED),
)
RELOADED = Check("web app reloaded since the last apply to {target}", (DriftKind.NOT_RELOADED,))


@dataclass(frozen=True)
class Finding:
    kind: DriftKind
    subject: str  # what drifted: a ConfigMap, an image reference, a pod
    message: str


@dataclass(frozen=True)
class Judged:
    """One object a target's drift judged ("ConfigMap kubeflow/jupyter-web-app-config",
    "WorkspaceKind jupyterlab"), the checks it ran on it (in report order), what they found."""

    target: str
    checks: tuple[Check, ...]
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True)
class DriftReport:
    judged: tuple[Judged, ...]
    # images whose registry could not be (or was not to be) asked: reported, but not drift --
    # an air-gapped cluster's nightly drift stays green -- unless `--strict` puts them in findings
    unchecked: tuple[Finding, ...] = ()

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(f for j in self.judged for f in j.findings)

    @property
    def drifted(self) -> bool:
        return bool(self.findings)

    def by_check(self) -> list[tuple[str, list[Finding]]]:
        """(title, findings) per check of each judged object. A finding of a kind none of its
        object's checks covers gets a check of its own rather than going unlisted."""
        out = []
        for j in self.judged:
            checks = list(j.checks)
            checks += [
                c
                for c in (MATCHES, UNCHANGED, IMAGES, RELOADED)
                if c not in checks and any(f.kind in c.kinds for f in j.findings)
            ]
            out += [
                (c.titled(j.target), [f for f in j.findings if f.kind in c.kinds]) for c in checks
            ]
        return out


def report(judged: Iterable[Judged], *, strict: bool = False) -> DriftReport:
    """Images whose registry could not be asked are set apart unless `strict`."""
    found = tuple(judged)
    if strict:
        return DriftReport(found)
    unchecked = tuple(f for j in found for f in j.findings if f.kind is DriftKind.UNCHECKED)
    kept = tuple(
        dataclasses.replace(
            j, findings=tuple(f for f in j.findings if f.kind is not DriftKind.UNCHECKED)
        )
        for j in found
    )
    return DriftReport(kept, unchecked)
