"""The local Kubernetes is real: RBAC refuses, controllers + scheduler + KWOK replace pods and
complete rollouts, optimistic concurrency answers 409, and both Kubeflow layouts are seeded."""

from __future__ import annotations

import ipaddress
import re
import uuid

import pytest
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from kfws.targets.lock import LEASE_NAME
from tests.conftest import need_env
from tests.env import k8s_helpers as k8s


@pytest.fixture(scope="module")
def restricted() -> client.ApiClient:
    return k8s.restricted_client()


def _status(call: object, *args: object, **kwargs: object) -> int:
    try:
        call(*args, **kwargs)  # type: ignore[operator]
    except ApiException as e:
        return int(e.status)
    return 200


def test_restricted_identity_is_the_kfws_service_account(restricted: client.ApiClient) -> None:
    review = client.AuthenticationV1Api(restricted).create_self_subject_review(
        client.V1SelfSubjectReview()
    )
    assert review.status.user_info.username == f"system:serviceaccount:{k8s.namespace()}:kfws"


@pytest.mark.usefixtures("pristine")
def test_restricted_can_patch_the_configmap_but_not_read_secrets(
    admin: client.ApiClient, restricted: client.ApiClient
) -> None:
    ns = k8s.namespace()
    name = k8s.configmap_of(client.AppsV1Api(admin), ns)
    core = client.CoreV1Api(restricted)
    patched = core.patch_namespaced_config_map(
        name, ns, {"metadata": {"annotations": {"kfws.test/touched": "yes"}}}
    )
    assert patched.metadata.annotations["kfws.test/touched"] == "yes"
    # outside the Role: Secrets, deleting ConfigMaps, other namespaces, cluster-wide objects
    assert _status(core.list_namespaced_secret, ns) == 403
    assert _status(core.read_namespaced_secret, "anything", ns) == 403
    assert _status(core.delete_namespaced_config_map, name, ns) == 403
    assert _status(core.list_namespaced_config_map, "default") == 403
    # nodes: reading them is granted (the kfws-nodes-reader ClusterRole, for the architecture
    # check); changing them is not
    assert _status(core.delete_node, "no-such-node") == 403
    assert _status(core.list_namespace) == 403
    # inside it: the legacy namespace, backups, the apply lock
    assert (
        _status(core.read_namespaced_config_map, k8s.LEGACY_CONFIGMAP, k8s.legacy_namespace())
        == 200
    )
    backup = client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name=f"kfws-test-backup-{uuid.uuid4().hex[:6]}"),
        data={k8s.CONFIG_KEY: "x: 1\n"},
    )
    core.create_namespaced_config_map(ns, backup)
    leases = client.CoordinationV1Api(restricted)
    lease = leases.create_namespaced_lease(
        ns,
        client.V1Lease(
            metadata=client.V1ObjectMeta(name=LEASE_NAME),
            spec=client.V1LeaseSpec(holder_identity="test", lease_duration_seconds=30),
        ),
    )
    lease.spec.holder_identity = "test-2"
    leases.replace_namespaced_lease(LEASE_NAME, ns, lease)
    assert _status(leases.delete_namespaced_lease, LEASE_NAME, ns) == 403


@pytest.mark.usefixtures("pristine")
def test_the_writer_cannot_touch_another_deployment_configmap_or_lease(
    admin: client.ApiClient, restricted: client.ApiClient
) -> None:
    """The writer Role names its objects: the web app's Deployment and ConfigMap, the backup,
    the Lease kfws-apply. Anything else in the namespace is read-only to it."""
    ns = k8s.namespace()
    a_core, a_apps = client.CoreV1Api(admin), client.AppsV1Api(admin)
    name = k8s.configmap_of(a_apps, ns)
    other_cm = a_core.create_namespaced_config_map(
        ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="team-settings"), data={"a": "1"})
    )
    web = a_apps.read_namespaced_deployment(k8s.DEPLOYMENT, ns)
    other_dep = a_apps.create_namespaced_deployment(
        ns,
        client.V1Deployment(
            metadata=client.V1ObjectMeta(name="other-app"),
            spec=client.V1DeploymentSpec(
                replicas=0,
                selector=client.V1LabelSelector(match_labels={"app": "other-app"}),
                template=client.V1PodTemplateSpec(
                    metadata=client.V1ObjectMeta(labels={"app": "other-app"}),
                    spec=web.spec.template.spec,
                ),
            ),
        ),
    )
    try:
        _writer_is_narrowed(admin, restricted, name, other_cm, web, other_dep)
    finally:
        a_apps.delete_namespaced_deployment("other-app", ns)


