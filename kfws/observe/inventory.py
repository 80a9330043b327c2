"""The tags in the repositories the workspace builds into (reads only): for `kfws usage`, each
tag with its digest; for `kfws prune`, each tag with what prune weighs (kfws's labels, when it
was built, its blobs and size)."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from kfws.observe.registry import RegistryClient
from kfws.observe.registry.facts import ImageFacts
from kfws.spec.model import Spec


def managed_repositories(spec: Spec) -> tuple[str, ...]:
    return tuple(sorted({i.repository for i in spec.images}))


def list_all(
    client: RegistryClient, repositories: Iterable[str], parallelism: int
) -> list[tuple[str, str]]:
    """(repository, tag) for every tag of these repositories (pages followed)."""
    repos = list(repositories)
    with ThreadPoolExecutor(max_workers=max(1, min(parallelism, len(repos) or 1))) as pool:
        listed = list(pool.map(client.list_tags, repos))
    return [(repo, tag) for repo, tags in zip(repos, listed, strict=True) for tag in sorted(tags)]


def tag_digests(
    client: RegistryClient, repositories: Iterable[str], parallelism: int
) -> list[tuple[str, str, str | None]]:
    """(repository, tag, digest) for every tag (None: gone between the listing and the HEAD)."""
    tags = list_all(client, repositories, parallelism)
    found = client.resolve_many(tags, parallelism=parallelism)
    return [(repo, tag, info.digest if info else None) for (repo, tag), info in found.items()]


def tag_facts(
    client: RegistryClient, repositories: Iterable[str], parallelism: int
) -> dict[tuple[str, str], ImageFacts]:
    """(repository, tag) -> its facts, for every tag that still exists. The configs read are
    kept for the next run when the client has a config cache."""
    tags = list_all(client, repositories, parallelism)
    if not tags:
        return {}
    client.prepare(parallelism)
    with ThreadPoolExecutor(max_workers=min(parallelism, len(tags))) as pool:
        facts = list(pool.map(lambda t: client.image_facts(*t), tags))
    client.remember_configs()
    return {t: f for t, f in zip(tags, facts, strict=True) if f is not None}
