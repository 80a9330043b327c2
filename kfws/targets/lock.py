"""The apply lock, shared by every target: a Lease `kfws-apply` in the namespace naming its
holder (user, host, pid, since when), renewed while kfws works and expiring `LEASE_TTL` seconds
after its last renewal if the holder died; a second apply waits up to `--lock-timeout`, then
fails naming the holder. `kfws unlock` releases a lock left behind. The Lease is read and written
as JSON (kfws.observe.kube_api), its field names the API's camelCase ones."""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kfws.errors import ApplyError, KfwsError
from kfws.observe import kube_api
from kfws.observe.cluster import api_error, api_errors, unreachable
from kfws.observe.kube_api import field
from kfws.targets.audit import now as _now
from kfws.targets.audit import short_stamp as _short_stamp
from kfws.targets.audit import stamp as _stamp
from kfws.targets.audit import user as _user
from kfws.targets.clients import Clients

if TYPE_CHECKING:
    from kfws.output import Reporter
    from kfws.spec.model import ClusterSpec

LEASE_NAME = "kfws-apply"
LEASE_TTL = 120  # seconds after the last renewal a dead holder's lock expires


@dataclass(frozen=True)
class Holder:
    identity: str
    user: str
    host: str
    pid: str
    since: str

    def describe(self) -> str:
        return f"{self.user} on {self.host}, pid {self.pid}, since {self.since}"


Lease = dict[str, Any]


def _get(api: Any, ns: str) -> Lease:
    return kube_api.get(api, kube_api.LEASE, namespace=ns, name=LEASE_NAME)


def _replace(api: Any, ns: str, body: Lease) -> None:
    # the body names the resourceVersion read: a write in between is a 409
    kube_api.write(api, "PUT", kube_api.LEASE, body, namespace=ns, name=LEASE_NAME)


def _duration(lease: Lease) -> int | None:
    seconds = field(lease, "spec", "leaseDurationSeconds")
    return seconds if isinstance(seconds, int) and seconds else None


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _holder_of(lease: Lease) -> Holder | None:
    identity = field(lease, "spec", "holderIdentity")
    if not identity:
        return None
    notes = kube_api.str_map(field(lease, "metadata", "annotations"))
    return Holder(
        identity=str(identity),
        user=notes.get("kfws.dev/holder-user", "?"),
        host=notes.get("kfws.dev/holder-host", "?"),
        pid=notes.get("kfws.dev/holder-pid", "?"),
        since=notes.get("kfws.dev/holder-since", "?"),
    )


def _renewed(lease: Lease) -> datetime | None:
    return _time(field(lease, "spec", "renewTime")) or _time(field(lease, "spec", "acquireTime"))


def _expired(lease: Lease, now: datetime) -> bool:
    renewed = _renewed(lease)
    if renewed is None:
        return True
    ttl = _duration(lease) or LEASE_TTL
    return bool((now - renewed).total_seconds() > ttl)


