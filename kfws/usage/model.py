"""What kfws observed of the notebooks on a cluster: immutable values, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

STOPPED_ANNOTATION = "kubeflow-resource-stopped"  # set by the Kubeflow UI when a notebook stops
NOTEBOOK_LABEL = "notebook-name"  # the notebook controller's label on a notebook's pod


@dataclass(frozen=True)
class NotebookUse:
    """One Kubeflow notebook and the image it uses."""

    namespace: str
    name: str
    image: str  # as its first container names it ("" when it names none)
    stopped: bool  # carries kubeflow-resource-stopped
    # the registry digest its pod runs (status.containerStatuses[].imageID)
    running_digest: str | None = None

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class Notebooks:
    """Every notebook kfws could see. `unseen`: what it could not see, each with the
    permission that would let it (empty when it saw everything)."""

    notebooks: tuple[NotebookUse, ...] = ()
    unseen: tuple[str, ...] = ()
    notebooks_visible: bool = True  # False: the Notebook list itself was refused

    @property
    def namespaces(self) -> frozenset[str]:
        return frozenset(n.namespace for n in self.notebooks)
