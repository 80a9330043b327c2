"""kfws show PLAN: render a saved plan. A plan that doesn't match a fresh plan of its workspace
(stale, or edited) is still shown (PR pipelines need it), with a warning at the top saying what
differs: applying it would be refused."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kfws import output
from kfws.commands.common import add_format_arg, add_target_args
from kfws.errors import KfwsError


def register(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Render a saved plan (text, Markdown or JSON). Unless --no-check, kfws plans again "
        "from the workspace file and the cluster and registry, and says at the top when the "
        "saved plan differs from that fresh plan (apply would refuse it) and how."
    )
    p.add_argument("plan", help="a plan saved by `kfws plan --out`")
    p.add_argument(
        "-f", "--file", help="the workspace file (default: the one the plan names, next to it)"
    )
    add_target_args(p)
    add_format_arg(p, ("text", "markdown", "json"))
    p.add_argument(
        "--no-check", action="store_true", help="don't re-plan to check whether it still holds"
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from kfws.plan.planfile import read_plan
    from kfws.render import render

    plan = read_plan(Path(args.plan))
    stale: list[str] | None = None
    if not args.no_check:
        from kfws.commands.saved import replan

        try:
            comparison = replan(args).comparison
            if not comparison.identical:
                stale = [comparison.headline(), *comparison.lines()]
        except KfwsError as e:
            output.warn(f"could not check whether the plan still holds: {e.render()}")
    if stale and args.format == "json":  # the JSON is the plan itself: say it beside, on stderr
        output.warn("this saved plan does not match a fresh plan; applying it will be refused:")
        for line in stale:
            output.err(f"  {line}")
    colour = output.use_colour(sys.stdout)
    output.out(render(plan, args.format, colour=colour, stale=stale), end="", raw=True)
    return 0
