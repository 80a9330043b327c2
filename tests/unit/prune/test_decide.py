"""The pure keep/delete decision of kfws prune, as tables of hand-built tags."""

from __future__ import annotations

import pytest

from kfws.prune.decide import Deletion, TagInfo, decide
from kfws.usage.model import NotebookUse
from kfws.usage.refs import Ref

REPO = "reg.example.com/team/nb"
KFWS = {"dev.kfws.input-digest": "sha256:" + "f" * 64, "dev.kfws.image-name": "nb"}


def digest(n: int) -> str:
    return f"sha256:{n:064x}"


def tag(
    name: str,
    day: int,
    *,
    d: int | None = None,
    kfws: bool = True,
    repo: str = REPO,
    blobs: tuple[tuple[str, int], ...] = (),
) -> TagInfo:
    return TagInfo(
        repo,
        name,
        digest(d if d is not None else day),
        KFWS if kfws else {},
        f"2026-11-{day:02d}T00:00:00Z",
        100 * day,
        blobs,
    )


def actions(tags: list[TagInfo], keep: int = 1, **protections: object) -> dict[str, str]:
    plan = decide(
        tags,
        keep=keep,
        offered=protections.get("offered", ()),  # type: ignore[arg-type]
        notebooks=protections.get("notebooks", ()),  # type: ignore[arg-type]
        backups=protections.get("backups", ()),  # type: ignore[arg-type]
    )
    return {d.tag.tag: d.action for d in plan.decisions}


OLD = [tag("a", 1), tag("b", 2), tag("c", 3), tag("d", 4)]


@pytest.mark.parametrize(
    ("protections", "kept"),
    [
        ({}, {"d"}),  # only the newest
        ({"offered": [Ref(REPO, "a", None)]}, {"a", "d"}),
        ({"offered": [Ref(REPO, None, digest(2))]}, {"b", "d"}),  # offered by digest
        ({"offered": [Ref("reg.example.com/team/other", "a", None)]}, {"d"}),  # other repo
        ({"backups": [(Ref(REPO, "c", None), "the spawner config")]}, {"c", "d"}),
        ({"backups": [(Ref(REPO, None, digest(1)), "WorkspaceKind lab")]}, {"a", "d"}),
        ({"notebooks": [NotebookUse("ns", "x", f"{REPO}:b", False)]}, {"b", "d"}),
        ({"notebooks": [NotebookUse("ns", "x", f"{REPO}:b", True)]}, {"b", "d"}),  # stopped
        ({"notebooks": [NotebookUse("ns", "x", f"{REPO}@{digest(3)}", False)]}, {"c", "d"}),
        # a notebook naming a tag that moved, whose pod still runs a's digest
        (
            {"notebooks": [NotebookUse("ns", "x", f"{REPO}:latest", False, digest(1))]},
            {"a", "d"},
        ),
        ({"notebooks": [NotebookUse("ns", "x", "reg.example.com/team/other:a", False)]}, {"d"}),
    ],
)
def test_each_protection_keeps_the_tag_it_names(
    protections: dict[str, object], kept: set[str]
) -> None:
    got = actions(OLD, **protections)
    assert {t for t, a in got.items() if a == "keep"} == kept
    assert {t for t, a in got.items() if a == "delete"} == {"a", "b", "c", "d"} - kept


@pytest.mark.parametrize(
    ("keep", "kept"), [(0, set()), (1, {"d"}), (3, {"b", "c", "d"}), (9, {"a", "b", "c", "d"})]
)
def test_the_newest_n_by_creation_time_stay(keep: int, kept: set[str]) -> None:
    shuffled = [OLD[2], OLD[0], OLD[3], OLD[1]]
    got = actions(shuffled, keep=keep)
    assert {t for t, a in got.items() if a == "keep"} == kept


def built(name: str, created: str | None, built_at: str | None) -> TagInfo:
    labels = {**KFWS, "dev.kfws.built-at": built_at} if built_at else KFWS
    return TagInfo(REPO, name, digest(len(name) * 7 + ord(name[-1])), labels, created, 100)


def test_the_newest_n_are_by_when_kfws_built_them_not_by_a_repeated_created() -> None:
    # BuildKit wrote one `created` on three releases that differ by an ENV line
    # (kfws.images.built_at): kfws's dev.kfws.built-at label orders them; an image built before
    # the label falls back to its `created`; equal times go by tag; no time at all is oldest
    same = "2026-12-07T00:35:46.188199234Z"
    tags = [
        built("kfws1-a", same, "2026-12-07T00:40:03.000001Z"),  # the newest release
        built("kfws1-z", same, "2026-12-07T00:40:01Z"),  # the oldest labelled one
        built("kfws1-m", same, "2026-12-07T00:40:02.5Z"),
        built("kfws1-y", "2026-12-01T00:00:00Z", None),  # before the label existed
        built("kfws1-x", "2026-12-01T00:00:00+00:00", None),  # ties with y: by tag
        built("kfws1-n", None, None),
    ]
    plan = decide(tags, keep=1, offered=(), notebooks=(), backups=())
    assert [d.tag.tag for d in plan.decisions] == [
        "kfws1-a",
        "kfws1-m",
        "kfws1-z",
        "kfws1-y",
        "kfws1-x",
        "kfws1-n",
    ]
    assert [d.action for d in plan.decisions] == ["keep"] + ["delete"] * 5
    assert plan.decisions[0].reasons == (f"among the newest 1 kfws tags of {REPO}",)


