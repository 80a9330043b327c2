"""`kfws usage` and `kfws prune` rendered (pure): counts, reasons, and outside text neutralised."""

from __future__ import annotations

import json

from kfws.prune.decide import TagInfo, decide
from kfws.render.prune import render_prune
from kfws.render.usage import render_usage
from kfws.usage.model import Notebooks, NotebookUse
from kfws.usage.report import MISSING, build_report

REPO = "reg.example.com/team/nb"
D = "sha256:" + "1" * 64
KFWS = {"dev.kfws.image-name": "nb"}


def report():  # type: ignore[no-untyped-def]
    nbs = Notebooks(
        (
            NotebookUse("alice", "a", f"{REPO}:v1", False),
            NotebookUse("bob", "b\x1b[31m", f"{REPO}:v1", True),
            NotebookUse("bob", "gone", "reg.example.com/team/old:v0", False),
        )
    )
    return build_report(
        offered=[f"{REPO}:v1"],
        tags=[(REPO, "v1", D)],
        managed_repositories=[REPO],
        notebooks=nbs,
        lookups={"reg.example.com/team/old:v0": (MISSING, None)},
    )


def test_usage_text_lists_counts_and_the_gone_with_outside_text_neutralised() -> None:
    text = render_usage(report(), "text")
    assert "\x1b" not in text
    row = next(line for line in text.splitlines() if line.startswith(f"{REPO}:v1 "))
    assert "yes" in row and "2 notebooks (1 running, 1 stopped)" in row
    assert row.endswith("  tag 2") and "alice, bob" in row
    assert "\n2 images, 3 notebooks in 2 namespaces.\n" in text
    assert "bob/gone (running: a restart fails) names reg.example.com/team/old:v0" in text


def test_usage_markdown_and_json() -> None:
    md = render_usage(report(), "markdown")
    assert f"| `{REPO}:v1` | yes | 2 notebooks (1 running, 1 stopped) | alice, bob | tag 2 |" in md
    doc = json.loads(render_usage(report(), "json"))
    (row,) = [r for r in doc["images"] if r["image"] == f"{REPO}:v1"]
    assert (row["running"], row["stopped"], row["offered"], row["digest"]) == (1, 1, True, D)
    assert doc["missingFromRegistry"] == [
        {"notebook": "bob/gone", "image": "reg.example.com/team/old:v0", "stopped": False}
    ]


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
