"""Backups of what kfws overwrites, shared by every target: the previous text of an object is
pushed onto the ConfigMap `kfws-backup-<name>` in the same namespace (the last `BACKUP_KEEP`
versions, as keys `<n>.yaml`, with a JSON history annotation naming when and by whom), and a
rollback pops the one it restored."""

from __future__ import annotations

import json
from typing import Any

from kfws.observe.cluster import REQUEST_TIMEOUT, api_error, api_errors
from kfws.targets.audit import short_stamp as _short_stamp
from kfws.targets.audit import user as _user
from kfws.targets.clients import FIELD_MANAGER
from kfws.targets.fingerprint import text_hash

BACKUP_PREFIX = "kfws-backup-"
BACKUP_KEEP = 5
ANN_HISTORY = "kfws.dev/history"


def backup_name(config_map: str) -> str:
    return (BACKUP_PREFIX + config_map)[:253]


def _history(cm: Any) -> list[dict[str, Any]]:
    raw = (cm.metadata.annotations or {}).get(ANN_HISTORY, "[]") if cm else "[]"
    try:
        data = json.loads(raw)
    except ValueError:
        return []
    return [e for e in data if isinstance(e, dict) and "n" in e] if isinstance(data, list) else []


def read_backup(core: Any, ns: str, config_map: str) -> tuple[Any | None, list[dict[str, Any]]]:
    from kubernetes.client.exceptions import ApiException

    name = backup_name(config_map)
    try:
        cm = core.read_namespaced_config_map(name, ns, _request_timeout=REQUEST_TIMEOUT)
    except ApiException as e:
        if e.status == 404:
            return None, []
        raise api_error(e, "get", "configmaps", ns, name) from None
    return cm, _history(cm)


def _save_backup(
    core: Any,
    ns: str,
    config_map: str,
    cm: Any | None,
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
            core.create_namespaced_config_map(
                ns, body, field_manager=FIELD_MANAGER, _request_timeout=REQUEST_TIMEOUT
            )
    else:
        body["metadata"]["resourceVersion"] = cm.metadata.resource_version
        with api_errors("update", "configmaps", ns, name):
            core.replace_namespaced_config_map(
                name, ns, body, field_manager=FIELD_MANAGER, _request_timeout=REQUEST_TIMEOUT
            )


def push_backup(
    core: Any, ns: str, config_map: str, key: str, text: str, *, by: str | None = None
) -> int:
    """Keeps `text` (the key's content before a write) as the newest backup; returns its number.
    `by`: the Kubernetes identity that wrote (the audit record)."""
    cm, history = read_backup(core, ns, config_map)
    n = max((int(e["n"]) for e in history), default=0) + 1
    history.append(
        {"n": n, "key": key, "hash": text_hash(text), "at": _short_stamp(), "by": by or _user()}
    )
    history = history[-BACKUP_KEEP:]
    data = dict((cm.data or {}) if cm else {})
    data[f"{n}.yaml"] = text
    _save_backup(core, ns, config_map, cm, history, data)
    return n


def pop_backup(core: Any, ns: str, config_map: str, n: int) -> None:
    cm, history = read_backup(core, ns, config_map)
    if cm is None:
        return
    _save_backup(core, ns, config_map, cm, [e for e in history if e["n"] != n], dict(cm.data or {}))
