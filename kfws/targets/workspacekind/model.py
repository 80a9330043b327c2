"""The WorkspaceKind target's values: what a workspace file declares for a kind, what the cluster
holds, and the image value both are compared as. Plain, immutable data; no I/O.

An image value is `spec.podTemplate.options.imageConfig.values[]` of a Kubeflow Notebooks 2.0
WorkspaceKind. Its `spec` (image, pull policy, ports) is what upstream's webhook freezes while
Workspaces use the value; the rest (display name, description, labels, hidden, redirect) may
change at any time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

FIELD_MANAGER = "kfws"
PULL_POLICIES = ("Always", "IfNotPresent", "Never")
LEVELS = ("Info", "Warning", "Danger")
DEFAULT_PULL_POLICY = "IfNotPresent"
DEFAULT_PORT = 8888


@dataclass(frozen=True)
class Port:
    id: str
    port: int
    display_name: str | None = None

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "port": self.port}
        if self.display_name is not None:
            out["displayName"] = self.display_name
        return out


@dataclass(frozen=True)
class Redirect:
    to: str
    level: str | None = None  # None with text None: no message
    text: str | None = None

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"to": self.to}
        if self.text is not None:
            out["message"] = {"level": self.level or "Info", "text": self.text}
        return out


@dataclass(frozen=True)
class ImageValue:
    """One image value, as kfws writes it and compares it."""

    id: str
    display_name: str
    image: str
    pull_policy: str = DEFAULT_PULL_POLICY
    ports: tuple[Port, ...] = ()
    description: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    hidden: bool = False
    redirect: Redirect | None = None

    @property
    def spec_key(self) -> tuple[str, str, tuple[tuple[str, int, str | None], ...]]:
        """What the webhook freezes while the value is in use: image, pull policy, ports."""
        ports = tuple(sorted((p.id, p.port, p.display_name) for p in self.ports))
        return (self.image, self.pull_policy, ports)

    def to_api(self) -> dict[str, Any]:
        """The value as the API takes it (and as kfws's server-side apply writes it)."""
        spawner: dict[str, Any] = {"displayName": self.display_name}
        if self.description is not None:
            spawner["description"] = self.description
        if self.labels:
            spawner["labels"] = [{"key": k, "value": v} for k, v in self.labels]
        spawner["hidden"] = self.hidden
        out: dict[str, Any] = {"id": self.id, "spawner": spawner}
        if self.redirect is not None:
            out["redirect"] = self.redirect.to_api()
        out["spec"] = {
            "image": self.image,
            "imagePullPolicy": self.pull_policy,
            "ports": [p.to_api() for p in self.ports],
        }
        return out

    def fields(self) -> dict[str, Any]:
        """Flat, comparable fields, for the plan's per-field before/after."""
        return {
            "displayName": self.display_name,
            "description": self.description,
            "labels": dict(self.labels),
            "hidden": self.hidden,
            "redirect": self.redirect.to_api() if self.redirect else None,
            "image": self.image,
            "pullPolicy": self.pull_policy,
            "ports": [p.to_api() for p in self.ports],
        }


class MalformedValue(ValueError):
    """A live value that doesn't have the documented shape (the cluster's text is hostile)."""


def _str(d: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str | None:
    v = d.get(key)
    if v is None and not required:
        return None
    if not isinstance(v, str):
        raise MalformedValue(f"{where}.{key} is not text")
    return v


def value_from_api(raw: Any) -> ImageValue:
    """Reads one live value; MalformedValue names what is wrong with it."""
    if not isinstance(raw, Mapping):
        raise MalformedValue("a value is not an object")
    vid = _str(raw, "id", "value")
    assert vid is not None
    where = f"value {vid!r}"
    spawner = raw.get("spawner") or {}
    spec = raw.get("spec") or {}
    if not isinstance(spawner, Mapping) or not isinstance(spec, Mapping):
        raise MalformedValue(f"{where}: spawner/spec is not an object")
    labels = []
    for label in spawner.get("labels") or []:
        if not isinstance(label, Mapping):
            raise MalformedValue(f"{where}: a label is not an object")
        labels.append((_str(label, "key", where) or "", _str(label, "value", where) or ""))
    ports = []
    for port in spec.get("ports") or []:
        if not isinstance(port, Mapping) or not isinstance(port.get("port"), int):
            raise MalformedValue(f"{where}: a port has no number")
        ports.append(
            Port(
                _str(port, "id", where) or "",
                int(port["port"]),
                _str(port, "displayName", where, required=False),
            )
        )
    redirect = None
    raw_redirect = raw.get("redirect")
    if isinstance(raw_redirect, Mapping):
        message = raw_redirect.get("message") or {}
        if not isinstance(message, Mapping):
            raise MalformedValue(f"{where}: redirect.message is not an object")
        redirect = Redirect(
            _str(raw_redirect, "to", where) or "",
            _str(message, "level", where, required=False),
            _str(message, "text", where, required=False),
        )
    hidden = spawner.get("hidden", False)
    return ImageValue(
        id=vid,
        display_name=_str(spawner, "displayName", where) or "",
        image=_str(spec, "image", where) or "",
        pull_policy=_str(spec, "imagePullPolicy", where, required=False) or DEFAULT_PULL_POLICY,
        ports=tuple(ports),
        description=_str(spawner, "description", where, required=False),
        labels=tuple(labels),
        hidden=hidden is True,
        redirect=redirect,
    )


@dataclass(frozen=True)
class LiveValue:
    value: ImageValue
    usage: int  # Workspaces using it (status.podTemplateOptions.imageConfig[]); 0 if not listed
    managers: frozenset[str] = frozenset()  # field managers owning fields of it ("kfws", ...)

    @property
    def kfws_owned(self) -> bool:
        return FIELD_MANAGER in self.managers

    @property
    def others(self) -> frozenset[str]:
        return self.managers - {FIELD_MANAGER}


@dataclass(frozen=True)
class KindState:
    """One WorkspaceKind as observed: its image values in live order, their usage, who manages
    what, and the kind's port ids (every value's ports must be among them)."""

    name: str
    resource_version: str
    default: str | None
    values: tuple[LiveValue, ...]
    port_ids: tuple[str, ...]
    default_managers: frozenset[str] = frozenset()
    uid: str = ""

    def value(self, vid: str) -> LiveValue | None:
        return next((v for v in self.values if v.value.id == vid), None)


@dataclass(frozen=True)
class DeclaredImage:
    """One `workspaceKinds.<kind>.images[]` entry; `image` is a managed image's name or a full
    reference, as written (the planner resolves managed names)."""

    id: str
    image: str
    display_name: str | None = None
    description: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    hidden: bool = False
    pull_policy: str = DEFAULT_PULL_POLICY
    ports: tuple[Port, ...] | None = None  # None: the kind's only port, on 8888
    redirect_to: str | None = None
    redirect_level: str | None = None
    redirect_text: str | None = None
    replaces: tuple[str, ...] = ()
    location: str = ""  # "workspace.yaml:12"


@dataclass(frozen=True)
class KindSpec:
    name: str
    images: tuple[DeclaredImage, ...]
    default: str | None = None
    location: str = ""
