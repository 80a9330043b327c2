"""Pure renderers: Plan -> str in each output format."""

from __future__ import annotations

from kfws.plan.model import Plan


def render(plan: Plan, fmt: str, *, colour: bool = False, stale: list[str] | None = None) -> str:
    if fmt == "json":
        from kfws.plan.planfile import plan_to_json

        return plan_to_json(plan)
    if fmt == "markdown":
        from kfws.render.markdown import render_markdown

        return render_markdown(plan, stale=stale)
    from kfws.render.text import render_text

    return render_text(plan, colour=colour, stale=stale)
