"""The spawner target's apply: the config write, then the web app restart, under the lock the
shared runner holds (kfws.targets.run). Before the write, the pushed digests go where a
`pin: digest` option waited for them, and the digest of each offered image is recorded so a
later `kfws drift` tells when a tag was moved."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kfws.errors import ApplyError, KfwsError
from kfws.plan.model import PENDING_DIGEST, Change
from kfws.targets.base import ApplyContext
from kfws.targets.spawner.config_yaml import read_spawner
from kfws.targets.spawner.kinds import RESTART, UPDATE
from kfws.targets.spawner.restart import restart_webapp
from kfws.targets.spawner.write import write_config


def apply(changes: Sequence[Change], ctx: ApplyContext) -> list[str]:
    """A plan's changes: the pushed digests filled in and recorded first."""
    return apply_changes(
        [
            with_applied_digests(fill_pending_digests(c, ctx.pushed), ctx.known_digests)
            for c in changes
        ],
        ctx,
    )


def apply_changes(
    changes: Sequence[Change], ctx: ApplyContext, *, backup: str = "push"
) -> list[str]:
    """UPDATE then RESTART, as given (a rollback's restore too). `backup`: see write_config."""
    done: list[str] = []
    updated = False
    for c in sorted(changes, key=lambda c: c.kind is RESTART):
        if c.kind is UPDATE:
            done.append(
                write_config(ctx.clients, c, lock=ctx.lock, reporter=ctx.reporter, backup=backup)
            )
            updated = True
        else:
            try:
                done.append(
                    restart_webapp(
                        ctx.clients,
                        c,
                        timeout=ctx.rollout_timeout,
                        lock=ctx.lock,
                        reporter=ctx.reporter,
                    )
                )
            except KfwsError as e:
                if updated and "IS applied" not in e.message:
                    e.message = "the spawner config change IS applied, but " + e.message
                raise
    return done


def fill_pending_digests(change: Change, digests: Mapping[str, str]) -> Change:
    """Puts the pushed digests (repository -> digest) where a `pin: digest` option waited."""
    if not isinstance(change.after, str) or PENDING_DIGEST not in change.after:
        return change
    text = change.after
    for repository, digest in digests.items():
        text = text.replace(f"{repository}@{PENDING_DIGEST}", f"{repository}@{digest}")
    if PENDING_DIGEST in text:
        raise ApplyError(
            "a pinned spawner option still waits for a digest that no push produced; "
            "the cluster was not touched",
            where=change.target,
            hint="re-run `kfws plan`",
        )
    return Change(change.kind, change.target, change.reason, change.before, text, change.details)


def with_applied_digests(change: Change, known: Mapping[str, str]) -> Change:
    """Records on the change the digest each image it offers had when applied (`known`:
    reference -> digest, from the registry, the pushes and the external lookups)."""
    if change.kind is not UPDATE or not isinstance(change.after, str):
        return change
    live = read_spawner(change.after)
    offered = {o for g in live.groups for o in g.options}
    applied = {ref: known[ref] for ref in sorted(offered) if ref in known}
    details = {**change.details, "appliedDigests": applied}
    return Change(change.kind, change.target, change.reason, change.before, change.after, details)
