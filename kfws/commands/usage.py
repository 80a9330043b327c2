"""kfws usage: which notebooks use each image kfws offers or built, how many Workspaces use each
WorkspaceKind value, and which notebooks use images nobody offers anymore, or that no registry
has."""

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


def register(p: argparse.ArgumentParser) -> None:
    p.description = (
        "For each image offered now or built by kfws (every tag of the repositories the "
        "workspace builds into): how many Kubeflow notebooks use it, running and stopped, "
        "in which namespaces, by tag or by digest (or running its digest under another "
        "name). Then, per WorkspaceKind value (Notebooks 2.0), its image and how many "
        "Workspaces use it, as the kind's status counts them: the kinds the workspace "
        "declares, else every kind on the cluster. Then the images notebooks use that are no "
        "longer offered, and the notebooks naming an image its registry no longer has. Needs "
        "the usage ClusterRole (`kfws rbac --role usage`) and, for WorkspaceKinds, their "
        "read-only ClusterRole (`kfws rbac --workspacekinds`); without them, it says what it "
        "could not see."
    )
    add_file_arg(p)
    add_target_args(p)
    add_format_arg(p, ("text", "markdown", "json"))
    add_offline_arg(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from kfws.observe.usage import observe_usage
    from kfws.render.usage import render_usage

    spec = load(args.file, namespace=args.namespace)
    report = observe_usage(
        spec,
        context=args.context,
        parallelism=args.parallelism,
        offline=args.offline,
        reporter=output,
    )
    output.out(render_usage(report, args.format), end="", raw=True)
    return 0
