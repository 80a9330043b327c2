"""kfws show PLAN: render a saved plan. A stale plan is still shown (PR pipelines need it), with a
warning at the top saying what moved."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from kfws import output
from kfws.commands.common import add_format_arg, add_target_args, load
from kfws.errors import KfwsError


def register(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser("show", help="render a saved plan, warning when it is stale")
    p.add_argument("plan", help="a plan saved by `kfws plan --out`")
    p.add_argument("-f", "--file", help="the workspace file (default: the one the plan names)")
    add_target_args(p)
    add_format_arg(p, ("text", "markdown", "json"))
    p.add_argument(
        "--no-check", action="store_true", help="don't re-observe to check whether it is stale"
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from kfws.apply.run import stale_entries
    from kfws.observe.observe import observe
    from kfws.plan.build import make_plan
    from kfws.plan.planfile import read_plan
    from kfws.render import render

    plan = read_plan(Path(args.plan))
    stale: list[str] | None = None
    if not args.no_check:
        try:
            spec = load(args.file or plan.spec_path)
            if spec.digest != plan.spec_digest:
                stale = [f"{plan.spec_path}: the workspace file changed since the plan"]
            else:
                observed = observe(spec, parallelism=args.parallelism, context=args.context)
                fresh = make_plan(spec, observed, spec_path=plan.spec_path)
                stale = stale_entries(plan, fresh) or None
        except KfwsError as e:
            output.warn(f"could not check whether the plan is stale: {e.message.splitlines()[0]}")
    output.out(render(plan, args.format, colour=output.use_colour(sys.stdout), stale=stale), end="")
    return 0
