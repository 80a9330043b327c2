from __future__ import annotations

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
    assert "| update-spawner | `configmap/kf/cm` | options changed |" in md
    assert "<details><summary>update-spawner <code>configmap/kf/cm</code></summary>" in md
    assert "```diff\n--- a/spawner_ui_config.yaml" in md
    assert "option x\\|y missing" in md  # pipes escaped so the table/list stays intact


def test_long_diffs_are_capped_with_a_note() -> None:
    md = render_markdown(plan_with(spawner(500)))
    fenced = md[md.index("```diff") : md.index("```", md.index("```diff") + 3)]
    assert len(fenced.splitlines()) == MAX_DIFF_LINES + 1
    assert "more diff lines not shown" in md


def test_stale_plans_carry_a_warning_first() -> None:
    md = render_markdown(plan_with(), stale=["inputs:nb: planned a, now b"])
    assert md.index("stale") < md.index("No changes")
