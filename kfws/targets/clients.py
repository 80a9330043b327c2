"""The Kubernetes client a cluster write uses, connected once per command, and the identity
kfws acts as (asked once): shared by every target, the lock and the backups.

Only the official client's ApiClient (kubeconfig, auth plugins, TLS, retries): objects are read
and written as JSON through kfws.observe.kube_api, not through the typed CoreV1Api / AppsV1Api /
CoordinationV1Api, whose imports build hundreds of models (seconds of every apply, rollback,
drift and unlock) for the few fields kfws reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kfws.observe.cluster import acting_identity, load_api
from kfws.targets.audit import user

FIELD_MANAGER = "kfws"


@dataclass
class Clients:
    api: Any  # kubernetes.client.ApiClient
    context: str | None = None
    _identity: str | None = None

    @classmethod
    def connect(cls, context: str | None) -> Clients:
        return cls(load_api(context), context=context)

    def identity(self) -> str:
        """The Kubernetes identity kfws acts as (asked once): what audit records name."""
        if self._identity is None:
            self._identity = acting_identity(self.api, self.context) if self.api else user()
        return self._identity
