"""The cluster half of plan/apply against the real local Kubernetes, as the least-privilege
ServiceAccount users will run it with (KFWS_TEST_KUBECONFIG_RESTRICTED). Each test that changes
the cluster reseeds it before and after."""

from __future__ import annotations

import dataclasses
import difflib
import json
from datetime import UTC, datetime, timedelta

import pytest
from kubernetes import client

from kfws import output
from kfws.errors import ApplyError, ClusterError
from kfws.spec.model import ClusterSpec, RestartMode, SpawnerGroup, SpawnerSpec, Spec
from kfws.targets import spawner
from kfws.targets.backups import backup_name
from kfws.targets.fingerprint import text_hash
from kfws.targets.lock import LEASE_NAME, unlock
from kfws.targets.run import apply_cluster_changes
from kfws.targets.spawner.annotations import ANN_HASH, ANN_OWNED
from kfws.targets.spawner.config_yaml import read_spawner
from kfws.targets.spawner.kinds import RESTART, UPDATE
from kfws.targets.spawner.observe import observe_cluster
from kfws.targets.spawner.plan import plan_spawner
from tests.conftest import need_env
from tests.env import k8s_helpers as k8s
from tests.unit.factories import spec as make_spec

NEW = "127.0.0.1:15001/ds-team/jupyter-sudo:kfws1-0123456789abcdef01234567"


# Every test here runs kfws as the least-privilege ServiceAccount (tests/env/conftest.py).
pytestmark = pytest.mark.usefixtures("restricted_kubeconfig")


def workspace(ns: str, restart: RestartMode, *groups: SpawnerGroup) -> Spec:
    s = make_spec(spawner=SpawnerSpec(groups=groups))
    return dataclasses.replace(s, cluster=ClusterSpec(namespace=ns, restart=restart))


def add_new_image(ns: str, restart: RestartMode) -> Spec:
    live = read_spawner(observe_cluster(ClusterSpec(namespace=ns), context=None).config_text)
    image = live.groups[0]
    return workspace(ns, restart, SpawnerGroup("image", image.value or "", (*image.options, NEW)))


def plan(ws: Spec) -> tuple[object, list[object]]:
    state = observe_cluster(ws.cluster, context=None)
    return state, list(plan_spawner(ws, {}, state).changes)


def apply(changes: list[object], **kw: object) -> list[str]:
    args: dict[str, object] = {"context": None, "lock_timeout": 5, "rollout_timeout": 60}
    args.update(kw)
    ns = str(changes[0].details["namespace"])  # type: ignore[attr-defined]
    return apply_cluster_changes(changes, ns, reporter=output, **args)  # type: ignore[arg-type]


def rollback(cluster: ClusterSpec, **kw: object) -> list[str]:
    """The spawner target's rollback, approved, reporting to the terminal."""
    args: dict[str, object] = {"to": None, "allow_gitops_owned": False, "reporter": output}
    args.update(kw)
    return spawner.rollback(cluster, confirm=lambda changes: None, **args)  # type: ignore[arg-type]


def config_data(admin: client.ApiClient, ns: str, name: str) -> dict[str, str]:
    return dict(client.CoreV1Api(admin).read_namespaced_config_map(name, ns).data or {})


def only_added(before: str, after: str) -> list[str]:
    return [
        d
        for d in difflib.unified_diff(before.splitlines(), after.splitlines(), n=0, lineterm="")
        if d[:1] in "+-" and d[:3] not in ("+++", "---")
    ]


def test_finds_the_target_on_both_layouts(admin: client.ApiClient) -> None:
    apps = client.AppsV1Api(admin)
    new = observe_cluster(ClusterSpec(namespace=k8s.namespace()), context=None)
    assert new.deployment == k8s.DEPLOYMENT
    assert new.config_map == k8s.configmap_of(apps, k8s.namespace())
    assert new.config_map.startswith("jupyter-web-app-config-")
    old = observe_cluster(ClusterSpec(namespace=k8s.legacy_namespace()), context=None)
    assert old.config_map == k8s.LEGACY_CONFIGMAP
    assert old.config_text == k8s.pristine_config("kf1.0")
    assert new.gitops_owner is None and old.gitops_owner is None


