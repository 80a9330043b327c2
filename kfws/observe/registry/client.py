"""RegistryClient: the questions kfws asks registries, over the transport and auth of
this package. See the package docstring for the contract."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from kfws.errors import RegistryError
from kfws.observe.registry import bodies, messages
from kfws.observe.registry.auth import Authenticator
from kfws.observe.registry.challenge import parse_www_authenticate
from kfws.observe.registry.config_cache import ConfigCache
from kfws.observe.registry.endpoint import Endpoints
from kfws.observe.registry.facts import ImageConfig, ImageFacts, blobs_of, image_config
from kfws.observe.registry.manifests import (
    DEFAULT_PLATFORM,
    DIGEST_RE,
    IMAGE_TYPES,
    INDEX_TYPES,
    MANIFEST_ACCEPT,
    ManifestInfo,
    body_media_type,
    compressed_size,
    digest_of,
    image_ref,
    index_platforms,
    manifest_media_type,
    pick_platform,
    split_repository,
    verified,
)
from kfws.observe.registry.pages import next_page, tag_page
from kfws.observe.registry.transport import Transport
from kfws.spec.model import RegistryOptions

MISSING_CODES = frozenset({"MANIFEST_UNKNOWN", "NAME_UNKNOWN"})
TAGS_PAGE = 1000  # tags asked per page (registries may send fewer, and a Link to the next)
MAX_TAG_PAGES = 10_000


class RegistryClient:
    """Ask registries about manifests. Thread-safe; one connection pool shared by all threads."""

    def __init__(
        self,
        options_for: Callable[[str], RegistryOptions],
        *,
        docker_config_dir: Path | None = None,
        timeout: float = 10,
        retries: int = 3,
        backoff: float = 0.25,
        pool_size: int = 16,
        config_cache: ConfigCache | None = None,
    ) -> None:
        self._endpoints = Endpoints(options_for)
        self._transport = Transport(
            timeout=timeout, retries=retries, backoff=backoff, pool_size=pool_size
        )
        self._auth = Authenticator(self._endpoints, self._transport, docker_config_dir)
        # (host, name, config digest) -> its labels and creation time (content-addressed: a
        # racing duplicate fetch stores the same value)
        self._configs: dict[tuple[str, str, str], ImageConfig] = {}
        # the same across runs (config_cache.py), when the caller keeps one (kfws prune)
        self._config_cache = config_cache

    def __repr__(self) -> str:
        return f"RegistryClient(registries={self._endpoints.hosts()})"

    def close(self) -> None:
        self._transport.close()

    def remember_configs(self) -> None:
        """Keep the configs read so far for the next run (when this client has a cache)."""
        if self._config_cache is not None:
            self._config_cache.save()

    def prepare(self, parallelism: int) -> None:
        """Room in the connection pool for `parallelism` threads sharing this client."""
        self._transport.ensure_pool(parallelism)

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- the three questions ---------------------------------------------------------------

    def resolve(self, repository: str, reference: str) -> ManifestInfo | None:
        return self._resolve(repository, reference, None)

    def image_labels(
        self, repository: str, reference: str, platform: str | None = None
    ) -> dict[str, str]:
        host, name = split_repository(repository)
        what = image_ref(repository, reference)
        manifest = self._image_manifest(host, name, reference, what, platform)
        return dict(self._config(host, name, manifest, what).labels)

    def image_platforms(self, repository: str, reference: str) -> list[str]:
        """The platforms an image provides, "os/arch[/variant]" (for the architecture check):
        an index's entries (attestations, "unknown/unknown", left out), or a single image's
        config (`os`, `architecture`, `variant`)."""
        host, name = split_repository(repository)
        what = image_ref(repository, reference)
        manifest, media_type = self._get_manifest(host, name, reference, what)
        if media_type in INDEX_TYPES:
            return [p for p in index_platforms(manifest) if not p.startswith("unknown")]
        if media_type not in IMAGE_TYPES:
            raise messages.unknown_schema(host, what, media_type)
        platform = self._config(host, name, manifest, what).platform
        return [platform] if platform else []

    def _config(self, host: str, name: str, manifest: dict[str, Any], what: str) -> ImageConfig:
        """The labels and creation time in an image's config blob (one GET per blob: many
        tags of a repository share a config; none for a blob the config cache remembers)."""
        config = manifest.get("config") or {}
        digest = config.get("digest") if isinstance(config, dict) else None
        if not isinstance(digest, str) or not DIGEST_RE.match(digest):
            raise RegistryError(
                f"the manifest of {what} names no valid config blob", where=f"registry {host}"
            )
        cached = self._configs.get((host, name, digest))
        if cached is None and self._config_cache is not None:
            cached = self._config_cache.get(digest)
        if cached is not None:
            return cached
        r = self._send(
            "GET", host, f"/v2/{name}/blobs/{digest}", name=name, what=what, limit=bodies.CONFIG
        )
        if r.status_code != 200:
            raise messages.unexpected(host, what, r, "reading the image config")
        body = verified(r.content, digest, host, f"the config blob of {what}")
        try:
            found = image_config(json.loads(body))
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError, TypeError):
            raise RegistryError(
                f"the config blob of {what} is not an image config", where=f"registry {host}"
            ) from None
        self._configs[(host, name, digest)] = found
        if self._config_cache is not None:
            self._config_cache.put(digest, found)
        return found

    def image_facts(
        self, repository: str, reference: str, platform: str | None = None
    ) -> ImageFacts | None:
        """What prune weighs about one tag: its manifest digest (what a DELETE removes), the
        kfws labels and creation time of its config, the blobs it uses and its compressed size.
        One manifest GET (it carries the digest: no HEAD first), plus the config blob the first
        time a repository's tags meet it. None: the tag is gone."""
        host, name = split_repository(repository)
        what = image_ref(repository, reference)
        path = f"/v2/{name}/manifests/{reference}"
        r = self._send("GET", host, path, name=name, what=what)
        if _missing(r):
            return None
        if r.status_code != 200:
            raise messages.unexpected(host, what, r, "reading the manifest")
        body = r.content
        header = r.headers.get("Docker-Content-Digest", "")
        digest = header if DIGEST_RE.match(header) else digest_of(body, "sha256:")
        verified(body, digest, host, f"the manifest served for {what}")
        try:
            doc = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise messages.unknown_schema(host, what, _media_type(r) or "not JSON") from None
        if not isinstance(doc, dict):
            raise messages.unknown_schema(host, what, "not a JSON object")
        media_type = manifest_media_type(doc, _media_type(r))
        manifest = doc
        if media_type in INDEX_TYPES:
            manifest = self._image_manifest(host, name, digest, what, platform)
        elif media_type not in IMAGE_TYPES:
            raise messages.unknown_schema(host, what, media_type)
        config = self._config(host, name, manifest, what)
        return ImageFacts(
            digest=digest,
            labels=config.labels,
            created=config.created,
            blobs=blobs_of(manifest),
            size=compressed_size(manifest),
        )

    def size(self, repository: str, reference: str, platform: str | None = None) -> int | None:
        """The compressed size of an image (config + layers, what a pull downloads); from an
        index, of the manifest for `platform` (linux/amd64 by default). None = size unknown: a
        size is for the reader of a plan, so no failure here may stop a plan."""
        host, name = split_repository(repository)
        what = image_ref(repository, reference)
        try:
            return compressed_size(self._image_manifest(host, name, reference, what, platform))
        except RegistryError:
            return None

    def sizes_each(
        self, items: Sequence[tuple[str, str]], parallelism: int = 8
    ) -> dict[tuple[str, str], int | None]:
        """size() for each (repository, reference) at bounded concurrency: one manifest GET per
        image (two from an index)."""
        unique = list(dict.fromkeys(items))
        if parallelism <= 1 or len(unique) <= 1:
            return {item: self.size(*item) for item in unique}
        self._transport.ensure_pool(parallelism)
        with ThreadPoolExecutor(
            max_workers=min(parallelism, len(unique)), thread_name_prefix="kfws-registry"
        ) as pool:
            return dict(zip(unique, pool.map(lambda i: self.size(*i), unique), strict=True))

    def resolve_many(
        self, items: Sequence[tuple[str, str]], parallelism: int = 8
    ) -> dict[tuple[str, str], ManifestInfo | None]:
        """resolve() for each (repository, reference), at most `parallelism` at once. The result
        has one entry per distinct item, in the order given. The first failure (in time) is
        raised; lookups not yet started are dropped and running ones stop at their next retry."""
        unique = list(dict.fromkeys(items))
        if parallelism <= 1 or len(unique) <= 1:
            return {item: self.resolve(*item) for item in unique}
        self._transport.ensure_pool(parallelism)
        cancel = threading.Event()
        results: dict[tuple[str, str], ManifestInfo | None] = {}
        with ThreadPoolExecutor(
            max_workers=min(parallelism, len(unique)), thread_name_prefix="kfws-registry"
        ) as pool:
            futures = {
                pool.submit(self._resolve, repo, ref, cancel): (repo, ref) for repo, ref in unique
            }
            try:
                for future in as_completed(futures):
                    results[futures[future]] = future.result()
            except BaseException:
                cancel.set()
                for future in futures:
                    future.cancel()
                raise
        return {item: results[item] for item in unique}

    def resolve_each(
        self, items: Sequence[tuple[str, str]], parallelism: int = 8
    ) -> dict[tuple[str, str], ManifestInfo | RegistryError | None]:
        """resolve() for each item at bounded concurrency, where one item's failure is its own
        answer (an unreachable registry must not stop the lookups in the others)."""
        unique = list(dict.fromkeys(items))

        def one(item: tuple[str, str]) -> ManifestInfo | RegistryError | None:
            try:
                return self.resolve(*item)
            except RegistryError as e:
                return e

        if parallelism <= 1 or len(unique) <= 1:
            return {item: one(item) for item in unique}
        self._transport.ensure_pool(parallelism)
        with ThreadPoolExecutor(
            max_workers=min(parallelism, len(unique)), thread_name_prefix="kfws-registry"
        ) as pool:
            return dict(zip(unique, pool.map(one, unique), strict=True))

    # ---- tags and deletes (kfws prune) -------------------------------------------------------

    def list_tags(
        self, repository: str, page_size: int = TAGS_PAGE, limit: int | None = None
    ) -> list[str]:
        """Every tag of `repository`, following the registry's pagination (`n=` per page, the
        `Link: <…>; rel="next"` header to the next one; the distribution spec's `last=` is in
        that link). A repository the registry does not know has no tags. `limit`: stop once
        that many are read and return the first `limit` (a plan's bounded search; a registry
        that ignores `n` may still send a bigger page first)."""
        host, name = split_repository(repository)
        what = f"the tags of {repository}"
        if limit is not None:
            page_size = max(1, min(page_size, limit))
        path: str | None = f"/v2/{name}/tags/list?n={page_size}"
        tags: list[str] = []
        seen: set[str] = set()
        while path is not None:
            if path in seen or len(seen) >= MAX_TAG_PAGES:
                raise RegistryError(
                    f"registry {host} kept sending more pages of {what} ({len(tags)} tags in "
                    f"{len(seen)} pages)",
                    where=f"registry {host}",
                    hint="the registry's pagination loops; report it to its operators",
                )
            seen.add(path)
            r = self._send(
                "GET", host, path, name=name, what=what, accept="application/json",
                limit=bodies.TAG_PAGE,
            )  # fmt: skip
            if _missing(r):
                return tags
            if r.status_code != 200:
                raise messages.unexpected(host, what, r, "listing the tags")
            tags.extend(tag_page(r.content, host, what))
            if limit is not None and len(tags) >= limit:
                return tags[:limit]
            path = next_page(r, host, what, urlsplit(self._endpoints.get(host).base_url).netloc)
        return tags

    def delete_manifest(self, repository: str, digest: str) -> bool:
        """DELETE /v2/<name>/manifests/<digest>: removes the manifest and every tag on it.
        True when deleted, False when it was already gone. A registry that refuses deletes
        (405: the distribution registry's default) raises a RegistryError naming the setting."""
        host, name = split_repository(repository)
        if not DIGEST_RE.match(digest):
            raise ValueError(f"not a digest: {digest!r}")
        what = image_ref(repository, digest)
        r = self._send(
            "DELETE", host, f"/v2/{name}/manifests/{digest}", name=name, what=what,
            actions="delete", limit=bodies.EMPTY,
        )  # fmt: skip
        if r.status_code in (200, 202, 204):
            r.close()
            return True
        if _missing(r):
            return False
        if r.status_code == 405 or "UNSUPPORTED" in messages.error_codes(r):
            r.close()
            raise messages.deletes_disabled(host, what)
        raise messages.unexpected(host, what, r, "deleting the manifest")

    # ---- manifests ---------------------------------------------------------------------------

    def _resolve(
        self, repository: str, reference: str, cancel: threading.Event | None
    ) -> ManifestInfo | None:
        host, name = split_repository(repository)
        what = image_ref(repository, reference)
        path = f"/v2/{name}/manifests/{reference}"
        r = self._send("HEAD", host, path, name=name, what=what, cancel=cancel)
        if r.status_code == 404:
            return None
        if r.status_code != 200:
            raise messages.unexpected(host, what, r, "resolving the manifest")
        digest = r.headers.get("Docker-Content-Digest", "")
        media_type = _media_type(r)
        length = r.headers.get("Content-Length", "")
        if DIGEST_RE.match(digest) and media_type and length.isdigit():
            return ManifestInfo(digest, media_type, int(length))
        # HEAD told us too little (some registries send no digest on HEAD): GET and hash it
        r = self._send("GET", host, path, name=name, what=what, cancel=cancel)
        codes = messages.error_codes(r) if 400 <= r.status_code < 500 else set()
        if r.status_code == 404 or (codes and codes <= MISSING_CODES):
            return None
        if r.status_code != 200:
            raise messages.unexpected(host, what, r, "reading the manifest")
        body = r.content
        digest = r.headers.get("Docker-Content-Digest", "")
        if not DIGEST_RE.match(digest):
            digest = digest_of(body, reference if DIGEST_RE.match(reference) else "sha256:")
        media_type = media_type or body_media_type(body) or "application/octet-stream"
        return ManifestInfo(digest, media_type, len(body))

    def _image_manifest(
        self, host: str, name: str, reference: str, what: str, platform: str | None
    ) -> dict[str, Any]:
        """The image manifest `reference` names; through an index, the one for `platform`."""
        manifest, media_type = self._get_manifest(host, name, reference, what)
        if media_type in INDEX_TYPES:
            wanted = platform or DEFAULT_PLATFORM
            desc = pick_platform(manifest, wanted)
            if desc is None or not isinstance(desc.get("digest"), str):
                raise RegistryError(
                    f"{what} has no image for platform {wanted} (it has: "
                    f"{messages.shown(', '.join(index_platforms(manifest))) or 'none'})",
                    where=f"registry {host}",
                    hint="set `platform:` for the image in workspace.yaml to one it provides",
                )
            manifest, media_type = self._get_manifest(host, name, str(desc["digest"]), what)
        if media_type not in IMAGE_TYPES:
            raise messages.unknown_schema(host, what, media_type)
        return manifest

    def _get_manifest(
        self, host: str, name: str, reference: str, what: str
    ) -> tuple[dict[str, Any], str]:
        r = self._send("GET", host, f"/v2/{name}/manifests/{reference}", name=name, what=what)
        if r.status_code == 404:
            raise RegistryError(
                f"{what} does not exist in its registry",
                where=f"registry {host}",
                hint="push it first, or fix the reference",
            )
        if r.status_code != 200:
            raise messages.unexpected(host, what, r, "reading the manifest")
        body = r.content
        if DIGEST_RE.match(reference):
            verified(body, reference, host, f"the manifest served for {what}")
        try:
            doc = json.loads(body)
        except json.JSONDecodeError:
            raise messages.unknown_schema(host, what, _media_type(r) or "not JSON") from None
        if not isinstance(doc, dict):
            raise messages.unknown_schema(host, what, "not a JSON object")
        return doc, manifest_media_type(doc, _media_type(r))

    # ---- one authorised request ----------------------------------------------------------------

    def _send(
        self,
        method: str,
        host: str,
        path: str,
        *,
        name: str,
        what: str,
        cancel: threading.Event | None = None,
        actions: str = "pull",
        accept: str = MANIFEST_ACCEPT,
        limit: bodies.Limit = bodies.MANIFEST,
    ) -> requests.Response:
        """The request, answering the registry's auth challenge once. Once a registry has
        challenged us, later requests carry the authorization up front (no 401 round trip per
        image). `actions`: the token scope's actions ("pull"; "delete" for a DELETE). `limit`: the
        cap on the answer's body (bodies.py; a manifest unless said otherwise)."""
        reg = self._endpoints.get(host)
        scope = f"repository:{name}:{actions}"
        headers = {"Accept": accept}
        challenge = reg.challenge
        if challenge is not None:
            auth = self._auth.authorization(reg, challenge, scope, what, None)
            if auth:
                headers["Authorization"] = auth
        answered_challenge = False
        while True:
            r = self._transport.exchange(
                method, reg.base_url + path, headers, reg, what, cancel, limit
            )
            if r.status_code == 401 and not answered_challenge:
                answered_challenge = True
                challenges = parse_www_authenticate(r.headers.get("WWW-Authenticate", ""))
                usable = [c for c in challenges if c.scheme in ("bearer", "basic")]
                r.close()
                if not usable:
                    raise self._auth.auth_error(reg, what, 401, self._auth.credentials(reg))
                challenge = usable[0]
                reg.challenge = challenge
                auth = self._auth.authorization(
                    reg, challenge, challenge.scope or scope, what, headers.get("Authorization")
                )
                if auth is None:
                    raise self._auth.auth_error(reg, what, 401, None)
                headers["Authorization"] = auth
                continue
            if r.status_code in (401, 403):
                r.close()
                raise self._auth.auth_error(reg, what, r.status_code, self._auth.credentials(reg))
            if r.is_redirect:
                return self._transport.follow(method, r, reg, headers, what, cancel, limit)
            return r


def _media_type(r: requests.Response) -> str:
    return r.headers.get("Content-Type", "").split(";", 1)[0].strip()


def _missing(r: requests.Response) -> bool:
    """404, or a 4xx whose error codes all say "no such manifest / repository" (then closed)."""
    codes = messages.error_codes(r) if 400 <= r.status_code < 500 else set()
    if r.status_code == 404 or (codes and codes <= MISSING_CODES):
        r.close()
        return True
    return False
