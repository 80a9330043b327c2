"""The WorkspaceKind target's write: one server-side apply per kind, as field manager `kfws`,
holding every value kfws manages there (and the default when it is kfws's): what the apply body
leaves out that kfws alone owned, the API server removes; what others own it never touches. The
body carries the plan's resourceVersion, so a kind changed since the plan is refused (409) and
nothing is written. A dry run (`dryRun=All`) of the exact body goes first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kfws.targets.workspacekind.api import API_VERSION, server_side_apply
from kfws.targets.workspacekind.model import ImageValue


def apply_body(
    name: str, values: Sequence[ImageValue], default: str | None, resource_version: str | None
) -> dict[str, Any]:
    """The apply configuration: only the fields kfws manages, and the path down to them."""
    image_config: dict[str, Any] = {"values": [v.to_api() for v in values]}
    if default is not None:
        image_config["spawner"] = {"default": default}
    metadata: dict[str, Any] = {"name": name}
    if resource_version:
        metadata["resourceVersion"] = resource_version
    return {
        "apiVersion": API_VERSION,
        "kind": "WorkspaceKind",
        "metadata": metadata,
        "spec": {"podTemplate": {"options": {"imageConfig": image_config}}},
    }


def write_kind(api: Any, body: dict[str, Any]) -> dict[str, Any]:
    """Dry run, then the write; returns the kind as the API server stored it."""
    name = str(body["metadata"]["name"])
    server_side_apply(api, name, body, dry_run=True)
    return server_side_apply(api, name, body)