@pytest.mark.usefixtures("pristine")
def test_several_or_no_web_apps_are_a_clear_error(
    admin: client.ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    ns = k8s.namespace()
    apps = client.AppsV1Api(admin)
    twin = apps.read_namespaced_deployment(k8s.DEPLOYMENT, ns)
    twin.metadata = client.V1ObjectMeta(name="jupyter-web-app-twin", labels=twin.metadata.labels)
    twin.status = None
    apps.create_namespaced_deployment(ns, twin)
    try:
        with pytest.raises(ClusterError) as e:
            observe_cluster(ClusterSpec(namespace=ns), context=None)
        assert "jupyter-web-app-deployment, jupyter-web-app-twin" in e.value.message
        assert "cluster.deployment" in (e.value.hint or "")
        chosen = observe_cluster(ClusterSpec(namespace=ns, deployment=k8s.DEPLOYMENT), context=None)
    finally:
        apps.delete_namespaced_deployment("jupyter-web-app-twin", ns)
    assert chosen.deployment == k8s.DEPLOYMENT
    monkeypatch.setenv("KUBECONFIG", need_env("KFWS_TEST_KUBECONFIG_ADMIN"))
    with pytest.raises(ClusterError) as e:
        observe_cluster(ClusterSpec(namespace="default"), context=None)
    assert "no Jupyter web app Deployment in namespace default" in e.value.message


def test_403_names_verb_resource_and_the_role() -> None:
    with pytest.raises(ClusterError) as e:
        observe_cluster(ClusterSpec(namespace="default"), context=None)
    assert "refused to list deployments in namespace default (403" in e.value.message
    assert "kfws rbac --role read-only" in (e.value.hint or "")


@pytest.mark.usefixtures("pristine")
def test_apply_changes_only_the_added_line_and_rolls_out(admin: client.ApiClient) -> None:
    ns = k8s.namespace()
    core = client.CoreV1Api(admin)
    name = k8s.configmap_of(client.AppsV1Api(admin), ns)
    # another key in the same ConfigMap must survive byte for byte
    core.patch_namespaced_config_map(name, ns, {"data": {"other.yaml": "keep:  me # as is\n"}})
    ws = add_new_image(ns, RestartMode.ROLLOUT)
    _, changes = plan(ws)
    assert [c.kind for c in changes] == [UPDATE, RESTART]  # type: ignore[attr-defined]
    assert changes[0].details["diff"]["groups"]["image"]["added"] == [NEW]  # type: ignore[attr-defined]
    old_pods = {p.metadata.uid for p in k8s.ready_pods(core, ns)}
    lines = apply(changes)
    assert lines[0].startswith(f"updated configmap/{ns}/{name}") and "rolled out" in lines[1]
    data = config_data(admin, ns, name)
    assert only_added(k8s.pristine_config(), data[k8s.CONFIG_KEY]) == [f"+      - {NEW}"]
    assert data["other.yaml"] == "keep:  me # as is\n"
    cm = core.read_namespaced_config_map(name, ns)
    assert cm.metadata.annotations[ANN_HASH] == text_hash(data[k8s.CONFIG_KEY])
    assert NEW in json.loads(cm.metadata.annotations[ANN_OWNED])["image"]["options"]
    # the write went through the API as field manager kfws (dry run first, then for real)
    assert "kfws" in {f.manager for f in cm.metadata.managed_fields}
    assert k8s.rollout_complete(client.AppsV1Api(admin), ns)
    k8s.wait_new_ready_pod(core, ns, old_pods, timeout=30)
    # the previous text is kept for rollback
    backup = config_data(admin, ns, backup_name(name))
    assert backup["1.yaml"] == k8s.pristine_config()
    # and now there is nothing left to do
    assert plan(ws)[1] == []


@pytest.mark.usefixtures("pristine")
def test_delete_pods_on_the_legacy_layout(admin: client.ApiClient) -> None:
    ns = k8s.legacy_namespace()
    core = client.CoreV1Api(admin)
    old_pods = {
        p.metadata.uid for p in core.list_namespaced_pod(ns, label_selector=k8s.APP_SELECTOR).items
    }
    _, changes = plan(add_new_image(ns, RestartMode.DELETE_PODS))
    assert changes[1].details["mode"] == "delete-pods"  # type: ignore[attr-defined]
    lines = apply(changes)
    assert "1 new pod Running and Ready" in lines[1]
    text = config_data(admin, ns, k8s.LEGACY_CONFIGMAP)[k8s.CONFIG_KEY]
    assert only_added(k8s.pristine_config("kf1.0"), text) == [f"+      - {NEW}"]
    k8s.wait_new_ready_pod(core, ns, old_pods, timeout=30)


@pytest.mark.usefixtures("pristine")
def test_a_concurrent_edit_between_plan_and_apply_is_caught(admin: client.ApiClient) -> None:
    ns = k8s.namespace()
    name = k8s.configmap_of(client.AppsV1Api(admin), ns)
    _, changes = plan(add_new_image(ns, RestartMode.ROLLOUT))
    client.CoreV1Api(admin).patch_namespaced_config_map(
        name, ns, {"metadata": {"annotations": {"someone/else": "edited"}}}
    )
    with pytest.raises(ApplyError) as e:
        apply(changes)
    assert "changed since the plan" in e.value.message and "nothing was written" in e.value.message
    assert "kfws plan" in (e.value.hint or "")
    assert config_data(admin, ns, name)[k8s.CONFIG_KEY] == k8s.pristine_config()


@pytest.mark.usefixtures("pristine")
def test_lock_contention_names_the_holder_and_an_expired_lock_is_taken_over(
    admin: client.ApiClient,
) -> None:
    ns = k8s.namespace()
    coord = client.CoordinationV1Api(admin)
    now = datetime.now(UTC).replace(microsecond=123456)
    lease = {
        "metadata": {
            "name": LEASE_NAME,
            "annotations": {
                "kfws.dev/holder-user": "alice",
                "kfws.dev/holder-host": "ci-runner-7",
                "kfws.dev/holder-pid": "4242",
                "kfws.dev/holder-since": "2026-11-28T10:00:00Z",
            },
        },
        "spec": {
            "holderIdentity": "alice@ci-runner-7 pid 4242 (x)",
            "leaseDurationSeconds": 120,
            "acquireTime": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "renewTime": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        },
    }
    coord.create_namespaced_lease(ns, lease)
    _, changes = plan(add_new_image(ns, RestartMode.NONE))
    with pytest.raises(ApplyError) as e:
        apply(changes, lock_timeout=1.5)
    assert "alice on ci-runner-7, pid 4242, since 2026-11-28T10:00:00Z" in e.value.message
    assert "kfws unlock" in (e.value.hint or "")
    # a holder that stopped renewing long ago (killed): its lock has expired
    old = (now - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    coord.patch_namespaced_lease(LEASE_NAME, ns, {"spec": {"renewTime": old}})
    assert apply(changes, lock_timeout=1.5)[0].startswith("updated")
    held = coord.read_namespaced_lease(LEASE_NAME, ns)
    assert not held.spec.holder_identity  # released after the apply


@pytest.mark.usefixtures("pristine")
def test_unlock_releases_a_stale_holder(admin: client.ApiClient) -> None:
    ns = k8s.namespace()
    client.CoordinationV1Api(admin).create_namespaced_lease(
        ns,
        {
            "metadata": {"name": LEASE_NAME},
            "spec": {"holderIdentity": "bob@laptop pid 1 (y)", "leaseDurationSeconds": 120},
        },
    )
    assert "released the apply lock" in unlock(ClusterSpec(namespace=ns), context=None)
    assert unlock(ClusterSpec(namespace=ns), context=None).startswith("no apply lock held")


@pytest.mark.usefixtures("pristine")
def test_rollback_restores_the_previous_config(admin: client.ApiClient) -> None:
    ns = k8s.namespace()
    name = k8s.configmap_of(client.AppsV1Api(admin), ns)
    _, changes = plan(add_new_image(ns, RestartMode.ROLLOUT))
    apply(changes)
    lines = rollback(ClusterSpec(namespace=ns), context=None, lock_timeout=5, rollout_timeout=60)
    assert lines[0].startswith("restored backup 1")
    assert config_data(admin, ns, name)[k8s.CONFIG_KEY] == k8s.pristine_config()
    assert k8s.rollout_complete(client.AppsV1Api(admin), ns)
    with pytest.raises(ClusterError, match="no kfws backup"):
        rollback(ClusterSpec(namespace=ns), context=None, lock_timeout=5, rollout_timeout=60)


def test_import_round_trips_to_a_plan_without_spawner_changes() -> None:
    for ns in (k8s.namespace(), k8s.legacy_namespace()):
        live = read_spawner(observe_cluster(ClusterSpec(namespace=ns), context=None).config_text)
        groups = tuple(SpawnerGroup(g.key, g.value or "", g.options) for g in live.groups)
        ws = workspace(ns, RestartMode.ROLLOUT, *groups)
        ws = dataclasses.replace(
            ws,
            spawner=dataclasses.replace(
                ws.spawner,
                allow_custom_image=live.allow_custom_image,
                hide_registry=live.hide_registry,
                hide_tag=live.hide_tag,
                image_pull_policy=live.image_pull_policy,  # type: ignore[arg-type]
            ),
        )
        assert plan(ws)[1] == []


@pytest.mark.usefixtures("pristine")
def test_malformed_live_yaml_is_a_clear_error_and_never_overwritten(
    admin: client.ApiClient,
) -> None:
    ns = k8s.namespace()
    name = k8s.configmap_of(client.AppsV1Api(admin), ns)
    broken = "spawnerFormDefaults:\n  image:\n    options: [unclosed\n"
    client.CoreV1Api(admin).patch_namespaced_config_map(
        name, ns, {"data": {k8s.CONFIG_KEY: broken}}
    )
    ws = workspace(ns, RestartMode.ROLLOUT, SpawnerGroup("image", NEW, (NEW,)))
    with pytest.raises(ClusterError) as e:
        plan(ws)
    assert e.value.where == f"configmap/{ns}/{name} key {k8s.CONFIG_KEY}"
    assert "not valid YAML at line" in e.value.message
    assert config_data(admin, ns, name)[k8s.CONFIG_KEY] == broken


@pytest.mark.usefixtures("pristine")
def test_a_rollout_that_times_out_says_the_config_stays_applied(admin: client.ApiClient) -> None:
    ns = k8s.namespace()
    name = k8s.configmap_of(client.AppsV1Api(admin), ns)
    client.AppsV1Api(admin).patch_namespaced_deployment(
        k8s.DEPLOYMENT, ns, {"spec": {"paused": True}}
    )
    _, changes = plan(add_new_image(ns, RestartMode.ROLLOUT))
    with pytest.raises(ApplyError) as e:
        apply(changes, rollout_timeout=2)
    assert "the spawner config change IS applied" in e.value.message
    assert "(the Deployment is paused)" in e.value.message
    assert "Running, 1/1 ready" in e.value.message  # the pods' states
    assert NEW in config_data(admin, ns, name)[k8s.CONFIG_KEY]
