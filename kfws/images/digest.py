"""Content digests of build inputs, and the content-addressed tags made from them.

The digest covers everything that decides what a build produces: the Dockerfile text (given or
generated, wherever it lives), every context file that .dockerignore lets through (relative path,
normalised mode, content), build args, target, platform, and each base image's registry digest.
It never covers where the checkout is or who owns the files, so the same inputs give the same tag
on any machine. Comparable taggers missed the Dockerfile outside the context, the build args or the
base digest; this one doesn't.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kfws.images.instructions import split_instructions

# Bump when what goes into the digest changes: a new scheme can never collide with old tags.
TAG_SCHEME = "kfws1"
TAG_HEX_CHARS = 24  # 96 bits: collisions are not a practical concern, tags stay readable


@dataclass(frozen=True)
class ContextEntry:
    path: str  # relative, "/"-separated
    kind: str  # "file" | "dir" | "symlink"
    mode: int  # normalised: 0o755 (executable or dir) or 0o644
    content_sha256: str  # of the file bytes, or of the symlink target; "" for dirs


def normalise_mode(kind: str, st_mode: int) -> int:
    # Git only keeps the executable bit, and umasks differ between machines: keep just that.
    if kind == "dir" or st_mode & 0o111:
        return 0o755
    return 0o644


def input_document(
    *,
    dockerfile_text: str,
    entries: Iterable[ContextEntry],
    args: Mapping[str, str],
    target: str | None,
    platform: str | None,
    base_digests: Mapping[str, str | None],
) -> dict[str, Any]:
    """Everything that decides what a build produces, as the JSON the digest hashes."""
    document = {
        "scheme": TAG_SCHEME,
        "dockerfile": hashlib.sha256(dockerfile_text.encode()).hexdigest(),
        "context": [
            [e.path, e.kind, oct(e.mode), e.content_sha256]
            for e in sorted(entries, key=lambda e: e.path)
        ],
        "args": dict(sorted(args.items())),
        "target": target,
        "platform": platform,
        # an unresolvable base is recorded by name, so resolving it later changes the tag
        "bases": {ref: base_digests[ref] for ref in sorted(base_digests)},
    }
    return document


def digest_of_document(document: Mapping[str, Any]) -> str:
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def input_digest(**facts: Any) -> str:
    """The digest of input_document(**facts)."""
    return digest_of_document(input_document(**facts))


def content_tag(digest: str) -> str:
    return f"{TAG_SCHEME}-{digest.removeprefix('sha256:')[:TAG_HEX_CHARS]}"


def base_images(dockerfile_text: str, args: Mapping[str, str] | None = None) -> list[str]:
    """The external images a Dockerfile builds FROM (not earlier stages, not scratch).

    `FROM ${X}` is resolved from build args / ARG defaults before the first FROM; a reference
    that still holds a variable is skipped (and then not part of the digest)."""
    arg_defaults: dict[str, str] = {}
    stages: set[str] = set()
    bases: list[str] = []
    seen_from = False
    for step in split_instructions(dockerfile_text):
        instruction, words = step.keyword, [step.keyword, *step.rest.split()]
        if instruction == "ARG" and not seen_from and len(words) >= 2:
            name, _, default = words[1].partition("=")
            arg_defaults[name] = (args or {}).get(name, default.strip('"'))
        elif instruction == "FROM":
            seen_from = True
            rest = [w for w in words[1:] if not w.startswith("--")]
            if not rest:
                continue
            ref = _expand(rest[0], arg_defaults)
            if len(rest) >= 3 and rest[1].upper() == "AS":
                stages.add(rest[2].lower())
            if ref is None or ref.lower() in stages or ref == "scratch" or ref in bases:
                continue
            bases.append(ref)
    return bases


def _expand(word: str, values: Mapping[str, str]) -> str | None:
    for name, value in values.items():
        word = word.replace("${" + name + "}", value).replace("$" + name, value)
    return None if "$" in word else word


INPUTS_LABEL = "dev.kfws.inputs"  # the compact inputs manifest, on every image kfws builds
MAX_MANIFEST_FILES = 400  # more context files than this: only their count and a digest


MAX_DOCKERFILE_LABEL = 8 * 1024  # compressed, base64: a Dockerfile larger than that isn't kept
DOCKERFILE_PREFIX = "zlib+b64:"


def pack_dockerfile(text: str) -> str | None:
    """The Dockerfile text for the inputs label, so that a later plan can show a unified diff of
    it: compressed (a label is one string in the image config), and only when nothing in it
    looks like a credential (kfws.spec.checks) and it stays small. None: not recorded."""
    from kfws.spec.checks import secret_value_problem

    if secret_value_problem(text):
        return None
    packed = DOCKERFILE_PREFIX + base64.b64encode(zlib.compress(text.encode(), 9)).decode()
    return packed if len(packed) <= MAX_DOCKERFILE_LABEL else None


def unpack_dockerfile(value: object) -> str | None:
    """The text pack_dockerfile recorded; None for anything else (labels come from registries:
    hostile, so the decompressed size is bounded too)."""
    if not isinstance(value, str) or not value.startswith(DOCKERFILE_PREFIX):
        return None
    if len(value) > MAX_DOCKERFILE_LABEL:
        return None
    try:
        raw = base64.b64decode(value.removeprefix(DOCKERFILE_PREFIX), validate=True)
        inflater = zlib.decompressobj()
        data = inflater.decompress(raw, 256 * 1024)
        if inflater.unconsumed_tail:
            return None  # larger than any Dockerfile kfws would have recorded
        return data.decode("utf-8")
    except (ValueError, zlib.error, UnicodeDecodeError):
        return None


def inputs_manifest(document: Mapping[str, Any], dockerfile_text: str | None = None) -> str:
    """What a plan needs to say *why* an image is rebuilt, small enough for a label, from the
    input document: hashes of the Dockerfile and of each context file (12 hex: a changed file,
    not a proof), build arg *names* only (a value may be a secret, and a hash of a short secret
    can be guessed), target, platform and base digests. Compact JSON, sorted keys."""
    files = {
        path: sha[:12] + ("+x" if mode == oct(0o755) and kind == "file" else "")
        for path, kind, mode, sha in document["context"]
        if kind != "dir"
    }
    manifest: dict[str, object] = {
        "v": 1,
        "dockerfile": str(document["dockerfile"])[:12],
        "args": sorted(document["args"]),
        "target": document["target"],
        "platform": document["platform"],
        "bases": document["bases"],
    }
    packed = pack_dockerfile(dockerfile_text) if dockerfile_text is not None else None
    if packed is not None:
        manifest["dockerfileText"] = packed
    if len(files) <= MAX_MANIFEST_FILES:
        manifest["files"] = files
    else:
        listing = json.dumps(files, sort_keys=True).encode()
        manifest["filesDigest"] = hashlib.sha256(listing).hexdigest()[:12]
        manifest["fileCount"] = len(files)
    return json.dumps(manifest, sort_keys=True, separators=(",", ":"))
