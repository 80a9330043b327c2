"""The whole planner (pure): images first, then each observed cluster target (through the
target table, in its order), into one Plan."""

from __future__ import annotations

from dataclasses import dataclass

from kfws.observe.model import Observed
from kfws.plan.arch import arch_warnings, built_platforms
from kfws.plan.checks import plan_checks
from kfws.plan.images import plan_images
from kfws.plan.model import Change, Observation, Plan
from kfws.plan.sizes import with_sizes
from kfws.spec.model import Spec
from kfws.targets.all_targets import TARGETS


@dataclass(frozen=True)
class OfferedAs:
    """Where the workspace offers an image kfws does not build, for the plan's warnings."""

    noun: str  # "spawner option" / "WorkspaceKind image", pluralised with an s
    value: str | None = None  # the WorkspaceKind and value id that offer it

    def subject(self, ref: str) -> str:
        if self.value is None:
            return f"{self.noun} {ref}"
        return f"{self.noun} {ref} ({self.value})"


def external_offered_as(spec: Spec, ref: str) -> OfferedAs:
    """A spawner option when any group offers it (the 1.x wording), else the first
    WorkspaceKind value that does."""
    for group in spec.spawner.groups:
        if ref in group.options or ref == group.default:
            return OfferedAs("spawner option")
    for kind in spec.workspace_kinds:
        for value in kind.images:
            if value.image == ref:
                return OfferedAs("WorkspaceKind image", f"{kind.name} value {value.id}")
    return OfferedAs("spawner option")  # named nowhere in the spec: the 1.x wording


def make_plan(spec: Spec, observed: Observed, *, spec_path: str) -> Plan:
    images = plan_images(spec, observed)
    changes: list[Change] = list(images.changes)
    observations: list[Observation] = list(images.observations)
    warnings: list[str] = []
    skipped: dict[tuple[str, str], list[str]] = {}
    for ref, state in sorted(observed.externals.items()):
        offered_as = external_offered_as(spec, ref)
        if state.skipped:
            skipped.setdefault((offered_as.noun, state.skipped), []).append(ref)
        elif state.error:
            warnings.append(f"{offered_as.subject(ref)} could not be checked: {state.error}")
        elif state.digest is None:
            warnings.append(f"{offered_as.subject(ref)} does not exist in its registry")
    for (noun, why), refs in sorted(skipped.items()):
        what = f"1 {noun}" if len(refs) == 1 else f"{len(refs)} {noun}s"
        warnings.append(f"{what} not looked up in the registry ({why}): {', '.join(refs)}")
    cluster: list[Change] = []
    for name, state in observed.targets.items():
        part = TARGETS[name].plan(spec, state, images)
        cluster.extend(part.changes)
        observations.extend(part.observations)
        warnings.extend(part.warnings)
    if observed.targets:  # can a node run each offered image? (kfws.plan.arch)
        builds = built_platforms(images.changes, observed)  # judged before they are built
        warnings.extend(
            arch_warnings(
                observed.platforms, observed.node_archs, observed.node_archs_skipped, builds
            )
        )
    # the contract checks run after the image work and before the cluster step
    changes.extend(plan_checks(spec, observed, [*changes, *cluster]))
    changes.extend(cluster)
    return Plan(
        spec_path=spec_path,
        spec_digest=spec.digest,
        fingerprint=tuple(sorted(set(observations), key=lambda o: o.key)),
        changes=tuple(with_sizes(changes, observed)),
        warnings=tuple(warnings),
    )
