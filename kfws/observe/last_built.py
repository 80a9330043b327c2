"""The last image kfws built for a managed image's name, found in the registry (reads only).

A plan compares an image to build with it when the spawner offers nothing of its repository
(kfws.plan.why), and a failed apply names it as the image to keep offering meanwhile. It is
read from the registry, not the Docker Engine: BuildKit pushes as it builds and leaves nothing
in the engine, and a CI runner starts empty. The tags of the image's repository and, for each,
its config's kfws labels (dev.kfws.image-name, dev.kfws.inputs, dev.kfws.built-at) and
creation time are read with the code `kfws prune` uses (RegistryClient.list_tags,
RegistryClient.image_facts).

A repository can hold thousands of tags, and registry answers are untrusted: the search lists at
most MAX_LISTED tag names and reads the labels of at most MAX_INSPECTED of them (kfws's content
tags first), and says so when it was cut short; a tag that can't be read is skipped and counted.
The choice among what was read is pure (candidates, newest) and tested on its own."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from kfws.errors import KfwsError
from kfws.images.built_at import built_time, newest_first_key
from kfws.images.digest import INPUTS_LABEL, TAG_SCHEME
from kfws.observe.engine import IMAGE_NAME_LABEL
from kfws.observe.registry import RegistryClient
from kfws.observe.registry.facts import ImageFacts

MAX_LISTED = 2000  # tag names read (two pages at most where the registry honours `n`)
MAX_INSPECTED = 40  # tags whose manifest and config are read: two GETs each, in parallel


@dataclass(frozen=True)
class Built:
    reference: str  # "host/repo:tag"
    created: str | None  # RFC 3339 from the image config, as the builder wrote it
    inputs: str | None  # its dev.kfws.inputs label (kfws.plan.why), None: none recorded
    built: datetime | None  # when kfws built it (kfws.images.built_at), else `created`


@dataclass(frozen=True)
class LastBuilt:
    found: tuple[Built, ...] = ()  # kfws's builds for the name, newest first
    note: str | None = None  # why a newer build may have been missed (cut short, failed)


def candidates(tags: Sequence[str], exclude: Collection[str], limit: int) -> tuple[list[str], int]:
    """The tags whose labels are read, and how many could have been: kfws's content tags
    (`kfws1-…`) first, then the others; each group in reverse lexical order (date- and
    version-like tags put the newest last); at most `limit`."""
    eligible = [t for t in dict.fromkeys(tags) if t not in exclude]
    ours = sorted((t for t in eligible if t.startswith(f"{TAG_SCHEME}-")), reverse=True)
    others = sorted((t for t in eligible if not t.startswith(f"{TAG_SCHEME}-")), reverse=True)
    return [*ours, *others][:limit], len(eligible)


def newest(repository: str, name: str, facts: Mapping[str, ImageFacts | None]) -> list[Built]:
    """The tags kfws built for `name` (its dev.kfws.image-name label), newest first by when kfws
    built them (its dev.kfws.built-at label, else the config's `created`: BuildKit repeats
    `created` across builds, kfws.images.built_at); a build with neither comes last."""
    found = [
        (tag, f)
        for tag, f in facts.items()
        if f is not None and f.labels.get(IMAGE_NAME_LABEL) == name
    ]
    found.sort(
        key=lambda item: newest_first_key(item[1].labels, item[1].created, item[0]), reverse=True
    )
    return [
        Built(
            f"{repository}:{tag}",
            f.created,
            f.labels.get(INPUTS_LABEL),
            built_time(f.labels, f.created),
        )
        for tag, f in found
    ]


def search_note(
    repository: str, listed: int, cut_listing: bool, inspected: int, eligible: int, unreadable: int
) -> str | None:
    """What the reader must know of a search that did not see every tag, or None."""
    bits: list[str] = []
    if cut_listing:
        bits.append(f"listed only the first {listed} tags of {repository}")
    if inspected < eligible:
        more = "+" if cut_listing else ""
        bits.append(f"read the labels of {inspected} of {eligible}{more} tags")
    if unreadable:
        bits.append(f"{unreadable} could not be read")
    if not bits:
        return None
    return (
        "the search for the last image kfws built was cut short ("
        + "; ".join(bits)
        + "): a newer one may be among the others"
    )


def find_last_built(
    client: RegistryClient,
    repository: str,
    name: str,
    *,
    exclude: Collection[str] = (),
    parallelism: int = 8,
    max_listed: int = MAX_LISTED,
    max_inspected: int = MAX_INSPECTED,
) -> LastBuilt:
    """kfws's builds for `name` in `repository` (tags in `exclude` left out), newest first.
    Never raises for what the registry answers: a failure is the note."""
    try:
        tags = client.list_tags(repository, limit=max_listed + 1)
    except KfwsError as e:
        return LastBuilt(note=f"could not list the tags of {repository}: {e.message}")
    cut_listing = len(tags) > max_listed
    tags = tags[:max_listed]
    chosen, eligible = candidates(tags, exclude, max_inspected)
    if not chosen:
        return LastBuilt()

    def one(tag: str) -> ImageFacts | KfwsError | None:
        try:
            return client.image_facts(repository, tag)
        except KfwsError as e:
            return e

    client.prepare(parallelism)
    with ThreadPoolExecutor(max_workers=max(1, min(parallelism, len(chosen)))) as pool:
        read = dict(zip(chosen, pool.map(one, chosen), strict=True))
    facts = {t: f for t, f in read.items() if not isinstance(f, KfwsError)}
    unreadable = len(read) - len(facts)
    note = search_note(repository, len(tags), cut_listing, len(chosen), eligible, unreadable)
    return LastBuilt(tuple(newest(repository, name, facts)), note)
