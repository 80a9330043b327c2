"""Image references as the cluster writes them, made comparable (pure).

A notebook names its image as a user typed it (`jupyter/scipy`, `host/repo:tag`,
`host/repo@sha256:…`); a pod's `imageID` is what the node pulled, in the runtime's own spelling
(`docker-pullable://host/repo@sha256:…` from dockershim, `host/repo@sha256:…` from containerd
and CRI-O, or only `sha256:<image id>` when the node knows no registry digest)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from kfws.reference import ReferenceError, parse_reference

_SHA256 = re.compile(r"sha256:[0-9a-f]{64}")
_SCHEMES = ("docker-pullable://", "docker://", "containerd://", "cri-o://")
# a token in a text that could be an image reference (for texts that are not YAML)
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@\[\]-]+")


@dataclass(frozen=True)
class Ref:
    """A reference reduced to what identifies an image: the repository with its registry, and
    the tag and/or digest it names."""

    repository: str
    tag: str | None
    digest: str | None

    def __str__(self) -> str:
        text = self.repository + (f":{self.tag}" if self.tag else "")
        return text + (f"@{self.digest}" if self.digest else "")


def ref(text: str) -> Ref | None:
    """The reference `text` names, normalised as Docker does (no tag and no digest: `latest`);
    None when it is not a valid reference."""
    try:
        parsed = parse_reference(text)
    except ReferenceError:
        return None
    tag = parsed.tag if parsed.tag or parsed.digest else "latest"
    return Ref(parsed.repository_with_registry, tag, parsed.digest)


def running_digest(image_id: str | None) -> tuple[str | None, str | None]:
    """(repository, registry digest) a pod's containerStatuses[].imageID names; (None, None)
    when it names no registry digest (an image ID only, or nothing)."""
    if not image_id:
        return None, None
    text = image_id
    for scheme in _SCHEMES:
        if text.startswith(scheme):
            text = text[len(scheme) :]
    name, at, digest = text.rpartition("@")
    if not at or not _SHA256.fullmatch(digest):
        return None, None
    parsed = ref(name) if name else None
    return (parsed.repository if parsed else None), digest


def strings(doc: Any) -> Iterator[str]:
    """Every string scalar of a parsed YAML document, keys and values."""
    if isinstance(doc, str):
        yield doc
    elif isinstance(doc, dict):
        for k, v in doc.items():
            yield from strings(k)
            yield from strings(v)
    elif isinstance(doc, list):
        for item in doc:
            yield from strings(item)


def references_in(texts: Iterable[str]) -> frozenset[Ref]:
    """Every image reference named in these texts (kept spawner configs, any target's): each
    YAML string that is a reference, and in a text that is not YAML, each token that is. Errs on
    the side of finding too many: prune keeps whatever a backup might name."""
    found: set[Ref] = set()
    for text in texts:
        try:
            words: Iterable[str] = list(strings(yaml.safe_load(text)))
        except yaml.YAMLError:
            words = _TOKEN.findall(text)
        for word in words:
            if ("/" in word or ":" in word or "@" in word) and (r := ref(word.strip())):
                found.add(r)
    return frozenset(found)
