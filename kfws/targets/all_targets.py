"""The one registration table of cluster targets (see kfws.targets.base): name -> module.
Typed `dict[str, Target]`, so mypy checks every target against the Protocol. Order matters:
targets are observed, planned and applied in this order."""

from __future__ import annotations

from kfws.targets import spawner, workspacekind
from kfws.targets.base import Target

TARGETS: dict[str, Target] = {
    "spawner": spawner,
    "workspacekind": workspacekind,
}
