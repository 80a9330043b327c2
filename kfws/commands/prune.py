"""kfws prune: delete the kfws-built tags nobody needs, beyond the newest N per repository.

Dry run by default. It deletes nothing it cannot prove unneeded: without the usage ClusterRole
(notebooks and their pods), or when it cannot read what the cluster offers or kfws's backups,
it stops before deciding."""

from __future__ import annotations

import argparse

from kfws import output
from kfws.commands.common import add_file_arg, add_format_arg, add_target_args, load
from kfws.errors import KfwsError


def register(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Delete kfws-built tags (recognised by kfws's image labels) in the repositories the "
        "workspace builds into, beyond the newest --keep per repository. Never one that is "
        "offered now, used by any notebook (by tag, by digest, or running its digest), "
        "named by a kfws backup (of the spawner config or a WorkspaceKind: rollback keeps "
        "working), or that "
        "shares its manifest with a tag that stays. Dry run by default: what it would "
        "delete, why each other tag stays, sizes. --yes deletes through the registry API "
        "(DELETE /v2/<name>/manifests/<digest>); the space comes back after the registry's "
        "garbage collection. Needs the usage ClusterRole (`kfws rbac --role usage`) and "
        "the read-only Role."
    )
    add_file_arg(p)
    add_target_args(p)
    add_format_arg(p, ("text", "json"))
    p.add_argument(
        "--keep",
        type=_keep,
        default=3,
        help="kfws tags to keep per repository, newest first, whatever else keeps them",
    )
    p.add_argument("--yes", action="store_true", help="delete (default: only show what would go)")
    p.set_defaults(run=run)


def _keep(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 0 <= value <= 10_000:
        raise argparse.ArgumentTypeError(f"must be between 0 and 10000, not {value}")
    return value


def run(args: argparse.Namespace) -> int:
    from kfws.observe.prune import observe_prune
    from kfws.observe.registry import RegistryClient
    from kfws.observe.registry.config_cache import ConfigCache
    from kfws.render.prune import render_prune

    spec = load(args.file, namespace=args.namespace)
    with RegistryClient(spec.registry_options, config_cache=ConfigCache()) as client:
        plan = observe_prune(
            spec,
            client,
            keep=args.keep,
            context=args.context,
            parallelism=args.parallelism,
            reporter=output,
        )
        if not args.yes or not plan.deletions:
            output.out(render_prune(plan, args.format), end="", raw=True)
            return 0
        done = 0
        try:
            for deletion in plan.deletions:
                client.delete_manifest(deletion.repository, deletion.digest)
                done += 1
        except KfwsError as e:
            total = len(plan.deletions)
            e.message += f"; {done} of the {total} manifests to delete were deleted before this"
            raise
    output.out(render_prune(plan, args.format, deleted=True), end="", raw=True)
    return 0
