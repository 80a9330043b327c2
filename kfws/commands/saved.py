"""The steps `kfws apply PLAN` and `kfws show PLAN` share: read the saved plan, find the
workspace file it names (relative to the plan) or the one given with -f, and plan afresh to
compare (kfws.plan.compare). Wiring only."""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kfws import output
from kfws.commands.common import load
from kfws.errors import PlanError, StalePlanError

if TYPE_CHECKING:
    from kfws.observe.model import Observed
    from kfws.observe.registry import RegistryClient
    from kfws.plan.compare import Comparison
    from kfws.plan.model import Plan
    from kfws.spec.model import Spec


@dataclass(frozen=True)
class Replanned:
    saved: Plan
    comparison: Comparison
    spec: Spec
    # None when the workspace file changed: no need to look at the world to refuse then
    fresh: Plan | None = None
    observed: Observed | None = None
    registry: RegistryClient | None = None


def workspace_for(args: argparse.Namespace, saved: Plan) -> Path:
    """-f FILE if given, else the workspace the plan records (relative to the plan file). It
    must be a regular file: a device or FIFO recorded in a forged plan is refused unread."""
    from kfws.plan.planfile import workspace_path
    from kfws.safe_read import UnsafeFileError, check_regular

    given = getattr(args, "file", None)
    path = Path(given) if given else workspace_path(saved, Path(args.plan))
    try:
        check_regular(path)
    except UnsafeFileError as e:
        source = "given with -f" if given else f"named by the plan {args.plan}"
        raise PlanError(
            f"the workspace file {source} can't be used: {e.reason}",
            where=str(path),
            hint="pass the workspace file the plan was made from with -f FILE",
        ) from None
    return path


def replan(args: argparse.Namespace) -> Replanned:
    """Reads the saved plan, re-observes and re-plans, and compares the two."""
    from kfws.observe.observe import observe
    from kfws.observe.registry import RegistryClient
    from kfws.plan.build import make_plan
    from kfws.plan.compare import compare_plans
    from kfws.plan.planfile import read_plan
    from kfws.targets.dispatch import last_writer

    saved = read_plan(Path(args.plan))
    path = workspace_for(args, saved)
    spec = load(path, namespace=args.namespace)
    declared = {i.name for i in spec.images}
    if spec.digest != saved.spec_digest:
        unobserved = dataclasses.replace(saved, spec_digest=spec.digest)
        return Replanned(saved, compare_plans(saved, unobserved, declared_images=declared), spec)
    registry = RegistryClient(spec.registry_options)
    observed = observe(
        spec,
        parallelism=args.parallelism,
        context=args.context,
        registry=registry,
        reporter=output,
    )
    fresh = make_plan(spec, observed, spec_path=str(path))
    writer = last_writer(observed)
    comparison = compare_plans(saved, fresh, declared_images=declared, config_writer=writer)
    return Replanned(saved, comparison, spec, fresh, observed, registry)


def refuse(plan_path: str, comparison: Comparison) -> StalePlanError:
    return StalePlanError(
        f"{comparison.headline()}; nothing was touched\n  - " + "\n  - ".join(comparison.lines()),
        where=plan_path,
        hint=f"run `kfws plan --out {plan_path}` again and review the new plan",
    )
