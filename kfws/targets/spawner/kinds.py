"""The spawner target's change kinds, in the order apply runs them (their values are what plan
files have always written, so plans saved before the target seam still read)."""

from __future__ import annotations

from kfws.plan.model import ClusterKind

NAME = "spawner"  # its name in kfws.targets.all_targets
# patch the owned lists/flags in spawner_ui_config.yaml
UPDATE = ClusterKind("update-spawner", NAME, symbol="~", colour="yellow", summary="to change")
# reload the jupyter-web-app so the change shows now
RESTART = ClusterKind("restart-webapp", NAME, symbol="↻", colour="cyan", summary="to restart")
KINDS: tuple[ClusterKind, ...] = (UPDATE, RESTART)
