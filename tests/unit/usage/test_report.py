"""Who uses which image (kfws.usage.report): hand-built notebooks against offered images and the
tags of the managed repositories."""

from __future__ import annotations

from kfws.usage.model import Notebooks, NotebookUse
from kfws.usage.report import MISSING, NOT_CHECKED, PRESENT, Use, build_report, how_used

REPO = "reg.example.com/team/nb"
D1, D2, D3 = ("sha256:" + c * 64 for c in "123")


def nb(name: str, image: str, *, stopped: bool = False, runs: str | None = None) -> NotebookUse:
    ns = "alice" if name < "m" else "bob"
    return NotebookUse(ns, name, image, stopped, runs)


def test_how_a_notebook_uses_an_image() -> None:
    assert how_used(nb("a", f"{REPO}:v1"), REPO, "v1", D1) == "tag"
    assert how_used(nb("a", f"{REPO}@{D1}"), REPO, "v1", D1) == "digest"
    assert how_used(nb("a", f"{REPO}:v1@{D1}"), REPO, "v1", D1) == "tag"
    assert how_used(nb("a", f"{REPO}:v1@{D2}"), REPO, "v1", D1) is None  # pinned elsewhere
    # names another tag, but its pod runs this digest (the tag moved, or two tags share it)
    assert how_used(nb("a", f"{REPO}:latest", runs=D1), REPO, "v1", D1) == "runs"
    assert how_used(nb("a", f"{REPO}:latest", runs=D2), REPO, "v1", D1) is None
    assert how_used(nb("a", "reg.example.com/other:v1", runs=D1), REPO, "v1", D1) is None
    assert how_used(nb("a", "not a reference"), REPO, "v1", D1) is None
    assert how_used(nb("a", f"{REPO}:v1"), REPO, None, D1) is None  # a digest row


def test_the_report_counts_notebooks_per_image_and_finds_the_unoffered_and_the_gone() -> None:
    notebooks = Notebooks(
        (
            nb("a-run", f"{REPO}:v1", runs=D1),
            nb("b-stop", f"{REPO}:v1", stopped=True),
            nb("n-pin", f"{REPO}@{D1}", runs=D1),
            nb("o-old", f"{REPO}:v0", stopped=True),
            nb("p-gone", "reg.example.com/team/retired:v9", runs=D3),
            nb("q-ext", "ghcr.io/x/y:1"),
        )
    )
    report = build_report(
        offered=[f"{REPO}:v1", "ghcr.io/x/y:1", "ghcr.io/x/unused:1"],
        tags=[(REPO, "v0", D2), (REPO, "v1", D1)],
        managed_repositories=[REPO],
        notebooks=notebooks,
        lookups={
            "ghcr.io/x/y:1": (f"{NOT_CHECKED} (check: false)", None),
            "ghcr.io/x/unused:1": (PRESENT, D3),
            "reg.example.com/team/retired:v9": (MISSING, None),
        },
    )
    rows = {i.image: i for i in report.images}
    v1 = rows[f"{REPO}:v1"]
    assert (v1.offered, v1.built, v1.registry, v1.digest) == (True, True, PRESENT, D1)
    assert v1.uses == (
        Use("alice", "a-run", False, "tag"),
        Use("alice", "b-stop", True, "tag"),
        Use("bob", "n-pin", False, "digest"),
    )
    assert (v1.running, v1.stopped, v1.namespaces) == (2, 1, ("alice", "bob"))
    v0 = rows[f"{REPO}:v0"]
    assert (v0.offered, v0.uses) == (False, (Use("bob", "o-old", True, "tag"),))
    assert rows["ghcr.io/x/unused:1"].uses == ()
    assert rows["ghcr.io/x/y:1"].registry == f"{NOT_CHECKED} (check: false)"
    gone = rows["reg.example.com/team/retired:v9"]
    assert (gone.offered, gone.built, gone.registry) == (False, False, MISSING)
    # offered first, then by how many notebooks use them
    assert [i.image for i in report.images] == [
        f"{REPO}:v1",
        "ghcr.io/x/y:1",
        "ghcr.io/x/unused:1",
        f"{REPO}:v0",
        "reg.example.com/team/retired:v9",
    ]
    assert [i.image for i in report.not_offered_in_use] == [
        f"{REPO}:v0",
        "reg.example.com/team/retired:v9",
    ]
    assert [(u.key, i.image) for u, i in report.gone] == [
        ("bob/p-gone", "reg.example.com/team/retired:v9")
    ]
    assert report.of(f"{REPO}:v1") is v1 and report.of("reg.example.com/none:1") is None
    assert report.notebooks == 6


def test_an_unseen_cluster_is_reported_not_guessed() -> None:
    report = build_report(
        offered=[f"{REPO}:v1"],
        tags=[(REPO, "v1", D1)],
        managed_repositories=[REPO],
        notebooks=Notebooks(unseen=("notebooks: refused (403)",), notebooks_visible=False),
        lookups={},
    )
    assert report.unseen == ("notebooks: refused (403)",)
    assert not report.notebooks_visible and report.images[0].uses == ()
