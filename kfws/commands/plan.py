"""kfws plan: what apply would do, from workspace.yaml against the registry and the cluster."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from kfws import output
from kfws.commands.common import (
    add_file_arg,
    add_format_arg,
    add_offline_arg,
    add_target_args,
    load,
)

EXIT_CHANGES = 2


def register(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Show what `kfws apply` would change: images to build, rebuild or push, and the "
        "spawner config edit with its diff. Reads only. --out saves the plan as JSON for "
        "review; `kfws apply PLAN` later applies it only if it still is exactly what kfws "
        "would plan then."
    )
    add_file_arg(p)
    add_target_args(p)
    add_format_arg(p, ("text", "markdown", "json"))
    p.add_argument("--out", metavar="PLAN", help="save the plan (JSON) for `kfws apply PLAN`")
    add_offline_arg(p)
    p.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="exit 2 when there are changes, 0 when none, 1 on error",
    )
    p.set_defaults(run=run)


def make(args: argparse.Namespace) -> Any:
    """Load, observe and plan; returns (spec, observed, plan)."""
    from kfws.observe.observe import observe
    from kfws.plan.build import make_plan

    spec = load(args.file, namespace=args.namespace)
    observed = observe(
        spec,
        parallelism=args.parallelism,
        context=args.context,
        offline=getattr(args, "offline", False),
        reporter=output,
    )
    return spec, observed, make_plan(spec, observed, spec_path=args.file)


def run(args: argparse.Namespace) -> int:
    from kfws.render import render
    from kfws.usage.plan_notes import removed_options

    spec, _, plan = make(args)
    # who still uses what the plan stops offering (advice for the reviewer; never fails). The
    # usage observer (notebooks, registry inventory) is imported only for a plan that removes
    if removed_options(plan):
        from kfws.observe.usage import with_usage_notes

        plan = with_usage_notes(
            spec, plan, context=args.context, parallelism=args.parallelism, offline=args.offline
        )
    if args.out:
        from kfws.plan.planfile import write_plan  # and the plan schema: only to save one

        write_plan(plan, Path(args.out))
    output.out(render(plan, args.format, colour=output.use_colour(sys.stdout)), end="", raw=True)
    if args.out:
        output.err(f"Saved the plan to {args.out}; apply it with `kfws apply {args.out}`.")
    return EXIT_CHANGES if args.detailed_exitcode and plan.has_changes else 0
