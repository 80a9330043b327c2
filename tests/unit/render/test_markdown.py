from __future__ import annotations

import re

from kfws.plan.model import Change, ChangeKind, Plan
from kfws.render.markdown import MAX_DIFF_LINES, render_markdown


def plan_with(*changes: Change) -> Plan:
    return Plan("workspace.yaml", "sha256:" + "a" * 64, (), changes, ("option x|y missing",))


def spawner(n_lines: int) -> Change:
    before = "".join(f"line {i}\n" for i in range(n_lines))
    after = "".join(f"LINE {i}\n" for i in range(n_lines))
    return Change(
        ChangeKind.UPDATE_SPAWNER, "configmap/kf/cm", "options changed", before, after, {}
    )


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
        ChangeKind.UPDATE_SPAWNER,
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
