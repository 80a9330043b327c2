"""`kfws usage` rendered (pure): counts, sections, and outside text neutralised."""

from __future__ import annotations

import json

from kfws.render.usage import render_usage
from kfws.usage.model import EntryUsage, Notebooks, NotebookUse
from kfws.usage.report import (
    MISSING,
    NOT_CHECKED,
    PRESENT,
    ImageUsage,
    UsageReport,
    Use,
    build_report,
)

REPO = "reg.example.com/team/nb"
D = "sha256:" + "1" * 64


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


A = ImageUsage(
    "r/a:1",
    "r/a",
    "1",
    "sha256:aa",
    offered=True,
    built=True,
    registry=PRESENT,
    uses=(
        Use("ns1", "n1", False, "tag"),
        Use("ns2", "n2", True, "digest"),
        Use("ns1", "n3", False, "runs"),
    ),
)
B = ImageUsage(
    "r/b:0",
    "r/b",
    "0",
    None,
    offered=False,
    built=False,
    registry=MISSING,
    uses=(Use("ns3", "n4", True, "tag"), Use("ns3", "n5", False, "tag")),
)
C = ImageUsage("r/c@sha256:cc", "r/c", None, "sha256:cc", True, False, NOT_CHECKED)
E = ImageUsage(
    "r/e:2", "r/e", "2", "sha256:ee", True, True, PRESENT, (Use("ns1", "n6", False, "runs"),)
)
FULL = UsageReport((A, B, C, E), unseen=("namespace x: forbidden",), notebooks=6)


def test_usage_text_in_full() -> None:
    assert render_usage(FULL, "text") == (
        "IMAGE          OFFERED  NOTEBOOKS                           NAMESPACES  BY\n"
        "r/a:1          yes      3 notebooks (2 running, 1 stopped)  ns1, ns2    "
        "tag 1, digest 1, runs digest 1\n"
        "r/b:0          no       2 notebooks (1 running, 1 stopped)  ns3         tag 2\n"
        "r/c@sha256:cc  yes      none                                -           -\n"
        "r/e:2          yes      1 notebook (1 running, 0 stopped)   ns1         runs digest 1\n"
        "\n"
        "4 images, 6 notebooks in 3 namespaces.\n"
        "\n"
        "In use, no longer offered (or never offered):\n"
        "  r/b:0: 2 notebooks (1 running, 1 stopped)\n"
        "\n"
        "Notebooks naming an image its registry no longer has:\n"
        "  ns3/n4 (stopped: it will not start again) names r/b:0\n"
        "  ns3/n5 (running: a restart fails) names r/b:0\n"
        "\n"
        "Not seen:\n"
        "  namespace x: forbidden\n"
    )


def test_usage_markdown_in_full() -> None:
    assert render_usage(FULL, "markdown") == (
        "### Image usage\n"
        "\n"
        "| image | offered | notebooks | namespaces | by |\n"
        "|---|---|---|---|---|\n"
        "| `r/a:1` | yes | 3 notebooks (2 running, 1 stopped) | ns1, ns2 | "
        "tag 1, digest 1, runs digest 1 |\n"
        "| `r/b:0` | no | 2 notebooks (1 running, 1 stopped) | ns3 | tag 2 |\n"
        "| `r/c@sha256:cc` | yes | none | - | - |\n"
        "| `r/e:2` | yes | 1 notebook (1 running, 0 stopped) | ns1 | runs digest 1 |\n"
        "\n"
        "4 images, 6 notebooks in 3 namespaces.\n"
        "\n"
        "**In use, no longer offered:**\n"
        "\n"
        "- `r/b:0`: 2 notebooks (1 running, 1 stopped)\n"
        "\n"
        "**Notebooks naming an image its registry no longer has:**\n"
        "\n"
        "- ns3/n4 (stopped: it will not start again) names r/b:0\n"
        "- ns3/n5 (running: a restart fails) names r/b:0\n"
        "\n"
        "**Not seen:**\n"
        "\n"
        "- namespace x: forbidden\n"
    )


def test_usage_json_in_full() -> None:
    text = render_usage(FULL, "json")
    assert text.endswith("}\n") and text.startswith(
        '{\n  "entries": [],\n  "images": ['
    )  # indented, one line each
    assert json.loads(text) == {
        "images": [
            {
                "image": "r/a:1",
                "repository": "r/a",
                "tag": "1",
                "digest": "sha256:aa",
                "offered": True,
                "built": True,
                "registry": "present",
                "running": 2,
                "stopped": 1,
                "namespaces": ["ns1", "ns2"],
                "notebooks": [
                    {"namespace": "ns1", "name": "n1", "stopped": False, "by": "tag"},
                    {"namespace": "ns2", "name": "n2", "stopped": True, "by": "digest"},
                    {"namespace": "ns1", "name": "n3", "stopped": False, "by": "runs"},
                ],
            },
            {
                "image": "r/b:0",
                "repository": "r/b",
                "tag": "0",
                "digest": None,
                "offered": False,
                "built": False,
                "registry": "missing",
                "running": 1,
                "stopped": 1,
                "namespaces": ["ns3"],
                "notebooks": [
                    {"namespace": "ns3", "name": "n4", "stopped": True, "by": "tag"},
                    {"namespace": "ns3", "name": "n5", "stopped": False, "by": "tag"},
                ],
            },
            {
                "image": "r/c@sha256:cc",
                "repository": "r/c",
                "tag": None,
                "digest": "sha256:cc",
                "offered": True,
                "built": False,
                "registry": "not checked",
                "running": 0,
                "stopped": 0,
                "namespaces": [],
                "notebooks": [],
            },
            {
                "image": "r/e:2",
                "repository": "r/e",
                "tag": "2",
                "digest": "sha256:ee",
                "offered": True,
                "built": True,
                "registry": "present",
                "running": 1,
                "stopped": 0,
                "namespaces": ["ns1"],
                "notebooks": [{"namespace": "ns1", "name": "n6", "stopped": False, "by": "runs"}],
            },
        ],
        "notOfferedInUse": ["r/b:0"],
        "missingFromRegistry": [
            {"notebook": "ns3/n4", "image": "r/b:0", "stopped": True},
            {"notebook": "ns3/n5", "image": "r/b:0", "stopped": False},
        ],
        "entries": [],
        "notebooksVisible": True,
        "unseen": ["namespace x: forbidden"],
    }


