"""The spawner target's restart of the Jupyter web app after a config write (`rollout`,
`delete-pods` or `none`). A restart that doesn't finish in time is reported with the pods'
states; the config change stays applied and the error says so. The Deployment and its pods are
read as JSON (kfws.observe.kube_api: field names are the API's camelCase ones)."""

from __future__ import annotations

import time
from typing import Any

from kfws.errors import ApplyError
from kfws.observe import kube_api
from kfws.observe.cluster import api_error, api_errors
from kfws.observe.kube_api import field
from kfws.output import Reporter
from kfws.plan.model import Change
from kfws.spec.model import RestartMode
from kfws.targets.audit import short_stamp as _short_stamp
from kfws.targets.clients import FIELD_MANAGER, Clients
from kfws.targets.spawner.annotations import POD_ANN_HASH, POD_ANN_RESTARTED

PROGRESS_EVERY = 3.0


Obj = dict[str, Any]


def _selector(dep: Obj) -> str:
    labels = kube_api.str_map(field(dep, "spec", "selector", "matchLabels"))
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def _list(items: Any) -> list[Obj]:
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _pod_ready(pod: Obj) -> bool:
    if field(pod, "metadata", "deletionTimestamp") is not None:
        return False
    if field(pod, "status", "phase") != "Running":
        return False
    conditions = _list(field(pod, "status", "conditions"))
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _pods(cl: Clients, ns: str, selector: str) -> list[Obj]:
    with api_errors("list", "pods", ns):
        return kube_api.list_items(cl.api, kube_api.PODS, label_selector=selector, namespace=ns)


def _name(obj: Obj) -> str:
    return str(field(obj, "metadata", "name"))


def pod_states(cl: Clients, ns: str, dep: Obj) -> str:
    lines = []
    for p in sorted(_pods(cl, ns, _selector(dep)), key=_name):
        statuses = _list(field(p, "status", "containerStatuses"))
        ready = sum(1 for c in statuses if c.get("ready"))
        why = [
            str(reason)
            for c in statuses
            for reason in [field(c, "state", "waiting", "reason")]
            if reason
        ]
        phase = field(p, "status", "phase")
        state = "Terminating" if field(p, "metadata", "deletionTimestamp") else phase
        extra = f", {', '.join(why)}" if why else ""
        lines.append(f"{_name(p)}: {state}, {ready}/{len(statuses)} ready{extra}")
    return "\n    ".join(lines) or "no pods"


def _timeout_error(cl: Clients, ns: str, dep: Obj, what: str, timeout: float) -> ApplyError:
    paused = " (the Deployment is paused)" if field(dep, "spec", "paused") else ""
    return ApplyError(
        f"the spawner config change IS applied, but {what} of deployment/{ns}/"
        f"{_name(dep)} did not complete within {timeout:g}s{paused}. Pods:\n    "
        + pod_states(cl, ns, dep),
        where=f"deployment/{ns}/{_name(dep)}",
        hint=(
            "look at the pods (kubectl describe pod); Kubeflow picks up the new config by itself "
            "about a minute after the kubelet refreshes the mounted file"
        ),
    )


def _read_dep(cl: Clients, ns: str, name: str) -> Obj:
    with api_errors("get", "deployments", ns, name):
        return kube_api.get(cl.api, kube_api.DEPLOYMENT, namespace=ns, name=name)


def _replicas(dep: Obj) -> int:
    want = field(dep, "spec", "replicas")
    return int(want) if isinstance(want, int) else 1  # the API's default when unset


def rollout(
    cl: Clients,
    ns: str,
    name: str,
    config_hash: str,
    timeout: float,
    lock: Any,
    reporter: Reporter,
) -> str:
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
            dep = kube_api.write(
                cl.api,
                "PATCH",
                kube_api.DEPLOYMENT,
                body,
                field_manager=FIELD_MANAGER,
                dry_run=dry,
                content_type=kube_api.MERGE_PATCH,
                namespace=ns,
                name=name,
            )
        except ApiException as e:
            err = api_error(e, "patch", "deployments", ns, name)
            err.message = "the spawner config change IS applied, but " + err.message
            raise err from None
    assert dep is not None
    generation = int(field(dep, "metadata", "generation") or 0)
    start = time.monotonic()
    last_line, last_said = "", 0.0
    while True:
        dep = _read_dep(cl, ns, name)
        want = _replicas(dep)
        counts = tuple(
            int(field(dep, "status", k) or 0)
            for k in ("updatedReplicas", "readyReplicas", "availableReplicas", "replicas")
        )
        observed = int(field(dep, "status", "observedGeneration") or 0)
        done = observed >= generation and counts == (want,) * 4
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
            reporter.progress(f"{line} ({elapsed:.0f}s)")
            last_line, last_said = line, elapsed
        if elapsed > timeout:
            raise _timeout_error(cl, ns, dep, "the rollout", timeout)
        if lock:
            lock.renew()
        time.sleep(0.5)


def delete_pods(
    cl: Clients, ns: str, name: str, timeout: float, lock: Any, reporter: Reporter
) -> str:
    from kubernetes.client.exceptions import ApiException

    dep = _read_dep(cl, ns, name)
    selector = _selector(dep)
    want = _replicas(dep)
    old = _pods(cl, ns, selector)
    for pod in old:
        try:
            kube_api.write(cl.api, "DELETE", kube_api.POD, None, namespace=ns, name=_name(pod))
        except ApiException as e:
            if e.status != 404:
                err = api_error(e, "delete", "pods", ns, _name(pod))
                err.message = "the spawner config change IS applied, but " + err.message
                raise err from None
    old_uids = {field(p, "metadata", "uid") for p in old}
    start = time.monotonic()
    last_line = ""
    while True:
        pods = _pods(cl, ns, selector)
        fresh = [p for p in pods if field(p, "metadata", "uid") not in old_uids]
        ready = [p for p in fresh if _pod_ready(p)]
        elapsed = time.monotonic() - start
        if len(ready) >= want:
            return (
                f"replaced the pods of deployment/{ns}/{name}: {len(ready)} new pod"
                f"{'s' if len(ready) != 1 else ''} Running and Ready ({elapsed:.1f}s)"
            )
        line = f"new pods of deployment/{ns}/{name}: {len(ready)}/{want} Running and Ready"
        if line != last_line:
            reporter.progress(f"{line} ({elapsed:.0f}s)")
            last_line = line
        if elapsed > timeout:
            raise _timeout_error(cl, ns, _read_dep(cl, ns, name), "replacing the pods", timeout)
        if lock:
            lock.renew()
        time.sleep(0.5)


def restart_webapp(
    cl: Clients, change: Change, *, timeout: float, lock: Any, reporter: Reporter
) -> str:
    d = change.details
    ns, name, mode = str(d["namespace"]), str(d["deployment"]), str(d.get("mode", "rollout"))
    match RestartMode(mode):
        case RestartMode.ROLLOUT:
            return rollout(cl, ns, name, str(d.get("configHash", "")), timeout, lock, reporter)
        case RestartMode.DELETE_PODS:
            return delete_pods(cl, ns, name, timeout, lock, reporter)
        case RestartMode.NONE:
            return (
                f"deployment/{ns}/{name} not restarted (restart: none): the web app reads the "
                "new file within about a minute of the kubelet refreshing it"
            )
