"""Backups of what kfws overwrites, shared by every target: the previous text of an object is
pushed onto the ConfigMap `kfws-backup-<name>` in the same namespace (the last `BACKUP_KEEP`
versions, as keys `<n>.yaml`, with a JSON history annotation naming when and by whom), and a
rollback pops the one it restored."""

from __future__ import annotations

import json
from typing import Any

from kfws.observe import kube_api
from kfws.observe.cluster import api_errors
from kfws.targets.audit import short_stamp as _short_stamp
from kfws.targets.audit import user as _user
from kfws.targets.clients import FIELD_MANAGER
from kfws.targets.fingerprint import text_hash

BACKUP_PREFIX = "kfws-backup-"
BACKUP_KEEP = 5
ANN_HISTORY = "kfws.dev/history"


def backup_name(config_map: str) -> str:
    return (BACKUP_PREFIX + config_map)[:253]


def _history(cm: dict[str, Any] | None) -> list[dict[str, Any]]:
    notes = kube_api.str_map(kube_api.field(cm, "metadata", "annotations"))
    raw = notes.get(ANN_HISTORY, "[]")
    try:
        data = json.loads(raw)
    except ValueError:
        return []
    return [e for e in data if isinstance(e, dict) and "n" in e] if isinstance(data, list) else []


def read_backup(
    api: Any, ns: str, config_map: str
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The backup ConfigMap (as JSON; None when there is none yet) and its history."""
    from kubernetes.client.exceptions import ApiException

    name = backup_name(config_map)
    with api_errors("get", "configmaps", ns, name):
        try:
            cm = kube_api.get(api, kube_api.CONFIG_MAP, namespace=ns, name=name)
        except ApiException as e:
            if e.status == 404:
                return None, []
            raise
    return cm, _history(cm)


def _save_backup(
    api: Any,
    ns: str,
    config_map: str,
    cm: dict[str, Any] | None,
    history: list[dict[str, Any]],
    data: dict[str, str],
) -> None:
    name = backup_name(config_map)
    keep = {f"{e['n']}.yaml" for e in history}
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "labels": {
                "app.kubernetes.io/managed-by": "kfws",
                "kfws.dev/backup-of": config_map[:63].rstrip("-."),
            },
            "annotations": {ANN_HISTORY: json.dumps(history, sort_keys=True)},
        },
        "data": {k: v for k, v in data.items() if k in keep},
    }
    if cm is None:
        with api_errors("create", "configmaps", ns, name):
            kube_api.write(
                api, "POST", kube_api.CONFIG_MAPS, body, field_manager=FIELD_MANAGER, namespace=ns
            )
    else:
        # the version read: a backup written in between makes this a 409, not a lost entry
        body["metadata"]["resourceVersion"] = kube_api.field(cm, "metadata", "resourceVersion")
        with api_errors("update", "configmaps", ns, name):
            kube_api.write(
                api,
                "PUT",
                kube_api.CONFIG_MAP,
                body,
                field_manager=FIELD_MANAGER,
                namespace=ns,
                name=name,
            )


def push_backup(
    api: Any, ns: str, config_map: str, key: str, text: str, *, by: str | None = None
) -> int:
    """Keeps `text` (the key's content before a write) as the newest backup; returns its number.
    `by`: the Kubernetes identity that wrote (the audit record)."""
    cm, history = read_backup(api, ns, config_map)
    n = max((int(e["n"]) for e in history), default=0) + 1
    history.append(
        {"n": n, "key": key, "hash": text_hash(text), "at": _short_stamp(), "by": by or _user()}
    )
    history = history[-BACKUP_KEEP:]
    data = kube_api.str_map(kube_api.field(cm, "data"))
    data[f"{n}.yaml"] = text
    _save_backup(api, ns, config_map, cm, history, data)
    return n


def pop_backup(api: Any, ns: str, config_map: str, n: int) -> None:
    cm, history = read_backup(api, ns, config_map)
    if cm is None:
        return
    data = kube_api.str_map(cm.get("data"))
    _save_backup(api, ns, config_map, cm, [e for e in history if e["n"] != n], data)
