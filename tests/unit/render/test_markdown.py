from __future__ import annotations

import re

from kfws.plan.model import Change, ChangeKind, Plan
from kfws.render.markdown import MAX_DIFF_LINES, render_markdown
from kfws.targets.spawner.kinds import RESTART, UPDATE
from kfws.targets.workspacekind.kinds import UPDATE as KIND_UPDATE
from tests.unit.render.test_text import EVERY_KIND


def plan_with(*changes: Change) -> Plan:
    return Plan("workspace.yaml", "sha256:" + "a" * 64, (), changes, ("option x|y missing",))


def spawner(n_lines: int) -> Change:
    before = "".join(f"line {i}\n" for i in range(n_lines))
    after = "".join(f"LINE {i}\n" for i in range(n_lines))
    return Change(UPDATE, "configmap/kf/cm", "options changed", before, after, {})


def test_summary_table_and_collapsible_diff() -> None:
    md = render_markdown(plan_with(spawner(3)))
    assert "**Plan: 1 to change.**" in md
    assert "| update-spawner | `configmap/kf/cm` |  | options changed |" in md
    assert "<details><summary>update-spawner <code>configmap/kf/cm</code></summary>" in md
    assert "```diff\n--- a/spawner_ui_config.yaml" in md
    assert "option x\\|y missing" in md  # pipes escaped so the table/list stays intact


def test_long_diffs_are_capped_with_a_note() -> None:
    md = render_markdown(plan_with(spawner(500)))
    fenced = md[md.index("```diff") : md.index("```", md.index("```diff") + 3)]
    assert len(fenced.splitlines()) == MAX_DIFF_LINES + 1
    assert "more diff lines not shown" in md


def test_stale_plans_carry_a_warning_first() -> None:
    md = render_markdown(plan_with(), stale=["the saved plan is stale", "inputs:nb: a, now b"])
    assert md.index("does not match a fresh plan") < md.index("stale") < md.index("No changes")


def test_outside_text_cannot_break_out_of_its_place() -> None:
    """A ConfigMap line, a reason or a target from a hostile plan file or cluster."""
    evil = Change(
        UPDATE,
        "configmap/kf/cm`</code></summary><script>x</script>",
        "add <img src=x onerror=alert(1)> [x](http://evil) | cell",
        "a: 1\n",
        "a: 2\n```\n</details><script>y</script>\n",
        {},
    )
    md = render_markdown(plan_with(evil))
    fence = next(line for line in md.splitlines() if line.startswith("```") and "diff" in line)
    closing = "\n" + fence.removesuffix("diff") + "\n"
    before, rest = md.split(fence + "\n", 1)
    inside, after = rest.split(closing, 1)
    assert "+```" in inside and "</details><script>" in inside  # verbatim, inside the fence
    outside_code = re.sub(r"(`+)(?!`).+?(?<!`)\1(?!`)", "", before + after)
    assert "<script" not in outside_code and "<img" not in outside_code
    assert "[x](" not in md  # the link is escaped: \\[x\\](
    table_row = next(line for line in md.splitlines() if line.startswith("| update-spawner"))
    assert table_row.count(" | ") == 3  # still four cells


def test_every_kind_in_full() -> None:
    md = render_markdown(EVERY_KIND, stale=["the saved plan is stale"])
    assert md == "\n".join(
        [
            "### kfws plan",
            "",
            "> [!WARNING]",
            "> This saved plan **does not match a fresh plan**: applying it will be refused.",
            "> - the saved plan is stale",
            "",
            "**Plan: 1 to build, 1 to rebuild, 1 to push, 1 to check, 1 to change, 1 to restart.**",
            "",
            "- :warning: careful",
            "",
            "| action | target | size | reason |",
            "|---|---|---|---|",
            "| build | `r/a:t` | 2.00 MB | the tag is not in the registry |",
            "| rebuild | `r/b:t` |  | inputs changed |",
            "| push | `r/c:t` |  | engine has it |",
            "| check | `r/a:t` |  | contract |",
            "| update-spawner | `configmap/kf/cm` |  | image: 1 replaced, 1 added, 1 removed,"
            " reordered, default changed; hideTag: false -> true |",
            "| restart-webapp | `deployment/kf/jwa` |  | reload |",
            "",
            "| offered image | size |",
            "|---|---|",
            "| `r/a:t` | 1.00 kB |",
            "",
            "<details><summary>build <code>r/a:t</code></summary>",
            "",
            "inputs `sha256:1`",
            "",
            "Why:",
            "- the Dockerfile changed",
            "",
            "</details>",
            "",
            "<details><summary>rebuild <code>r/b:t</code></summary>",
            "",
            "inputs `2`",
            "",
            "</details>",
            "",
            "<details><summary>push <code>r/c:t</code></summary>",
            "",
            "inputs `  `",
            "",
            "</details>",
            "",
            "<details><summary>check <code>r/a:t</code></summary>",
            "",
            "contract `lab, ssh`",
            "",
            "</details>",
            "",
            "**Spawner** `configmap/kf/cm`:",
            "",
            "- **image**",
            "  - replace `o:1` -> `o:2`",
            "  - add `n:1`",
            "  - remove `x:1` (gone)",
            "  - reorder the options",
            "  - default `o:1` -> `o:2`",
            "- **hideTag**: `false` -> `true` (written as true)",
            "",
            "<details><summary>update-spawner <code>configmap/kf/cm</code></summary>",
            "",
            "```diff",
            "--- a/spawner_ui_config.yaml",
            "+++ b/spawner_ui_config.yaml",
            "@@ -1 +1 @@",
            "-a: 1",
            "+a: 2",
            "```",
            "",
            "</details>",
            "",
            "<details><summary>restart-webapp <code>deployment/kf/jwa</code></summary>",
            "",
            "```",
            "mode rollout",
            "```",
            "",
            "</details>",
            "",
            "<sub>workspace `workspace.yaml` sha256:aaaaaaaaaaaa…</sub>",
            "",
        ]
    )


