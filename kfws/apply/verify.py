"""The verify step: run the Kubeflow contract check on the images about to be offered, skip the
ones whose digest already passed, remember new passes. Shared by `kfws apply` (before the
cluster step) and `kfws check`."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Literal

from kfws.check import CheckKind, cache_key, nb_prefix
from kfws.errors import KfwsError
from kfws.observe.check_cache import CheckCache
from kfws.output import Reporter

Status = Literal["passed", "failed", "remembered", "skipped"]
CHECK_NAME = "check"  # the notebook name in NB_PREFIX: /notebook/<namespace>/check


@dataclass(frozen=True)
class CheckTarget:
    name: str  # the managed image's name (or the reference, for an image kfws doesn't build)
    reference: str  # "host/repo:tag"
    digest: str | None  # the registry digest, when known
    kinds: tuple[CheckKind, ...]


@dataclass(frozen=True)
class CheckOutcome:
    target: CheckTarget
    kind: CheckKind
    status: Status
    failures: tuple[str, ...] = ()
    log: tuple[str, ...] = ()
    seconds: float = 0.0
    error: str = ""  # the engine could not run the check at all


@dataclass
class VerifyOptions:
    namespace: str
    timeout: float
    skip: Collection[str] = ()
    force: bool = False  # check again even if this digest passed before
    parallelism: int = 2
    prober: str | None = None
    cache: CheckCache = field(default_factory=CheckCache)


def run_checks(
    targets: Sequence[CheckTarget], opts: VerifyOptions, reporter: Reporter
) -> list[CheckOutcome]:
    """Checks every (target, kind) not skipped or remembered; returns one outcome each, in order."""
    passed = frozenset() if opts.force else opts.cache.passed()
    work: list[tuple[CheckTarget, CheckKind]] = []
    outcomes: dict[tuple[str, CheckKind], CheckOutcome] = {}
    for t in targets:
        for kind in t.kinds:
            if t.name in opts.skip:
                outcomes[(t.name, kind)] = CheckOutcome(t, kind, "skipped")
            elif t.digest and cache_key(t.digest, kind) in passed:
                outcomes[(t.name, kind)] = CheckOutcome(t, kind, "remembered")
            else:
                work.append((t, kind))
    if work:
        from kfws.observe.contract import ContractRunner

        runner = ContractRunner(opts.prober)
        prefix = nb_prefix(opts.namespace, CHECK_NAME)

        def one(item: tuple[CheckTarget, CheckKind]) -> CheckOutcome:
            t, kind = item
            try:
                image_id = runner.ensure_image(t.reference, t.digest)
                keys = [cache_key(k, kind) for k in (t.digest, image_id) if k]
                if any(k in passed for k in keys):
                    return CheckOutcome(t, kind, "remembered")
                reporter.progress(f"{t.reference}: checking the {kind.title} contract")
                run = runner.run(image_id, kind, prefix, opts.timeout, t.name)
            except KfwsError as e:
                return CheckOutcome(t, kind, "failed", error=e.render())
            from kfws.check import verdict

            failures = verdict(run.facts)
            if failures:
                return CheckOutcome(t, kind, "failed", tuple(failures), tuple(run.log), run.seconds)
            opts.cache.record(keys, t.reference)
            return CheckOutcome(t, kind, "passed", seconds=run.seconds)

        pool = ThreadPoolExecutor(max_workers=max(1, min(opts.parallelism, len(work))))
        try:
            for item, outcome in zip(work, pool.map(one, work), strict=True):
                outcomes[(item[0].name, item[1])] = outcome
        except KeyboardInterrupt:
            pool.shutdown(wait=False, cancel_futures=True)
            runner.close()
            raise
        pool.shutdown()
    return [outcomes[(t.name, k)] for t in targets for k in t.kinds]


def describe(outcomes: Sequence[CheckOutcome]) -> list[str]:
    """The lines a user reads: one per check, failures with their log tails."""
    lines: list[str] = []
    for o in outcomes:
        head = f"{o.target.name} ({o.target.reference}), {o.kind.title} contract:"
        if o.status == "passed":
            lines.append(f"  ✓ {head} passed in {o.seconds:.1f} s")
        elif o.status == "remembered":
            lines.append(f"  ✓ {head} passed before (same digest), not re-checked")
        elif o.status == "skipped":
            lines.append(f"  - {head} NOT checked (--skip-check)")
        else:
            lines.append(f"  ✗ {head} FAILED")
            if o.error:
                lines += ["      " + t for t in o.error.splitlines()]
            lines += [f"      - {f}" for f in o.failures]
            if o.log:
                lines.append("      the container's last log lines:")
                lines += [f"        | {t}" for t in o.log]
    return lines


def failed(outcomes: Sequence[CheckOutcome]) -> list[CheckOutcome]:
    return [o for o in outcomes if o.status == "failed"]
