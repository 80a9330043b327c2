"""Executes the cluster changes of a plan: the spawner config write and the web app reload.

Safety, in order, for an UPDATE_SPAWNER change:
1. the apply lock: a Lease `kfws-apply` in the namespace naming its holder (user, host, pid,
   since when), renewed while kfws works and expiring `LEASE_TTL` seconds after its last renewal
   if the holder died; a second apply waits up to `--lock-timeout`, then fails naming the holder;
2. the ConfigMap must still be at the plan's resourceVersion (else: "changed since the plan");
3. a server-side dry run of the exact patch (`dryRun=All`);
4. the previous text is pushed onto the backup ConfigMap `kfws-backup-<configmap>` (the last
   `BACKUP_KEEP` versions, as keys `<n>.yaml`, with a JSON history annotation);
5. the patch, with the plan's resourceVersion as precondition and field manager `kfws`: it sets
   only the one key (other keys of the ConfigMap are untouched) and the annotations recording what
   kfws applied (`kfws.dev/applied-hash`, `kfws.dev/applied-owned`: the owned lists as JSON),
   which `kfws drift` compares against. A 409 means someone changed it since: nothing is written.
Then the restart (`rollout`, `delete-pods` or `none`). A restart that doesn't finish in time is
reported with the pods' states; the config change stays applied and the error says so.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kfws import output
from kfws.errors import ApplyError, ClusterError, KfwsError
from kfws.observe.cluster import REQUEST_TIMEOUT, api_error, api_errors, load_api, observe_cluster
from kfws.plan.model import PENDING_DIGEST, Change, ChangeKind
from kfws.plan.spawner import ANN_ADDED, record_for, text_hash
from kfws.spawner_yaml import LiveSpawner, edit_spawner, read_spawner
from kfws.spec.model import ClusterSpec, RestartMode

FIELD_MANAGER = "kfws"
MERGE_PATCH = "application/merge-patch+json"
LEASE_NAME = "kfws-apply"
LEASE_TTL = 120  # seconds after the last renewal a dead holder's lock expires
BACKUP_PREFIX = "kfws-backup-"
BACKUP_KEEP = 5
ANN_HASH = "kfws.dev/applied-hash"
ANN_OWNED = "kfws.dev/applied-owned"
ANN_AT = "kfws.dev/applied-at"
ANN_BY = "kfws.dev/applied-by"
ANN_HISTORY = "kfws.dev/history"
ANN_DIGESTS = "kfws.dev/applied-digests"  # option ref -> digest when applied (drift: tag moved)
POD_ANN_HASH = "kfws.dev/config-hash"
POD_ANN_RESTARTED = "kfws.dev/restarted-at"
PROGRESS_EVERY = 3.0


def _now() -> datetime:
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond or 1)  # MicroTime wants the fraction


def _stamp(t: datetime | None = None) -> str:
    return (t or _now()).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _short_stamp(t: datetime | None = None) -> str:
    return (t or _now()).strftime("%Y-%m-%dT%H:%M:%SZ")


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER") or f"uid {os.getuid()}"


@dataclass
class Clients:
    core: Any
    apps: Any
    coord: Any

    @classmethod
    def connect(cls, context: str | None) -> Clients:
        from kubernetes import client

        api = load_api(context)
        return cls(client.CoreV1Api(api), client.AppsV1Api(api), client.CoordinationV1Api(api))


# --------------------------------------------------------------------------------------------
# the lock


@dataclass(frozen=True)
class Holder:
    identity: str
    user: str
    host: str
    pid: str
    since: str

    def describe(self) -> str:
        return f"{self.user} on {self.host}, pid {self.pid}, since {self.since}"


def _holder_of(lease: Any) -> Holder | None:
    identity = lease.spec.holder_identity if lease.spec else None
    if not identity:
        return None
    notes = lease.metadata.annotations or {}
    return Holder(
        identity=str(identity),
        user=notes.get("kfws.dev/holder-user", "?"),
        host=notes.get("kfws.dev/holder-host", "?"),
        pid=notes.get("kfws.dev/holder-pid", "?"),
        since=notes.get("kfws.dev/holder-since", "?"),
    )


def _expired(lease: Any, now: datetime) -> bool:
    spec = lease.spec
    renewed = spec.renew_time or spec.acquire_time
    if renewed is None:
        return True
    if isinstance(renewed, str):
        renewed = datetime.fromisoformat(renewed.replace("Z", "+00:00"))
    ttl = spec.lease_duration_seconds or LEASE_TTL
    return bool((now - renewed).total_seconds() > ttl)


class ApplyLock:
    """The Lease held while kfws writes to the cluster."""

    def __init__(self, coord: Any, namespace: str, *, timeout: float, ttl: int = LEASE_TTL):
        self.coord = coord
        self.ns = namespace
        self.timeout = timeout
        self.ttl = ttl
        self.token = uuid.uuid4().hex[:8]
        self.me = Holder(
            identity=f"{_user()}@{socket.gethostname()} pid {os.getpid()} ({self.token})",
            user=_user(),
            host=socket.gethostname(),
            pid=str(os.getpid()),
            since=_short_stamp(),
        )
        self.last_renew = 0.0
        self.took_over: Holder | None = None

    def _body(self, lease: Any | None) -> dict[str, Any]:
        now = _stamp()
        meta: dict[str, Any] = {
            "name": LEASE_NAME,
            "labels": {"app.kubernetes.io/managed-by": "kfws"},
            "annotations": {
                "kfws.dev/holder-user": self.me.user,
                "kfws.dev/holder-host": self.me.host,
                "kfws.dev/holder-pid": self.me.pid,
                "kfws.dev/holder-since": self.me.since,
            },
        }
        if lease is not None:
            meta["resourceVersion"] = lease.metadata.resource_version
        return {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": meta,
            "spec": {
                "holderIdentity": self.me.identity,
                "leaseDurationSeconds": self.ttl,
                "acquireTime": now,
                "renewTime": now,
            },
        }

    def acquire(self) -> None:
        from kubernetes.client.exceptions import ApiException

        deadline = time.monotonic() + self.timeout
        said = False
        while True:
            op = "get"
            try:
                try:
                    lease = self.coord.read_namespaced_lease(
                        LEASE_NAME, self.ns, _request_timeout=REQUEST_TIMEOUT
                    )
                except ApiException as e:
                    if e.status != 404:
                        raise api_error(e, "get", "leases", self.ns, LEASE_NAME) from None
                    op = "create"
                    self.coord.create_namespaced_lease(
                        self.ns, self._body(None), _request_timeout=REQUEST_TIMEOUT
                    )
                    self.last_renew = time.monotonic()
                    return
                holder = _holder_of(lease)
                if holder is None or _expired(lease, _now()):
                    op = "update"
                    self.coord.replace_namespaced_lease(
                        LEASE_NAME, self.ns, self._body(lease), _request_timeout=REQUEST_TIMEOUT
                    )
                    self.last_renew = time.monotonic()
                    if holder is not None:
                        self.took_over = holder
                        output.warn(
                            f"took over the apply lock left by {holder.describe()} "
                            f"(not renewed for over {lease.spec.lease_duration_seconds}s)"
                        )
                    return
            except ApiException as e:
                if e.status == 409:  # someone else created/updated it in between: look again
                    continue
                raise api_error(e, op, "leases", self.ns, LEASE_NAME) from None
            if time.monotonic() >= deadline:
                raise ApplyError(
                    f"another kfws apply holds the lock (lease {self.ns}/{LEASE_NAME}): "
                    f"{holder.describe()}; waited {self.timeout:g}s. Nothing was changed on "
                    "the cluster",
                    where=f"lease/{self.ns}/{LEASE_NAME}",
                    hint=(
                        "wait for it to finish and re-run; if that process is gone, the lock "
                        f"expires {lease.spec.lease_duration_seconds or self.ttl}s after its "
                        "last renewal, or run `kfws unlock`"
                    ),
                )
            if not said:
                output.progress(f"waiting for the apply lock held by {holder.describe()}")
                said = True
            time.sleep(min(1.0, max(0.05, deadline - time.monotonic())))

    def renew(self, *, force: bool = False) -> None:
        if not force and time.monotonic() - self.last_renew < self.ttl / 4:
            return
        with api_errors("update", "leases", self.ns, LEASE_NAME):
            lease = self.coord.read_namespaced_lease(
                LEASE_NAME, self.ns, _request_timeout=REQUEST_TIMEOUT
            )
            holder = _holder_of(lease)
            if holder is None or holder.identity != self.me.identity:
                raise ApplyError(
                    "kfws lost the apply lock while applying (it was released or taken over "
                    f"by {holder.describe() if holder else 'nobody'})",
                    where=f"lease/{self.ns}/{LEASE_NAME}",
                    hint="check what else is applying, then re-run kfws plan",
                )
            body = self._body(lease)
            body["spec"]["acquireTime"] = _stamp(lease.spec.acquire_time or _now())
            self.coord.replace_namespaced_lease(
                LEASE_NAME, self.ns, body, _request_timeout=REQUEST_TIMEOUT
            )
        self.last_renew = time.monotonic()

    def release(self) -> None:
        from kubernetes.client.exceptions import ApiException

        try:
            lease = self.coord.read_namespaced_lease(
                LEASE_NAME, self.ns, _request_timeout=REQUEST_TIMEOUT
            )
            holder = _holder_of(lease)
            if holder is None or holder.identity != self.me.identity:
                return
            _clear_lease(self.coord, self.ns, lease)
        except (ApiException, KfwsError) as e:
            output.warn(
                f"could not release the apply lock ({getattr(e, 'status', e)}); it expires "
                f"{self.ttl}s after its last renewal, or run `kfws unlock`"
            )

    def __enter__(self) -> ApplyLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _clear_lease(coord: Any, ns: str, lease: Any) -> None:
    body = {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {
            "name": LEASE_NAME,
            "resourceVersion": lease.metadata.resource_version,
            "labels": dict(lease.metadata.labels or {}),
        },
        "spec": {"leaseDurationSeconds": lease.spec.lease_duration_seconds or LEASE_TTL},
    }
    coord.replace_namespaced_lease(LEASE_NAME, ns, body, _request_timeout=REQUEST_TIMEOUT)


def unlock(cluster_spec: ClusterSpec, *, context: str | None) -> str:
    """Releases the apply lock whoever holds it (for a holder that is gone)."""
    from kubernetes.client.exceptions import ApiException

    ns = cluster_spec.namespace
    cl = Clients.connect(context or cluster_spec.context)
    try:
        lease = cl.coord.read_namespaced_lease(LEASE_NAME, ns, _request_timeout=REQUEST_TIMEOUT)
    except ApiException as e:
        if e.status == 404:
            return f"no apply lock in namespace {ns}"
        raise api_error(e, "get", "leases", ns, LEASE_NAME) from None
    holder = _holder_of(lease)
    if holder is None:
        return f"no apply lock held in namespace {ns}"
    with api_errors("update", "leases", ns, LEASE_NAME):
        _clear_lease(cl.coord, ns, lease)
    return f"released the apply lock (lease {ns}/{LEASE_NAME}) held by {holder.describe()}"


# --------------------------------------------------------------------------------------------
# the config write


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


def push_backup(core: Any, ns: str, config_map: str, key: str, text: str) -> int:
    """Keeps `text` (the key's content before a write) as the newest backup; returns its number."""
    cm, history = read_backup(core, ns, config_map)
    n = max((int(e["n"]) for e in history), default=0) + 1
    history.append(
        {"n": n, "key": key, "hash": text_hash(text), "at": _short_stamp(), "by": _user()}
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
    read_spawner(new_text, where=f"{where} key {key} (as planned)")  # refuse a broken text
    with api_errors("get", "configmaps", ns, name):
        try:
            cm = cl.core.read_namespaced_config_map(name, ns, _request_timeout=REQUEST_TIMEOUT)
        except ApiException as e:
            if e.status == 404:
                raise _changed_since_plan(where, "the ConfigMap is gone") from None
            raise
    current = (cm.data or {}).get(key)
    if cm.metadata.resource_version != planned_rv:
        raise _changed_since_plan(
            where, f"resourceVersion {planned_rv} at plan time, now {cm.metadata.resource_version}"
        )
    if current is None or text_hash(current) != d.get("beforeHash", text_hash(current)):
        raise _changed_since_plan(where, f"the content of {key} differs from the plan's")
    owned = d.get("owned") or read_spawner(new_text).owned()
    added = record_for(d.get("kfwsAdded"), new_text)  # what a later `merge` may remove
    body = {
        "metadata": {
            "resourceVersion": planned_rv,
            "annotations": {
                ANN_HASH: text_hash(new_text),
                ANN_OWNED: json.dumps(owned, sort_keys=True, separators=(",", ":")),
                ANN_AT: _short_stamp(),
                ANN_BY: _user(),
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
        kwargs: dict[str, Any] = {"dry_run": "All"} if dry else {}
        try:
            return cl.core.patch_namespaced_config_map(
                name,
                ns,
                body,
                field_manager=FIELD_MANAGER,
                _content_type=MERGE_PATCH,
                _request_timeout=REQUEST_TIMEOUT,
                **kwargs,
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
        n = push_backup(cl.core, ns, name, key, current)
        kept = f"; the previous version is kept as {n}.yaml in configmap/{ns}/{backup_name(name)}"
    try:
        patch(dry=False)
    except KfwsError:
        if n:
            try:
                pop_backup(cl.core, ns, name, n)
            except KfwsError as e:
                output.warn(f"could not drop the unused backup {n}.yaml: {e.message}")
        raise
    if backup.startswith("pop:"):
        pop_backup(cl.core, ns, name, int(backup.split(":", 1)[1]))
    return f"updated {where} ({key}){kept}"


# --------------------------------------------------------------------------------------------
# the restart


def _selector(dep: Any) -> str:
    labels = dep.spec.selector.match_labels or {}
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def _pod_ready(pod: Any) -> bool:
    if pod.metadata.deletion_timestamp is not None or pod.status.phase != "Running":
        return False
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])


def pod_states(cl: Clients, ns: str, dep: Any) -> str:
    with api_errors("list", "pods", ns):
        pods = cl.core.list_namespaced_pod(
            ns, label_selector=_selector(dep), _request_timeout=REQUEST_TIMEOUT
        ).items
    lines = []
    for p in sorted(pods, key=lambda p: p.metadata.name):
        statuses = p.status.container_statuses or []
        ready = sum(1 for c in statuses if c.ready)
        why = [
            c.state.waiting.reason
            for c in statuses
            if c.state is not None and c.state.waiting is not None and c.state.waiting.reason
        ]
        state = "Terminating" if p.metadata.deletion_timestamp else p.status.phase
        extra = f", {', '.join(why)}" if why else ""
        lines.append(f"{p.metadata.name}: {state}, {ready}/{len(statuses)} ready{extra}")
    return "\n    ".join(lines) or "no pods"


def _timeout_error(cl: Clients, ns: str, dep: Any, what: str, timeout: float) -> ApplyError:
    paused = " (the Deployment is paused)" if dep.spec.paused else ""
    return ApplyError(
        f"the spawner config change IS applied, but {what} of deployment/{ns}/"
        f"{dep.metadata.name} did not complete within {timeout:g}s{paused}. Pods:\n    "
        + pod_states(cl, ns, dep),
        where=f"deployment/{ns}/{dep.metadata.name}",
        hint=(
            "look at the pods (kubectl describe pod); Kubeflow picks up the new config by itself "
            "about a minute after the kubelet refreshes the mounted file"
        ),
    )


def _read_dep(cl: Clients, ns: str, name: str) -> Any:
    with api_errors("get", "deployments", ns, name):
        return cl.apps.read_namespaced_deployment(name, ns, _request_timeout=REQUEST_TIMEOUT)


def rollout(cl: Clients, ns: str, name: str, config_hash: str, timeout: float, lock: Any) -> str:
    from kubernetes.client.exceptions import ApiException

    body = {
        "spec": {
            "template": {
                "metadata": {
                    "annotations": {POD_ANN_HASH: config_hash, POD_ANN_RESTARTED: _short_stamp()}
                }
            }
        }
    }
    dep = None
    for dry in (True, False):
        try:
            dep = cl.apps.patch_namespaced_deployment(
                name,
                ns,
                body,
                field_manager=FIELD_MANAGER,
                _content_type=MERGE_PATCH,
                _request_timeout=REQUEST_TIMEOUT,
                **({"dry_run": "All"} if dry else {}),
            )
        except ApiException as e:
            err = api_error(e, "patch", "deployments", ns, name)
            err.message = "the spawner config change IS applied, but " + err.message
            raise err from None
    assert dep is not None
    generation = dep.metadata.generation
    start = time.monotonic()
    last_line, last_said = "", 0.0
    while True:
        dep = _read_dep(cl, ns, name)
        want = dep.spec.replicas if dep.spec.replicas is not None else 1
        st = dep.status
        counts = (
            st.updated_replicas or 0,
            st.ready_replicas or 0,
            st.available_replicas or 0,
            st.replicas or 0,
        )
        done = (st.observed_generation or 0) >= generation and counts == (want,) * 4
        elapsed = time.monotonic() - start
        if done:
            return (
                f"rolled out deployment/{ns}/{name}: {want}/{want} updated, ready and "
                f"available ({elapsed:.1f}s)"
            )
        line = (
            f"rollout of deployment/{ns}/{name}: {counts[0]}/{want} updated, "
            f"{counts[1]}/{want} ready, {counts[2]}/{want} available"
        )
        if line != last_line or elapsed - last_said > PROGRESS_EVERY * 3:
            output.progress(f"{line} ({elapsed:.0f}s)")
            last_line, last_said = line, elapsed
        if elapsed > timeout:
            raise _timeout_error(cl, ns, dep, "the rollout", timeout)
        if lock:
            lock.renew()
        time.sleep(0.5)


def delete_pods(cl: Clients, ns: str, name: str, timeout: float, lock: Any) -> str:
    from kubernetes.client.exceptions import ApiException

    dep = _read_dep(cl, ns, name)
    selector = _selector(dep)
    want = dep.spec.replicas if dep.spec.replicas is not None else 1
    with api_errors("list", "pods", ns):
        old = cl.core.list_namespaced_pod(
            ns, label_selector=selector, _request_timeout=REQUEST_TIMEOUT
        ).items
    for pod in old:
        try:
            cl.core.delete_namespaced_pod(pod.metadata.name, ns, _request_timeout=REQUEST_TIMEOUT)
        except ApiException as e:
            if e.status != 404:
                err = api_error(e, "delete", "pods", ns, pod.metadata.name)
                err.message = "the spawner config change IS applied, but " + err.message
                raise err from None
    old_uids = {p.metadata.uid for p in old}
    start = time.monotonic()
    last_line = ""
    while True:
        with api_errors("list", "pods", ns):
            pods = cl.core.list_namespaced_pod(
                ns, label_selector=selector, _request_timeout=REQUEST_TIMEOUT
            ).items
        fresh = [p for p in pods if p.metadata.uid not in old_uids]
        ready = [p for p in fresh if _pod_ready(p)]
        elapsed = time.monotonic() - start
        if len(ready) >= want:
            return (
                f"replaced the pods of deployment/{ns}/{name}: {len(ready)} new pod"
                f"{'s' if len(ready) != 1 else ''} Running and Ready ({elapsed:.1f}s)"
            )
        line = f"new pods of deployment/{ns}/{name}: {len(ready)}/{want} Running and Ready"
        if line != last_line:
            output.progress(f"{line} ({elapsed:.0f}s)")
            last_line = line
        if elapsed > timeout:
            raise _timeout_error(cl, ns, _read_dep(cl, ns, name), "replacing the pods", timeout)
        if lock:
            lock.renew()
        time.sleep(0.5)


def restart_webapp(cl: Clients, change: Change, *, timeout: float, lock: Any) -> str:
    d = change.details
    ns, name, mode = str(d["namespace"]), str(d["deployment"]), str(d.get("mode", "rollout"))
    match RestartMode(mode):
        case RestartMode.ROLLOUT:
            return rollout(cl, ns, name, str(d.get("configHash", "")), timeout, lock)
        case RestartMode.DELETE_PODS:
            return delete_pods(cl, ns, name, timeout, lock)
        case RestartMode.NONE:
            return (
                f"deployment/{ns}/{name} not restarted (restart: none): the web app reads the "
                "new file within about a minute of the kubelet refreshing it"
            )


# --------------------------------------------------------------------------------------------
# entry points


def _namespace(changes: Sequence[Change]) -> str:
    spaces = {str(c.details["namespace"]) for c in changes}
    if len(spaces) != 1:
        raise ApplyError(f"cluster changes span several namespaces: {sorted(spaces)}")
    return spaces.pop()


def apply_cluster_changes(
    changes: Sequence[Change],
    *,
    context: str | None,
    lock_timeout: float,
    rollout_timeout: float,
    allow_gitops_owned: bool = False,
    backup: str = "push",
) -> list[str]:
    """Runs UPDATE_SPAWNER then RESTART_WEBAPP changes under the apply lock; returns one line per
    thing done. Raises ApplyError / ClusterError saying what state the cluster was left in."""
    changes = [
        c for c in changes if c.kind in (ChangeKind.UPDATE_SPAWNER, ChangeKind.RESTART_WEBAPP)
    ]
    if not changes:
        return []
    for c in changes:
        owner = c.details.get("gitopsOwner")
        if owner and not allow_gitops_owned:
            raise ApplyError(
                f"{c.target} is managed by {owner}: its next sync would revert this change. "
                "Nothing was changed on the cluster",
                where=c.target,
                hint="make the change in the Git source it syncs from, or pass "
                "--allow-gitops-owned to apply anyway",
            )
    ns = _namespace(changes)
    cl = Clients.connect(context)
    done: list[str] = []
    with ApplyLock(cl.coord, ns, timeout=lock_timeout) as lock:
        updated = False
        for c in sorted(changes, key=lambda c: c.kind is ChangeKind.RESTART_WEBAPP):
            if c.kind is ChangeKind.UPDATE_SPAWNER:
                done.append(write_config(cl, c, lock=lock, backup=backup))
                updated = True
            else:
                try:
                    done.append(restart_webapp(cl, c, timeout=rollout_timeout, lock=lock))
                except KfwsError as e:
                    if updated and "IS applied" not in e.message:
                        e.message = "the spawner config change IS applied, but " + e.message
                    raise
    return done


def rollback(
    cluster_spec: ClusterSpec,
    *,
    context: str | None,
    lock_timeout: float,
    rollout_timeout: float,
    allow_gitops_owned: bool = False,
) -> list[str]:
    """Restores the spawner config kept before the last kfws write, through the same path as
    apply (lock, resourceVersion precondition, dry run, restart). When the config changed out of
    band since kfws wrote it, only the owned lists and flags are restored, other edits are kept."""
    state = observe_cluster(cluster_spec, context=context)
    cl = Clients.connect(context or cluster_spec.context)
    ns, name = state.namespace, state.config_map
    cm, history = read_backup(cl.core, ns, name)
    if cm is None or not history:
        raise ClusterError(
            f"there is no kfws backup of configmap/{ns}/{name} to roll back to",
            where=f"configmap/{ns}/{backup_name(name)}",
            hint="kfws keeps one there each time it applies a spawner change",
        )
    entry = history[-1]
    previous = (cm.data or {}).get(f"{entry['n']}.yaml")
    if previous is None:
        raise ClusterError(
            f"backup {entry['n']}.yaml is missing from configmap/{ns}/{backup_name(name)}",
            where=f"configmap/{ns}/{backup_name(name)}",
        )
    where = f"configmap/{ns}/{name} key {state.config_key}"
    notes: list[str] = []
    applied = state.config_annotations.get(ANN_HASH)
    if applied == text_hash(state.config_text):
        new_text = previous
    else:
        old: LiveSpawner = read_spawner(previous, where=f"{where} (backup {entry['n']})")
        new_text = edit_spawner(state.config_text, old, where=where)
        notes.append(
            "the config changed since kfws wrote it: restored only the image lists and flags "
            "kfws owns, other edits kept"
        )
    if new_text == state.config_text:
        pop_backup(cl.core, ns, name, int(entry["n"]))
        return [*notes, f"{where} already matches backup {entry['n']}; nothing to restore"]
    after = read_spawner(new_text, where=where)
    restored_hash = text_hash(new_text)
    changes = [
        Change(
            ChangeKind.UPDATE_SPAWNER,
            f"configmap/{ns}/{name}",
            f"roll back to backup {entry['n']} (from {entry.get('at', '?')})",
            before=state.config_text,
            after=new_text,
            details={
                "namespace": ns,
                "configMap": name,
                "key": state.config_key,
                "resourceVersion": state.config_map_resource_version,
                "beforeHash": text_hash(state.config_text),
                "afterHash": restored_hash,
                "owned": after.owned(),
                "gitopsOwner": state.gitops_owner,
            },
        )
    ]
    if cluster_spec.restart is not RestartMode.NONE:
        changes.append(
            Change(
                ChangeKind.RESTART_WEBAPP,
                f"deployment/{ns}/{state.deployment}",
                "reload the web app",
                details={
                    "namespace": ns,
                    "deployment": state.deployment,
                    "mode": cluster_spec.restart.value,
                    "configHash": restored_hash,
                },
            )
        )
    lines = apply_cluster_changes(
        changes,
        context=context or cluster_spec.context,
        lock_timeout=lock_timeout,
        rollout_timeout=rollout_timeout,
        allow_gitops_owned=allow_gitops_owned,
        backup=f"pop:{entry['n']}",
    )
    return [*notes, f"restored backup {entry['n']} (from {entry.get('at', '?')})", *lines]


def import_spawner(cluster_spec: ClusterSpec, *, context: str | None) -> LiveSpawner:
    """The live owned lists and flags, for `kfws import`."""
    state = observe_cluster(cluster_spec, context=context)
    return read_spawner(
        state.config_text,
        where=f"configmap/{state.namespace}/{state.config_map} key {state.config_key}",
    )


def owned_annotation(annotations: Mapping[str, str]) -> dict[str, Any] | None:
    """What kfws recorded as applied on a ConfigMap (for drift), or None."""
    raw = annotations.get(ANN_OWNED)
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
