"""kfws drift: does the cluster and the registry still match what we declared and applied?
Exit 0 no drift, 1 error, 2 drift."""

from __future__ import annotations

import argparse

from kfws import output
from kfws.commands.common import (
    add_file_arg,
    add_format_arg,
    add_offline_arg,
    add_target_args,
    load,
)

EXIT_DRIFT = 2


def register(p: argparse.ArgumentParser) -> None:
    add_file_arg(p)
    add_target_args(p)
    add_format_arg(p, ("text", "markdown", "json", "junit"))
    add_offline_arg(p)
    p.add_argument(
        "--strict",
        action="store_true",
        help="count images whose registry could not be asked (or was not: --offline, "
        "check: false) as drift",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from kfws.drift import Judged
    from kfws.drift import report as drift_report
    from kfws.observe.observe import observe
    from kfws.observe.registry import RegistryClient
    from kfws.plan.build import make_plan
    from kfws.render.drift import render_drift
    from kfws.targets.all_targets import TARGETS

    spec = load(args.file, namespace=args.namespace)
    registry = RegistryClient(spec.registry_options)
    observed = observe(
        spec,
        parallelism=args.parallelism,
        context=args.context,
        registry=registry,
        offline=args.offline,
        reporter=output,
    )
    plan = make_plan(spec, observed, spec_path=args.file)
    found: list[Judged] = []
    for name, state in observed.targets.items():
        found += TARGETS[name].drift(
            spec,
            plan,
            state,
            context=args.context,
            registry=registry,
            parallelism=args.parallelism,
            offline=args.offline,
        )
    report = drift_report(found, strict=args.strict)
    output.out(render_drift(report, args.format), end="", raw=True)
    return EXIT_DRIFT if report.drifted else 0
