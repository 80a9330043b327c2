"""What the cluster offers users right now (reads only): the images of every target.

The one place usage and prune ask "is this image offered?". Until every target answers through
the targets table, this reads the Kubeflow 1.x spawner config (every group's options and its
preselected image) as `kfws.observe.cluster` finds it."""

from __future__ import annotations

from kfws.observe.cluster import observe_cluster
from kfws.spawner_yaml import read_spawner
from kfws.spec.model import Spec


def offered_now(spec: Spec, *, context: str | None) -> tuple[str, ...]:
    """The image references offered now, as written there. Raises ClusterError when the
    spawner config can't be read (prune must then not guess)."""
    state = observe_cluster(spec.cluster, context=context or spec.cluster.context)
    where = f"configmap/{state.namespace}/{state.config_map} key {state.config_key}"
    live = read_spawner(state.config_text, where=where)
    refs: list[str] = []
    for group in live.groups:
        refs.extend(group.options)
        if group.value:
            refs.append(group.value)
    return tuple(dict.fromkeys(refs))
