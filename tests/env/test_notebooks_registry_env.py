"""The environment issue 15 adds, and the registry calls prune needs, against the real parts:
the Notebook CRD with seeded notebooks whose pods report the digest they run (KWOK playing the
kubelet), tag listing that follows the registry's pagination, and manifest deletes (allowed by
the open registry, refused with 405 by the TLS one, the distribution registry's default)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import requests
from kubernetes import client

from kfws.errors import RegistryError
from kfws.observe.registry import RegistryClient
from kfws.spec.model import RegistryOptions
from tests.conftest import need_env
from tests.env.paginating_registry import paginating_registry
from tests.env.registry_push import Pusher

NOTEBOOKS = ("kubeflow.org", "v1", "notebooks")


def _client() -> RegistryClient:
    open_, auth = need_env("KFWS_TEST_REGISTRY"), need_env("KFWS_TEST_REGISTRY_AUTH")
    ca = need_env("KFWS_TEST_CA_FILE")
    table = {
        open_: RegistryOptions(open_, insecure=True),
        auth: RegistryOptions(auth, ca_file=Path(ca)),
    }
    return RegistryClient(lambda h: table.get(h, RegistryOptions(h)))


def test_seeded_notebooks_run_and_stop_by_tag_and_by_digest(admin: client.ApiClient) -> None:
    registry = need_env("KFWS_TEST_REGISTRY")
    alice, bob = need_env("KFWS_TEST_PROFILE_NAMESPACES").split()
    custom = client.CustomObjectsApi(admin)
    items = custom.list_cluster_custom_object(*NOTEBOOKS)["items"]
    seen = {
        (nb["metadata"]["namespace"], nb["metadata"]["name"]): (
            nb["spec"]["template"]["spec"]["containers"][0]["image"],
            "kubeflow-resource-stopped" in (nb["metadata"].get("annotations") or {}),
        )
        for nb in items
    }
    base = f"{registry}/kfws-base/notebook"
    digest = requests.head(
        f"http://{registry}/v2/kfws-base/notebook/manifests/busybox",
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
        timeout=10,
    ).headers["Docker-Content-Digest"]
    assert seen[(alice, "scipy-tag")] == (f"{base}:busybox", False)
    assert seen[(alice, "scipy-paused")] == (f"{base}:busybox", True)
    assert seen[(bob, "pinned")] == (f"{base}@{digest}", False)
    # pods: one per running notebook (none for a stopped one), each reporting what it runs
    pods = client.CoreV1Api(admin).list_pod_for_all_namespaces(label_selector="notebook-name")
    running = {
        (p.metadata.namespace, p.metadata.labels["notebook-name"]): p.status.container_statuses
        for p in pods.items
        if p.status.phase == "Running" and p.status.container_statuses
    }
    assert (alice, "scipy-paused") not in running
    assert running[(alice, "scipy-tag")][0].image_id == f"{base}@{digest}"
    assert running[(bob, "pinned")][0].image_id == f"{base}@{digest}"


def test_tag_listing_follows_the_registry_pagination() -> None:
    registry = need_env("KFWS_TEST_REGISTRY")
    name = f"kfws-prune-test/pages-{uuid.uuid4().hex[:8]}"
    tags = [f"t{i:02d}" for i in range(7)]
    Pusher(registry).image(name, tags)
    with paginating_registry(registry) as (double, asked):
        table = {double: RegistryOptions(double, insecure=True)}
        with RegistryClient(lambda h: table.get(h, RegistryOptions(h))) as c:
            assert c.list_tags(f"{double}/{name}", page_size=2) == tags
            assert c.list_tags(f"{double}/{name}-never-pushed") == []
    # four pages of at most 2, each asked where the previous one's Link pointed
    assert asked[:4] == [
        f"/v2/{name}/tags/list?n=2",
        f"/v2/{name}/tags/list?n=2&last=t01",
        f"/v2/{name}/tags/list?n=2&last=t03",
        f"/v2/{name}/tags/list?n=2&last=t05",
    ]
    with _client() as c:  # and the real registry, which sends them all at once
        assert sorted(c.list_tags(f"{registry}/{name}", page_size=2)) == tags


def test_the_open_registry_deletes_a_manifest_and_every_tag_on_it() -> None:
    registry = need_env("KFWS_TEST_REGISTRY")
    name = f"kfws-prune-test/del-{uuid.uuid4().hex[:8]}"
    pusher = Pusher(registry)
    digest = pusher.image(name, ["a", "b"])
    keep = pusher.image(name, ["c"], content="other")
    with _client() as c:
        assert c.delete_manifest(f"{registry}/{name}", digest) is True
        assert c.resolve(f"{registry}/{name}", "a") is None
        assert c.resolve(f"{registry}/{name}", "b") is None
        assert c.resolve(f"{registry}/{name}", "c") is not None
        assert c.delete_manifest(f"{registry}/{name}", digest) is False  # already gone
    assert pusher.tags(name) == {"c"} and keep


def test_a_registry_that_refuses_deletes_names_the_setting() -> None:
    registry = need_env("KFWS_TEST_REGISTRY_AUTH")
    name = f"kfws-prune-test/refused-{uuid.uuid4().hex[:8]}"
    digest = Pusher(registry, tls=True).image(name, ["x"])
    with _client() as c, pytest.raises(RegistryError) as e:
        c.delete_manifest(f"{registry}/{name}", digest)
    text = e.value.render()
    assert f"registry {registry} refuses to delete manifests (405 Method Not Allowed)" in text
    assert "storage: delete: enabled: true" in text
    assert "REGISTRY_STORAGE_DELETE_ENABLED=true" in text
    with _client() as c:
        assert c.resolve(f"{registry}/{name}", "x") is not None  # still there
