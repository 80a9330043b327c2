"""Who uses which image (pure): notebooks matched against the images offered now and the tags in
the repositories kfws builds into, by tag, by digest, or by the digest their pod runs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from kfws.usage.model import EntryUsage, Notebooks, NotebookUse
from kfws.usage.refs import Ref, ref

PRESENT, MISSING, NOT_CHECKED = "present", "missing", "not checked"


@dataclass(frozen=True)
class Use:
    namespace: str
    name: str
    stopped: bool
    how: str  # "tag" | "digest" | "runs" (names another tag; its pod runs this digest)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class ImageUsage:
    image: str  # as offered or tagged ("host/repo:tag" or "host/repo@sha256:…")
    repository: str
    tag: str | None
    digest: str | None  # its manifest digest, when known
    offered: bool
    built: bool  # in a repository the workspace builds into
    registry: str  # present | missing | not checked | the error that stopped the lookup
    uses: tuple[Use, ...] = ()

    @property
    def running(self) -> int:
        return sum(not u.stopped for u in self.uses)

    @property
    def stopped(self) -> int:
        return sum(u.stopped for u in self.uses)

    @property
    def namespaces(self) -> tuple[str, ...]:
        return tuple(sorted({u.namespace for u in self.uses}))

    def count(self, how: str) -> int:
        return sum(u.how == how for u in self.uses)


@dataclass(frozen=True)
class UsageReport:
    images: tuple[ImageUsage, ...]
    unseen: tuple[str, ...] = ()
    notebooks_visible: bool = True
    notebooks: int = 0
    # per entry a cluster target offers, the users it counts itself (WorkspaceKind values)
    entries: tuple[EntryUsage, ...] = ()

    @property
    def not_offered_in_use(self) -> tuple[ImageUsage, ...]:
        return tuple(i for i in self.images if i.uses and not i.offered)

    @property
    def gone(self) -> tuple[tuple[Use, ImageUsage], ...]:
        """Notebooks naming an image its registry no longer has (a restart would fail)."""
        return tuple((u, i) for i in self.images if i.registry == MISSING for u in i.uses)

    def of(self, reference: str) -> ImageUsage | None:
        r = ref(reference)
        return next((i for i in self.images if r and _row_ref(i) == r), None)


def _row_ref(i: ImageUsage) -> Ref:
    return Ref(i.repository, i.tag, None if i.tag else i.digest)


def how_used(nb: NotebookUse, repository: str, tag: str | None, digest: str | None) -> str | None:
    """How `nb` uses the image repository:tag (manifest `digest`), or repository@digest: by
    naming the tag, by naming the digest, or by running the digest under another name."""
    r = ref(nb.image)
    if r is None or r.repository != repository:
        return None
    if tag is not None and r.tag == tag and (r.digest is None or r.digest == digest):
        return "tag"
    if digest is not None and r.digest == digest:
        return "digest"
    if digest is not None and nb.running_digest == digest:
        return "runs"
    return None


def build_report(
    *,
    offered: Iterable[str],
    tags: Sequence[tuple[str, str, str | None]],
    managed_repositories: Iterable[str],
    notebooks: Notebooks,
    lookups: Mapping[str, tuple[str, str | None]],
    entries: Iterable[EntryUsage] = (),
) -> UsageReport:
    """`offered`: references offered now (any target); `tags`: (repository, tag, digest) in the
    managed repositories; `lookups`: the registry's answer (present / missing / not checked
    (why), and the digest when present) for every other reference, by its text (see
    `references_to_look_up`); `entries`: the users targets count per entry, passed through."""
    unknown = (NOT_CHECKED, None)
    managed = set(managed_repositories)
    offered_refs = {r for o in offered if (r := ref(o))}
    rows: dict[Ref, tuple[str, str | None, str]] = {}  # ref -> (shown, digest, registry)
    for repository, tag, digest in tags:
        rows[Ref(repository, tag, None)] = (f"{repository}:{tag}", digest, PRESENT)
    for r in sorted(offered_refs, key=str):
        key = _key(r)
        if key not in rows:
            registry, digest = lookups.get(str(key), unknown)
            rows[key] = (str(key), r.digest or digest, registry)
    for nb in notebooks.notebooks:
        r = ref(nb.image)
        if r is None:
            continue
        if not any(
            how_used(nb, k.repository, k.tag, d or k.digest) for k, (_, d, _) in rows.items()
        ):
            key = _key(r)
            registry, digest = lookups.get(str(key), unknown)
            rows[key] = (str(key), r.digest or digest, registry)
    images = []
    for key, (shown, digest, registry) in rows.items():
        uses = []
        for nb in notebooks.notebooks:
            how = how_used(nb, key.repository, key.tag, digest or key.digest)
            if how:
                uses.append(Use(nb.namespace, nb.name, nb.stopped, how))
        images.append(
            ImageUsage(
                image=shown,
                repository=key.repository,
                tag=key.tag,
                digest=digest or key.digest,
                offered=key in {_key(o) for o in offered_refs},
                built=key.repository in managed,
                registry=registry,
                uses=tuple(uses),
            )
        )
    images.sort(key=lambda i: (not i.offered, -len(i.uses), i.image))
    return UsageReport(
        tuple(images),
        notebooks.unseen,
        notebooks.notebooks_visible,
        len(notebooks.notebooks),
        tuple(entries),
    )


def references_to_look_up(
    *,
    offered: Iterable[str],
    tags: Sequence[tuple[str, str, str | None]],
    notebooks: Notebooks,
) -> list[str]:
    """The references whose presence in their registry the report needs and the tag listing
    did not already tell: offered ones and the images notebooks name."""
    known = {Ref(repo, tag, None) for repo, tag, _ in tags}
    out: dict[str, None] = {}
    for text in [*offered, *(nb.image for nb in notebooks.notebooks)]:
        r = ref(text)
        if r is not None and _key(r) not in known:
            out[str(_key(r))] = None
    return list(out)


def _key(r: Ref) -> Ref:
    # a tag and a digest together: the digest is what runs, the tag only a label
    return Ref(r.repository, None, r.digest) if r.digest else r
