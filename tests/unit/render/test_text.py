from __future__ import annotations

from kfws.plan.model import Change, ChangeKind, Plan
from kfws.render.text import render_text, summary_line

EMPTY = Plan("workspace.yaml", "sha256:" + "a" * 64, (), ())


def plan_with(*changes: Change, warnings: tuple[str, ...] = ()) -> Plan:
    return Plan("workspace.yaml", "sha256:" + "a" * 64, (), changes, warnings)


BUILD = Change(
    ChangeKind.BUILD_IMAGE,
    "r/a:t",
    "the tag is not in the registry",
    None,
    "sha256:1",
    {"input_digest": "sha256:1"},
)
PUSH = Change(ChangeKind.PUSH_IMAGE, "r/b:t", "engine has it", None, "sha256:2", {})
SPAWNER = Change(
    ChangeKind.UPDATE_SPAWNER,
    "configmap/kubeflow/cm",
    "image options changed",
    "image:\n  options:\n  - a\n# keep\n",
    "image:\n  options:\n  - a\n  - b\n# keep\n",
    {"key": "spawner_ui_config.yaml"},
)


def test_no_changes_says_so() -> None:
    assert summary_line(EMPTY) == "No changes. The registry and the cluster match the workspace."


def test_summary_counts_only_kinds_present() -> None:
    assert summary_line(plan_with(BUILD, BUILD, PUSH, SPAWNER)) == (
        "Plan: 2 to build, 1 to push, 1 to change."
    )


def test_changes_show_target_reason_and_spawner_diff() -> None:
    text = render_text(plan_with(BUILD, SPAWNER, warnings=("careful",)))
    assert "warning: careful" in text
    assert "build           r/a:t" in text
    assert "the tag is not in the registry" in text
    assert "+++ b/spawner_ui_config.yaml" in text
    assert "      +  - b" in text
    assert "\x1b[" not in text  # no colour unless asked


def test_colour_only_when_asked() -> None:
    assert "\x1b[" in render_text(plan_with(BUILD), colour=True)


def test_stale_warning_comes_first() -> None:
    text = render_text(plan_with(BUILD), stale=["registry:r/a:t: planned absent, now sha256:9"])
    assert text.startswith("WARNING: this saved plan does not match a fresh plan")
    assert "planned absent, now sha256:9" in text.splitlines()[1]


def test_outside_text_cannot_drive_the_terminal() -> None:
    """A hostile ConfigMap line, reason or target: shown, but as visible escapes."""
    evil = Change(
        ChangeKind.UPDATE_SPAWNER,
        "configmap/kubeflow/cm\x1b]0;owned\x07",
        "add x\x1b[2J\u202eevil",
        "a: 1\n",
        "a: 1\nb: \x1b[8mhidden\x1b[0m\r\n",
        {},
    )
    text = render_text(plan_with(evil), colour=False, stale=["moved\x1b[1A"])
    assert "\x1b" not in text and "\r" not in text and "\u202e" not in text
    assert "+b: hidden\\x0d" in text
    assert "add x\\u202eevil" in text
