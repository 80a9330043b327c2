"""The whole planner (pure): images first, then each observed cluster target (through the
target table, in its order), into one Plan."""

from __future__ import annotations

from kfws.observe.model import Observed
from kfws.plan.arch import arch_warnings, built_platforms
from kfws.plan.checks import plan_checks
from kfws.plan.images import plan_images
from kfws.plan.model import Change, Observation, Plan
from kfws.plan.sizes import with_sizes
from kfws.spec.model import Spec
from kfws.targets.all_targets import TARGETS
from kfws.targets.base import Offer
from kfws.targets.dispatch import declared_offers


def make_plan(spec: Spec, observed: Observed, *, spec_path: str) -> Plan:
    images = plan_images(spec, observed)
    changes: list[Change] = list(images.changes)
    observations: list[Observation] = list(images.observations)
    warnings: list[str] = []
    skipped: dict[tuple[str, str], list[str]] = {}
    # the first target offering a reference names it (a spawner option, a WorkspaceKind value)
    offers: dict[str, Offer] = {}
    for offer in declared_offers(spec):
        offers.setdefault(offer.image, offer)
    for ref, state in sorted(observed.externals.items()):
        offer = offers.get(ref, Offer(ref, "spawner option"))  # unnamed: the 1.x wording
        if state.skipped:
            skipped.setdefault((offer.noun, state.skipped), []).append(ref)
        elif state.error:
            warnings.append(f"{offer.subject()} could not be checked: {state.error}")
        elif state.digest is None:
            warnings.append(f"{offer.subject()} does not exist in its registry")
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