QUIET = UsageReport((C,), unseen=("notebooks: forbidden",), notebooks_visible=False)


def test_without_notebooks_the_summary_says_they_were_not_seen_and_empty_sections_left_out() -> (
    None
):
    assert render_usage(QUIET, "text") == (
        "IMAGE          OFFERED  NOTEBOOKS  NAMESPACES  BY\n"
        "r/c@sha256:cc  yes      none       -           -\n"
        "\n"
        "1 images; which notebooks use them: not seen (see below).\n"
        "\n"
        "Not seen:\n"
        "  notebooks: forbidden\n"
    )
    md = render_usage(QUIET, "markdown")
    assert md.endswith(
        "| `r/c@sha256:cc` | yes | none | - | - |\n"
        "\n"
        "1 images; which notebooks use them: not seen (see below).\n"
        "\n"
        "**Not seen:**\n"
        "\n"
        "- notebooks: forbidden\n"
    )
    assert json.loads(render_usage(QUIET, "json"))["notebooksVisible"] is False
    assert render_usage(UsageReport((C,)), "text").endswith(
        "\n1 images, 0 notebooks in 0 namespaces.\n"
    )


def test_usage_json_keys_are_sorted_for_stable_diffs() -> None:
    doc = json.loads(render_usage(FULL, "json"))
    assert list(doc) == [
        "entries",
        "images",
        "missingFromRegistry",
        "notOfferedInUse",
        "notebooksVisible",
        "unseen",
    ]
    assert list(doc["images"][0]) == sorted(doc["images"][0])
    assert list(doc["missingFromRegistry"][0]) == ["image", "notebook", "stopped"]


def test_a_pipe_in_an_image_name_cannot_split_the_markdown_table_row() -> None:
    odd = ImageUsage("r/p|q:1", "r/p|q", "1", None, True, False, PRESENT)
    md = render_usage(UsageReport((odd,)), "markdown")
    assert "\n| `r/p\\|q:1` | yes | none | - | - |\n" in md


def value(owner: str, vid: str, users: int, **flags: object) -> EntryUsage:
    return EntryUsage(
        "WorkspaceKind",
        owner,
        "value",
        vid,
        f"r/{vid}:1",
        users,
        "workspace",
        **flags,  # type: ignore[arg-type]
    )


COUNTED = UsageReport(
    (C,),
    entries=(
        value("lab", "old", 3, hidden=True, redirect="new"),
        value("lab", "new", 1, default=True),
        value("lab", "unused", 0),
        value("code\x1b[2J", "x|y", 2),
    ),
)


def test_counted_entries_get_a_table_headed_with_the_targets_nouns_and_a_total_per_object() -> None:
    text = render_usage(COUNTED, "text")
    assert "\x1b" not in text
    assert text.split("\n1 images, 0 notebooks in 0 namespaces.\n", 1)[1] == (
        "\n"
        "WORKSPACEKIND  VALUE   IMAGE       WORKSPACES  NOTES\n"
        "lab            old     r/old:1     3           hidden, redirects to new\n"
        "lab            new     r/new:1     1           default\n"
        "lab            unused  r/unused:1  0           -\n"
        "code           x|y     r/x|y:1     2           -\n"
        "\n"
        "WorkspaceKind lab: 4 workspaces on 3 values.\n"
        "WorkspaceKind code: 2 workspaces on 1 value.\n"
    )


def test_counted_entries_in_markdown_and_json() -> None:
    md = render_usage(COUNTED, "markdown")
    assert (
        "### WorkspaceKind values\n\n"
        "| WorkspaceKind | value | image | workspaces | notes |\n"
        "|---|---|---|---|---|\n"
        "| lab | `old` | `r/old:1` | 3 | hidden, redirects to new |\n"
    ) in md
    assert "| `x\\|y` | `r/x\\|y:1` | 2 | - |\n" in md  # a pipe cannot split the row
    assert "\nWorkspaceKind lab: 4 workspaces on 3 values.\n" in md
    assert "\x1b" not in md and "| code\\\\x1b\\[2J | `x" in md  # shown, not obeyed
    doc = json.loads(render_usage(COUNTED, "json"))
    assert doc["entries"][0] == {
        "kind": "WorkspaceKind",
        "name": "lab",
        "id": "old",
        "image": "r/old:1",
        "users": 3,
        "hidden": True,
        "redirect": "new",
        "default": False,
    }
    assert [e["default"] for e in doc["entries"]] == [False, True, False, False]
