"""The plan's check step as a reviewer reads it: text, Markdown and the saved JSON."""

from __future__ import annotations

import json

from kfws.plan.model import Change, ChangeKind, Plan
from kfws.plan.planfile import plan_to_json
from kfws.render.markdown import render_markdown
from kfws.render.text import render_text

CHECK = Change(
    ChangeKind.CHECK_IMAGE,
    "reg.example.com/team/lab:v1",
    "offered; this digest has not passed the Jupyter contract check here yet",
    None,
    "sha256:" + "a" * 64,
    {"name": "lab", "kinds": ["jupyter"], "digest": "sha256:" + "a" * 64},
)
PLAN = Plan("workspace.yaml", "sha256:" + "f" * 64, (), (CHECK,))


def test_text_lists_the_image_to_check_and_its_contract() -> None:
    text = render_text(PLAN)
    assert "  ? check           reg.example.com/team/lab:v1\n" in text
    assert "      contract jupyter\n" in text
    assert text.endswith("Plan: 1 to check.\n")


def test_markdown_and_json_carry_the_check() -> None:
    md = render_markdown(PLAN)
    assert "| check | `reg.example.com/team/lab:v1` |" in md and "contract `jupyter`" in md
    saved = json.loads(plan_to_json(PLAN))
    assert saved["summary"]["check"] == 1
    assert saved["changes"][0]["details"]["kinds"] == ["jupyter"]
