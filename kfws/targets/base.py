"""What every cluster target does: the seam between kfws and the objects it edits on a cluster.

A *target* is one kind of cluster object whose image list kfws reconciles: the Kubeflow 1.x
spawner ConfigMap (`kfws.targets.spawner`), a Notebooks 2.0 WorkspaceKind, ... Like
pre-commit's languages (`lang_base.Language`), a target is a module (or package) whose
module-level names satisfy the `Target` Protocol below; there is no class hierarchy. The one
registration table is `kfws.targets.all_targets.TARGETS`, typed `dict[str, Target]` so mypy
checks each target against this Protocol. The rest of kfws (observe, the planner, apply, the
renderers, the saved-plan compare, drift, import, rollback) dispatches through that table and
never names a target.

How a change names its target: each target declares its change kinds as `ClusterKind` values
(`KINDS`, in apply order) whose `target` is the target's table name. A plan writes the kind's
`value` ("update-spawner"); reading a plan looks the value up among the image kinds and every
registered target's kinds (kfws.targets.dispatch), so old saved plans keep reading.

Adding a target:
1. a package `kfws/targets/NAME/` whose `__init__.py` binds the names below (keep the
   `kubernetes` imports inside functions: the table is imported by every command);
2. one line in `kfws/targets/all_targets.py`;
3. its section of the workspace schema and spec (kfws/spec), and its tests under tests/.
Shared machinery lives beside this Protocol, not inside a target: the apply lock
(`kfws.targets.lock`), connected clients (`kfws.targets.clients`), the locked apply runner
(`kfws.targets.run`) and the change kinds and views below.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from kfws.plan.model import Change, ClusterKind, Observation

if TYPE_CHECKING:
    from kfws.drift import Judged
    from kfws.observe.registry import RegistryClient
    from kfws.output import Reporter
    from kfws.plan.images import ImagesPlanPart
    from kfws.plan.model import Plan
    from kfws.spec.model import ClusterSpec, Spec
    from kfws.targets.clients import Clients
    from kfws.targets.lock import ApplyLock
    from kfws.usage.model import EntryUsage

__all__ = [
    "ApplyContext",
    "ChangeView",
    "ClusterKind",
    "Imported",
    "Offer",
    "PlanPart",
    "Target",
]


@dataclass(frozen=True)
class Offer:
    """One image the workspace file offers users through a target: `image` as declared (a
    managed image's name or a full reference), `noun` what the plan calls it ("spawner
    option", pluralised with an s) and `where` which of the target's entries offers it, if the
    noun alone does not say (e.g. "jupyterlab value lab"); `jupyter`, which of Kubeflow's
    contracts the image must meet (kfws.check)."""

    image: str
    noun: str
    where: str | None = None
    jupyter: bool = True  # the contract it must meet: Jupyter's, else VS Code / RStudio's

    def subject(self) -> str:
        """How a plan warning names it: "spawner option REF (WHERE)"."""
        return f"{self.noun} {self.image}" + (f" ({self.where})" if self.where else "")


@dataclass(frozen=True)
class PlanPart:
    """A target's share of a plan (pure data): its changes in apply order, the observations
    they depend on (the saved plan's fingerprint) and warnings for the reader."""

    changes: tuple[Change, ...] = ()
    observations: tuple[Observation, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChangeView:
    """How the renderers show one of the target's changes (they sanitise every field).
    `lists`: (title, items, is_group) blocks, e.g. a group's options; `lines`: short facts
    ("mode rollout"); `diff`: unified diff lines of what is written; `offers`: (image it now
    offers, the image it replaces or None), which the plan weighs (kfws.plan.sizes)."""

    brief: str
    title: str = ""  # what the lists are of, e.g. "Spawner"
    lists: tuple[tuple[str, tuple[str, ...], bool], ...] = ()
    lines: tuple[str, ...] = ()
    diff: tuple[str, ...] = ()
    offers: tuple[tuple[str, str | None], ...] = ()


@dataclass
class ApplyContext:
    """What a target's apply gets from the shared runner (kfws.targets.run): connected clients,
    the apply lock it holds (renew it during long waits), and the digests the image step
    pushed (repository -> digest) and knows (reference -> digest)."""

    clients: Clients
    lock: ApplyLock
    reporter: Reporter
    rollout_timeout: float
    pushed: Mapping[str, str] = field(default_factory=dict)
    known_digests: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Imported:
    """`kfws import`: the workspace file's text with the target's section written, what was
    left out and why, and what was imported ("Wrote WHAT into FILE: DETAIL")."""

    text: str
    notes: tuple[str, ...] = ()
    what: str = ""  # e.g. "the live spawner lists"
    detail: str = ""  # e.g. "image (3), imageGroupOne (1)"


class Target(Protocol):
    """The module-level names of a target. `state` is the target's own immutable observation
    (opaque to the rest of kfws, hence Any)."""

    KINDS: tuple[ClusterKind, ...]  # its change kinds, in the order apply runs them

    def observe(
        self, spec: Spec, *, context: str | None, reporter: Reporter, undeclared: bool = False
    ) -> Any | None:
        """The live state the plan needs (reads only); None when the workspace declares
        nothing for this target, unless `undeclared` (usage and prune must see what the cluster
        offers whether or not the workspace manages it): then None only when the cluster has
        nothing of this target to read."""
        ...

    def declared_offers(self, spec: Spec) -> tuple[Offer, ...]:
        """Pure, and cheap (imports nothing when the workspace declares nothing for it): the
        images the workspace file offers through this target, in file order (what the plan
        looks up, sizes and architecture-checks; kfws.targets.dispatch.declared_offers)."""
        ...

    def offered_images(self, state: Any) -> tuple[str, ...]:
        """The image references the target offers users right now, as written there, defaults
        included (for sizes, usage and prune). Raises ClusterError when it can't tell."""
        ...

    def usage_counts(self, state: Any) -> tuple[EntryUsage, ...]:
        """Pure: per entry the target offers, the users its own objects count (`kfws usage`);
        () when the target counts none (the spawner: notebooks are counted from Notebook
        objects, kfws.observe.notebooks)."""
        ...

    def backup_subject(self, text: str) -> str | None:
        """Pure: what a text kept in a kfws backup ConfigMap is a backup of, as a reader says it
        ("the spawner config", "WorkspaceKind jupyterlab"), when it is this target's kind of
        backup; else None. The text is hostile: anything unexpected is None, never an error."""
        ...

    def applied_digests(self, state: Any) -> Mapping[str, str]:
        """reference -> digest, as kfws recorded when it last applied (a moved tag shows)."""
        ...

    def last_writer(self, state: Any) -> str | None:
        """Who last wrote the live object ("'kubectl-edit' (Update) at …"), for stale plans."""
        ...

    def plan(self, spec: Spec, state: Any, images: ImagesPlanPart) -> PlanPart:
        """Pure: the changes that make the live state what the workspace declares."""
        ...

    def view(
        self, change: Change, code: Callable[[str], str], text: Callable[[str], str]
    ) -> ChangeView:
        """Pure: how one of its changes is shown; `code` quotes a reference, `text` escapes a
        note, as the output format needs (every field of a saved plan is hostile)."""
        ...

    def apply(self, changes: Sequence[Change], ctx: ApplyContext) -> list[str]:
        """Writes its changes (plan order) under the lock ctx holds; one line per thing done.
        A failure raises a KfwsError saying what state the object was left in."""
        ...

    def drift(
        self,
        spec: Spec,
        plan: Plan,
        state: Any,
        *,
        context: str | None,
        registry: RegistryClient,
        parallelism: int,
        offline: bool,
    ) -> list[Judged]:
        """What drifted since kfws applied (reads only): per object judged, the checks run on
        it (passed ones too) and what they found."""
        ...

    def import_into(
        self, text: str | None, cluster: ClusterSpec, *, context: str | None
    ) -> Imported:
        """The workspace file (None: a new one) with the target's section written from the
        live state, so a plan right after shows no change for it."""
        ...

    def backups(self, cluster: ClusterSpec, *, context: str | None) -> list[str]:
        """Lines listing the versions kept before kfws writes (`kfws rollback --list`)."""
        ...

    def rollback(
        self,
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
        """Restores a kept version (the newest, or `to`) through the same locked path as
        apply; `confirm` sees the changes first and raises to stop."""
        ...
