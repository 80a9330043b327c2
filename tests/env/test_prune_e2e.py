"""`kfws prune` end to end: real registries (the open one deletes, the TLS one refuses with 405),
the real cluster (a spawner config kfws applied, its backups, notebooks whose pods report the
digest they run; the seeded WorkspaceKind, values kfws applied to it and its backups), run as a
user runs it: the read-only identity with the usage ClusterRole prunes, the writer applies and
rolls back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from tests.conftest import need_env
from tests.env import k8s_helpers as k8s
from tests.env import workspacekind_helpers as wsk
from tests.env.kfws_cli import Result, run_kfws, unique, write_workspace
from tests.env.notebooks import Notebooks, notebooks, profile_namespaces
from tests.env.registry_push import Pusher, kfws_labels

READONLY = "KFWS_TEST_KUBECONFIG_READONLY"
WRITER = "KFWS_TEST_KUBECONFIG_RESTRICTED"


@pytest.fixture
def made(admin: client.ApiClient) -> Iterator[Notebooks]:
    k8s.reseed()
    with notebooks(admin) as nbs:
        yield nbs
    k8s.reseed()


def workspace(folder: Path, registry: str, prefix: str, options: list[str], **reg: Any) -> Path:
    """Builds into registry/prefix/nb (the repository prune may touch); offers `options`."""
    return write_workspace(
        folder,
        {
            "apiVersion": "kfws/v1alpha1",
            "kind": "Workspace",
            "registry": {"default": f"{registry}/{prefix}", "registries": {registry: reg}},
            "cluster": {"namespace": k8s.namespace(), "restart": "rollout"},
            "images": [{"name": "nb", "from": need_env("KFWS_TEST_BASE_IMAGE")}],
            "spawner": {"image": {"default": options[0], "options": options}},
        },
    )


def kfws(path: Path, identity: str, *args: str) -> Result:
    """kfws as `identity`, with a cache folder of this workspace's own (prune's config cache)."""
    env = {"KUBECONFIG": need_env(identity), "XDG_CACHE_HOME": str(cache_home(path))}
    return run_kfws(*args, "-f", str(path), cwd=path.parent, env=env)


def cache_home(path: Path) -> Path:
    return path.parent / "cache"


def live_options() -> str:
    api = k8s.admin_client()
    ns = k8s.namespace()
    name = k8s.configmap_of(client.AppsV1Api(api), ns)
    return str(client.CoreV1Api(api).read_namespaced_config_map(name, ns).data[k8s.CONFIG_KEY])


def test_prune_keeps_offered_used_backed_up_shared_and_newest_and_rollback_still_works(
    tmp_path: Path, made: Notebooks
) -> None:
    registry = need_env("KFWS_TEST_REGISTRY")
    prefix = unique("kfws-prune")
    name = f"{prefix}/nb"
    repo = f"{registry}/{name}"
    push = Pusher(registry)

    def kfws_image(tags: list[str], day: int) -> str:
        return push.image(
            name,
            tags,
            labels=kfws_labels("nb", f"{prefix}-{day}"),
            created=f"2026-11-{day:02d}T00:00:00Z",
            content=f"{prefix}-{day}",
        )

    digests = {
        day: kfws_image(tags, day)
        for day, tags in [
            (1, ["t1"]),
            (2, ["t2", "t7"]),
            (3, ["t3"]),
            (4, ["t4"]),
            (5, ["t5"]),
            (6, ["t6", "t6b"]),
            (8, ["t8"]),
        ]
    }
    push.image(name, ["manual"], created="2026-11-09T00:00:00Z", content="by hand")
    # what the cluster offered before (t3: only a kfws backup names it after the next apply),
    # and what it offers now (t2)
    ws = workspace(tmp_path / "ws", registry, prefix, [f"{repo}:t3"], insecure=True)
    assert kfws(ws, WRITER, "apply", "--auto-approve", "--skip-check", "nb").code == 0
    ws = workspace(tmp_path / "ws", registry, prefix, [f"{repo}:t2"], insecure=True)
    assert kfws(ws, WRITER, "apply", "--auto-approve", "--skip-check", "nb").code == 0
    built = [t for t in push.tags(name) if t.startswith("kfws1-")]
    assert len(built) == 1  # apply built the workspace's nb into the same repository
    alice, bob = profile_namespaces()
    made.create(alice, unique("by-tag"), f"{repo}:t4", runs=f"{repo}@{digests[4]}")
    made.create(bob, unique("by-digest"), f"{repo}@{digests[5]}")
    before = push.tags(name)

    dry = kfws(ws, READONLY, "prune", "--keep", "2", "--format", "json")
    assert dry.code == 0, dry.text
    doc = json.loads(dry.out)
    got = {t["tag"]: (t["action"], t["reasons"]) for t in doc["tags"]}
    assert push.tags(name) == before  # a dry run deletes nothing
    assert {t for t, (a, _) in got.items() if a == "delete"} == {"t1", "t6", "t6b"}
    assert got["manual"] == ("leave", ["not built by kfws (no kfws labels): never pruned"])
    assert got["t2"][1] == ["offered now"]
    assert got["t7"][1][0].startswith("shares its manifest") and "kept tag t2" in got["t7"][1][0]
    assert got["t3"][1] == ["named by a kfws backup of the spawner config (rollback needs it)"]
    (by_tag,) = got["t4"][1]
    assert by_tag.startswith(f"used by notebook {alice}/by-tag-") and "(running, by tag)" in by_tag
    (by_digest,) = got["t5"][1]
    assert "(running, by digest)" in by_digest
    newest = f"among the newest 2 kfws tags of {repo}"
    assert got["t8"][1] == [newest] and got[built[0]][1] == [newest]
    assert {tuple(m["tags"]) for m in doc["manifests"]} == {("t1",), ("t6", "t6b")}
    assert doc["freedBytes"] > 0 and doc["deleted"] is False
    # the configs it read are remembered: one per image (7 days, the manual one, the built one)
    cached = (cache_home(ws) / "kfws" / "image-configs.json").read_text(encoding="utf-8")
    configs = json.loads(cached)["configs"].values()
    assert len(configs) == 9
    nb = [c for c in configs if c["labels"].get("dev.kfws.image-name") == "nb"]
    assert len(nb) == 8 and [c["created"] for c in configs if not c["labels"]] == [
        "2026-11-09T00:00:00Z"
    ]
    pushed = {f"2026-11-{day:02d}T00:00:00Z" for day in (1, 2, 3, 4, 5, 6, 8)}
    assert pushed <= {c["created"] for c in nb}

    text = kfws(ws, READONLY, "prune", "--keep", "2")
    assert "Would delete 3 tags (2 manifests), up to " in text.out
    assert "Nothing was deleted: run `kfws prune --yes` to delete them." in text.out
    assert "garbage collection" in text.out

    done = kfws(ws, READONLY, "prune", "--keep", "2", "--yes")
    assert done.code == 0, done.text
    assert "Deleted 3 tags (2 manifests)" in done.out
    assert "the registry frees that space only when its garbage collection runs" in done.out
    assert push.tags(name) == before - {"t1", "t6", "t6b"}

    # rollback after prune: the backup's image is still there, so the restored option works
    back = kfws(ws, WRITER, "rollback", "--auto-approve")
    assert back.code == 0, back.text
    assert f"{repo}:t3" in live_options() and f"{repo}:t2" not in live_options()
    assert "t3" in push.tags(name)
    # the rollback used its backup up, and t2 is no longer offered: now t2 (and t7 on the
    # same manifest) may go, and t3 is kept as what is offered
    again = json.loads(kfws(ws, READONLY, "prune", "--keep", "2", "--format", "json").out)
    now = {t["tag"]: (t["action"], t["reasons"]) for t in again["tags"]}
    assert {t for t, (a, _) in now.items() if a == "delete"} == {"t2", "t7"}
    assert now["t3"] == ("keep", ["offered now"])


def test_prune_against_a_registry_that_refuses_deletes_names_the_setting(tmp_path: Path) -> None:
    registry = need_env("KFWS_TEST_REGISTRY_AUTH")
    prefix = unique("kfws-prune")
    push = Pusher(registry, tls=True)
    for day in (1, 2):
        push.image(
            f"{prefix}/nb",
            [f"t{day}"],
            labels=kfws_labels("nb", f"{prefix}{day}"),
            created=f"2026-11-0{day}T00:00:00Z",
            content=f"{prefix}{day}",
        )
    ws = workspace(
        tmp_path,
        registry,
        prefix,
        [need_env("KFWS_TEST_BASE_IMAGE")],
        caFile=need_env("KFWS_TEST_CA_FILE"),
    )
    refused = kfws(ws, READONLY, "prune", "--keep", "0", "--yes")
    assert refused.code == 1, refused.text
    assert f"registry {registry} refuses to delete manifests (405 Method Not Allowed)" in (
        refused.err
    )
    assert "; 0 of the 2 manifests to delete were deleted before this" in refused.err
    assert "`storage: delete: enabled: true`" in refused.err
    assert "REGISTRY_STORAGE_DELETE_ENABLED=true" in refused.err
    assert push.tags(f"{prefix}/nb") == {"t1", "t2"}


def test_prune_without_the_usage_cluster_role_deletes_nothing(tmp_path: Path) -> None:
    registry = need_env("KFWS_TEST_REGISTRY")
    prefix = unique("kfws-prune")
    push = Pusher(registry)
    push.image(f"{prefix}/nb", ["t1"], labels=kfws_labels("nb", prefix))
    ws = workspace(tmp_path, registry, prefix, [need_env("KFWS_TEST_BASE_IMAGE")], insecure=True)
    refused = kfws(ws, WRITER, "prune", "--keep", "0", "--yes")  # the writer lacks it
    assert refused.code == 1
    assert "kfws prune deletes nothing it cannot prove unused" in refused.err
    assert "listing notebooks.kubeflow.org in all namespaces was refused (403)" in refused.err
    assert "kfws rbac --role usage" in refused.err
    assert push.tags(f"{prefix}/nb") == {"t1"}


@pytest.fixture
def fresh_kind() -> Iterator[None]:
    wsk.reseed_kinds()  # the seeded kind, and no kfws backup of it
    yield
    wsk.reseed_kinds()


@pytest.mark.usefixtures("fresh_kind")
def test_prune_keeps_what_workspacekind_values_offer_and_what_their_backups_name(
    tmp_path: Path, admin: client.ApiClient
) -> None:
    registry = need_env("KFWS_TEST_REGISTRY")
    prefix = unique("kfws-prune")
    name = f"{prefix}/nb"
    repo = f"{registry}/{name}"
    push = Pusher(registry)
    for day in range(1, 6):
        push.image(
            name,
            [f"t{day}"],
            labels=kfws_labels("nb", f"{prefix}-{day}"),
            created=f"2026-11-{day:02d}T00:00:00Z",
            content=f"{prefix}-{day}",
        )

    def kinds_workspace(*images: dict[str, Any]) -> Path:
        """Offers only through the seeded kind (no images to build, no spawner section)."""
        return write_workspace(
            tmp_path / "kinds",
            {
                "apiVersion": "kfws/v1alpha1",
                "kind": "Workspace",
                "registry": {"default": f"{registry}/{prefix}",
                             "registries": {registry: {"insecure": True}}},
                "cluster": {"namespace": k8s.namespace()},
                "workspaceKinds": {wsk.KIND: {"images": list(images)}},
            },
        )  # fmt: skip

    # t3 is offered first; the second apply changes that unused value to t4 (its backup keeps
    # t3) and adds a hidden value on t2
    first = kinds_workspace({"id": "kfws-b", "image": f"{repo}:t3"})
    assert kfws(first, WRITER, "apply", "--auto-approve").code == 0
    second = kinds_workspace(
        {"id": "kfws-a", "image": f"{repo}:t2", "hidden": True},
        {"id": "kfws-b", "image": f"{repo}:t4"},
    )
    applied = kfws(second, WRITER, "apply", "--auto-approve")
    assert applied.code == 0, applied.text
    values = wsk.values(wsk.get(admin))
    assert values["kfws-a"]["spawner"]["hidden"] is True
    assert values["kfws-b"]["spec"]["image"] == f"{repo}:t4"

    # prune's workspace builds into the repository and declares no kind: every kind is read
    ws = workspace(tmp_path / "ws", registry, prefix, [need_env("KFWS_TEST_BASE_IMAGE")],
                   insecure=True)  # fmt: skip
    dry = kfws(ws, READONLY, "prune", "--keep", "0", "--format", "json")
    assert dry.code == 0, dry.text
    got = {t["tag"]: (t["action"], t["reasons"]) for t in json.loads(dry.out)["tags"]}
    assert got == {
        "t5": ("delete", ["older than the newest 0; not offered, used by a notebook or named "
                          "by a backup"]),
        "t4": ("keep", ["offered now"]),
        "t3": ("keep", [f"named by a kfws backup of WorkspaceKind {wsk.KIND} (rollback needs it)"]),
        "t2": ("keep", ["offered now"]),  # by a hidden value
        "t1": ("delete", ["older than the newest 0; not offered, used by a notebook or named "
                          "by a backup"]),
    }  # fmt: skip
    done = kfws(ws, READONLY, "prune", "--keep", "0", "--yes")
    assert done.code == 0, done.text
    assert "Deleted 2 tags (2 manifests)" in done.out
    assert push.tags(name) == {"t2", "t3", "t4"}
