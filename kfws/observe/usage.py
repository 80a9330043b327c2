"""Everything `kfws usage` (and the plan's usage lines) needs, read in one go: the notebooks and
their pods, what the cluster offers now (and the users its targets count per entry, e.g. the
Workspaces of each WorkspaceKind value), the tags of the repositories the workspace builds into,
and whether the other images notebooks name still exist. Nothing here fails because the
identity lacks a permission: what it could not see is part of the answer."""

from __future__ import annotations

import dataclasses

from kfws.errors import KfwsError
from kfws.observe.inventory import managed_repositories, tag_digests
from kfws.observe.notebooks import observe_notebooks
from kfws.observe.observe import check_externals
from kfws.observe.offered import observe_offered
from kfws.observe.registry import RegistryClient
from kfws.output import Reporter
from kfws.plan.model import Plan
from kfws.spec.model import Spec
from kfws.usage.model import Notebooks
from kfws.usage.plan_notes import removed_options, usage_notes
from kfws.usage.report import MISSING, NOT_CHECKED, PRESENT, UsageReport, build_report
from kfws.usage.report import references_to_look_up as to_look_up


def observe_usage(
    spec: Spec,
    *,
    context: str | None,
    parallelism: int,
    offline: bool = False,
    client: RegistryClient | None = None,
    notebooks: Notebooks | None = None,
    reporter: Reporter,
) -> UsageReport:
    registry = client or RegistryClient(spec.registry_options)
    seen = notebooks if notebooks is not None else observe_notebooks(context)
    cluster = observe_offered(spec, context=context, reporter=reporter)
    offered, unseen = cluster.images, [*seen.unseen, *cluster.unseen]
    repos = managed_repositories(spec)
    tags = tag_digests(registry, repos, parallelism)
    refs = to_look_up(offered=offered, tags=tags, notebooks=seen)
    states = check_externals(spec, refs, registry, parallelism=parallelism, offline=offline)
    lookups: dict[str, tuple[str, str | None]] = {}
    for ref, state in states.items():
        if state.digest:
            lookups[ref] = (PRESENT, state.digest)
        elif state.skipped or state.error:
            lookups[ref] = (f"{NOT_CHECKED} ({state.skipped or state.error})", None)
        else:
            lookups[ref] = (MISSING, None)
    return build_report(
        offered=offered,
        tags=tags,
        managed_repositories=repos,
        notebooks=Notebooks(seen.notebooks, tuple(unseen), seen.notebooks_visible),
        lookups=lookups,
        entries=cluster.entries,
    )


def with_usage_notes(
    spec: Spec, plan: Plan, *, context: str | None, parallelism: int, offline: bool
) -> Plan:
    """The plan, with a warning for each option it stops offering that notebooks still use
    (or one saying their usage could not be seen). Never fails the plan: usage is advice."""
    removed = removed_options(plan)
    if not removed:
        return plan
    try:
        seen = observe_notebooks(context)
        registry = RegistryClient(spec.registry_options)
        # the digests of the options that go: a notebook pinned to one uses it too
        states = check_externals(spec, removed, registry, parallelism=parallelism, offline=offline)
        lookups = {ref: (PRESENT, s.digest) for ref, s in states.items() if s.digest}
        report = build_report(
            offered=removed, tags=[], managed_repositories=[], notebooks=seen, lookups=lookups
        )
        notes = usage_notes(removed, report)
    except KfwsError as e:
        notes = [f"which notebooks use the options this plan removes was not seen: {e.message}"]
    return dataclasses.replace(plan, warnings=(*plan.warnings, *notes))