def _writer_is_narrowed(
    admin: client.ApiClient,
    restricted: client.ApiClient,
    name: str,
    other_cm: client.V1ConfigMap,
    web: client.V1Deployment,
    other_dep: client.V1Deployment,
) -> None:
    ns = k8s.namespace()
    a_core = client.CoreV1Api(admin)
    a_coord = client.CoordinationV1Api(admin)
    a_coord.create_namespaced_lease(
        ns, client.V1Lease(metadata=client.V1ObjectMeta(name="someone-elses-lock"))
    )
    core, apps = client.CoreV1Api(restricted), client.AppsV1Api(restricted)
    coord = client.CoordinationV1Api(restricted)
    note = {"metadata": {"annotations": {"kfws.test/touched": "yes"}}}
    # another ConfigMap: readable, but no patch, update or delete
    assert _status(core.read_namespaced_config_map, "team-settings", ns) == 200
    assert _status(core.patch_namespaced_config_map, "team-settings", ns, note) == 403
    assert _status(core.replace_namespaced_config_map, "team-settings", ns, other_cm) == 403
    assert _status(core.delete_namespaced_config_map, "team-settings", ns) == 403
    assert _status(core.patch_namespaced_config_map, "kube-root-ca.crt", ns, note) == 403
    # another Deployment: readable, but no patch, update, scale or delete
    assert _status(apps.read_namespaced_deployment, "other-app", ns) == 200
    assert _status(apps.patch_namespaced_deployment, "other-app", ns, note) == 403
    assert _status(apps.replace_namespaced_deployment, "other-app", ns, other_dep) == 403
    assert _status(apps.delete_namespaced_deployment, "other-app", ns) == 403
    # another Lease: not even readable
    assert _status(coord.read_namespaced_lease, "someone-elses-lock", ns) == 403
    # the web app's own objects: patchable (server-side dry runs, nothing changes)
    dry = {"dry_run": "All"}
    assert _status(core.patch_namespaced_config_map, name, ns, note, **dry) == 200
    assert _status(apps.patch_namespaced_deployment, k8s.DEPLOYMENT, ns, note, **dry) == 200
    # and what kfws never does to them: update (PUT) or delete
    seen = a_core.read_namespaced_config_map(name, ns)
    assert _status(core.replace_namespaced_config_map, name, ns, seen, **dry) == 403
    assert _status(apps.delete_namespaced_deployment, k8s.DEPLOYMENT, ns, **dry) == 403
    assert _status(apps.replace_namespaced_deployment, k8s.DEPLOYMENT, ns, web, **dry) == 403


def test_the_read_only_identity_reads_and_writes_nothing(admin: client.ApiClient) -> None:
    ns = k8s.namespace()
    ro = k8s.readonly_client()
    core, apps = client.CoreV1Api(ro), client.AppsV1Api(ro)
    name = k8s.configmap_of(client.AppsV1Api(admin), ns)
    assert _status(core.read_namespaced_config_map, name, ns) == 200
    assert _status(core.list_namespaced_config_map, ns) == 200
    assert _status(apps.list_namespaced_deployment, ns) == 200
    assert _status(core.list_namespaced_pod, ns) == 200
    note = {"metadata": {"annotations": {"kfws.test/touched": "yes"}}}
    dry = {"dry_run": "All"}
    assert _status(core.patch_namespaced_config_map, name, ns, note, **dry) == 403
    assert _status(apps.patch_namespaced_deployment, k8s.DEPLOYMENT, ns, note, **dry) == 403
    assert _status(core.list_namespaced_secret, ns) == 403
    lease = client.V1Lease(metadata=client.V1ObjectMeta(name=LEASE_NAME))
    assert _status(client.CoordinationV1Api(ro).create_namespaced_lease, ns, lease, **dry) == 403


