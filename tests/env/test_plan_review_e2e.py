"""A plan a reviewer can read, end to end from the CLI against the real registry and cluster.

Sizes: the live spawner offers jupyter-tf:2.15, the
workspace moves it to 2.16 (bigger by ~3 MB of incompressible bytes, both pushed to the real
registry) and adds an image still to build. Text, Markdown and JSON show each size, the delta
and "known after build".

Why: kfws builds and offers an image (its inputs recorded in a label), then the build context
changes; the plan names the files added and changed, read from the label of the image the live
spawner offers. When the spawner offers nothing of the image's repository, the plan compares with
the last image kfws built for that name, found in the registry (with either builder: BuildKit
leaves nothing in the Docker Engine), and a repository with more tags than the plan reads says
the search was cut short."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
import yaml
from kubernetes import client

from kfws.observe.last_built import find_last_built
from kfws.observe.registry import RegistryClient
from kfws.render.sizes import delta, human
from kfws.spec.model import RegistryOptions
from tests.conftest import need_env
from tests.env import k8s_helpers as k8s
from tests.env.kfws_cli import run_kfws, unique, write_workspace
from tests.env.paginating_registry import paginating_registry
from tests.env.registry_push import Pusher, kfws_labels
from tests.env.test_registry import _docker_push, registry_env
from tests.env.test_registry_sizes import blob_sizes, build_sized


@pytest.fixture
def kube_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    k8s.reseed()
    yield {
        "KUBECONFIG": need_env("KFWS_TEST_KUBECONFIG_RESTRICTED"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }
    k8s.reseed()


def _offer_by_hand(ns: str, option: str) -> None:
    """An admin put `option` into the live image list (kubectl edit)."""
    api = k8s.admin_client()
    name = k8s.configmap_of(client.AppsV1Api(api), ns)
    core = client.CoreV1Api(api)
    doc = yaml.safe_load(core.read_namespaced_config_map(name, ns).data[k8s.CONFIG_KEY])
    doc["spawnerFormDefaults"]["image"]["options"].append(option)
    core.patch_namespaced_config_map(
        name,
        ns,
        {"data": {k8s.CONFIG_KEY: yaml.safe_dump(doc)}},
        field_manager="kubectl-edit",
        _content_type="application/merge-patch+json",
    )


def test_plan_shows_sizes_and_the_change(tmp_path: Path, kube_env: dict[str, str]) -> None:
    reg = registry_env()
    prefix = unique("sizes")
    repo = f"{prefix}/jupyter-tf"
    engine = docker.DockerClient(base_url=need_env("DOCKER_HOST"))
    for tag, extra in (("2.15", 1_000_000), ("2.16", 4_000_000)):
        engine_image = build_sized(engine, need_env("KFWS_TEST_BASE_IMAGE"), extra)
        engine_image.tag(f"{reg.open}/{repo}", tag)
        _docker_push(engine, f"{reg.open}/{repo}", tag)
    old, new = f"{reg.open}/{repo}:2.15", f"{reg.open}/{repo}:2.16"
    old_size = blob_sizes(reg, reg.open, "2.15", repo)
    new_size = blob_sizes(reg, reg.open, "2.16", repo)
    ns = k8s.namespace()
    _offer_by_hand(ns, old)
    write_workspace(
        tmp_path,
        {
            "apiVersion": "kfws/v1alpha1",
            "kind": "Workspace",
            "registry": {
                "default": f"{reg.open}/{prefix}",
                "registries": {reg.open: {"insecure": True}},
            },
            "cluster": {"namespace": ns, "restart": "none"},
            "images": [{"name": "nb", "from": need_env("KFWS_TEST_BASE_IMAGE")}],
            "spawner": {"image": {"default": "nb", "options": ["nb", new]}},
        },
    )
    text = run_kfws("plan", cwd=tmp_path, env=kube_env)
    assert text.code == 0, text.text
    words = f"{human(new_size)}, {delta(new_size, old_size)} (replaces {old}, {human(old_size)})"
    assert f"size of {new}: {words}" in text.out
    assert "      size   size known after build" in text.out  # nb: not built yet
    md = run_kfws("plan", "--format", "markdown", cwd=tmp_path, env=kube_env)
    assert "| offered image | size |" in md.out
    row = next(line for line in md.out.splitlines() if line.startswith(f"| `{new}` |"))
    assert row.endswith(f"| {words} |")
    plan = json.loads(run_kfws("plan", "--format", "json", cwd=tmp_path, env=kube_env).out)
    spawner = next(c for c in plan["changes"] if c["kind"] == "update-spawner")
    assert {
        "image": new,
        "bytes": new_size,
        "source": "registry",
        "replaces": old,
        "replacesBytes": old_size,
    } in spawner["details"]["sizes"]


def _nb_workspace(tmp: Path, prefix: str, *, offered: bool, engine: str | None = None) -> Path:
    """A workspace building `nb` from a context folder (app.py). `offered`: the spawner offers
    nb; else only the base image, so no live option of nb's repository says what nb replaces."""
    registry = need_env("KFWS_TEST_REGISTRY")
    base = need_env("KFWS_TEST_BASE_IMAGE")
    context = tmp / "nb"
    context.mkdir(exist_ok=True)
    (context / "Dockerfile").write_text(f"FROM {base}\nCOPY . /opt/app/\n")
    (context / "app.py").write_text("print(1)\n")
    option = "nb" if offered else base
    return write_workspace(
        tmp,
        {
            "apiVersion": "kfws/v1alpha1",
            "kind": "Workspace",
            "registry": {
                "default": f"{registry}/{prefix}",
                "registries": {registry: {"insecure": True}},
            },
            "cluster": {"namespace": k8s.namespace(), "restart": "none"},
            "build": {"network": "host", **({"engine": engine} if engine else {})},
            "images": [{"name": "nb", "build": {"context": "nb"}}],
            "spawner": {"image": {"default": option, "options": [option]}},
        },
    )


