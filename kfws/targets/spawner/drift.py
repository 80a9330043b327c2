"""The spawner target's drift (pure): the fresh plan's spawner change, and a DriftObserved
gathered by kfws.targets.spawner.drift_observe (what kfws recorded when it last applied, who
wrote the ConfigMap since, the web app's pods, the offered images' digests) -> Findings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from kfws.drift import IMAGES, MATCHES, RELOADED, UNCHANGED, DriftKind, Finding, Judged
from kfws.plan.model import Change, Plan
from kfws.targets.spawner.kinds import UPDATE
from kfws.targets.spawner.state import SpawnerState
from kfws.targets.spawner.view import show_value


@dataclass(frozen=True)
class ManagerEntry:
    """One managedFields entry of the ConfigMap: who last wrote it, how, when."""

    manager: str
    operation: str
    time: str | None  # RFC 3339
    # whether its managedFields cover the spawner config key (`f:data` / the key): only such a
    # manager can have changed the lists; one that set only labels or annotations is not blamed
    covers_key: bool = True


@dataclass(frozen=True)
class AppliedRecord:
    """What kfws recorded on the ConfigMap when it last applied."""

    config_map: str
    owned_hash: str  # hash of the owned lists and flags as applied
    applied_at: str | None  # RFC 3339
    option_digests: Mapping[str, str] = field(default_factory=dict)  # option ref -> digest
    text_hash: str | None = None  # "sha256:…" of the whole text kfws wrote (applied-hash)


@dataclass(frozen=True)
class DriftObserved:
    config_map: str  # the ConfigMap the web app mounts now
    live_owned_hash: str  # hash of the owned lists and flags as they are now
    record: AppliedRecord | None  # None: kfws never applied to this ConfigMap
    managers: tuple[ManagerEntry, ...] = ()
    pods_started: tuple[tuple[str, str], ...] = ()  # (pod name, RFC 3339 start time)
    option_digests: Mapping[str, str | None] = field(default_factory=dict)  # live option refs
    option_errors: Mapping[str, str] = field(default_factory=dict)
    restart_mode: str = "rollout"
    namespace: str = ""
    live_text_hash: str | None = None  # "sha256:…" of the live text of the key

    @property
    def config_map_target(self) -> str:
        return f"configmap/{self.namespace}/{self.config_map}".replace("//", "/")


def judged(state: SpawnerState, plan: Plan, observed: DriftObserved | None) -> Judged:
    """The spawner's checks, titled with the ConfigMap the web app mounts."""
    return Judged(
        f"ConfigMap {state.namespace}/{state.config_map}",
        (MATCHES, UNCHANGED, IMAGES, RELOADED),
        tuple(findings(plan, observed)),
    )


def findings(plan: Plan, observed: DriftObserved | None) -> list[Finding]:
    """The spawner's drift: the plan's spawner change (the live lists are not as declared), and
    what changed since kfws applied (`observed`: None when the cluster was not read)."""
    found: list[Finding] = []
    for change in plan.changes:
        if change.kind is UPDATE:
            found.append(
                Finding(
                    DriftKind.NOT_AS_DECLARED,
                    change.target,
                    f"the spawner config differs from workspace.yaml: {declared_vs_live(change)}",
                )
            )
    if observed is not None:
        found.extend(_since_apply(observed))
        found.extend(_images(observed))
        found.extend(_reload(observed))
    return found


def declared_vs_live(change: Change) -> str:
    """The plan's spawner diff (live -> declared) told from the cluster's side, as drift reads
    it: what is missing on the cluster, what it offers that is not declared. Falls back to the
    plan's reason when the change carries no structured diff."""
    diff = change.details.get("diff")
    groups = diff.get("groups") if isinstance(diff, Mapping) else None
    flags = diff.get("flags") if isinstance(diff, Mapping) else None
    if not isinstance(groups, Mapping) or not isinstance(flags, Mapping):
        return change.reason
    parts: list[str] = []
    for key, g in groups.items():
        if not isinstance(g, Mapping):
            continue
        bits = [
            f"{r.get('before')} on the cluster where {r.get('after')} is declared"
            for r in g.get("replaced") or []
            if isinstance(r, Mapping)
        ]
        if g.get("added"):
            bits.append(f"missing on the cluster: {', '.join(map(str, g['added']))}")
        if g.get("removed"):
            bits.append(f"on the cluster but not declared: {', '.join(map(str, g['removed']))}")
        if g.get("reordered"):
            bits.append("in another order on the cluster")
        default = g.get("default")
        if isinstance(default, Mapping):
            bits.append(
                f"default is {show_value(default.get('before'))} on the cluster, declared "
                f"{show_value(default.get('after'))}"
            )
        parts.append(f"{key}: {'; '.join(bits) or 'differs'}")
    for name, f in flags.items():
        if isinstance(f, Mapping):
            parts.append(
                f"{name} is {show_value(f.get('before'))} on the cluster, declared "
                f"{show_value(f.get('after'))}"
            )
    return "; ".join(parts) or change.reason


def _since_apply(obs: DriftObserved) -> list[Finding]:
    record = obs.record
    if record is None:
        return []
    if record.config_map != obs.config_map:
        return [
            Finding(
                DriftKind.REPLACED,
                obs.config_map_target,
                f"the web app now mounts {obs.config_map}, not {record.config_map} that kfws "
                "applied to: the Kubeflow manifests were re-deployed and the lists reset; "
                "run `kfws apply` to put them back",
            )
        ]
    if record.owned_hash == obs.live_owned_hash:
        return []
    if record.text_hash is not None and record.text_hash == obs.live_text_hash:
        return []  # the key is byte for byte what kfws wrote
    others = [m for m in obs.managers if m.manager != "kfws" and m.covers_key]
    latest = max(others, key=lambda m: m.time or "", default=None)
    who = (
        f" by {latest.manager!r} ({latest.operation}) at {latest.time or 'an unknown time'}"
        if latest
        else ""
    )
    return [
        Finding(
            DriftKind.CHANGED_OUT_OF_BAND,
            obs.config_map_target,
            f"the image lists were changed since kfws applied them{who}",
        )
    ]


def _images(obs: DriftObserved) -> list[Finding]:
    findings: list[Finding] = []
    applied = obs.record.option_digests if obs.record else {}
    for ref in sorted(set(obs.option_digests) | set(obs.option_errors)):
        if ref in obs.option_errors:
            findings.append(
                Finding(DriftKind.UNCHECKED, ref, f"not checked: {obs.option_errors[ref]}")
            )
            continue
        digest = obs.option_digests[ref]
        if digest is None:
            findings.append(
                Finding(
                    DriftKind.DANGLING,
                    ref,
                    "offered in the spawner but missing from its registry: notebooks from it "
                    "will fail to start",
                )
            )
        elif ref in applied and "@" not in ref and applied[ref] != digest:
            findings.append(
                Finding(
                    DriftKind.MOVED,
                    ref,
                    f"the tag now points to {digest}, not {applied[ref]} as when applied",
                )
            )
    return findings


def _reload(obs: DriftObserved) -> list[Finding]:
    if obs.record is None or obs.record.applied_at is None or obs.restart_mode == "none":
        return []
    applied_at = obs.record.applied_at
    return [
        Finding(
            DriftKind.NOT_RELOADED,
            f"pod/{name}",
            f"started {started}, before the last apply ({applied_at}): it may still show the "
            "old image list",
        )
        for name, started in obs.pods_started
        if started < applied_at  # RFC 3339 UTC strings of one format sort as times
    ]