@pytest.mark.usefixtures("pristine")
def test_deleting_the_web_app_pod_yields_a_new_ready_pod(restricted: client.ApiClient) -> None:
    ns = k8s.namespace()
    core = client.CoreV1Api(restricted)
    old = k8s.ready_pods(core, ns)
    assert len(old) == 1
    core.delete_namespaced_pod(old[0].metadata.name, ns)
    new = k8s.wait_new_ready_pod(core, ns, [p.metadata.uid for p in old])
    assert new.spec.node_name.startswith("kwok-node-")
    assert ipaddress.ip_address(new.status.pod_ip) in ipaddress.ip_network("192.0.2.0/24")


@pytest.mark.usefixtures("pristine")
@pytest.mark.parametrize("which", ["kubeflow", "legacy"])
def test_a_rollout_restart_completes(restricted: client.ApiClient, which: str) -> None:
    ns = k8s.namespace() if which == "kubeflow" else k8s.legacy_namespace()
    apps, core = client.AppsV1Api(restricted), client.CoreV1Api(restricted)
    old = [p.metadata.uid for p in k8s.ready_pods(core, ns)]
    stamp = k8s.restart_deployment(apps, ns)
    k8s.wait_rollout(apps, ns)

    def only_new_pods() -> list[object] | None:
        if {p.metadata.uid for p in core.list_namespaced_pod(ns).items} & set(old):
            return None
        return k8s.ready_pods(core, ns)

    pods = k8s.wait_for(f"the old pod in {ns} to go", only_new_pods)
    assert [p.metadata.annotations[k8s.RESTART_ANNOTATION] for p in pods] == [stamp]  # type: ignore[attr-defined]


@pytest.mark.usefixtures("pristine")
def test_patching_the_configmap_with_a_stale_resource_version_is_a_conflict(
    restricted: client.ApiClient,
) -> None:
    ns = k8s.namespace()
    core = client.CoreV1Api(restricted)
    name = k8s.configmap_of(client.AppsV1Api(restricted), ns)
    seen = core.read_namespaced_config_map(name, ns)
    # someone else edits it between our read and our write
    core.patch_namespaced_config_map(
        name, ns, {"metadata": {"annotations": {"edited": "by-other"}}}
    )
    # kfws's write: a merge patch with the resourceVersion it saw as a precondition
    ours = {
        "metadata": {"resourceVersion": seen.metadata.resource_version},
        "data": {k8s.CONFIG_KEY: seen.data[k8s.CONFIG_KEY] + "# ours\n"},
    }
    with pytest.raises(ApiException) as err:
        core.patch_namespaced_config_map(
            name, ns, ours, _content_type="application/merge-patch+json"
        )
    assert err.value.status == 409
    assert core.read_namespaced_config_map(name, ns).data[k8s.CONFIG_KEY] == k8s.pristine_config()


