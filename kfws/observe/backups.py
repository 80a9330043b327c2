"""The texts kfws keeps before it writes a target (its backup ConfigMaps, `kfws-backup-*`,
labelled `app.kubernetes.io/managed-by=kfws`, in the workspace's namespace), for prune: every
image a rollback could bring back must stay in its registry. Reads only (the read-only Role's
list on ConfigMaps)."""

from __future__ import annotations

from kfws.observe.cluster import REQUEST_TIMEOUT, api_errors, load_api

BACKUP_SELECTOR = "app.kubernetes.io/managed-by=kfws"
BACKUP_PREFIX = "kfws-backup-"


def backup_texts(namespace: str, *, context: str | None) -> list[str]:
    """Every kept text (all keys of every kfws backup ConfigMap there)."""
    from kubernetes import client

    core = client.CoreV1Api(load_api(context))
    with api_errors("list", "configmaps", namespace):
        found = core.list_namespaced_config_map(
            namespace, label_selector=BACKUP_SELECTOR, _request_timeout=REQUEST_TIMEOUT
        ).items
    texts: list[str] = []
    for cm in found:
        name = cm.metadata.name if cm.metadata is not None else None
        if str(name).startswith(BACKUP_PREFIX):
            texts.extend(str(v) for v in (cm.data or {}).values())
    return texts
