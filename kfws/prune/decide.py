"""Which tags prune deletes and why each other one is kept (pure).

Only tags kfws built (its labels on the image) are candidates; every other tag is left alone.
A candidate is kept when it is offered now (any target), used by a notebook (by tag, by digest,
or its pod runs the digest), named by a kfws backup of a target (so rollback keeps working;
the reason names what the backup is of: the spawner config, WorkspaceKind NAME),
among the newest `keep` kfws tags of its repository (by when kfws built it, not by the config's
`created`: kfws.images.built_at), or when it shares its manifest with a kept tag (a manifest
DELETE removes every tag on it). Everything else is deleted, one DELETE per manifest. The
space it frees is counted per repository from the blobs only deleted manifests use: shared
layers stay."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from kfws.images.built_at import newest_first_key
from kfws.usage.model import NotebookUse
from kfws.usage.refs import Ref
from kfws.usage.report import how_used

KFWS_LABELS = ("dev.kfws.input-digest", "dev.kfws.image-name")
HOW = {"tag": "by tag", "digest": "by digest", "runs": "its pod runs this digest"}


@dataclass(frozen=True)
class TagInfo:
    repository: str
    tag: str
    digest: str
    labels: Mapping[str, str]
    created: str | None  # RFC 3339 from the image config
    size: int | None
    blobs: tuple[tuple[str, int], ...] = ()

    @property
    def kfws_built(self) -> bool:
        return any(label in self.labels for label in KFWS_LABELS)

    @property
    def ref(self) -> str:
        return f"{self.repository}:{self.tag}"


@dataclass(frozen=True)
class Decision:
    tag: TagInfo
    action: str  # "delete" | "keep" | "leave" (not built by kfws: never a candidate)
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Deletion:
    repository: str
    digest: str
    tags: tuple[str, ...]


@dataclass(frozen=True)
class PrunePlan:
    decisions: tuple[Decision, ...]  # by repository, newest first
    deletions: tuple[Deletion, ...]  # one per manifest
    freed: int  # bytes of blobs only deleted manifests use (after garbage collection)
    keep: int

    @property
    def deleted_tags(self) -> tuple[Decision, ...]:
        return tuple(d for d in self.decisions if d.action == "delete")


def named(refs: Iterable[Ref], t: TagInfo) -> bool:
    """Does any of `refs` name this tag or its manifest?"""
    return any(
        r.repository == t.repository and (r.tag == t.tag or r.digest == t.digest) for r in refs
    )


def _newest_first(tags: Iterable[TagInfo]) -> list[TagInfo]:
    # by kfws's dev.kfws.built-at label, else the config's `created` (BuildKit repeats it across
    # builds: kfws.images.built_at); equal times by tag, an image with neither counts as oldest
    return sorted(tags, key=lambda t: newest_first_key(t.labels, t.created, t.tag), reverse=True)


def decide(
    tags: Sequence[TagInfo],
    *,
    keep: int,
    offered: Iterable[Ref],
    notebooks: Iterable[NotebookUse],
    backups: Iterable[tuple[Ref, str]],
) -> PrunePlan:
    """`backups`: each image reference a kfws backup names, with what that backup is of
    ("the spawner config", "WorkspaceKind jupyterlab"; the keep reason names it)."""
    offered, backups, notebooks = list(offered), list(backups), list(notebooks)
    decisions: list[Decision] = []
    deletions: list[Deletion] = []
    freed = 0
    for repository in sorted({t.repository for t in tags}):
        ordered = _newest_first(t for t in tags if t.repository == repository)
        newest = {t.tag for t in [t for t in ordered if t.kfws_built][:keep]}
        reasons: dict[str, list[str]] = {}
        for t in ordered:
            why = reasons.setdefault(t.tag, [])
            if not t.kfws_built:
                why.append("not built by kfws (no kfws labels): never pruned")
                continue
            if named(offered, t):
                why.append("offered now")
            for nb in notebooks:
                how = how_used(nb, t.repository, t.tag, t.digest)
                if how:
                    state = "stopped" if nb.stopped else "running"
                    why.append(f"used by notebook {nb.key} ({state}, {HOW[how]})")
            for of in dict.fromkeys(of for r, of in backups if named((r,), t)):
                why.append(f"named by a kfws backup of {of} (rollback needs it)")
            if t.tag in newest:
                why.append(f"among the newest {keep} kfws tags of {repository}")
        kept_digests = {t.digest: t.tag for t in ordered if reasons[t.tag]}
        for t in ordered:
            if not reasons[t.tag] and t.digest in kept_digests:
                reasons[t.tag].append(
                    f"shares its manifest {t.digest[:19]}… with the kept tag "
                    f"{kept_digests[t.digest]} (deleting it would delete both)"
                )
        gone: dict[str, list[str]] = {}
        for t in ordered:
            why = reasons[t.tag]
            if not t.kfws_built:
                decisions.append(Decision(t, "leave", tuple(why)))
            elif why:
                decisions.append(Decision(t, "keep", tuple(why)))
            else:
                decisions.append(
                    Decision(
                        t,
                        "delete",
                        (
                            f"older than the newest {keep}; not offered, used by "
                            "a notebook or named by a backup",
                        ),
                    )
                )
                gone.setdefault(t.digest, []).append(t.tag)
        deletions += [Deletion(repository, d, tuple(sorted(ts))) for d, ts in gone.items()]
        freed += _freed(ordered, set(gone))
    return PrunePlan(tuple(decisions), tuple(deletions), freed, keep)


def _freed(tags: Sequence[TagInfo], deleted: set[str]) -> int:
    kept_blobs = {b for t in tags if t.digest not in deleted for b, _ in t.blobs}
    sizes = {b: s for t in tags if t.digest in deleted for b, s in t.blobs if b not in kept_blobs}
    return sum(sizes.values())