class ApplyLock:
    """The Lease held while kfws writes to the cluster."""

    def __init__(
        self,
        api: Any,
        namespace: str,
        *,
        timeout: float,
        reporter: Reporter,
        ttl: int = LEASE_TTL,
        user: str | None = None,
    ):
        self.api = api
        self.reporter = reporter
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

    def _body(self, lease: Lease | None) -> dict[str, Any]:
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
            meta["resourceVersion"] = field(lease, "metadata", "resourceVersion")
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
        from urllib3.exceptions import HTTPError

        deadline = time.monotonic() + self.timeout
        said = False
        while True:
            op = "get"
            try:
                try:
                    lease = _get(self.api, self.ns)
                except ApiException as e:
                    if e.status != 404:
                        raise api_error(e, "get", "leases", self.ns, LEASE_NAME) from None
                    op = "create"
                    kube_api.write(
                        self.api, "POST", kube_api.LEASES, self._body(None), namespace=self.ns
                    )
                    self.last_renew = time.monotonic()
                    return
                holder = _holder_of(lease)
                if holder is None or _expired(lease, _now()):
                    op = "update"
                    _replace(self.api, self.ns, self._body(lease))
                    self.last_renew = time.monotonic()
                    if holder is not None:
                        self.took_over = holder
                        self.reporter.warn(
                            f"took over the apply lock left by {holder.describe()} "
                            f"(not renewed for over {_duration(lease)}s)"
                        )
                    return
            except ApiException as e:
                if e.status == 409:  # someone else created/updated it in between: look again
                    continue
                raise api_error(e, op, "leases", self.ns, LEASE_NAME) from None
            except HTTPError as e:  # a clean error, not a traceback: nothing was changed
                raise unreachable(e, op, "leases", self.ns, LEASE_NAME) from None
            if time.monotonic() >= deadline:
                raise ApplyError(
                    f"another kfws apply holds the lock (lease {self.ns}/{LEASE_NAME}): "
                    f"{holder.describe()}; waited {self.timeout:g}s. Nothing was changed on "
                    "the cluster",
                    where=f"lease/{self.ns}/{LEASE_NAME}",
                    hint=(
                        "wait for it to finish and re-run; if that process is gone, the lock "
                        f"expires {_duration(lease) or self.ttl}s after its "
                        "last renewal, or run `kfws unlock`"
                    ),
                )
            if not said:
                self.reporter.progress(f"waiting for the apply lock held by {holder.describe()}")
                said = True
            time.sleep(min(1.0, max(0.05, deadline - time.monotonic())))

    def renew(self, *, force: bool = False) -> None:
        if not force and time.monotonic() - self.last_renew < self.ttl / 4:
            return
        with api_errors("update", "leases", self.ns, LEASE_NAME):
            lease = _get(self.api, self.ns)
            holder = _holder_of(lease)
            if holder is None or holder.identity != self.me.identity:
                raise ApplyError(
                    "kfws lost the apply lock while applying (it was released or taken over "
                    f"by {holder.describe() if holder else 'nobody'})",
                    where=f"lease/{self.ns}/{LEASE_NAME}",
                    hint="check what else is applying, then re-run kfws plan",
                )
            body = self._body(lease)
            body["spec"]["acquireTime"] = _stamp(
                _time(field(lease, "spec", "acquireTime")) or _now()
            )
            _replace(self.api, self.ns, body)
        self.last_renew = time.monotonic()

    def release(self) -> None:
        from kubernetes.client.exceptions import ApiException

        try:
            lease = _get(self.api, self.ns)
            holder = _holder_of(lease)
            if holder is None or holder.identity != self.me.identity:
                return
            clear_lease(self.api, self.ns, lease)
        except (ApiException, KfwsError) as e:
            self.reporter.warn(
                f"could not release the apply lock ({getattr(e, 'status', e)}); it expires "
                f"{self.ttl}s after its last renewal, or run `kfws unlock`"
            )

    def __enter__(self) -> ApplyLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def clear_lease(api: Any, ns: str, lease: Lease) -> None:
    body = {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {
            "name": LEASE_NAME,
            "resourceVersion": field(lease, "metadata", "resourceVersion"),
            "labels": kube_api.str_map(field(lease, "metadata", "labels")),
        },
        "spec": {"leaseDurationSeconds": _duration(lease) or LEASE_TTL},
    }
    _replace(api, ns, body)


def _renewed_ago(lease: Lease, now: datetime) -> float | None:
    renewed = _renewed(lease)
    if renewed is None:
        return None
    return float((now - renewed).total_seconds())


def lock_state(lease: Lease, now: datetime) -> tuple[bool, str]:
    """(whether the holder is still renewing, a sentence saying so): a holder renews every
    quarter of the lease's duration while it works, so a lock renewed within the duration is
    live, and one older than that was left by a process that is gone."""
    ttl = _duration(lease) or LEASE_TTL
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
    with api_errors("get", "leases", ns, LEASE_NAME):
        try:
            lease = _get(cl.api, ns)
        except ApiException as e:
            if e.status == 404:
                return f"no apply lock in namespace {ns}"
            raise
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
        clear_lease(cl.api, ns, lease)
    return f"released the apply lock ({where}) held by {holder.describe()}; {state}"
