from __future__ import annotations

from kfws.plan.model import Change, ChangeKind, Plan
from kfws.render.text import render_text, summary_line
from kfws.targets.spawner.kinds import RESTART, UPDATE

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
    UPDATE,
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
        UPDATE,
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


DIFF = {
    "groups": {
        "image": {
            "replaced": [{"before": "o:1", "after": "o:2"}],
            "added": ["n:1"],
            "removed": ["x:1"],
            "why": {"x:1": "gone"},
            "reordered": True,
            "default": {"before": "o:1", "after": "o:2"},
        }
    },
    "flags": {"hideTag": {"before": False, "after": True, "writtenAs": "true"}},
}
EVERY_KIND = plan_with(
    Change(
        ChangeKind.BUILD_IMAGE,
        "r/a:t",
        "the tag is not in the registry",
        None,
        None,
        {
            "input_digest": "sha256:1",
            "size": {"bytes": 2_000_000, "source": "registry"},
            "why": ["the Dockerfile changed"],
        },
    ),
    Change(ChangeKind.REBUILD_IMAGE, "r/b:t", "inputs changed", None, None, {"input_digest": "2"}),
    Change(ChangeKind.PUSH_IMAGE, "r/c:t", "engine has it", None, None, {}),
    Change(ChangeKind.CHECK_IMAGE, "r/a:t", "contract", None, None, {"kinds": ["lab", "ssh"]}),
    Change(
        UPDATE,
        "configmap/kf/cm",
        "image options changed",
        "a: 1\n",
        "a: 2\n",
        {"diff": DIFF, "sizes": [{"image": "r/a:t", "bytes": 1000, "source": "registry"}]},
    ),
    Change(RESTART, "deployment/kf/jwa", "reload", None, None, {}),
    warnings=("careful",),
)


def test_every_kind_in_full() -> None:
    assert render_text(EVERY_KIND) == (
        "warning: careful\n"
        "\n"
        "  + build           r/a:t\n"
        "      the tag is not in the registry\n"
        "      inputs sha256:1\n"
        "      size   2.00 MB\n"
        "      why    the Dockerfile changed\n"
        "  ~ rebuild         r/b:t\n"
        "      inputs changed\n"
        "      inputs 2\n"
        "  ^ push            r/c:t\n"
        "      engine has it\n"
        "      inputs \n"
        "  ? check           r/a:t\n"
        "      contract\n"
        "      contract lab, ssh\n"
        "  ~ update-spawner  configmap/kf/cm\n"
        "      image: 1 replaced, 1 added, 1 removed, reordered, default changed;"
        " hideTag: false -> true\n"
        "      image:\n"
        "        replace o:1 -> o:2\n"
        "        add n:1\n"
        "        remove x:1 (gone)\n"
        "        reorder the options\n"
        "        default o:1 -> o:2\n"
        "      hideTag: false -> true (written as true)\n"
        "      size of r/a:t: 1.00 kB\n"
        "      --- a/spawner_ui_config.yaml\n"
        "      +++ b/spawner_ui_config.yaml\n"
        "      @@ -1 +1 @@\n"
        "      -a: 1\n"
        "      +a: 2\n"
        "  ↻ restart-webapp  deployment/kf/jwa\n"
        "      reload\n"
        "      mode rollout\n"
        "\n"
        "Plan: 1 to build, 1 to rebuild, 1 to push, 1 to check, 1 to change, 1 to restart.\n"
    )


def test_every_kind_in_colour() -> None:
    lines = render_text(EVERY_KIND, colour=True, stale=["s"]).splitlines()
    assert lines[:3] == [
        "\x1b[31mWARNING: this saved plan does not match a fresh plan; applying it will be "
        "refused:\x1b[0m",
        "  s",
        "",
    ]
    assert lines[3] == "\x1b[33mwarning: \x1b[0mcareful"
    heads = [line for line in lines if line.startswith("  \x1b[")]
    assert heads == [
        "  \x1b[32m+\x1b[0m build           r/a:t",
        "  \x1b[33m~\x1b[0m rebuild         r/b:t",
        "  \x1b[36m^\x1b[0m push            r/c:t",
        "  \x1b[36m?\x1b[0m check           r/a:t",
        "  \x1b[33m~\x1b[0m update-spawner  configmap/kf/cm",
        "  \x1b[36m↻\x1b[0m restart-webapp  deployment/kf/jwa",
    ]
    assert "      \x1b[2mthe tag is not in the registry\x1b[0m" in lines
    at = lines.index("      \x1b[31m--- a/spawner_ui_config.yaml\x1b[0m")
    assert lines[at : at + 6] == [
        "      \x1b[31m--- a/spawner_ui_config.yaml\x1b[0m",
        "      \x1b[32m+++ b/spawner_ui_config.yaml\x1b[0m",
        "      \x1b[2m@@ -1 +1 @@\x1b[0m",
        "      \x1b[31m-a: 1\x1b[0m",
        "      \x1b[32m+a: 2\x1b[0m",
        "  \x1b[36m↻\x1b[0m restart-webapp  deployment/kf/jwa",
    ]
    assert lines[-1] == "\x1b[1m" + summary_line(EVERY_KIND) + "\x1b[0m"


def test_a_restart_without_a_mode_is_a_rollout_and_a_check_without_kinds_is_empty() -> None:
    text = render_text(
        plan_with(
            Change(RESTART, "d", "r", None, None, {"mode": "none"}),
            Change(ChangeKind.CHECK_IMAGE, "i", "c", None, None, {}),
        )
    )
    assert "      mode none\n" in text and "      contract \n" in text


def test_without_warnings_or_changes_there_is_no_blank_line_before_the_summary() -> None:
    assert render_text(EMPTY) == ("No changes. The registry and the cluster match the workspace.\n")
    assert render_text(plan_with(warnings=("w",))) == (
        "warning: w\n\nNo changes. The registry and the cluster match the workspace.\n"
    )
