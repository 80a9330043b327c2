"""The texts kfws keeps before it writes a target (its backup ConfigMaps, `kfws-backup-*`,
labelled `app.kubernetes.io/managed-by=kfws`, in the workspace's namespace), for prune: every
image a rollback could bring back must stay in its registry. Reads only (the read-only Role's
list on ConfigMaps)."""

from __future__ import annotations

from kfws.observe import kube_api
from kfws.observe.cluster import api_errors, load_api

BACKUP_SELECTOR = "app.kubernetes.io/managed-by=kfws"
BACKUP_PREFIX = "kfws-backup-"


def backup_texts(namespace: str, *, context: str | None) -> list[str]:
    """Every kept text (all keys of every kfws backup ConfigMap there). Read as JSON (kube_api),
    not through the typed CoreV1Api, whose import alone costs seconds."""
    api = load_api(context)
    with api_errors("list", "configmaps", namespace):
        found = kube_api.list_items(
            api, kube_api.CONFIG_MAPS, label_selector=BACKUP_SELECTOR, namespace=namespace
        )
    texts: list[str] = []
    for cm in found:
        name = kube_api.field(cm, "metadata", "name")
        if isinstance(name, str) and name.startswith(BACKUP_PREFIX):
            texts.extend(kube_api.str_map(cm.get("data")).values())
    return texts
