"""The spawner target's restart of the Jupyter web app after a config write (`rollout`,
`delete-pods` or `none`). A restart that doesn't finish in time is reported with the pods'
states; the config change stays applied and the error says so."""

from __future__ import annotations

import time
from typing import Any

from kfws.errors import ApplyError
from kfws.observe.cluster import REQUEST_TIMEOUT, api_error, api_errors
from kfws.output import Reporter
from kfws.plan.model import Change
from kfws.spec.model import RestartMode
from kfws.targets.audit import short_stamp as _short_stamp
from kfws.targets.clients import FIELD_MANAGER, MERGE_PATCH, Clients
from kfws.targets.spawner.annotations import POD_ANN_HASH, POD_ANN_RESTARTED

PROGRESS_EVERY = 3.0


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
