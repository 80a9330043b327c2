"""The Kubeflow Notebooks 2.0 target: the image values of WorkspaceKinds
(`spec.podTemplate.options.imageConfig`), cluster-scoped objects written by server-side apply
with field manager `kfws`. Its module-level names satisfy kfws.targets.base.Target; the table
imports this package for every command, so it imports only its change kind: each function
imports what it needs (a spawner-only plan loads nothing else of it).

  kinds.py     its change kind (update-workspacekind); the only module imported up front
  model.py     image values, live and declared (plain data)
  spec.py      the workspace file's `workspaceKinds:` section (file:line errors)
  state.py     a kind as the API returns it -> values, usage, field managers per value
  api.py       get / list / server-side apply of kinds (its only contact with the cluster)
  planner.py   the pure planner: add, change, retire (hide + redirect), remove; never what
               upstream's webhook refuses
  change.py    a kind's plan as plan data, and its fingerprint
  show.py      how its change reads
  write.py     the apply body (only kfws's fields)
  applier.py   the locked write: precondition, dry run, backup, server-side apply
  backup.py    what a backup keeps and the declaration that restores it
  restore.py   kept versions and the restore
  findings.py  drift findings (pure)
  import_.py   `kfws import`: live values into `workspaceKinds:`
  rbac.py      `kfws rbac --workspacekinds`
  usage.py     each value's Workspaces, from the kind's status (`kfws usage`)

(No submodule is named after a Protocol function, plan.py or view.py say: importing it would
replace the package attribute the targets table dispatches to.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kfws.plan.model import Change, Observation
from kfws.targets.base import ChangeView, Imported, Offer, PlanPart
from kfws.targets.workspacekind.kinds import KINDS, UPDATE

if TYPE_CHECKING:
    from collections.abc import Callable

    from kfws.drift import Judged
    from kfws.observe.registry import RegistryClient
    from kfws.output import Reporter
    from kfws.plan.images import ImagesPlanPart
    from kfws.plan.model import Plan
    from kfws.spec.model import ClusterSpec, Spec
    from kfws.targets.workspacekind.model import KindState
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


@dataclass(frozen=True)
class KindsState:
    kinds: tuple[KindState, ...]

    def kind(self, name: str) -> KindState | None:
        return next((k for k in self.kinds if k.name == name), None)


def observe(
    spec: Spec, *, context: str | None, reporter: Reporter, undeclared: bool = False
) -> KindsState | None:
    """Each kind the workspace declares, read by name; `undeclared` (usage, prune): every kind
    on the cluster when the file declares none (None when the cluster has no WorkspaceKind
    API: a 1.x cluster)."""
    if not (spec.workspace_kinds or undeclared):
        return None  # before any import: a spawner-only plan loads nothing more of this target
    from kfws.observe.cluster import load_api
    from kfws.targets.workspacekind.api import get_kind, list_kinds
    from kfws.targets.workspacekind.state import kind_state

    if spec.workspace_kinds:
        api = load_api(context or spec.cluster.context)
        return KindsState(tuple(kind_state(get_kind(api, k.name)) for k in spec.workspace_kinds))
    objs = list_kinds(load_api(context or spec.cluster.context), missing_ok=True)
    return KindsState(tuple(kind_state(o) for o in objs)) if objs is not None else None


def declared_offers(spec: Spec) -> tuple[Offer, ...]:
    """Each declared value's image (hidden ones too: they stay selectable by redirect). Its
    contract: Jupyter's when a port id (else the kind's name) says jupyter: a JupyterLab port
    takes NB_PREFIX."""
    return tuple(
        Offer(
            v.image,
            "WorkspaceKind image",
            f"{k.name} value {v.id}",
            jupyter=any("jupyter" in i for i in ([p.id for p in v.ports] if v.ports else [k.name])),
        )
        for k in spec.workspace_kinds
        for v in k.images
    )


def offered_images(state: KindsState) -> tuple[str, ...]:
    """Every value's image, hidden ones too: Workspaces may still run them."""
    return tuple(dict.fromkeys(v.value.image for k in state.kinds for v in k.values))


def usage_counts(state: KindsState) -> tuple[EntryUsage, ...]:
    """Every value of every kind observed, with the Workspaces its kind's status counts."""
    from kfws.targets.workspacekind.usage import entries

    return entries(state.kinds)


def backup_subject(text: str) -> str | None:
    from kfws.targets.workspacekind.backup import subject

    return subject(text)


def applied_digests(state: KindsState) -> Mapping[str, str]:
    return {}  # values are written by tag; kfws records no digests on a kind


def last_writer(state: KindsState) -> str | None:
    return None  # the resourceVersion names the moment; managers are named per value in drift


def plan(spec: Spec, state: Any, images: ImagesPlanPart) -> PlanPart:
    from kfws.targets.workspacekind.change import observation, parts
    from kfws.targets.workspacekind.planner import plan_kind

    changes, observations = [], []
    for decl in spec.workspace_kinds:
        kind = state.kind(decl.name)
        kp = plan_kind(decl, kind, images.refs_by_tag)
        observations.append(Observation(*observation(kind)))
        if kp.has_changes:
            changes.append(Change(UPDATE, **parts(kp, kind)))
    return PlanPart(tuple(changes), tuple(observations))


def view(change: Change, code: Callable[[str], str], text: Callable[[str], str]) -> ChangeView:
    from kfws.targets.workspacekind.show import offers, value_lines

    return ChangeView(
        brief=text(change.reason),
        title="WorkspaceKind values",
        lines=tuple(text(line) for line in value_lines(change.details)),
        offers=tuple(offers(change.before or {}, change.after or {})),
    )


def apply(changes: Any, ctx: Any) -> list[str]:
    from kfws.targets.workspacekind.applier import apply as _apply

    return _apply(changes, ctx)


def drift(
    spec: Spec,
    plan: Plan,
    state: Any,
    *,
    context: str | None,
    registry: RegistryClient,
    parallelism: int,
    offline: bool,
) -> list[Judged]:
    from kfws.targets.workspacekind.findings import judged

    return judged(plan, state)


def backups(cluster: ClusterSpec, *, context: str | None) -> list[str]:
    from kfws.targets.workspacekind.restore import backups as _backups

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
    from kfws.targets.workspacekind.restore import rollback as _rollback

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


def import_into(text: str | None, cluster: ClusterSpec, *, context: str | None) -> Imported:
    """The kinds the file declares, else every kind on the cluster."""
    import yaml

    from kfws.observe.cluster import load_api
    from kfws.targets.workspacekind.api import get_kind, list_kinds
    from kfws.targets.workspacekind.import_ import merge_kinds
    from kfws.targets.workspacekind.spec import SECTION
    from kfws.targets.workspacekind.state import kind_state

    try:
        doc = yaml.safe_load(text) if text else None
    except yaml.YAMLError:
        doc = None
    declared = doc.get(SECTION) if isinstance(doc, dict) else None
    api = load_api(context or cluster.context)
    if isinstance(declared, dict) and declared:
        kinds = [kind_state(get_kind(api, str(name))) for name in declared]
    else:
        kinds = [kind_state(obj) for obj in list_kinds(api) or []]
    out, notes = merge_kinds(text, kinds)
    detail = ", ".join(f"{k.name} ({len(k.values)})" for k in kinds) or "no WorkspaceKind"
    return Imported(out, tuple(notes), what="the live WorkspaceKind image values", detail=detail)
