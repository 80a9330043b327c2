"""The spawner target's write: the UPDATE change, under the apply lock the caller holds.

Safety, in order:
1. the ConfigMap must still be at the plan's resourceVersion (else: "changed since the plan");
2. a server-side dry run of the exact patch (`dryRun=All`);
3. the previous text is pushed onto the backup ConfigMap (kfws.targets.backups);
4. the patch, with the plan's resourceVersion as precondition and field manager `kfws`: it sets
   only the one key (other keys of the ConfigMap are untouched) and the annotations recording what
   kfws applied (kfws.targets.spawner.annotations), which `kfws drift` compares against. A 409
   means someone changed it since: nothing is written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from kfws.errors import ApplyError, KfwsError
from kfws.observe import kube_api
from kfws.observe.cluster import api_error, api_errors
from kfws.output import Reporter
from kfws.plan.model import PENDING_DIGEST, Change
from kfws.targets.audit import short_stamp as _short_stamp
from kfws.targets.backups import backup_name, pop_backup, push_backup
from kfws.targets.clients import FIELD_MANAGER, Clients
from kfws.targets.fingerprint import text_hash
from kfws.targets.lock import ApplyLock
from kfws.targets.spawner.annotations import (
    ANN_ADDED,
    ANN_AT,
    ANN_BY,
    ANN_DIGESTS,
    ANN_HASH,
    ANN_OWNED,
)
from kfws.targets.spawner.config_yaml import LiveSpawner, read_spawner
from kfws.targets.spawner.plan import record_for


def recorded_owned(planned: Any, written: LiveSpawner) -> dict[str, Any]:
    """What `kfws.dev/applied-owned` records: the owned values of the text actually written
    (so a `pin: digest` option carries the pushed digest, never the plan's placeholder), limited
    to the groups and flags the plan declared (drift judges only those)."""
    owned = written.owned()
    if isinstance(planned, Mapping) and planned:
        return {k: v for k, v in owned.items() if k in planned}
    return owned


def _changed_since_plan(where: str, detail: str) -> ApplyError:
    return ApplyError(
        f"the spawner config changed since the plan ({detail}); nothing was written",
        where=where,
        hint="re-run `kfws plan`, review it, and apply the new plan",
    )


def write_config(
    cl: Clients,
    change: Change,
    *,
    lock: ApplyLock | None,
    reporter: Reporter,
    backup: str = "push",
) -> str:
    """The UPDATE_SPAWNER step. `backup`: "push" keeps the previous text as the newest backup;
    "pop:N" (rollback) drops backup N once the write succeeded."""
    from kubernetes.client.exceptions import ApiException

    d = change.details
    ns, name, key = str(d["namespace"]), str(d["configMap"]), str(d["key"])
    planned_rv = str(d["resourceVersion"])
    where = change.target
    new_text = change.after
    if not isinstance(new_text, str) or PENDING_DIGEST in new_text:
        raise ApplyError(
            "the new spawner config still holds a digest that is only known after the push "
            f"({PENDING_DIGEST}); nothing was written",
            where=where,
            hint="apply the plan through `kfws apply` (it pushes first), or re-run `kfws plan`",
        )
    written = read_spawner(new_text, where=f"{where} key {key} (as planned)")  # refuse broken
    with api_errors("get", "configmaps", ns, name):
        try:
            cm = kube_api.get(cl.api, kube_api.CONFIG_MAP, namespace=ns, name=name)
        except ApiException as e:
            if e.status == 404:
                raise _changed_since_plan(where, "the ConfigMap is gone") from None
            raise
    current = kube_api.str_map(cm.get("data")).get(key)
    live_rv = kube_api.field(cm, "metadata", "resourceVersion")
    if live_rv != planned_rv:
        raise _changed_since_plan(
            where, f"resourceVersion {planned_rv} at plan time, now {live_rv}"
        )
    if current is None or text_hash(current) != d.get("beforeHash", text_hash(current)):
        raise _changed_since_plan(where, f"the content of {key} differs from the plan's")
    owned = recorded_owned(d.get("owned"), written)
    added = record_for(d.get("kfwsAdded"), new_text)  # what a later `merge` may remove
    body = {
        "metadata": {
            "resourceVersion": planned_rv,
            "annotations": {
                ANN_HASH: text_hash(new_text),
                ANN_OWNED: json.dumps(owned, sort_keys=True, separators=(",", ":")),
                ANN_AT: _short_stamp(),
                ANN_BY: cl.identity(),
                **(
                    {ANN_DIGESTS: json.dumps(d["appliedDigests"], sort_keys=True)}
                    if isinstance(d.get("appliedDigests"), dict)
                    else {}
                ),
                **({ANN_ADDED: json.dumps(added, sort_keys=True)} if added is not None else {}),
            },
        },
        "data": {key: new_text},
    }

    def patch(dry: bool) -> Any:
        try:
            return kube_api.write(
                cl.api,
                "PATCH",
                kube_api.CONFIG_MAP,
                body,
                field_manager=FIELD_MANAGER,
                dry_run=dry,
                content_type=kube_api.MERGE_PATCH,
                namespace=ns,
                name=name,
            )
        except ApiException as e:
            if e.status == 409:
                raise _changed_since_plan(where, "the API server answered 409 Conflict") from None
            raise api_error(e, "patch", "configmaps", ns, name) from None

    patch(dry=True)
    if lock:
        lock.renew()
    n = 0
    kept = ""
    if backup == "push":
        n = push_backup(cl.api, ns, name, key, current, by=cl.identity())
        kept = f"; the previous version is kept as {n}.yaml in configmap/{ns}/{backup_name(name)}"
    try:
        patch(dry=False)
    except KfwsError:
        if n:
            try:
                pop_backup(cl.api, ns, name, n)
            except KfwsError as e:
                reporter.warn(f"could not drop the unused backup {n}.yaml: {e.message}")
        raise
    if backup.startswith("pop:"):
        pop_backup(cl.api, ns, name, int(backup.split(":", 1)[1]))
    return f"updated {where} ({key}){kept}"
