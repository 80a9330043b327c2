"""The cluster step of an apply, shared by every target: refuse what a GitOps controller would
revert, connect once, take the apply lock (kfws.targets.lock) and hand each target its changes
in plan order (kfws.targets.all_targets dispatches by the change kind's target)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from kfws.errors import ApplyError
from kfws.output import Reporter
from kfws.plan.model import Change, ClusterKind
from kfws.targets.base import ApplyContext
from kfws.targets.clients import Clients
from kfws.targets.lock import ApplyLock


def refuse_gitops_owned(changes: Sequence[Change], *, allow: bool, built: str = "") -> None:
    """Apply refuses a cluster change Argo CD or Flux would revert; `kfws apply` calls this
    before any build or push too, so a refusal costs nothing and leaves nothing half done.
    A target says who owns what a change writes in `details["gitopsOwner"]`."""
    if allow:
        return
    for c in changes:
        owner = c.details.get("gitopsOwner")
        if owner:
            raise ApplyError(
                f"{c.target} is managed by {owner}: its next sync would revert this change. "
                f"Nothing was changed on the cluster{built}",
                where=c.target,
                hint="make the change in the Git source it syncs from, or pass "
                "--allow-gitops-owned to apply anyway",
            )


@contextmanager
def locked(
    namespace: str,
    *,
    context: str | None,
    lock_timeout: float,
    rollout_timeout: float,
    reporter: Reporter,
    pushed: Mapping[str, str] | None = None,
    known_digests: Mapping[str, str] | None = None,
) -> Iterator[ApplyContext]:
    """Connects and holds the apply lock in `namespace` for the block."""
    cl = Clients.connect(context)
    with ApplyLock(
        cl.api, namespace, timeout=lock_timeout, user=cl.identity(), reporter=reporter
    ) as lock:
        yield ApplyContext(
            cl, lock, reporter, rollout_timeout, dict(pushed or {}), dict(known_digests or {})
        )


def apply_cluster_changes(
    changes: Sequence[Change],
    namespace: str,
    *,
    context: str | None,
    lock_timeout: float,
    rollout_timeout: float,
    reporter: Reporter,
    allow_gitops_owned: bool = False,
    pushed: Mapping[str, str] | None = None,
    known_digests: Mapping[str, str] | None = None,
) -> list[str]:
    """Runs the cluster changes under the apply lock (in `namespace`), target by target in plan
    order; returns one line per thing done. Raises ApplyError / ClusterError saying what state
    the cluster was left in."""
    from kfws.targets.all_targets import TARGETS

    by_target: dict[str, list[Change]] = {}
    for c in changes:
        if isinstance(c.kind, ClusterKind):
            by_target.setdefault(c.kind.target, []).append(c)
    if not by_target:
        return []
    refuse_gitops_owned([c for cs in by_target.values() for c in cs], allow=allow_gitops_owned)
    unknown = sorted(set(by_target) - set(TARGETS))
    if unknown:
        raise ApplyError(f"the plan names cluster targets this kfws lacks: {', '.join(unknown)}")
    done: list[str] = []
    with locked(
        namespace,
        context=context,
        lock_timeout=lock_timeout,
        rollout_timeout=rollout_timeout,
        reporter=reporter,
        pushed=pushed,
        known_digests=known_digests,
    ) as ctx:
        for name, target_changes in by_target.items():
            done.extend(TARGETS[name].apply(target_changes, ctx))
    return done
