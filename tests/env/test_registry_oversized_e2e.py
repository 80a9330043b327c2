"""Oversized registry answers end to end: through a named test double (tests/env/
oversized_registry.py) in front of the real open registry, an endless tag-list page and an
endless manifest stop `kfws prune` and `kfws plan` with an error naming the registry, the
repository and what to do -- after reading no more than the documented cap."""

from __future__ import annotations

from pathlib import Path

import pytest

from kfws.errors import RegistryError
from kfws.observe.registry import RegistryClient
from kfws.observe.registry.bodies import MANIFEST, TAG_PAGE, TOKEN
from kfws.spec.model import RegistryOptions
from tests.conftest import need_env
from tests.env import k8s_helpers as k8s
from tests.env.kfws_cli import run_kfws, unique, write_workspace
from tests.env.oversized_registry import OFFERED, oversized_registry

# what the double may have handed to the socket once kfws stopped reading: the cap plus what
# the kernel's socket buffers on both ends hold (a few MiB each), far from the 100 MiB offered
READ_AT_MOST = 40 * 1024 * 1024


def _workspace(folder: Path, double: str, prefix: str, base: str) -> Path:
    return write_workspace(
        folder,
        {
            "apiVersion": "kfws/v1alpha1",
            "kind": "Workspace",
            "registry": {"default": f"{double}/{prefix}", "registries": {
                double: {"insecure": True}, need_env("KFWS_TEST_REGISTRY"): {"insecure": True}}},
            "cluster": {"namespace": k8s.namespace(), "restart": "rollout"},
            "images": [{"name": "nb", "from": base}],
            "spawner": {"image": {"default": need_env("KFWS_TEST_BASE_IMAGE"), "options": [
                need_env("KFWS_TEST_BASE_IMAGE")]}},
        },
    )  # fmt: skip


def test_the_client_stops_reading_an_endless_tag_page_and_manifest() -> None:
    prefix = unique("kfws-oversized")
    tags, manifest = f"{prefix}/tags", f"{prefix}/manifest"
    upstream = need_env("KFWS_TEST_REGISTRY")
    with oversized_registry(upstream, tag_lists=[tags], manifests=[manifest]) as (double, sent):
        table = {double: RegistryOptions(double, insecure=True)}
        with RegistryClient(lambda h: table.get(h, RegistryOptions(h)), retries=0) as c:
            with pytest.raises(RegistryError) as listed:
                c.list_tags(f"{double}/{tags}")
            with pytest.raises(RegistryError) as read:
                c.image_labels(f"{double}/{manifest}", "v1")
    assert str(listed.value).startswith(
        f"registry {double} sent a tag-list page larger than 8 MiB for the tags of {double}/{tags}"
    )
    assert listed.value.hint == TAG_PAGE.hint
    assert str(read.value).startswith(
        f"registry {double} sent a manifest larger than 4 MiB for {double}/{manifest}:v1"
    )
    assert read.value.hint == MANIFEST.hint
    # it read past each cap (so the double sent at least that), then stopped
    tag_sent, manifest_sent = (
        sum(n for p, n in sent.items() if k in p) for k in ("/tags/", "/manifests/")
    )
    assert TAG_PAGE.size <= tag_sent < READ_AT_MOST < OFFERED, sent
    assert MANIFEST.size <= manifest_sent < READ_AT_MOST, sent


def test_the_client_stops_reading_an_endless_token_answer() -> None:
    repo = f"{unique('kfws-oversized')}/token"
    with oversized_registry(need_env("KFWS_TEST_REGISTRY"), tokens=[repo]) as (double, sent):
        table = {double: RegistryOptions(double, insecure=True)}
        client = RegistryClient(lambda h: table.get(h, RegistryOptions(h)), retries=0)
        with client as c, pytest.raises(RegistryError) as asked:
            c.resolve(f"{double}/{repo}", "v1")
    assert str(asked.value).startswith(
        f"registry {double} sent a token answer larger than 1 MiB for a token for "
        f"{double}/{repo}:v1 (from its token service {double})"
    )
    assert asked.value.hint == TOKEN.hint
    assert list(sent) and max(sent.values()) < READ_AT_MOST < OFFERED, sent


def test_prune_fails_cleanly_on_an_endless_tag_page(tmp_path: Path) -> None:
    prefix = unique("kfws-oversized")
    upstream = need_env("KFWS_TEST_REGISTRY")
    with oversized_registry(upstream, tag_lists=[f"{prefix}/nb"]) as (double, sent):
        ws = _workspace(tmp_path, double, prefix, need_env("KFWS_TEST_BASE_IMAGE"))
        env = {"KUBECONFIG": need_env("KFWS_TEST_KUBECONFIG_READONLY")}
        done = run_kfws("prune", "--keep", "0", "--yes", "-f", str(ws), cwd=tmp_path, env=env)
    assert done.code == 1, done.text
    assert (
        f"registry {double} sent a tag-list page larger than 8 MiB for the tags of "
        f"{double}/{prefix}/nb" in done.err
    )
    assert "ask its operators to paginate tag lists" in done.err
    assert sent and max(sent.values()) < READ_AT_MOST, sent


def test_plan_fails_cleanly_on_an_endless_manifest(tmp_path: Path) -> None:
    prefix = unique("kfws-oversized")
    upstream = need_env("KFWS_TEST_REGISTRY")
    with oversized_registry(upstream, manifests=[f"{prefix}/base"]) as (double, sent):
        ws = _workspace(tmp_path, double, prefix, f"{double}/{prefix}/base:big")
        env = {"KUBECONFIG": need_env("KFWS_TEST_KUBECONFIG_READONLY")}
        done = run_kfws("plan", "-f", str(ws), cwd=tmp_path, env=env)
    assert done.code == 1, done.text
    assert (
        f"registry {double} sent a manifest larger than 4 MiB for {double}/{prefix}/base:big"
        in done.err
    )
    assert "the distribution spec's limit" in done.err
    assert sent and max(sent.values()) < READ_AT_MOST, sent


def test_plan_notes_an_endless_tag_page_in_its_last_built_search_and_goes_on(
    tmp_path: Path,
) -> None:
    prefix = unique("kfws-oversized")
    upstream = need_env("KFWS_TEST_REGISTRY")
    with oversized_registry(upstream, tag_lists=[f"{prefix}/nb"]) as (double, sent):
        ws = _workspace(tmp_path, double, prefix, need_env("KFWS_TEST_BASE_IMAGE"))
        env = {"KUBECONFIG": need_env("KFWS_TEST_KUBECONFIG_READONLY")}
        done = run_kfws("plan", "-f", str(ws), cwd=tmp_path, env=env)
    assert done.code == 0, done.text
    assert (
        f"could not list the tags of {double}/{prefix}/nb: registry {double} sent a tag-list "
        "page larger than 8 MiB" in done.out
    )
    assert sent and max(sent.values()) < READ_AT_MOST, sent
