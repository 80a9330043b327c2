"""Why each image is (re)built (pure): its inputs manifest (kfws.images.digest.inputs_manifest)
against the label of the image it replaces — the tag's current image, or the spawner's live
option of the same repository — as short lines a reviewer reads ("context files changed:
app.py", "base 127.0.0.1:…/python:bookworm was rebuilt upstream").

The old label comes from a registry: hostile. Anything that is not the shape kfws writes reads
as "not recorded", never a traceback; paths and refs are shown as text, capped in number."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

MAX_PATHS = 10  # per line; the rest are counted


def _load(text: str | None) -> dict[str, Any] | None:
    if not text or len(text) > 256 * 1024:
        return None
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None
    return doc if isinstance(doc, dict) and doc.get("v") == 1 else None


def _paths(label: str, paths: list[str]) -> str:
    shown = ", ".join(paths[:MAX_PATHS])
    more = f" and {len(paths) - MAX_PATHS} more" if len(paths) > MAX_PATHS else ""
    return f"context files {label}: {shown}{more}"


def _str_map(value: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): str(v) for k, v in value.items()}


def why_rebuilt(new_text: str, old_ref: str, old_text: str | None) -> list[str]:
    """What differs between the inputs of the image to build and those of `old_ref`."""
    new, old = _load(new_text), _load(old_text)
    if new is None:
        return []
    if old is None:
        return [f"{old_ref} records no inputs (not built by this kfws): cannot tell what changed"]
    why: list[str] = []
    if new.get("dockerfile") != old.get("dockerfile"):
        why.append("the Dockerfile changed")
    if "files" in new and "files" in old:
        a, b = _str_map(old["files"]), _str_map(new["files"])
        added = sorted(set(b) - set(a))
        removed = sorted(set(a) - set(b))
        changed = sorted(p for p in set(a) & set(b) if a[p] != b[p])
        for label, paths in (("added", added), ("removed", removed), ("changed", changed)):
            if paths:
                why.append(_paths(label, paths))
    elif (new.get("files"), new.get("filesDigest")) != (old.get("files"), old.get("filesDigest")):
        why.append("the build context changed")
    old_args = {str(a) for a in old.get("args") or [] if isinstance(old.get("args"), list)}
    new_args = {str(a) for a in new.get("args") or []}
    if new_args != old_args:
        bits = [f"+{a}" for a in sorted(new_args - old_args)]
        bits += [f"-{a}" for a in sorted(old_args - new_args)]
        why.append("build args " + " ".join(bits))
    for key in ("target", "platform"):
        if new.get(key) != old.get(key):
            why.append(f"{key} {old.get(key) or 'unset'} -> {new.get(key) or 'unset'}")
    old_bases, new_bases = _str_map(old.get("bases")), _str_map(new.get("bases"))
    for ref in sorted(new_bases):
        if ref not in old_bases:
            why.append(f"new base image {ref}")
        elif old_bases[ref] != new_bases[ref]:
            why.append(f"base {ref} was rebuilt upstream (its digest moved)")
    if not why:
        why.append("no recorded input changed: a build arg value (not recorded) did")
    return why
