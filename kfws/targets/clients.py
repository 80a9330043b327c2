"""The Kubernetes clients a cluster write uses, connected once per command, and the identity
kfws acts as (asked once): shared by every target, the lock and the backups."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kfws.observe.cluster import acting_identity, load_api
from kfws.targets.audit import user

FIELD_MANAGER = "kfws"
MERGE_PATCH = "application/merge-patch+json"


@dataclass
class Clients:
    core: Any
    apps: Any
    coord: Any
    api: Any = None
    context: str | None = None
    _identity: str | None = None

    @classmethod
    def connect(cls, context: str | None) -> Clients:
        from kubernetes import client

        api = load_api(context)
        return cls(
            client.CoreV1Api(api),
            client.AppsV1Api(api),
            client.CoordinationV1Api(api),
            api=api,
            context=context,
        )

    def identity(self) -> str:
        """The Kubernetes identity kfws acts as (asked once): what audit records name."""
        if self._identity is None:
            self._identity = acting_identity(self.api, self.context) if self.api else user()
        return self._identity