def test_the_kubeflow_1_10_layout(admin: client.ApiClient) -> None:
    ns = k8s.namespace()
    apps, core = client.AppsV1Api(admin), client.CoreV1Api(admin)
    dep = apps.read_namespaced_deployment(k8s.DEPLOYMENT, ns)
    labels = {
        "app": "jupyter-web-app",
        "kustomize.component": "jupyter-web-app",
        "app.kubernetes.io/name": "jupyter-web-app",
    }
    assert labels.items() <= dep.metadata.labels.items()
    assert labels.items() <= dep.spec.template.metadata.labels.items()
    name = k8s.configmap_of(apps, ns)
    assert re.fullmatch(r"jupyter-web-app-config-[a-z0-9]{10}", name)
    mount = dep.spec.template.spec.containers[0].volume_mounts[0]
    assert (mount.mount_path, mount.sub_path) == ("/etc/config", None)  # whole dir: refreshed
    text = core.read_namespaced_config_map(name, ns).data[k8s.CONFIG_KEY]
    defaults = yaml.safe_load(text)["spawnerFormDefaults"]
    for section in ("image", "imageGroupOne", "imageGroupTwo"):
        assert defaults[section]["value"] in defaults[section]["options"]
    assert set(defaults) >= {
        "allowCustomImage", "hideRegistry", "hideTag", "imagePullPolicy", "cpu", "memory",
        "gpus", "workspaceVolume", "dataVolumes", "affinityConfig", "tolerationGroup", "shm",
        "configurations", "environment",
    }  # fmt: skip
    assert sum(line.lstrip().startswith("#") for line in text.splitlines()) > 50
    assert len(k8s.ready_pods(core, ns)) == 1


def test_the_kubeflow_1_0_layout(admin: client.ApiClient) -> None:
    ns = k8s.legacy_namespace()
    apps, core = client.AppsV1Api(admin), client.CoreV1Api(admin)
    dep = apps.read_namespaced_deployment(k8s.DEPLOYMENT, ns)
    assert dep.spec.template.metadata.labels == {"app.kubernetes.io/name": "jupyter-web-app"}
    assert k8s.configmap_of(apps, ns) == k8s.LEGACY_CONFIGMAP
    text = core.read_namespaced_config_map(k8s.LEGACY_CONFIGMAP, ns).data[k8s.CONFIG_KEY]
    defaults = yaml.safe_load(text)["spawnerFormDefaults"]
    assert list(defaults) == ["image"]
    assert set(defaults["image"]) == {"value", "options", "readOnly"}
    assert len(k8s.ready_pods(core, ns)) == 1


@pytest.mark.usefixtures("pristine")
def test_reseed_restores_the_pristine_target(admin: client.ApiClient) -> None:
    ns = k8s.namespace()
    apps, core = client.AppsV1Api(admin), client.CoreV1Api(admin)
    name = k8s.configmap_of(apps, ns)
    core.patch_namespaced_config_map(
        name, ns, {"data": {k8s.CONFIG_KEY: "spawnerFormDefaults: {}\n"}}
    )
    core.create_namespaced_config_map(
        ns,
        client.V1ConfigMap(metadata=client.V1ObjectMeta(name="jupyter-web-app-config-stale00000")),
    )
    k8s.restart_deployment(apps, ns)
    k8s.reseed()
    assert core.read_namespaced_config_map(name, ns).data[k8s.CONFIG_KEY] == k8s.pristine_config()
    names = {cm.metadata.name for cm in core.list_namespaced_config_map(ns).items}
    assert names == {name, "kube-root-ca.crt"}
    dep = apps.read_namespaced_deployment(k8s.DEPLOYMENT, ns)
    assert k8s.RESTART_ANNOTATION not in (dep.spec.template.metadata.annotations or {})
    assert k8s.rollout_complete(apps, ns)


def test_fake_addresses_only(admin: client.ApiClient) -> None:
    """Nodes answer on loopback, pods and Services get documentation-range IPs: nothing in
    this cluster points at a real machine."""
    core = client.CoreV1Api(admin)
    for node in core.list_node().items:
        assert {a.address for a in node.status.addresses if a.type == "InternalIP"} == {"127.0.0.1"}
    svc = core.read_namespaced_service("kubernetes", "default")
    assert ipaddress.ip_address(svc.spec.cluster_ip) in ipaddress.ip_network("198.51.100.0/24")
    assert need_env("KFWS_TEST_KUBE_API").startswith("https://127.0.0.1:")
