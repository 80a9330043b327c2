"""Applies a plan: refuse if the workspace or the world moved since the plan (stale plan), then
images first, cluster last. Returns what was done; never claims what didn't happen."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kfws.apply.verify import VerifyOptions
from kfws.errors import ApplyError, KfwsError, StalePlanError
from kfws.observe.model import Observed
from kfws.output import Reporter
from kfws.plan.model import Change, ChangeKind, ClusterKind, Plan
from kfws.spec.model import Spec

if TYPE_CHECKING:
    from kfws.observe.registry import RegistryClient


@dataclass
class ApplyReport:
    built: list[str] = field(default_factory=list)
    pushed: list[str] = field(default_factory=list)
    cluster: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)  # one line per contract check
    checked: int = 0  # images that passed (now or before, same digest)

    def summary(self) -> str:
        n = len(self.cluster)
        cluster = f"{n} cluster change{'s' if n != 1 else ''}" if n else "cluster unchanged"
        checked = f"{self.checked} checked, " if self.checks else ""
        return (
            f"Apply complete: {len(self.built)} built, {len(self.pushed)} pushed, {checked}"
            f"{cluster}."
        )


def check_fresh(spec: Spec, plan: Plan, observed: Observed) -> None:
    """The last guard before any write: `plan` must be exactly what kfws plans now (the CLI
    compares a saved plan first and passes the fresh one; this holds for any other caller)."""
    from kfws.plan.build import make_plan
    from kfws.plan.compare import compare_plans
    from kfws.targets.dispatch import last_writer

    fresh = make_plan(spec, observed, spec_path=plan.spec_path)
    writer = last_writer(observed)
    comparison = compare_plans(
        plan, fresh, declared_images={i.name for i in spec.images}, config_writer=writer
    )
    if not comparison.identical:
        raise StalePlanError(
            f"{comparison.headline()}; nothing was touched\n  - "
            + "\n  - ".join(comparison.lines()),
            where=str(spec.path),
            hint="run `kfws plan --out` again and review the new plan",
        )


def apply_plan(
    spec: Spec,
    plan: Plan,
    observed: Observed,
    *,
    parallelism: int,
    context: str | None,
    lock_timeout: float,
    rollout_timeout: float,
    log_dir: Path,
    registry: RegistryClient,
    allow_gitops_owned: bool = False,
    reporter: Reporter,
    verify: VerifyOptions | None = None,
) -> ApplyReport:
    from kfws.apply.images import apply_images
    from kfws.build.builders import Builders

    check_fresh(spec, plan, observed)
    report = ApplyReport()
    image_changes = [c for c in plan.changes if c.kind.is_image]
    check_changes = [c for c in plan.changes if c.kind is ChangeKind.CHECK_IMAGE]
    cluster_changes = [c for c in plan.changes if isinstance(c.kind, ClusterKind)]
    if cluster_changes:
        from kfws.targets.run import refuse_gitops_owned

        # before any build or push: a refusal after them would leave images pushed for nothing
        refuse_gitops_owned(
            cluster_changes,
            allow=allow_gitops_owned,
            built=", and nothing was built or pushed" if image_changes else "",
        )
    digests: dict[str, str] = {}
    if image_changes:
        from kfws.apply.images import refuse_build_mismatches

        # can a node run what the builds will produce? (kfws.plan.arch) Said before building
        refuse_build_mismatches(observed, image_changes, verify.skip if verify else ())
        results = apply_images(
            spec,
            observed.inputs,
            image_changes,
            engine=Builders(spec, observed.inputs, image_changes),
            registry=registry,
            parallelism=parallelism,
            log_dir=log_dir,
            reporter=reporter,
        )
        for r in results:
            if r.built:
                report.built.append(r.reference)
            if r.pushed:
                report.pushed.append(r.reference)
            if r.digest:
                digests[r.reference.rpartition(":")[0]] = r.digest
    if cluster_changes:  # can a node run each image about to be offered? (kfws.plan.arch)
        from kfws.apply.images import verify_architectures

        skip = verify.skip if verify else ()
        verify_architectures(spec, observed, registry, report.pushed, skip)
    if check_changes:
        report.checks = verify_step(
            check_changes,
            digests,
            report,
            verify or VerifyOptions(spec.cluster.namespace, 60.0),
            reporter,
        )
    if cluster_changes:
        from kfws.targets.run import apply_cluster_changes

        try:
            report.cluster = apply_cluster_changes(
                cluster_changes,
                spec.cluster.namespace,
                context=context or spec.cluster.context,
                lock_timeout=lock_timeout,
                rollout_timeout=rollout_timeout,
                reporter=reporter,
                allow_gitops_owned=allow_gitops_owned,
                pushed=digests,
                known_digests=known_digests(observed, digests),
            )
        except KfwsError as e:
            if report.pushed:
                e.message += f"\n  (images pushed before the cluster step: {len(report.pushed)})"
            raise
    return report


def verify_step(
    changes: list[Change],
    pushed: dict[str, str],
    report: ApplyReport,
    opts: VerifyOptions,
    reporter: Reporter,
) -> list[str]:
    """Runs the contract check on the images about to be offered; a failure stops the apply
    before the cluster step, naming what was pushed (in the registry, but offered nowhere)."""
    from kfws.apply.verify import CheckTarget, describe, failed, run_checks
    from kfws.check import CheckKind

    targets = [
        CheckTarget(
            name=str(c.details["name"]),
            reference=c.target,
            digest=pushed.get(c.target.rpartition(":")[0]) or c.details.get("digest"),
            kinds=tuple(CheckKind(k) for k in c.details.get("kinds", [])),
        )
        for c in changes
    ]
    try:
        outcomes = run_checks(targets, opts, reporter)
    except KeyboardInterrupt:
        reporter.err(
            "interrupted during the contract checks: the cluster was not touched (it is exactly "
            f"as it was); pushed before the checks: {', '.join(report.pushed) or 'none'}"
        )
        raise
    lines = describe(outcomes)
    report.checked = sum(1 for o in outcomes if o.status in ("passed", "remembered"))
    bad = failed(outcomes)
    if bad:
        pushed_refs = ", ".join(report.pushed) if report.pushed else "none"
        raise ApplyError(
            f"{len(bad)} image check{'s' if len(bad) != 1 else ''} failed the Kubeflow contract; "
            "the cluster was not touched (it is exactly as it was), so no broken image is "
            f"offered.\n" + "\n".join(lines) + f"\n  pushed before the check: {pushed_refs}",
            where="apply: check",
            hint="fix the image and re-run the apply; for an image that can't pass, "
            "`kfws apply --skip-check NAME` offers it unchecked",
        )
    return lines


def known_digests(observed: Observed, pushed: dict[str, str]) -> dict[str, str]:
    """reference -> digest of every image kfws knows now: its own (pushed in this apply, else
    as the registry has it) and the external ones it looked up. A target records the digests
    of what it offers, so a later `kfws drift` can tell when a tag was moved."""
    known: dict[str, str] = {}
    for state in observed.images.values():
        repository = state.reference.rpartition(":")[0]
        digest = pushed.get(repository) or state.registry_digest
        if digest:
            known[state.reference] = digest
    for ref, ext in observed.externals.items():
        if ext.digest:
            known[ref] = ext.digest
    return known
