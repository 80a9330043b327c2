"""kfws apply [PLAN]: build and push what is missing, then update the spawner and reload.

With a saved plan: plan afresh and go on only if the saved plan is exactly the fresh one (the
file is never trusted; kfws.plan.compare). Without: plan, show the plan, and ask (or
--auto-approve; without a terminal it refuses)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kfws import output
from kfws.commands.check import add_check_args, verify_options
from kfws.commands.common import DEFAULT_WORKSPACE, add_target_args, add_write_args, load
from kfws.errors import KfwsError


def register(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Build and push the missing images, then update the spawner config and reload the "
        "web app.\n\nWith PLAN (saved by `kfws plan --out`): kfws plans again from the "
        "workspace file and a fresh look at the registry and the cluster, and applies only "
        "if the saved plan is exactly that fresh plan; otherwise it refuses, naming what "
        "differs, and touches nothing. Without PLAN: it plans, shows the plan and asks."
    )
    p.add_argument("plan", nargs="?", help="a plan saved by `kfws plan --out`")
    p.add_argument(
        "-f",
        "--file",
        help=f"the workspace file (default: the one a saved plan names, else {DEFAULT_WORKSPACE})",
    )
    add_target_args(p, parallel="registry lookups, builds and pushes at once")
    p.add_argument("--auto-approve", action="store_true", help="don't ask before applying")
    add_write_args(p)
    p.add_argument("--log-dir", help="where build logs go (default: ~/.local/state/kfws/logs)")
    add_check_args(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from kfws.apply.images import default_log_dir
    from kfws.apply.run import apply_plan
    from kfws.observe.observe import observe
    from kfws.observe.registry import RegistryClient
    from kfws.plan.build import make_plan
    from kfws.render.text import render_text

    colour = output.use_colour(sys.stdout)
    if args.plan:
        from kfws.commands.saved import refuse, replan

        again = replan(args)
        if not again.comparison.identical or again.fresh is None:
            raise refuse(args.plan, again.comparison)
        assert again.observed is not None and again.registry is not None  # with `fresh`
        # the fresh plan, identical to the reviewed one, is what runs: nothing from the file
        spec, observed, registry, plan = again.spec, again.observed, again.registry, again.fresh
    else:
        spec = load(args.file or DEFAULT_WORKSPACE, namespace=args.namespace)
        registry = RegistryClient(spec.registry_options)
        observed = observe(
            spec,
            parallelism=args.parallelism,
            context=args.context,
            registry=registry,
            reporter=output,
        )
        plan = make_plan(spec, observed, spec_path=args.file or DEFAULT_WORKSPACE)
        output.out(render_text(plan, colour=colour), end="", raw=True)
        if not plan.has_changes:
            return 0
        if not args.auto_approve:
            _confirm()
    if not plan.has_changes:
        output.out("No changes to apply.")
        return 0
    report = apply_plan(
        spec,
        plan,
        observed,
        parallelism=args.parallelism,
        context=args.context,
        lock_timeout=args.lock_timeout,
        rollout_timeout=args.rollout_timeout,
        log_dir=Path(args.log_dir) if args.log_dir else default_log_dir(),
        registry=registry,
        allow_gitops_owned=args.allow_gitops_owned,
        verify=verify_options(args, spec.cluster.namespace),
        reporter=output,
    )
    for line in report.checks:
        output.out(line)
    for line in report.cluster:
        output.out(f"  {line}")
    output.out(report.summary())
    return 0


def _confirm() -> None:
    if not sys.stdin.isatty():
        raise KfwsError(
            "refusing to apply without confirmation: no terminal to ask on",
            where="apply",
            hint="review the plan and pass --auto-approve, or apply a saved plan "
            "(`kfws plan --out plan.json`, then `kfws apply plan.json --auto-approve`)",
        )
    output.err("Apply these changes? Only 'yes' is accepted: ", end="")
    if sys.stdin.readline().strip() != "yes":
        raise KfwsError("apply cancelled; nothing was changed", where="apply")
