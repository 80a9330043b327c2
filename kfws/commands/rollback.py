"""kfws rollback: list the spawner configs kfws kept, and restore one (the newest by default)
through the same safe path as apply, after showing the diff and asking."""

from __future__ import annotations

import argparse
import sys

from kfws import output
from kfws.commands.cluster_args import add_cluster_args, add_target_arg, cluster_spec, target_named
from kfws.commands.common import add_write_args
from kfws.errors import KfwsError
from kfws.plan.model import Change


def register(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Restore a cluster target as it was before a kfws write: the newest backup, or "
        "backup N with --to. Shows the diff and asks first, like apply. The spawner "
        "config (the default target): when the live config is broken or is what kfws "
        "wrote, the whole kept text comes back; when others edited it since, only the "
        "lists and flags kfws owns, keeping their edits. WorkspaceKinds (--target "
        "workspacekind): the values kfws managed come back, planned like a workspace file, "
        "so a value in use is hidden and redirected, never removed. "
        "Exit codes: 0 done (or nothing to restore), 1 error or refused."
    )
    add_cluster_args(p)
    p.add_argument(
        "--list", action="store_true", help="list the kept backups and what each would change"
    )
    p.add_argument("--to", type=int, metavar="N", help="restore backup N (default: the newest)")
    p.add_argument("--auto-approve", action="store_true", help="don't ask before restoring")
    add_write_args(p)
    add_target_arg(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    spec = cluster_spec(args)
    target = target_named(args)
    if args.list:
        for line in target.backups(spec, context=args.context):
            output.out(line)
        return 0

    def confirm(changes: list[Change]) -> None:
        from kfws.plan.model import Plan
        from kfws.render.text import render_text

        plan = Plan(spec_path="", spec_digest="", fingerprint=(), changes=tuple(changes))
        output.out(render_text(plan, colour=output.use_colour(sys.stdout)), end="")
        if not args.auto_approve:
            ask("Roll back to this config?", what="rollback")

    for line in target.rollback(
        spec,
        to=args.to,
        context=args.context,
        lock_timeout=args.lock_timeout,
        rollout_timeout=args.rollout_timeout,
        allow_gitops_owned=args.allow_gitops_owned,
        confirm=confirm,
        reporter=output,
    ):
        output.out(line)
    return 0


def ask(question: str, *, what: str) -> None:
    """Asks on the terminal; only 'yes' goes on. Without a terminal it refuses (CI must say
    --auto-approve)."""
    if not sys.stdin.isatty():
        raise KfwsError(
            f"refusing to {what} without confirmation: no terminal to ask on",
            where=what,
            hint="review what is shown above and pass --auto-approve",
        )
    output.err(f"{question} Only 'yes' is accepted: ", end="")
    if sys.stdin.readline().strip() != "yes":
        raise KfwsError(f"{what} cancelled; nothing was changed", where=what)
