"""What the spawner target observes (immutable): the live spawner config and the web app that
serves it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SpawnerState:
    namespace: str
    deployment: str
    deployment_generation: int
    deployment_labels: Mapping[str, str]
    config_map: str
    config_map_resource_version: str
    config_key: str  # "spawner_ui_config.yaml"
    config_text: str  # the key's content, exactly as stored
    config_annotations: Mapping[str, str] = field(default_factory=dict)
    gitops_owner: str | None = None  # "Argo CD (app foo)" / "Flux kustomize-controller" / None
    deployment_selector: Mapping[str, str] = field(default_factory=dict)  # its matchLabels
    # the ConfigMap's managedFields: (manager, operation, time) - who wrote it, to name them
    config_managers: tuple[tuple[str, str, str | None], ...] = ()
