"""Why each image is (re)built (pure): its inputs manifest (kfws.images.digest.inputs_manifest)
against the label of the image it replaces — the tag's current image, or the spawner's live
option of the same repository — as short lines a reviewer reads ("context files changed:
app.py", "base 127.0.0.1:…/python:bookworm was rebuilt upstream").

The old label comes from a registry: hostile. Anything that is not the shape kfws writes reads
as "not recorded", never a traceback; paths and refs are shown as text, capped in number."""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from typing import Any

from kfws.images.digest import unpack_dockerfile

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


MAX_DIFF_LINES = 40  # of the Dockerfile's unified diff; the rest are counted
MANAGED = "inputs:"  # kfws.observe.inputs.MANAGED_DIGEST_PREFIX: a managed base's input digest


def _repository(ref: str) -> str:
    name = ref.split("@", 1)[0]
    head, _, last = name.rpartition("/")
    return f"{head}/{last.split(':', 1)[0]}" if head else last.split(":", 1)[0]


def _bases(old: dict[str, str], new: dict[str, str]) -> list[str]:
    """A managed base (kfws.spec.graph) is recorded by its input digest: when its inputs
    changed, a content-addressed base also has a new tag, so it is matched by repository."""
    why: list[str] = []
    old_by_repo = {_repository(ref): ref for ref in old}
    for ref in sorted(new):
        before = old.get(ref)
        if before is None and _repository(ref) in old_by_repo:
            before = old[old_by_repo[_repository(ref)]]
            ref_text = f"{old_by_repo[_repository(ref)]} -> {ref}"
        else:
            ref_text = ref
        if before is None:
            why.append(f"new base image {ref}")
        elif before != new[ref] and new[ref].startswith(MANAGED):
            why.append(f"managed base {ref_text} changed: its inputs moved, so it is built first")
        elif before != new[ref]:
            why.append(f"base {ref_text} was rebuilt upstream (its digest moved)")
    return why


def dockerfile_diff(old: object, new: object, old_ref: str) -> list[str]:
    """A short unified diff (one line of context) of the Dockerfile, when both labels hold its
    text (kfws.images.digest.pack_dockerfile); nothing otherwise."""
    before, after = unpack_dockerfile(old), unpack_dockerfile(new)
    if before is None or after is None:
        return []
    lines = list(
        difflib.unified_diff(
            before.splitlines(),
            after.splitlines(),
            f"Dockerfile ({old_ref})",
            "Dockerfile (now)",
            n=1,
            lineterm="",
        )
    )
    if len(lines) > MAX_DIFF_LINES:
        lines = [*lines[:MAX_DIFF_LINES], f"... {len(lines) - MAX_DIFF_LINES} more diff lines"]
    return ["  " + line for line in lines]


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
        why += dockerfile_diff(old.get("dockerfileText"), new.get("dockerfileText"), old_ref)
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
    why += _bases(_str_map(old.get("bases")), _str_map(new.get("bases")))
    if not why:
        why.append("no recorded input changed: a build arg value (not recorded) did")
    return why