def test_tags_kfws_did_not_build_are_left_alone_and_not_counted_among_the_newest() -> None:
    tags = [*OLD, tag("manual", 9, kfws=False)]
    plan = decide(tags, keep=1, offered=(), notebooks=(), backups=())
    got = {d.tag.tag: (d.action, d.reasons) for d in plan.decisions}
    assert got["manual"] == ("leave", ("not built by kfws (no kfws labels): never pruned",))
    assert got["d"][0] == "keep"  # the newest kfws tag, though manual is newer


def test_a_tag_sharing_its_manifest_with_a_kept_tag_stays_and_a_manifest_is_deleted_once() -> None:
    tags = [
        tag("a", 1, d=50),
        tag("a2", 1, d=50),  # same manifest as a: one DELETE removes both
        tag("b", 2, d=60),
        tag("b-alias", 1, d=60),  # b is offered: its alias must stay
        tag("manual", 1, d=70, kfws=False),
        tag("c", 1, d=70),  # shares the manifest of a tag kfws never prunes
        tag("z", 9),
    ]
    plan = decide(tags, keep=1, offered=[Ref(REPO, "b", None)], notebooks=(), backups=())
    got = {d.tag.tag: d for d in plan.decisions}
    assert {t for t, d in got.items() if d.action == "delete"} == {"a", "a2"}
    assert got["b-alias"].reasons == (
        f"shares its manifest {digest(60)[:19]}… with the kept tag b (deleting it would delete "
        "both)",
    )
    assert got["c"].action == "keep" and "manual" in got["c"].reasons[0]
    assert plan.deletions == (Deletion(REPO, digest(50), ("a", "a2")),)


def test_every_reason_is_told_and_the_freed_space_counts_only_unshared_blobs() -> None:
    shared, own_a, own_b = "sha256:" + "1" * 64, "sha256:" + "2" * 64, "sha256:" + "3" * 64
    tags = [
        tag("a", 1, blobs=((shared, 1000), (own_a, 10))),
        tag("b", 2, blobs=((shared, 1000), (own_b, 20))),
        tag("c", 3, blobs=((shared, 1000),)),
    ]
    nb = NotebookUse("alice", "x", f"{REPO}:b", False)
    plan = decide(
        tags,
        keep=1,
        offered=[Ref(REPO, "b", None)],
        notebooks=[nb],
        backups=[(Ref(REPO, "b", None), "the spawner config")],
    )
    got = {d.tag.tag: d for d in plan.decisions}
    assert got["b"].reasons == (
        "offered now",
        "used by notebook alice/x (running, by tag)",
        "named by a kfws backup of the spawner config (rollback needs it)",
    )
    assert got["c"].reasons == (f"among the newest 1 kfws tags of {REPO}",)
    assert got["a"].reasons == (
        "older than the newest 1; not offered, used by a notebook or named by a backup",
    )
    assert plan.freed == 10  # a's own layer; the shared one stays for b and c
    assert [d.tag.tag for d in plan.decisions] == ["c", "b", "a"]  # newest first


@pytest.mark.parametrize(
    ("backups", "reasons"),
    [
        (
            [(Ref(REPO, "b", None), "WorkspaceKind jupyterlab")],
            ["named by a kfws backup of WorkspaceKind jupyterlab (rollback needs it)"],
        ),
        # named by backups of two objects: each is told, once, in the order they came
        (
            [
                (Ref(REPO, "b", None), "WorkspaceKind lab"),
                (Ref(REPO, None, digest(2)), "the spawner config"),
                (Ref(REPO, "b", None), "WorkspaceKind lab"),
                (Ref(REPO, "c", None), "WorkspaceKind other"),  # another tag's backup
            ],
            [
                "named by a kfws backup of WorkspaceKind lab (rollback needs it)",
                "named by a kfws backup of the spawner config (rollback needs it)",
            ],
        ),
    ],
)
def test_a_backup_keep_reason_names_what_the_backup_is_of(
    backups: list[tuple[Ref, str]], reasons: list[str]
) -> None:
    plan = decide(OLD, keep=0, offered=(), notebooks=(), backups=backups)
    got = {d.tag.tag: d for d in plan.decisions}
    assert list(got["b"].reasons) == reasons


def test_repositories_are_decided_apart() -> None:
    other = "reg.example.com/team/other"
    tags = [*OLD, tag("x", 1, repo=other), tag("y", 2, repo=other)]
    got = actions(tags, keep=1)
    assert got == {
        "d": "keep",
        "c": "delete",
        "b": "delete",
        "a": "delete",
        "y": "keep",
        "x": "delete",
    }
