"""`kfws prune` rendered (pure): what goes, why the rest stays, sizes, when the space returns."""

from __future__ import annotations

import json

from kfws.prune.decide import Decision, Deletion, PrunePlan, TagInfo, decide
from kfws.render.prune import render_prune

REPO = "reg.example.com/team/nb"
KFWS = {"dev.kfws.image-name": "nb"}


def test_prune_text_says_what_goes_why_the_rest_stays_and_when_the_space_returns() -> None:
    tags = [
        TagInfo(
            REPO,
            "new",
            "sha256:" + "2" * 64,
            KFWS,
            "2026-11-02T00:00:00Z",
            2_000_000,
            (("sha256:" + "a" * 64, 2_000_000),),
        ),
        TagInfo(
            REPO,
            "old",
            "sha256:" + "3" * 64,
            KFWS,
            "2026-11-01T00:00:00Z",
            1_500_000,
            (("sha256:" + "b" * 64, 1_500_000),),
        ),
    ]
    plan = decide(tags, keep=1, offered=(), notebooks=(), backups=())
    text = render_prune(plan, "text")
    assert f"{REPO}:\n" in text
    assert "  keep    new    2.00 MB  among the newest 1 kfws tags of" in text
    assert "  delete  old    1.50 MB  older than the newest 1;" in text
    assert (
        "Would delete 1 tag (1 manifest), up to 1.50 MB: the registry frees that space only "
        in text
    )
    assert "Nothing was deleted: run `kfws prune --yes` to delete them." in text
    done = render_prune(plan, "text", deleted=True)
    assert "  deleted old" in done and "Deleted 1 tag (1 manifest), up to 1.50 MB" in done
    doc = json.loads(render_prune(plan, "json"))
    assert doc["manifests"] == [
        {"repository": REPO, "digest": "sha256:" + "3" * 64, "tags": ["old"]}
    ]
    assert doc["freedBytes"] == 1_500_000 and doc["deleted"] is False
    nothing = render_prune(decide(tags, keep=5, offered=(), notebooks=(), backups=()), "text")
    assert "Nothing to prune (keeping the newest 5 kfws tags per repository)." in nothing


def tag(
    repo: str, name: str, digest: str, size: int | None, labels: dict[str, str] = KFWS
) -> TagInfo:
    return TagInfo(repo, name, digest, labels, "2026-11-01T00:00:00Z", size)


NEWEST = tag("r/x", "new", "sha256:1", 2_000_000)
OLDER = tag("r/x", "older-tag", "sha256:2", 1_500_000)
TWIN = tag("r/x", "twin", "sha256:2", None)
OLDEST = tag("r/x", "v0", "sha256:4", 999)
OTHER = tag("r/y", "v1", "sha256:3", 512, {})
PLAN = PrunePlan(
    decisions=(
        Decision(NEWEST, "keep", ("among the newest 1",)),
        Decision(OLDER, "delete", ("older than the newest 1", "no notebook uses it")),
        Decision(TWIN, "delete", ("same manifest",)),
        Decision(OLDEST, "delete", ("older than the newest 1",)),
        Decision(OTHER, "leave", ("not built by kfws",)),
    ),
    deletions=(
        Deletion("r/x", "sha256:2", ("older-tag", "twin")),
        Deletion("r/x", "sha256:4", ("v0",)),
    ),
    freed=1_500_999,
    keep=1,
)
# when the space really comes back, in the user's words (not the module's constant)
GC_NOTE = (
    "the registry frees that space only when its garbage collection runs (distribution: "
    "`registry garbage-collect CONFIG`; hosted registries run it on their own schedule)"
)
ROWS = (
    "r/x:\n"
    "  {keep}    new          2.00 MB  among the newest 1\n"
    "  {delete}  older-tag    1.50 MB  older than the newest 1; no notebook uses it\n"
    "  {delete}  twin          size ?  same manifest\n"
    "  {delete}  v0             999 B  older than the newest 1\n"
    "\n"
    "r/y:\n"
    "  leave   v1             512 B  not built by kfws\n"
    "\n"
)


def test_prune_text_in_full_before_and_after_deleting() -> None:
    assert render_prune(PLAN, "text") == ROWS.format(keep="keep", delete="delete") + (
        f"Would delete 3 tags (2 manifests), up to 1.50 MB: {GC_NOTE}. Nothing was deleted: "
        "run `kfws prune --yes` to delete them.\n"
    )
    assert render_prune(PLAN, "text", deleted=True) == ROWS.format(
        keep="keep", delete="deleted"
    ).replace("deleted  ", "deleted ") + (
        f"Deleted 3 tags (2 manifests), up to 1.50 MB: {GC_NOTE}.\n"
    )


def test_prune_json_in_full() -> None:
    text = render_prune(PLAN, "json", deleted=True)
    assert text.startswith('{\n  "deleted": true,\n') and text.endswith("}\n")  # sorted, indented
    tags = [
        {
            "repository": t.repository,
            "tag": t.tag,
            "digest": t.digest,
            "action": d.action,
            "reasons": list(d.reasons),
            "size": t.size,
            "created": "2026-11-01T00:00:00Z",
            "builtAt": None,  # built before kfws's dev.kfws.built-at label
        }
        for d in PLAN.decisions
        for t in (d.tag,)
    ]
    assert json.loads(text) == {
        "keep": 1,
        "deleted": True,
        "tags": tags,
        "manifests": [
            {"repository": "r/x", "digest": "sha256:2", "tags": ["older-tag", "twin"]},
            {"repository": "r/x", "digest": "sha256:4", "tags": ["v0"]},
        ],
        "freedBytes": 1_500_999,
    }
    assert json.loads(render_prune(PLAN, "json"))["deleted"] is False


def test_an_empty_registry_has_nothing_to_prune() -> None:
    empty = PrunePlan(decisions=(), deletions=(), freed=0, keep=3)
    assert render_prune(empty, "text") == (
        "\nNothing to prune (keeping the newest 3 kfws tags per repository).\n"
    )
    assert json.loads(render_prune(empty, "json")) == {
        "keep": 3,
        "deleted": False,
        "tags": [],
        "manifests": [],
        "freedBytes": 0,
    }


def test_outside_text_in_a_prune_listing_cannot_drive_the_terminal() -> None:
    evil = tag("r/\x1b[2Jx", "t\x1b]0;owned\x07", "sha256:5", 1)
    plan = PrunePlan((Decision(evil, "delete", ("why\u202e",)),), (), 1, keep=1)
    text = render_prune(plan, "text")
    assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text
    doc = render_prune(plan, "json")
    assert "\u202e" not in doc and json.loads(doc)["tags"][0]["reasons"] == ["why\u202e"]


def test_prune_json_says_when_kfws_built_each_tag_normalised_from_its_label() -> None:
    def one(built_at: str) -> TagInfo:
        return tag(
            REPO, built_at[:4], "sha256:" + "5" * 64, 1, {**KFWS, "dev.kfws.built-at": built_at}
        )

    tags = [one("2026-12-07T02:40:01.5+02:00"), one("junk" * 1000)]  # a registry's label
    plan = decide(tags, keep=5, offered=(), notebooks=(), backups=())
    doc = json.loads(render_prune(plan, "json"))
    assert {t["tag"]: t["builtAt"] for t in doc["tags"]} == {
        "2026": "2026-12-07T00:40:01.500000Z",
        "junk": None,
    }
