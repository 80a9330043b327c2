"""Docker image references (pure): `[host[:port]/]path[:tag][@digest]`, Docker's grammar.

Used by the spec checks (is this option a valid reference?) and the observers (which registry,
repository and tag or digest to ask for). Docker Hub short names are normalised as Docker does:
`jupyter` is `docker.io/library/jupyter`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"  # Go's ASCII \w, not Python's Unicode one
_DIGEST = r"[a-z0-9]+(?:[+._-][a-z0-9]+)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(
    rf"^(?:(?P<domain>{_DOMAIN})/)?(?P<path>{_COMPONENT}(?:/{_COMPONENT})*)"
    rf"(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?"
)
_SHA256 = re.compile(r"sha256:[0-9a-f]{64}")
DOCKER_HUB = "docker.io"


class ReferenceError(ValueError):
    """Not a valid image reference; the message says which part is wrong."""


@dataclass(frozen=True)
class ImageReference:
    registry: str  # "docker.io", "ghcr.io", "127.0.0.1:5000"
    repository: str  # path within the registry: "library/python", "kubeflow/notebook"
    tag: str | None
    digest: str | None

    @property
    def repository_with_registry(self) -> str:
        return f"{self.registry}/{self.repository}"

    def __str__(self) -> str:
        text = self.repository_with_registry
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def looks_like_reference(text: str) -> bool:
    """A bare word is a managed image's name; anything with a registry, path, tag or digest
    separator is meant as a full reference."""
    return any(c in text for c in "/:@")


def parse_reference(text: str) -> ImageReference:
    if not text or text != text.strip():
        raise ReferenceError(f"{text!r} is not an image reference (empty or surrounding spaces)")
    if len(text) > 255 + 128 + 72:
        raise ReferenceError(f"{text[:40]}… is too long to be an image reference")
    match = _REFERENCE.fullmatch(text)  # whole string: no trailing newline
    if not match:
        raise ReferenceError(_explain(text))
    domain, path = match["domain"], match["path"]
    if domain and not (
        "." in domain or ":" in domain or domain == "localhost" or domain.startswith("[")
    ):
        # "team/image": the first component is a Docker Hub namespace, not a host
        path, domain = f"{domain}/{path}", None
    if domain and domain != domain.lower() and not domain.startswith("["):
        domain = domain.lower()
    registry = domain or DOCKER_HUB
    if registry in ("index.docker.io", "registry-1.docker.io"):
        registry = DOCKER_HUB
    if registry == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    digest = match["digest"]
    if digest and digest.startswith("sha256:") and not _SHA256.fullmatch(digest):
        raise ReferenceError(f"{text!r}: a sha256 digest is 'sha256:' and 64 lower-case hex digits")
    return ImageReference(registry, path, match["tag"], digest)


def _explain(text: str) -> str:
    name, _, digest = text.partition("@")
    if digest and not re.fullmatch(_DIGEST, digest):
        return f"{text!r}: the digest after '@' must look like sha256:<64 hex digits>"
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        tag = last.split(":", 1)[1]
        if not re.fullmatch(_TAG, tag):
            return (
                f"{text!r}: the tag {tag!r} must be 1-128 characters of letters, digits, "
                "'_', '.' and '-', not starting with '.' or '-'"
            )
    if name != name.lower() and "/" in name:
        return f"{text!r}: repository paths must be lower case"
    return (
        f"{text!r} is not a valid image reference "
        "(expected [registry[:port]/]path[:tag][@sha256:digest])"
    )


def repository(ref: str) -> str:
    """`reg/team/nb:v1` -> `reg/team/nb`; digests and tags both go; a port stays. Works on
    any text (live options need not be valid references)."""
    name = ref.split("@", 1)[0]
    head, sep, tail = name.rpartition(":")
    return head if sep and "/" not in tail else name
