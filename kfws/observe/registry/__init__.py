"""The narrow adapter kfws uses to ask OCI registries what they hold (the distribution API, v2).

Nothing else in kfws talks HTTP to registries. A few questions only (`RegistryClient`):
- `resolve(repo, ref)`: the manifest digest, media type and size a tag (or digest) points at, or
  None when the registry says it has no such manifest or repository (404 / MANIFEST_UNKNOWN /
  NAME_UNKNOWN). Every other failure — 401/403, 429 or 5xx after retries, timeout, connection
  refused, TLS verification — raises `RegistryError` naming the registry, the image and the fix.
  Never "missing": taking an error for a missing image rebuilds and re-pushes everything.
- `image_labels(repo, ref, platform)`: the `config.Labels` of an image (from an index, the
  manifest for the platform, linux/amd64 by default).
- `size(repo, ref, platform)`: the compressed size of an image (config + layer sizes from its
  manifest; from an index, the platform's), None when unknown; `sizes_each` for many at once;
- `resolve_many(items, parallelism)`: `resolve` for many at bounded concurrency, the first
  failure raised; `resolve_each` the same with each item's failure as its own answer.

Transport: `https://` verified against the system's CAs, or the registry's `caFile`
(RegistryOptions.ca_file) when the workspace gives one. Plain `http://` only when the workspace
marks the registry `insecure: true` — then *only* plain HTTP is tried (no https first, no
fallback). Unlike dockerd, a loopback address is not implicitly insecure: the workspace must say so.

One job per module:
- challenge.py: parsing `WWW-Authenticate` (pure);
- manifests.py: media types, repository names, platforms, digests (pure);
- endpoint.py: per-host connection settings and what we learnt about the host;
- transport.py: the HTTP session, retries and redirects;
- auth.py: credentials and bearer tokens answering a challenge;
- messages.py: the user-facing errors;
- config_cache.py: what image configs said, remembered between runs by digest (kfws prune);
- client.py: RegistryClient, the three questions.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kfws.observe.registry.challenge import Challenge, parse_www_authenticate
    from kfws.observe.registry.client import MISSING_CODES, RegistryClient
    from kfws.observe.registry.endpoint import DOCKER_HUB_API
    from kfws.observe.registry.manifests import (
        DEFAULT_PLATFORM,
        DOCKER_MANIFEST,
        DOCKER_MANIFEST_LIST,
        IMAGE_TYPES,
        INDEX_TYPES,
        MANIFEST_ACCEPT,
        OCI_INDEX,
        OCI_MANIFEST,
        ManifestInfo,
        parse_platform,
        pick_platform,
        split_repository,
    )
    from kfws.observe.registry.transport import RETRY_AFTER_CAP, retry_after_seconds

# name -> the module that defines it. Imported at first use (PEP 562): a plan that asks no
# registry anything (--offline, no image to build) imports kfws.observe.registry.manifests for
# split_repository, not the client, its transport and auth.
_WHERE = {
    **dict.fromkeys(("Challenge", "parse_www_authenticate"), "challenge"),
    **dict.fromkeys(("MISSING_CODES", "RegistryClient"), "client"),
    "DOCKER_HUB_API": "endpoint",
    **dict.fromkeys(
        (
            "DEFAULT_PLATFORM",
            "DOCKER_MANIFEST",
            "DOCKER_MANIFEST_LIST",
            "IMAGE_TYPES",
            "INDEX_TYPES",
            "MANIFEST_ACCEPT",
            "OCI_INDEX",
            "OCI_MANIFEST",
            "ManifestInfo",
            "parse_platform",
            "pick_platform",
            "split_repository",
        ),
        "manifests",
    ),
    **dict.fromkeys(("RETRY_AFTER_CAP", "retry_after_seconds"), "transport"),
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    globals()[name] = value
    return value


__all__ = [
    "DEFAULT_PLATFORM",
    "DOCKER_HUB_API",
    "DOCKER_MANIFEST",
    "DOCKER_MANIFEST_LIST",
    "IMAGE_TYPES",
    "INDEX_TYPES",
    "MANIFEST_ACCEPT",
    "MISSING_CODES",
    "OCI_INDEX",
    "OCI_MANIFEST",
    "RETRY_AFTER_CAP",
    "Challenge",
    "ManifestInfo",
    "RegistryClient",
    "parse_platform",
    "parse_www_authenticate",
    "pick_platform",
    "retry_after_seconds",
    "split_repository",
]
