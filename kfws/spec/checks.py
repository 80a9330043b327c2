"""The checks a JSON Schema can't express, as small pure predicates (each returns an error
message or None) so they are testable as tables. kfws.spec.build applies them with locations."""

from __future__ import annotations

import re
from pathlib import Path

from kfws.reference import ReferenceError, looks_like_reference, parse_reference

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
APT_NAME = re.compile(r"^[a-z0-9][a-z0-9+.-]+(?:=[A-Za-z0-9.+:~-]+)?$")
SECRET_KEY = re.compile(r"pass(word|wd)?|secret|token|credential|apikey|api_key|auth", re.I)


def reference_problem(text: str, managed_names: set[str]) -> str | None:
    if text in managed_names:
        return None
    if not looks_like_reference(text):
        names = ", ".join(sorted(managed_names)) or "none declared"
        return (
            f"{text!r} is neither a managed image's name ({names}) nor a full image reference "
            "(registry/path:tag)"
        )
    try:
        parse_reference(text)
    except ReferenceError as e:
        return str(e)
    return None


def env_name_problem(name: str) -> str | None:
    if ENV_NAME.match(name):
        return None
    return (
        f"{name!r} is not a valid environment variable name "
        "(letters, digits, '_'; no leading digit)"
    )


def pip_problem(requirement: str) -> str | None:
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        Requirement(requirement)
    except InvalidRequirement as e:
        first = str(e).splitlines()[0]
        return f"{requirement!r} is not a valid pip requirement: {first}"
    return None


def apt_problem(package: str) -> str | None:
    if APT_NAME.match(package):
        return None
    return f"{package!r} is not a valid Debian package name (lower case, digits, '+', '-', '.')"


def folder_problem(folder: str) -> str | None:
    if not folder.startswith("/") or "\n" in folder or ".." in folder.split("/"):
        return f"{folder!r} must be an absolute path without '..'"
    return None


def inside_problem(root: Path, candidate: Path, what: str, must: str) -> str | None:
    """`candidate` must exist (`must` = "dir"/"file") and resolve (symlinks too) inside root."""
    resolved = candidate.resolve()
    try:
        resolved.relative_to(root.resolve())
    except ValueError:
        return f"the {what} {candidate} leaves the workspace folder {root}; keep it inside"
    if must == "dir" and not resolved.is_dir():
        return f"the {what} {candidate} is not a folder"
    if must == "file" and not resolved.is_file():
        return f"the {what} {candidate} does not exist"
    return None


def secret_key_problem(key: str) -> str | None:
    if SECRET_KEY.search(key):
        return (
            f"{key!r} looks like a credential; workspace.yaml never holds secrets: use "
            "`docker login` or a credential helper for registries, and a kubeconfig for clusters"
        )
    return None
