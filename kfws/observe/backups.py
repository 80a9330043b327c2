"""The texts kfws keeps before it writes a target (its backup ConfigMaps, `kfws-backup-*`,
labelled `app.kubernetes.io/managed-by=kfws`, in the workspace's namespace), for prune: every
image a rollback could bring back must stay in its registry, and prune says which target's
backup names it. Reads only (the read-only Role's list on ConfigMaps)."""

from __future__ import annotations

from kfws.observe import kube_api
from kfws.observe.cluster import api_errors, load_api
from kfws.usage.refs import Ref, references_in

BACKUP_SELECTOR = "app.kubernetes.io/managed-by=kfws"
BACKUP_PREFIX = "kfws-backup-"


def backup_texts(namespace: str, *, context: str | None) -> list[str]:
    """Every kept text (all keys of every kfws backup ConfigMap there)."""
    return [text for _, text in _kept(namespace, context=context)]


def backup_references(namespace: str, *, context: str | None) -> list[tuple[Ref, str]]:
    """Every image reference a kept text names, with what that text is a backup of."""
    return references_by_backup(_kept(namespace, context=context), namespace)


def references_by_backup(kept: list[tuple[str, str]], namespace: str) -> list[tuple[Ref, str]]:
    """Pure: (reference, what the backup naming it is of) for each kept (ConfigMap name, text),
    as the target whose kind of backup it is says it ("the spawner config", "WorkspaceKind
    NAME"); a text no target recognises still protects what it names, under its ConfigMap."""
    from kfws.targets.dispatch import backup_subject

    out: dict[tuple[Ref, str], None] = {}
    for name, text in kept:
        of = backup_subject(text) or f"an object kfws wrote (kept in configmap/{namespace}/{name})"
        out.update(dict.fromkeys((r, of) for r in sorted(references_in([text]), key=str)))
    return list(out)


def _kept(namespace: str, *, context: str | None) -> list[tuple[str, str]]:
    """(ConfigMap name, text) for every key of every kfws backup ConfigMap there. Read as JSON
    (kube_api), not through the typed CoreV1Api, whose import alone costs seconds."""
    api = load_api(context)
    with api_errors("list", "configmaps", namespace):
        found = kube_api.list_items(
            api, kube_api.CONFIG_MAPS, label_selector=BACKUP_SELECTOR, namespace=namespace
        )
    kept: list[tuple[str, str]] = []
    for cm in found:
        name = kube_api.field(cm, "metadata", "name")
        if isinstance(name, str) and name.startswith(BACKUP_PREFIX):
            kept.extend((name, text) for text in kube_api.str_map(cm.get("data")).values())
    return kept
