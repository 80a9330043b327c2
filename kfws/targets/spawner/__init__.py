"""The Kubeflow 1.x target: the image lists and flags of the Jupyter web app's
`spawner_ui_config.yaml` ConfigMap key, and the web app's restart after a change. Its
module-level names satisfy kfws.targets.base.Target:

  kinds.py        its change kinds (update-spawner, restart-webapp)
  state.py        SpawnerState: what it observes
  observe.py      find the web app and the ConfigMap it mounts (reads only)
  config_yaml.py  read spawner_ui_config.yaml; config_edit.py edits it, keeping every other byte
  plan.py         the pure planner part (exact / merge, defaults, the structured diff)
  view.py         how its changes are shown
  annotations.py  what kfws records on the ConfigMap, read back by plan, drift and rollback
  write.py        the config write (precondition, dry run, backup, patch)
  restart.py      the web app's restart (rollout / delete-pods / none)
  applier.py      its apply: the write then the restart, under the shared lock
  restore.py      kept versions and the restore
  import_.py      `kfws import`: the live lists into the workspace's `spawner` section
  drift.py        its drift findings (pure); drift_observe.py gathers their inputs

The table imports this package for every command: apply, rollback and import are imported by
the function that runs them, so a plan does not load the write, restart, lock and backup code.
"""

from __future__ import annotations

# Its submodules observe.py, plan.py, view.py and drift.py share names with the Protocol's
# functions: each is imported (directly or through another) before the function of its name is
# bound below, so no later import can rebind the attribute (tests/unit/targets/
# test_all_targets.py checks it). apply, rollback and import, imported when they run, live in
# applier.py, restore.py and import_.py. A new target had better avoid such names.
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kfws.output import Reporter
from kfws.plan.compare import last_writer as _last_writer
from kfws.plan.images import ImagesPlanPart, spawner_refs
from kfws.plan.model import Change
from kfws.spec.model import ClusterSpec, Spec
from kfws.targets.base import ApplyContext, Imported, Offer, PlanPart
from kfws.targets.spawner.annotations import applied_digests as _applied_digests
from kfws.targets.spawner.drift_observe import drift
from kfws.targets.spawner.kinds import KINDS
from kfws.targets.spawner.observe import observe_cluster, observe_if_there
from kfws.targets.spawner.plan import plan_spawner
from kfws.targets.spawner.state import SpawnerState
from kfws.targets.spawner.view import view

if TYPE_CHECKING:
    from kfws.usage.model import EntryUsage

__all__ = [
    "KINDS",
    "applied_digests",
    "apply",
    "backup_subject",
    "backups",
    "declared_offers",
    "drift",
    "import_into",
    "last_writer",
    "observe",
    "offered_images",
    "plan",
    "rollback",
    "usage_counts",
    "view",
]
# a kept spawner_ui_config.yaml: its top-level section (Kubeflow 1.0 and 1.3+ alike), found by
# a line scan rather than a parse (a backup's text is hostile, and prune reads every one)
_CONFIG_ROOT = re.compile(r"""^["']?spawnerFormDefaults["']?[ \t]*:""", re.MULTILINE)


def observe(
    spec: Spec, *, context: str | None, reporter: Reporter, undeclared: bool = False
) -> SpawnerState | None:
    """When the workspace declares spawner groups or flags; else, when `undeclared` (usage,
    prune), the web app's config if the namespace has one: None (and a line saying so) when it
    has no Jupyter web app, as on a Notebooks 2.0-only cluster. A workspace that declares the
    spawner gets the error instead: the web app it manages is missing (a wrong namespace?)."""
    s = spec.spawner
    flags = (s.allow_custom_image, s.hide_registry, s.hide_tag, s.image_pull_policy)
    declared = bool(s.groups) or any(v is not None for v in flags)
    if not (undeclared or declared):
        return None
    context = context or spec.cluster.context
    if declared:
        return observe_cluster(spec.cluster, context=context)
    state = observe_if_there(spec.cluster, context=context)
    if state is None:
        reporter.progress(
            f"no Jupyter web app in namespace {spec.cluster.namespace}: the Kubeflow 1.x "
            "spawner offers nothing there (if it runs in another namespace, set "
            "`cluster.namespace` or pass --namespace)"
        )
    return state


def declared_offers(spec: Spec) -> tuple[Offer, ...]:
    """Each group's options and its default (preselected, so offered too)."""
    refs = ((r, g.key) for g in spec.spawner.groups for r in (*g.options, g.default) if r)
    # Jupyter's group takes NB_PREFIX; VS Code's and RStudio's are served behind a rewrite
    offers = dict.fromkeys(refs)
    return tuple(Offer(r, "spawner option", jupyter=key == "image") for r, key in offers)


def offered_images(state: SpawnerState) -> tuple[str, ...]:
    """Every group's options and its preselected image. Raises ClusterError when the config
    does not parse."""
    from kfws.targets.spawner.config_yaml import read_spawner

    where = f"configmap/{state.namespace}/{state.config_map} key {state.config_key}"
    live = read_spawner(state.config_text, where=where)
    refs = [o for g in live.groups for o in g.options]
    refs += [g.value for g in live.groups if g.value]
    return tuple(dict.fromkeys(refs))


def usage_counts(state: SpawnerState) -> tuple[EntryUsage, ...]:
    return ()  # its users are Notebook objects, counted by kfws.observe.notebooks


def backup_subject(text: str) -> str | None:
    return "the spawner config" if _CONFIG_ROOT.search(text) else None


def applied_digests(state: SpawnerState) -> Mapping[str, str]:
    return _applied_digests(state.config_annotations)


def last_writer(state: SpawnerState) -> str | None:
    return _last_writer(state.config_managers)


def plan(spec: Spec, state: Any, images: ImagesPlanPart) -> PlanPart:
    return plan_spawner(spec, images.refs_by_tag, state, group_refs=spawner_refs(spec, images))


def apply(changes: Sequence[Change], ctx: ApplyContext) -> list[str]:
    from kfws.targets.spawner.applier import apply as _apply

    return _apply(changes, ctx)


def import_into(text: str | None, cluster: ClusterSpec, *, context: str | None) -> Imported:
    from kfws.targets.spawner.import_ import import_into as _import_into

    return _import_into(text, cluster, context=context)


def backups(cluster: ClusterSpec, *, context: str | None) -> list[str]:
    from kfws.targets.spawner.restore import backups as _backups

    return _backups(cluster, context=context)


def rollback(
    cluster: ClusterSpec,
    *,
    to: int | None,
    context: str | None,
    lock_timeout: float,
    rollout_timeout: float,
    allow_gitops_owned: bool,
    confirm: Callable[[list[Change]], None],
    reporter: Reporter,
) -> list[str]:
    from kfws.targets.spawner.restore import rollback as _rollback

    return _rollback(
        cluster,
        to=to,
        context=context,
        lock_timeout=lock_timeout,
        rollout_timeout=rollout_timeout,
        allow_gitops_owned=allow_gitops_owned,
        confirm=confirm,
        reporter=reporter,
    )