def test_plan_names_the_inputs_that_changed(tmp_path: Path, kube_env: dict[str, str]) -> None:
    _nb_workspace(tmp_path, unique("why"), offered=True)
    context = tmp_path / "nb"
    # the stand-in image is no JupyterLab: skip the contract check, which is not under test
    applied = run_kfws("apply", "--auto-approve", "--skip-check", "nb", cwd=tmp_path, env=kube_env)
    assert applied.code == 0, applied.text
    (context / "app.py").write_text("print(2)\n")
    (context / "data.csv").write_text("a,b\n")
    plan = run_kfws("plan", cwd=tmp_path, env=kube_env)
    assert plan.code == 0, plan.text
    assert "      why    context files added: data.csv" in plan.out
    assert "      why    context files changed: app.py" in plan.out
    assert "Dockerfile" not in plan.out.split("why", 1)[1].split("\n", 1)[0]
    assert "the last image kfws built" not in plan.out  # the live option says what it replaces
    md = run_kfws("plan", "--format", "markdown", cwd=tmp_path, env=kube_env)
    assert "- context files changed: app.py" in md.out


@pytest.mark.parametrize("builder", ["docker", "buildkit"])
def test_with_nothing_offered_the_plan_compares_with_the_last_build_in_the_registry(
    tmp_path: Path, kube_env: dict[str, str], builder: str
) -> None:
    prefix = unique("why-last")
    _nb_workspace(tmp_path, prefix, offered=False, engine=builder)
    applied = run_kfws("apply", "--auto-approve", cwd=tmp_path, env=kube_env)
    assert applied.code == 0, applied.text
    (built,) = {  # from apply's progress lines: "<ref>: pushed sha256:…"
        line.split(": ", 1)[0].strip()
        for line in applied.err.splitlines()
        if "/nb:" in line and "pushed sha256" in line
    }
    (tmp_path / "nb" / "app.py").write_text("print(2)\n")
    plan = run_kfws("plan", cwd=tmp_path, env=kube_env)
    assert plan.code == 0, plan.text
    why = [line.strip() for line in plan.out.splitlines() if line.strip().startswith("why ")]
    assert why[0].startswith(
        f"why    compared with {built}, the last image kfws built for nb (built 20"
    ), plan.out
    assert why[1:] == ["why    context files changed: app.py"]


def test_a_repository_with_more_tags_than_a_plan_reads_says_the_search_was_cut_short(
    tmp_path: Path, kube_env: dict[str, str]
) -> None:
    registry = need_env("KFWS_TEST_REGISTRY")
    prefix = unique("why-many")
    _nb_workspace(tmp_path, prefix, offered=False)
    pusher = Pusher(registry)
    name = f"{prefix}/nb"
    # 60 old kfws builds under date-like tags, and the newest under a kfws content tag
    pusher.image(name, [f"2026-10-{i:02d}" for i in range(60)], labels=kfws_labels("nb", "old"))
    newest = "kfws1-" + "f" * 24
    labels = {**kfws_labels("nb", "new"), "dev.kfws.inputs": '{"v":1,"dockerfile":"x"}'}
    pusher.image(name, [newest], labels=labels, created="2026-11-20T08:00:00Z", content="new")
    plan = run_kfws("plan", cwd=tmp_path, env=kube_env)
    assert plan.code == 0, plan.text
    assert (
        f"why    compared with {registry}/{name}:{newest}, the last image kfws built for nb "
        "(built 2026-11-20 08:00:00 UTC)"
    ) in plan.out
    assert (
        "why    the search for the last image kfws built was cut short (read the labels of 40 "
        "of 61 tags): a newer one may be among the others"
    ) in plan.out
    assert "why    the Dockerfile changed" in plan.out


def test_the_search_reads_a_bounded_number_of_tag_pages_and_labels() -> None:
    registry = need_env("KFWS_TEST_REGISTRY")
    name = f"{unique('why-pages')}/nb"
    tags = [f"t{i:02d}" for i in range(9)]
    Pusher(registry).image(name, tags, labels=kfws_labels("nb", "a"))
    with paginating_registry(registry) as (double, asked):
        table = {double: RegistryOptions(double, insecure=True)}
        with RegistryClient(lambda h: table.get(h, RegistryOptions(h))) as c:
            assert c.list_tags(f"{double}/{name}", page_size=2, limit=3) == tags[:3]
            pages = list(asked)
            found = find_last_built(c, f"{double}/{name}", "nb", max_listed=4, max_inspected=2)
    # two pages of 2 for the first 3 tags: the third page is never asked for
    assert pages == [f"/v2/{name}/tags/list?n=2", f"/v2/{name}/tags/list?n=2&last=t01"]
    # the first 4 of 5 listed are t00..t03; of those the 2 read are t03, t02 (same time: by tag)
    assert [b.reference for b in found.found] == [f"{double}/{name}:t03", f"{double}/{name}:t02"]
    assert found.note == (
        "the search for the last image kfws built was cut short (listed only the first 4 tags "
        f"of {double}/{name}; read the labels of 2 of 4+ tags): a newer one may be among the "
        "others"
    )
