"""What an image's config and manifest say that prune weighs (pure): kfws's labels, when it
was built, and the blobs (config and layers, with sizes) it shares with other tags."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kfws.observe.registry.manifests import DIGEST_RE, MAX_BLOB_SIZE, MAX_LAYERS


@dataclass(frozen=True)
class ImageConfig:
    labels: Mapping[str, str] = field(default_factory=dict)
    created: str | None = None  # RFC 3339, as the builder wrote it
    platform: str | None = None  # "os/arch[/variant]" (the architecture check)


@dataclass(frozen=True)
class ImageFacts:
    digest: str  # the manifest (or index) digest the tag points at
    labels: Mapping[str, str]
    created: str | None
    blobs: tuple[tuple[str, int], ...]  # (digest, size) of the config and each layer
    size: int | None  # compressed: config + layers (None: unknown)


def image_config(doc: Any) -> ImageConfig:
    """Labels (config.Labels, as strings) and `created` of an image config document."""
    if not isinstance(doc, dict):
        raise TypeError("not an image config")
    labels = (doc.get("config") or {}).get("Labels") or {}
    created = doc.get("created")
    parts = [doc.get(k) for k in ("os", "architecture", "variant")]
    platform = "/".join(p[:64] for p in parts if isinstance(p, str) and p)
    return ImageConfig(
        {str(k): str(v) for k, v in labels.items()},
        created if isinstance(created, str) and len(created) <= 64 else None,
        platform or None,
    )


def blobs_of(manifest: Mapping[str, Any]) -> tuple[tuple[str, int], ...]:
    """The (digest, size) of each valid descriptor (config, layers) an image manifest lists;
    the registry's answer is untrusted, so anything malformed is left out."""
    layers = manifest.get("layers")
    descs = [manifest.get("config"), *(layers[:MAX_LAYERS] if isinstance(layers, list) else [])]
    out = []
    for desc in descs:
        if not isinstance(desc, Mapping):
            continue
        digest, size = desc.get("digest"), desc.get("size")
        if not isinstance(digest, str) or not DIGEST_RE.match(digest) or type(size) is not int:
            continue
        if 0 <= size <= MAX_BLOB_SIZE:
            out.append((digest, size))
    return tuple(dict.fromkeys(out))