def test_without_warnings_changes_or_offered_sizes_no_empty_sections() -> None:
    plan = Plan("ws.yaml", "sha256:" + "b" * 64, (), ())
    assert render_markdown(plan) == (
        "### kfws plan\n"
        "\n"
        "**No changes. The registry and the cluster match the workspace.**\n"
        "\n"
        "<sub>workspace `ws.yaml` sha256:bbbbbbbbbbbb…</sub>\n"
    )


def test_the_diff_cap_is_200_lines_and_the_note_counts_the_rest() -> None:
    # n lines replaced: a diff of 3 header lines + n removed + n added
    md = render_markdown(plan_with(spawner(500)))
    assert MAX_DIFF_LINES == 200
    assert (
        "\n-line 196\n```\n_803 more diff lines not shown; run `kfws show` on the saved plan"
        " for all of them._\n\n</details>\n" in md
    )
    assert "\n_1 more diff lines not shown;" in render_markdown(plan_with(spawner(99)))
    assert "more diff lines" not in render_markdown(plan_with(spawner(98)))  # 199 lines


def test_a_restart_in_another_mode_and_a_check_without_kinds() -> None:
    md = render_markdown(
        plan_with(
            Change(RESTART, "d", "r", None, None, {"mode": "none"}),
            Change(ChangeKind.CHECK_IMAGE, "i", "c", None, None, {}),
        )
    )
    assert "\n```\nmode none\n```\n" in md and "\ncontract `  `\n" in md


def test_a_pipe_in_a_target_or_an_offered_image_keeps_the_tables_intact() -> None:
    change = Change(
        UPDATE,
        "configmap/kf/c|m",
        "r",
        "a\n",
        "b\n",
        {"sizes": [{"image": "r/a|b:1", "bytes": 5, "source": "registry"}]},
    )
    md = render_markdown(plan_with(change))
    assert "| update-spawner | `configmap/kf/c\\|m` |  | r |" in md
    assert "| `r/a\\|b:1` | 5 B |" in md


def test_a_views_lines_are_a_fenced_block_one_per_line_not_one_paragraph() -> None:
    # as plain Markdown these lines joined into one paragraph, `+ new` and `- old` became list
    # items and the indented field a code block; in a fence each reads as the terminal shows it
    details = {
        "workspaceKind": "lab",
        "values": [
            {"id": "new", "action": "add", "reason": "declared",
             "fields": [["image", None, "r/n:1"]]},
            {"id": "tf", "action": "change", "usage": 2, "reason": "edited",
             "fields": [["displayName", "TF", "TensorFlow"]]},
            {"id": "old", "action": "remove", "reason": "no longer declared", "fields": []},
        ],
        "defaultBefore": "tf",
        "defaultAfter": "new",
    }  # fmt: skip
    change = Change(KIND_UPDATE, "workspacekind/lab", "lab: 1 to add", None, None, details)
    md = render_markdown(plan_with(change))
    assert md.split("\n\n<sub>")[0].endswith(
        "<details><summary>update-workspacekind <code>workspacekind/lab</code></summary>\n"
        "\n"
        "```\n"
        "+ new: add [unused] - declared\n"
        "    image: r/n:1\n"
        "~ tf: change [in use by 2] - edited\n"
        "    displayName: TF -> TensorFlow\n"
        "- old: remove [unused] - no longer declared\n"
        "default: tf -> new\n"
        "```\n"
        "\n"
        "</details>"
    )


def test_a_line_with_backticks_or_controls_cannot_close_the_fence_of_the_lines() -> None:
    details = {
        "values": [
            {"id": "x```\n</details>\x1b[2J", "action": "add", "reason": "*r* <b>", "fields": []}
        ]
    }
    md = render_markdown(
        plan_with(Change(KIND_UPDATE, "workspacekind/k", "r", None, None, details))
    )
    body = md.split("<code>workspacekind/k</code></summary>\n\n")[1].split("\n\n</details>")[0]
    assert body == ("````\n+ x```\\x0a</details>\\x1b[2J: add [unused] - *r* <b>\n````")
