"""What kfws observed of the notebooks on a cluster, and of the entries a cluster target counts
the users of itself: immutable values, no I/O."""

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


@dataclass(frozen=True)
class EntryUsage:
    """One entry of a cluster object that offers users an image and counts its own users (a
    WorkspaceKind value, counted by its kind's status.podTemplateOptions.imageConfig[]), as a
    target reports it (Target.usage_counts). The nouns are the target's: generic code heads its
    columns with them and never names a target."""

    kind: str  # what kind of object offers it: "WorkspaceKind"
    owner: str  # which one: "jupyterlab"
    noun: str  # what an entry of it is called: "value"
    id: str  # the entry's id there
    image: str  # the reference it offers, as written there
    users: int  # how many use it, as the object's status counts them
    users_noun: str  # what one of its users is: "workspace" (plural: with an s)
    hidden: bool = False  # not shown to users picking one (still selectable by redirect)
    redirect: str | None = None  # the entry its users are sent to on their next restart
    default: bool = False  # preselected for new users
