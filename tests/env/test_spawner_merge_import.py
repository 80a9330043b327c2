"""Merge that owns what it adds, the live default left alone, the Kubeflow 1.0 layout's
`image.readOnly`, and import -> plan without a change: against the real local Kubernetes, as the
least-privilege ServiceAccount (KFWS_TEST_KUBECONFIG_RESTRICTED). Plans here come from
observe_cluster + plan_spawner, so no registry outside 127.0.0.1 is ever asked about the stock
options. Each test that changes the cluster reseeds it before and after."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest
import yaml
from kubernetes import client

from kfws import output
from kfws.plan.model import Change
from kfws.spec.load import load_spec
from kfws.spec.model import (
    ClusterSpec,
    OptionsMode,
    RestartMode,
    SpawnerGroup,
    SpawnerSpec,
    Spec,
)
from kfws.targets.run import apply_cluster_changes
from kfws.targets.spawner.annotations import ANN_ADDED
from kfws.targets.spawner.config_yaml import read_spawner
from kfws.targets.spawner.observe import observe_cluster
from kfws.targets.spawner.plan import plan_spawner
from tests.conftest import need_env
from tests.env import k8s_helpers as k8s
from tests.env.kfws_cli import run_kfws
from tests.unit.factories import spec as make_spec

FIXTURES = Path(__file__).resolve().parents[1] / "unit" / "fixtures" / "spawner"
NEW = "127.0.0.1:15001/ds-team/jupyter-sudo:kfws1-0123456789abcdef01234567"
NEWER = "127.0.0.1:15001/ds-team/jupyter-tf:kfws1-89abcdef0123456789abcdef"
BY_HAND = "registry.corp.example/ml/by-hand:1"
RELEASED = "added by kfws, no longer declared"


# Every test here runs kfws as the least-privilege ServiceAccount (tests/env/conftest.py).
pytestmark = pytest.mark.usefixtures("restricted_kubeconfig")


def workspace(ns: str, *groups: SpawnerGroup, **flags: object) -> Spec:
    s = make_spec(spawner=SpawnerSpec(groups=groups, **flags))  # type: ignore[arg-type]
    return dataclasses.replace(s, cluster=ClusterSpec(namespace=ns, restart=RestartMode.NONE))


def plan(ws: Spec) -> list[Change]:
    return list(plan_spawner(ws, {}, observe_cluster(ws.cluster, context=None)).changes)


def apply(changes: list[Change]) -> list[str]:
    ns = str(changes[0].details["namespace"])
    return apply_cluster_changes(
        changes, ns, context=None, lock_timeout=5, rollout_timeout=60, reporter=output
    )


def config_map(admin: client.ApiClient, ns: str) -> tuple[str, client.V1ConfigMap]:
    name = (
        k8s.configmap_of(client.AppsV1Api(admin), ns)
        if ns == k8s.namespace()
        else k8s.LEGACY_CONFIGMAP
    )
    return name, client.CoreV1Api(admin).read_namespaced_config_map(name, ns)


def live_text(admin: client.ApiClient, ns: str) -> str:
    return str(config_map(admin, ns)[1].data[k8s.CONFIG_KEY])


def edit_by_hand(admin: client.ApiClient, ns: str, text: str) -> None:
    """What another admin does with `kubectl edit` (as cluster admin, not kfws)."""
    name, _ = config_map(admin, ns)
    client.CoreV1Api(admin).patch_namespaced_config_map(
        name, ns, {"data": {k8s.CONFIG_KEY: text}}, field_manager="kubectl-edit"
    )


def options(text: str) -> tuple[str, ...]:
    group = read_spawner(text).group("image")
    assert group is not None
    return group.options


@pytest.mark.usefixtures("pristine")
def test_merge_removes_what_kfws_added_and_keeps_what_others_added(
    admin: client.ApiClient,
) -> None:
    ns = k8s.namespace()
    stock = options(k8s.pristine_config())
    # kfws adds NEW (merge): it records that it did
    apply(plan(workspace(ns, SpawnerGroup("image", None, (NEW,), mode=OptionsMode.MERGE))))
    _, cm = config_map(admin, ns)
    assert json.loads(cm.metadata.annotations[ANN_ADDED]) == {"image": [NEW]}
    # another admin adds an image by hand
    text = live_text(admin, ns)
    edit_by_hand(admin, ns, text.replace(f"      - {NEW}\n", f"      - {NEW}\n      - {BY_HAND}\n"))
    # the workspace now declares NEWER instead of NEW
    ws = workspace(ns, SpawnerGroup("image", None, (NEWER,), mode=OptionsMode.MERGE))
    update = plan(ws)[0]
    group = update.details["diff"]["groups"]["image"]
    assert group["removed"] == [NEW] and group["added"] == [NEWER]
    assert group["why"] == {NEW: RELEASED}
    assert f"remove {NEW} ({RELEASED})" in update.reason
    assert "default" not in group  # merge without a default: the live one stays
    apply([update])
    text = live_text(admin, ns)
    assert options(text) == (*stock, BY_HAND, NEWER)
    assert (
        read_spawner(text).group("image").value
        == read_spawner(  # type: ignore[union-attr]
            k8s.pristine_config()
        )
        .group("image")
        .value
    )  # type: ignore[union-attr]
    _, cm = config_map(admin, ns)
    assert json.loads(cm.metadata.annotations[ANN_ADDED]) == {"image": [NEWER]}
    # and nothing is left to do
    assert plan(ws) == []


@pytest.mark.usefixtures("pristine")
def test_merge_without_a_default_leaves_a_live_default_not_among_the_options(
    admin: client.ApiClient,
) -> None:
    """The Kubeflow 1.0.2 config: its default is not among its options."""
    ns = k8s.legacy_namespace()
    kf102 = (FIXTURES / "kf1.0.2.yaml").read_text()
    edit_by_hand(admin, ns, kf102)
    live_default = read_spawner(kf102).group("image").value  # type: ignore[union-attr]
    assert live_default not in options(kf102)
    ws = workspace(ns, SpawnerGroup("image", None, (NEW,), mode=OptionsMode.MERGE))
    (update,) = plan(ws)
    assert "default" not in update.details["diff"]["groups"]["image"]
    apply([update])
    text = live_text(admin, ns)
    assert read_spawner(text).group("image").value == live_default  # type: ignore[union-attr]
    last = "      - gcr.io/kubeflow-images-public/tensorflow-2.1.0-notebook-gpu:1.0.0\n"
    assert text == kf102.replace(last, f"{last}      - {NEW}\n")


@pytest.mark.usefixtures("pristine")
def test_the_1_0_layout_gets_image_read_only_not_allow_custom_image(
    admin: client.ApiClient,
) -> None:
    ns = k8s.legacy_namespace()
    (update,) = plan(workspace(ns, allow_custom_image=False))
    assert update.details["diff"]["flags"]["allowCustomImage"]["writtenAs"] == (
        "image.readOnly: true"
    )
    apply([update])
    text = live_text(admin, ns)
    assert text == k8s.pristine_config("kf1.0").replace(
        "    readOnly: false\n", "    readOnly: true\n"
    )
    defaults = yaml.safe_load(text)["spawnerFormDefaults"]
    assert "allowCustomImage" not in defaults and defaults["image"]["readOnly"] is True
    assert read_spawner(text).allow_custom_image is False
    assert plan(workspace(ns, allow_custom_image=False)) == []
    # a flag that layout's web app never reads is refused, and nothing is written
    from kfws.errors import ClusterError

    with pytest.raises(ClusterError, match=r"Kubeflow 1\.0 layout"):
        plan(workspace(ns, hide_tag=True))
    assert live_text(admin, ns) == text


@pytest.mark.parametrize(
    "layout", ["kf1.10", "kf1.0", "kf1.0.2.yaml", "value-commented-out.yaml", "four-spaces.yaml"]
)
def test_import_then_plan_shows_no_change(
    admin: client.ApiClient, tmp_path: Path, layout: str, request: pytest.FixtureRequest
) -> None:
    """`kfws import` as a user runs it (the CLI, as the restricted ServiceAccount), then the
    plan of the file it wrote: nothing to change on the cluster."""
    ns = k8s.namespace() if layout in ("kf1.10", "four-spaces.yaml") else k8s.legacy_namespace()
    if layout.endswith(".yaml"):  # a real-world config in place of the seed's
        request.getfixturevalue("pristine")
        edit_by_hand(admin, ns, (FIXTURES / layout).read_text())
    out = tmp_path / "workspace.yaml"
    env = {"KUBECONFIG": need_env("KFWS_TEST_KUBECONFIG_RESTRICTED")}
    result = run_kfws("import", "--namespace", ns, "-o", str(out), cwd=tmp_path, env=env)
    assert result.code == 0, result.text
    assert f"into {out}" in result.out
    assert oct(os.stat(out).st_mode & 0o777) != oct(0o600)  # a normal file, not a temp file's
    ws = load_spec(out)
    assert ws.cluster.namespace == ns
    assert plan(ws) == []


def test_merge_with_pin_digest_replaces_the_image_kfws_rebuilt(tmp_path: Path) -> None:
    """End to end from the CLI: kfws builds an image and offers it pinned by digest (merge);
    the record holds the pushed digest, not the placeholder, so when the image's content
    changes the old digest is replaced in place and nothing else is touched."""
    from tests.env.kfws_cli import unique, write_workspace

    registry = need_env("KFWS_TEST_REGISTRY")
    prefix = unique("merge-pin")
    doc = {
        "apiVersion": "kfws/v1alpha1",
        "kind": "Workspace",
        "registry": {
            "default": f"{registry}/{prefix}",
            "registries": {registry: {"insecure": True}},
        },
        "cluster": {"namespace": k8s.namespace(), "restart": "none"},
        "build": {"network": "host"},  # the local dockerd has no bridge network
        "images": [{"name": "nb", "from": need_env("KFWS_TEST_BASE_IMAGE"), "env": {"V": "1"}}],
        "spawner": {"image": {"options": ["nb"], "mode": "merge", "pin": "digest"}},
    }
    # only managed options: no registry but the local one is asked about anything
    env = {"KUBECONFIG": need_env("KFWS_TEST_KUBECONFIG_RESTRICTED")}
    k8s.reseed()
    try:
        stock = options(k8s.pristine_config())
        for value in ("1", "2"):
            doc["images"][0]["env"] = {"V": value}  # type: ignore[index]
            write_workspace(tmp_path, doc)
            result = run_kfws("apply", "--auto-approve", cwd=tmp_path, env=env)
            assert result.code == 0, result.text
            admin = k8s.admin_client()
            _, cm = config_map(admin, k8s.namespace())
            live = options(cm.data[k8s.CONFIG_KEY])
            (ours,) = [o for o in live if o not in stock]
            assert live == (*stock, ours)  # the stock options stay, the old digest is gone
            assert ours.startswith(f"{registry}/{prefix}/nb@sha256:")
            assert "known-after-apply" not in ours
            assert json.loads(cm.metadata.annotations[ANN_ADDED]) == {"image": [ours]}
            plan = run_kfws("plan", "--detailed-exitcode", cwd=tmp_path, env=env)
            assert plan.code == 0, plan.text  # applied: nothing left to do
    finally:
        k8s.reseed()
