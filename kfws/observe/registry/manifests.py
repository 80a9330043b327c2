"""What the distribution API's answers mean: media types, repository names, platforms in an
index, and content digests. Pure: no I/O, so every rule here is unit-tested without a registry."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kfws.errors import RegistryError
from kfws.observe.docker_auth import DOCKER_HUB_HOSTS

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
IMAGE_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
MANIFEST_ACCEPT = ", ".join((OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST))
DEFAULT_PLATFORM = "linux/amd64"
DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$|^sha512:[0-9a-f]{128}$")


@dataclass(frozen=True)
class ManifestInfo:
    digest: str  # "sha256:…" of the manifest (or index) the reference points at
    media_type: str  # e.g. application/vnd.oci.image.index.v1+json
    size: int  # bytes of that manifest


def split_repository(repository: str) -> tuple[str, str]:
    """ "host[:port]/name" -> (host, name); a first part without "." or ":" (and not
    "localhost") is a Docker Hub path: ("docker.io", "library/x" for a bare "x")."""
    first, sep, rest = repository.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        host, name = first, rest
    else:
        host, name = "docker.io", repository
    if host in DOCKER_HUB_HOSTS:
        host = "docker.io"
        if "/" not in name:
            name = f"library/{name}"
    if not name or name != name.lower() or "//" in name or name.endswith("/"):
        raise RegistryError(
            f"{repository!r} is not a valid repository name",
            where=f"image {repository}",
            hint="repository names are lower case, path components separated by single slashes",
        )
    return host, name


def image_ref(repository: str, reference: str) -> str:
    """How messages name an image: repo:tag, or repo@digest."""
    return (
        f"{repository}@{reference}" if DIGEST_RE.match(reference) else f"{repository}:{reference}"
    )


def parse_platform(platform: str) -> tuple[str, str, str | None]:
    parts = platform.split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise RegistryError(
            f"{platform!r} is not a platform (os/arch or os/arch/variant, e.g. linux/amd64)",
            where=f"platform {platform}",
        )
    return parts[0], parts[1], parts[2] if len(parts) == 3 else None


def pick_platform(index: Mapping[str, Any], platform: str) -> Mapping[str, Any] | None:
    """The descriptor in an image index for platform ("linux/arm64/v8"); when no variant is
    asked for, the first entry of that os/arch wins. Attestation entries never match."""
    want_os, want_arch, want_variant = parse_platform(platform)
    for desc in index.get("manifests") or []:
        p = desc.get("platform") or {}
        if p.get("os") != want_os or p.get("architecture") != want_arch:
            continue
        if want_variant is not None and p.get("variant") != want_variant:
            continue
        return dict(desc)
    return None


def index_platforms(index: Mapping[str, Any]) -> list[str]:
    """The platforms an index offers, "os/arch[/variant]", sorted (for messages)."""
    return sorted(
        "/".join(
            str(p.get(k))
            for k in ("os", "architecture", "variant")
            if (p := d.get("platform") or {}).get(k)
        )
        for d in index.get("manifests") or []
    )


def body_media_type(body: bytes) -> str | None:
    try:
        doc = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    value = doc.get("mediaType") if isinstance(doc, dict) else None
    return value if isinstance(value, str) else None


def manifest_media_type(doc: Mapping[str, Any], header_type: str) -> str:
    """The media type of a manifest document: the Content-Type when it is one we know, else the
    document's own `mediaType`, else guessed from its shape (schema 2 without mediaType)."""
    media_type = header_type
    if media_type not in INDEX_TYPES | IMAGE_TYPES:
        media_type = str(doc.get("mediaType") or media_type or "")
    if media_type not in INDEX_TYPES | IMAGE_TYPES and doc.get("schemaVersion") == 2:
        media_type = OCI_INDEX if "manifests" in doc else OCI_MANIFEST if "config" in doc else ""
    if doc.get("schemaVersion") == 1:
        media_type = "Docker image manifest schema 1"
    return media_type


def digest_of(body: bytes, like: str) -> str:
    algorithm = like.partition(":")[0] or "sha256"
    if algorithm == "sha512":
        return "sha512:" + hashlib.sha512(body).hexdigest()
    return "sha256:" + hashlib.sha256(body).hexdigest()


def verified(body: bytes, digest: str, host: str, what: str) -> bytes:
    if digest_of(body, digest) != digest:
        raise RegistryError(
            f"{what} does not match its digest {digest}",
            where=f"registry {host}",
            hint="the registry (or a proxy in between) served corrupt data",
        )
    return body


# A layer or config blob above this is not a real answer (the largest images in practice are
# tens of GB); nor is a manifest listing more layers than any engine stacks.
MAX_BLOB_SIZE = 1 << 40  # 1 TiB
MAX_LAYERS = 1000


def compressed_size(manifest: Mapping[str, Any]) -> int | None:
    """The bytes a pull downloads: config + layer sizes of an image manifest. None ("size
    unknown") when any size is missing, not a non-negative int (bools are not sizes) or out of
    bounds: registry answers are hostile, and a wrong size is worse than none."""
    config = manifest.get("config")
    layers = manifest.get("layers")
    if not isinstance(config, Mapping) or not isinstance(layers, list):
        return None
    if len(layers) > MAX_LAYERS:
        return None
    total = 0
    for desc in (config, *layers):
        size = desc.get("size") if isinstance(desc, Mapping) else None
        if type(size) is not int or not 0 <= size <= MAX_BLOB_SIZE:
            return None
        total += size
    return total
