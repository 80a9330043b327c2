"""Reads a WorkspaceKind object (as the API returns it, JSON) into a KindState: its image values,
their usage counts from the status, and which field managers own each value (managedFields).
Pure; the object is hostile input: a malformed one is refused with what is wrong, never
half-read."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from kfws.errors import ClusterError
from kfws.targets.workspacekind.model import (
    KindState,
    LiveValue,
    MalformedValue,
    value_from_api,
)

IMAGE_CONFIG = ("spec", "podTemplate", "options", "imageConfig")


def dig(obj: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        obj = obj.get(key) if isinstance(obj, Mapping) else None
    return obj


def _fields_path(path: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"f:{p}" for p in path)


def value_managers(obj: Mapping[str, Any]) -> tuple[dict[str, set[str]], set[str]]:
    """(value id -> managers owning a field of it, managers of imageConfig.spawner.default),
    from metadata.managedFields (the status subresource's managers are not the spec's)."""
    by_id: dict[str, set[str]] = {}
    default: set[str] = set()
    for entry in dig(obj, ("metadata",)).get("managedFields") or []:
        if not isinstance(entry, Mapping) or entry.get("subresource"):
            continue
        manager = str(entry.get("manager") or "")
        config = dig(entry.get("fieldsV1"), _fields_path(IMAGE_CONFIG))
        for key in dig(config, ("f:values",)) or {}:
            if not key.startswith("k:"):
                continue
            try:
                ident = json.loads(key[2:]).get("id")
            except (ValueError, AttributeError):
                continue
            if isinstance(ident, str):
                by_id.setdefault(ident, set()).add(manager)
        if dig(config, ("f:spawner", "f:default")) is not None:
            default.add(manager)
    return by_id, default


def kind_state(obj: Mapping[str, Any]) -> KindState:
    name = str(dig(obj, ("metadata", "name")) or "")
    where = f"workspacekind/{name}"
    config = dig(obj, IMAGE_CONFIG)
    raw_values = dig(config, ("values",))
    if not isinstance(raw_values, list):
        raise ClusterError(
            "the kind has no spec.podTemplate.options.imageConfig.values list",
            where=where,
            hint="kfws edits image values of a well-formed WorkspaceKind (kubeflow.org/v1beta1)",
        )
    usage: dict[str, int] = {}
    for metric in dig(obj, ("status", "podTemplateOptions", "imageConfig")) or []:
        if isinstance(metric, Mapping) and isinstance(metric.get("workspaces"), int):
            usage[str(metric.get("id"))] = int(metric["workspaces"])
    managers, default_managers = value_managers(obj)
    values = []
    for raw in raw_values:
        try:
            value = value_from_api(raw)
        except MalformedValue as e:
            raise ClusterError(
                f"a live image value is malformed: {e}",
                where=where,
                hint="fix the kind (kubectl edit workspacekind); kfws never overwrites "
                "what it can't read",
            ) from None
        managed = frozenset(managers.get(value.id, ()))
        values.append(LiveValue(value, usage.get(value.id, 0), managed))
    default = dig(config, ("spawner", "default"))
    ports = [p.get("id") for p in dig(obj, ("spec", "podTemplate", "ports")) or []
             if isinstance(p, Mapping)]  # fmt: skip
    return KindState(
        name=name,
        resource_version=str(dig(obj, ("metadata", "resourceVersion")) or ""),
        default=default if isinstance(default, str) else None,
        values=tuple(values),
        port_ids=tuple(str(p) for p in ports if isinstance(p, str)),
        default_managers=frozenset(default_managers),
        uid=str(dig(obj, ("metadata", "uid")) or ""),
    )
