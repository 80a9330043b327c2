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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kfws import output
from kfws.errors import ApplyError, ClusterError, KfwsError
from kfws.observe.cluster import (
    REQUEST_TIMEOUT,
    acting_identity,
    api_error,
    api_errors,
    load_api,
    observe_cluster,
)
from kfws.observe.model import ClusterState
from kfws.plan.images import APPLIED_DIGESTS
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
ANN_DIGESTS = APPLIED_DIGESTS  # option ref -> digest when applied (drift: tag moved)
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
    api: Any = None
    context: str | None = None
    _identity: str | None = None

    @classmethod
    def connect(cls, context: str | None) -> Clients:
        from kubernetes import client

        api = load_api(context)
        return cls(
            client.CoreV1Api(api),
            client.AppsV1Api(api),
            client.CoordinationV1Api(api),
            api=api,
            context=context,
        )

    def identity(self) -> str:
        """The Kubernetes identity kfws acts as (asked once): what audit records name."""
        if self._identity is None:
            self._identity = acting_identity(self.api, self.context) if self.api else _user()
        return self._identity


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

    def __init__(
        self,
        coord: Any,
        namespace: str,
        *,
        timeout: float,
        ttl: int = LEASE_TTL,
        user: str | None = None,
    ):
        self.coord = coord
        self.ns = namespace
        self.timeout = timeout
        self.ttl = ttl
        self.token = uuid.uuid4().hex[:8]
        user = user or _user()
        self.me = Holder(
            identity=f"{user}@{socket.gethostname()} pid {os.getpid()} ({self.token})",
            user=user,
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


def _renewed_ago(lease: Any, now: datetime) -> float | None:
    renewed = lease.spec.renew_time or lease.spec.acquire_time
    if renewed is None:
        return None
    if isinstance(renewed, str):
        renewed = datetime.fromisoformat(renewed.replace("Z", "+00:00"))
    return float((now - renewed).total_seconds())


def lock_state(lease: Any, now: datetime) -> tuple[bool, str]:
    """(whether the holder is still renewing, a sentence saying so): a holder renews every
    quarter of the lease's duration while it works, so a lock renewed within the duration is
    live, and one older than that was left by a process that is gone."""
    ttl = lease.spec.lease_duration_seconds or LEASE_TTL
    ago = _renewed_ago(lease, now)
    if ago is None:
        return False, "it was never renewed: its holder is gone"
    if _expired(lease, now):
        return False, f"last renewed {ago:.0f}s ago, over its {ttl}s: its holder is gone"
    return True, (
        f"last renewed {max(ago, 0):.0f}s ago (it expires {ttl}s after a renewal): the holder is "
        "still renewing it, so a kfws is probably applying right now"
    )


def unlock(
    cluster_spec: ClusterSpec,
    *,
    context: str | None,
    force: bool = False,
    confirm: Callable[[str], bool] | None = None,
) -> str:
    """Releases the apply lock. A lock whose holder still renews it is released only with
    `force`, or when `confirm` (shown what holds it) says yes; otherwise nothing changes."""
    from kubernetes.client.exceptions import ApiException

    ns = cluster_spec.namespace
    cl = Clients.connect(context or cluster_spec.context)
    where = f"lease/{ns}/{LEASE_NAME}"
    try:
        lease = cl.coord.read_namespaced_lease(LEASE_NAME, ns, _request_timeout=REQUEST_TIMEOUT)
    except ApiException as e:
        if e.status == 404:
            return f"no apply lock in namespace {ns}"
        raise api_error(e, "get", "leases", ns, LEASE_NAME) from None
    holder = _holder_of(lease)
    if holder is None:
        return f"no apply lock held in namespace {ns}"
    live, state = lock_state(lease, _now())
    said = f"the apply lock ({where}) is held by {holder.describe()}; {state}"
    if live and not force and not (confirm is not None and confirm(said)):
        raise ApplyError(
            f"{said}. The lock was not released",
            where=where,
            hint="wait for that apply to finish; if you know its process is gone, run "
            "`kfws unlock --force` (breaking a live lock lets two applies write at once)",
        )
    with api_errors("update", "leases", ns, LEASE_NAME):
        _clear_lease(cl.coord, ns, lease)
    return f"released the apply lock ({where}) held by {holder.describe()}; {state}"


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
        n = push_backup(cl.core, ns, name, key, current, by=cl.identity())
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


def refuse_gitops_owned(changes: Sequence[Change], *, allow: bool, built: str = "") -> None:
    """Apply refuses a cluster change Argo CD or Flux would revert; `kfws apply` calls this
    before any build or push too, so a refusal costs nothing and leaves nothing half done."""
    if allow:
        return
    for c in changes:
        owner = c.details.get("gitopsOwner")
        if owner:
            raise ApplyError(
                f"{c.target} is managed by {owner}: its next sync would revert this change. "
                f"Nothing was changed on the cluster{built}",
                where=c.target,
                hint="make the change in the Git source it syncs from, or pass "
                "--allow-gitops-owned to apply anyway",
            )


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
    refuse_gitops_owned(changes, allow=allow_gitops_owned)
    ns = _namespace(changes)
    cl = Clients.connect(context)
    done: list[str] = []
    with ApplyLock(cl.coord, ns, timeout=lock_timeout, user=cl.identity()) as lock:
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


@dataclass(frozen=True)
class Backup:
    """One kept version of the spawner config (kfws rollback)."""

    n: int
    at: str  # when kfws kept it (just before a write)
    by: str  # the identity whose write replaced it
    hash: str  # "sha256:…" of `text`
    text: str | None  # None: the key is missing from the backup ConfigMap

    def label(self) -> str:
        return f"backup {self.n} (kept {self.at} before a write by {self.by})"


@dataclass(frozen=True)
class RollbackTarget:
    state: ClusterState
    backups: tuple[Backup, ...]  # oldest first


def rollback_target(cluster_spec: ClusterSpec, *, context: str | None) -> RollbackTarget:
    """The live spawner config and the backups kfws keeps of it. Reads only."""
    state = observe_cluster(cluster_spec, context=context)
    cl = Clients.connect(context or cluster_spec.context)
    cm, history = read_backup(cl.core, state.namespace, state.config_map)
    data = (cm.data or {}) if cm is not None else {}
    backups = []
    for e in history:
        try:
            n = int(e["n"])
        except (TypeError, ValueError):
            continue  # a hand-edited history entry: not one kfws can restore
        text = data.get(f"{n}.yaml")
        backups.append(
            Backup(
                n=n,
                at=str(e.get("at", "?")),
                by=str(e.get("by", "?")),
                hash=str(e.get("hash") or (text_hash(text) if text is not None else "?")),
                text=text if isinstance(text, str) else None,
            )
        )
    return RollbackTarget(state, tuple(sorted(backups, key=lambda b: b.n)))


def choose_backup(target: RollbackTarget, to: int | None) -> Backup:
    state = target.state
    where = f"configmap/{state.namespace}/{backup_name(state.config_map)}"
    if not target.backups:
        raise ClusterError(
            f"there is no kfws backup of configmap/{state.namespace}/{state.config_map} to roll "
            "back to",
            where=where,
            hint="kfws keeps one there each time it applies a spawner change",
        )
    kept = ", ".join(str(b.n) for b in target.backups)
    chosen = (
        target.backups[-1] if to is None else next((b for b in target.backups if b.n == to), None)
    )
    if chosen is None:
        raise ClusterError(
            f"there is no backup {to} (kept: {kept})",
            where=where,
            hint="`kfws rollback --list` shows them",
        )
    if chosen.text is None:
        raise ClusterError(f"backup {chosen.n}.yaml is missing from {where}", where=where)
    return chosen


def restored_text(state: ClusterState, backup: Backup) -> tuple[str, str]:
    """(the text a rollback to `backup` writes, how): the whole kept text when the live config
    is what kfws wrote or does not parse (that is when a rollback is needed most); else only
    the lists and flags kfws owns, so edits others made since are kept."""
    assert backup.text is not None
    where = f"configmap/{state.namespace}/{state.config_map} key {state.config_key}"
    old: LiveSpawner = read_spawner(backup.text, where=f"{where} (backup {backup.n})")
    if state.config_annotations.get(ANN_HASH) == text_hash(state.config_text):
        return backup.text, "the whole text (the live config is what kfws last wrote)"
    try:
        read_spawner(state.config_text, where=where)
    except ClusterError as e:
        return backup.text, f"the whole text (the live config is broken: {e.message})"
    return (
        edit_spawner(state.config_text, old, where=where),
        "only the image lists and flags kfws owns: the config changed since kfws wrote it, "
        "and those other edits are kept",
    )


def describe_restore(state: ClusterState, backup: Backup) -> str:
    """One line: what restoring `backup` would change on the live config."""
    from kfws.plan.spawner import structured_diff

    try:
        new_text, how = restored_text(state, backup)
    except ClusterError as e:
        return f"cannot be restored: {e.message}"
    if new_text == state.config_text:
        return "same as the live config"
    try:
        live = read_spawner(state.config_text)
    except ClusterError:
        return f"restores {how}"
    return _restore_summary(structured_diff(live, read_spawner(new_text)), how)


def _restore_summary(diff: Mapping[str, Any], how: str) -> str:
    """The plan's structured diff (live -> restored), said as what the rollback brings back."""
    parts: list[str] = []
    for key, g in diff.get("groups", {}).items():
        bits = [
            f"brings back {r.get('after')} in place of {r.get('before')}"
            for r in g.get("replaced") or []
        ]
        if g.get("added"):
            bits.append(f"brings back {', '.join(g['added'])}")
        if g.get("removed"):
            bits.append(f"drops {', '.join(g['removed'])}")
        if g.get("reordered"):
            bits.append("restores the order")
        if isinstance(g.get("default"), Mapping):
            bits.append(f"default {g['default'].get('before')} -> {g['default'].get('after')}")
        parts.append(f"{key}: {', '.join(bits) or 'restored'}")
    for name, f in diff.get("flags", {}).items():
        parts.append(f"{name}: {f.get('before')} -> {f.get('after')}")
    owned = "; ".join(parts) or "the lists and flags stay as they are"
    scope = "the whole text" if how.startswith("the whole text") else "owned parts only"
    return f"{owned} ({scope})"


def rollback_changes(
    cluster_spec: ClusterSpec, state: ClusterState, backup: Backup
) -> tuple[list[Change], str]:
    """The changes (write, then restart) restoring `backup`, and how it restores it. No change:
    an empty list."""
    new_text, how = restored_text(state, backup)
    if new_text == state.config_text:
        return [], how
    ns, name = state.namespace, state.config_map
    restored_hash = text_hash(new_text)
    after = read_spawner(new_text, where=f"configmap/{ns}/{name} (backup {backup.n})")
    changes = [
        Change(
            ChangeKind.UPDATE_SPAWNER,
            f"configmap/{ns}/{name}",
            f"roll back to {backup.label()}: restores {how}",
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
    return changes, how


def rollback(
    cluster_spec: ClusterSpec,
    *,
    context: str | None,
    lock_timeout: float,
    rollout_timeout: float,
    allow_gitops_owned: bool = False,
    to: int | None = None,
    confirm: Callable[[list[Change]], None] | None = None,
) -> list[str]:
    """Restores a kept spawner config (the newest, or backup `to`) through the same path as
    apply (lock, resourceVersion precondition, dry run, restart), and drops that backup, so
    repeated rollbacks go further back. `confirm` sees the changes first and raises to stop."""
    target = rollback_target(cluster_spec, context=context)
    state = target.state
    backup = choose_backup(target, to)
    changes, _ = rollback_changes(cluster_spec, state, backup)
    ns, name = state.namespace, state.config_map
    where = f"configmap/{ns}/{name} key {state.config_key}"
    if not changes:
        cl = Clients.connect(context or cluster_spec.context)
        pop_backup(cl.core, ns, name, backup.n)
        return [f"{where} already matches backup {backup.n}; nothing to restore"]
    if confirm is not None:
        confirm(changes)
    lines = apply_cluster_changes(
        changes,
        context=context or cluster_spec.context,
        lock_timeout=lock_timeout,
        rollout_timeout=rollout_timeout,
        allow_gitops_owned=allow_gitops_owned,
        backup=f"pop:{backup.n}",
    )
    return [f"restored {backup.label()}", *lines]


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
