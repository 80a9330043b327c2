"""A drift report in each format, told in full: every check's line, titled with the object it
judged (the spawner's ConfigMap, each WorkspaceKind), each finding, the unchecked images, the
summary's singular and plural; outside text neutralised in every format."""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

import pytest

from kfws.drift import IMAGES, MATCHES, RELOADED, UNCHANGED, DriftKind, DriftReport, Finding, Judged
from kfws.render.drift import render_drift

SPAWNER = (MATCHES, UNCHANGED, IMAGES, RELOADED)


def cm(*found: Finding) -> tuple[Judged, ...]:
    return (Judged("ConfigMap kf/cm", SPAWNER, found),)


REPORT = DriftReport(
    cm(
        Finding(DriftKind.NOT_AS_DECLARED, "configmap/kf/cm", "differs"),
        Finding(DriftKind.DANGLING, "r/a:1", "missing"),
        Finding(DriftKind.MOVED, "r/b:1", "moved"),
    ),
    (Finding(DriftKind.UNCHECKED, "ghcr.io/x:1", "not checked: dns"),),
)
ONE = DriftReport(
    cm(Finding(DriftKind.NOT_RELOADED, "pod/w", "old")),
    (
        Finding(DriftKind.UNCHECKED, "ghcr.io/x:1", "not checked: dns"),
        Finding(DriftKind.UNCHECKED, "ghcr.io/y:1", "not checked: 401"),
    ),
)
NONE = DriftReport(cm())
HOSTILE = DriftReport(cm(Finding(DriftKind.DANGLING, "r/\x07a|b:1", "gone\nforged line")))
# a WorkspaceKind's findings beside a clean spawner: titled with the kind, never "spawner"
KINDS = DriftReport(
    (
        *cm(),
        Judged(
            "WorkspaceKind lab",
            (MATCHES, UNCHANGED),
            (Finding(DriftKind.CHANGED_OUT_OF_BAND, "workspacekind/lab", "edited by 'k'"),),
        ),
        Judged("WorkspaceKind other", (MATCHES, UNCHANGED)),
    )
)


def test_text_in_full() -> None:
    assert render_drift(REPORT, "text") == (
        "FAIL ConfigMap kf/cm matches workspace.yaml\n"
        "       not-as-declared: configmap/kf/cm: differs\n"
        "ok   ConfigMap kf/cm unchanged since the last apply\n"
        "FAIL images offered by ConfigMap kf/cm exist and are unmoved\n"
        "       dangling-image: r/a:1: missing\n"
        "       tag-moved: r/b:1: moved\n"
        "ok   web app reloaded since the last apply to ConfigMap kf/cm\n"
        "skip images not checked (not counted as drift unless --strict)\n"
        "       ghcr.io/x:1: not checked: dns\n"
        "\n"
        "Drift: 3 findings. 1 image not checked.\n"
    )


@pytest.mark.parametrize(
    ("report", "summary"),
    [
        (REPORT, "Drift: 3 findings. 1 image not checked."),
        (ONE, "Drift: 1 finding. 2 images not checked."),
        (NONE, "No drift."),
        (DriftReport(cm(), ONE.unchecked), "No drift. 2 images not checked."),
    ],
)
def test_summary_counts_in_singular_and_plural(report: DriftReport, summary: str) -> None:
    assert render_drift(report, "text").endswith(f"\n\n{summary}\n")
    assert f"\n**{summary}**\n" in render_drift(report, "markdown")


def test_text_without_findings_lists_every_check_ok_and_no_skip_line() -> None:
    assert render_drift(NONE, "text") == (
        "ok   ConfigMap kf/cm matches workspace.yaml\n"
        "ok   ConfigMap kf/cm unchanged since the last apply\n"
        "ok   images offered by ConfigMap kf/cm exist and are unmoved\n"
        "ok   web app reloaded since the last apply to ConfigMap kf/cm\n"
        "\n"
        "No drift.\n"
    )


def test_text_titles_each_workspacekind_with_its_own_name() -> None:
    assert render_drift(KINDS, "text") == (
        "ok   ConfigMap kf/cm matches workspace.yaml\n"
        "ok   ConfigMap kf/cm unchanged since the last apply\n"
        "ok   images offered by ConfigMap kf/cm exist and are unmoved\n"
        "ok   web app reloaded since the last apply to ConfigMap kf/cm\n"
        "ok   WorkspaceKind lab matches workspace.yaml\n"
        "FAIL WorkspaceKind lab unchanged since the last apply\n"
        "       changed-out-of-band: workspacekind/lab: edited by 'k'\n"
        "ok   WorkspaceKind other matches workspace.yaml\n"
        "ok   WorkspaceKind other unchanged since the last apply\n"
        "\n"
        "Drift: 1 finding.\n"
    )


def test_an_unknown_format_is_text() -> None:
    assert render_drift(REPORT, "yaml") == render_drift(REPORT, "text")


def test_markdown_in_full() -> None:
    assert render_drift(REPORT, "markdown") == (
        "### kfws drift\n"
        "\n"
        "**Drift: 3 findings. 1 image not checked.**\n"
        "\n"
        "| check | result |\n"
        "|---|---|\n"
        "| ConfigMap kf/cm matches workspace.yaml | ❌ 1 |\n"
        "| ConfigMap kf/cm unchanged since the last apply | ✅ |\n"
        "| images offered by ConfigMap kf/cm exist and are unmoved | ❌ 2 |\n"
        "| web app reloaded since the last apply to ConfigMap kf/cm | ✅ |\n"
        "\n"
        "| kind | subject | finding |\n"
        "|---|---|---|\n"
        "| not-as-declared | `configmap/kf/cm` | differs |\n"
        "| dangling-image | `r/a:1` | missing |\n"
        "| tag-moved | `r/b:1` | moved |\n"
    )


def test_markdown_without_findings_has_no_findings_table() -> None:
    md = render_drift(NONE, "markdown")
    assert md.endswith("| web app reloaded since the last apply to ConfigMap kf/cm | ✅ |\n")
    assert "| kind |" not in md


def test_markdown_titles_each_workspacekind_with_its_own_name() -> None:
    assert render_drift(KINDS, "markdown").split("| check | result |\n|---|---|\n")[1] == (
        "| ConfigMap kf/cm matches workspace.yaml | ✅ |\n"
        "| ConfigMap kf/cm unchanged since the last apply | ✅ |\n"
        "| images offered by ConfigMap kf/cm exist and are unmoved | ✅ |\n"
        "| web app reloaded since the last apply to ConfigMap kf/cm | ✅ |\n"
        "| WorkspaceKind lab matches workspace.yaml | ✅ |\n"
        "| WorkspaceKind lab unchanged since the last apply | ❌ 1 |\n"
        "| WorkspaceKind other matches workspace.yaml | ✅ |\n"
        "| WorkspaceKind other unchanged since the last apply | ✅ |\n"
        "\n"
        "| kind | subject | finding |\n"
        "|---|---|---|\n"
        "| changed-out-of-band | `workspacekind/lab` | edited by 'k' |\n"
    )


def test_json_in_full_sorted_indented_and_not_ascii_escaped() -> None:
    report = DriftReport(
        cm(Finding(DriftKind.DANGLING, "r/é:1", "missing")),
        (Finding(DriftKind.UNCHECKED, "g/x:1", "not checked: dns"),),
    )
    checks = "".join(
        f'    {{\n      "name": "{name}",\n      "passed": {passed}\n    }}{sep}\n'
        for name, passed, sep in (
            ("ConfigMap kf/cm matches workspace.yaml", "true", ","),
            ("ConfigMap kf/cm unchanged since the last apply", "true", ","),
            ("images offered by ConfigMap kf/cm exist and are unmoved", "false", ","),
            ("web app reloaded since the last apply to ConfigMap kf/cm", "true", ""),
        )
    )
    assert render_drift(report, "json") == (
        '{\n  "checks": [\n' + checks + "  ],\n"
        '  "drift": true,\n'
        '  "findings": [\n'
        "    {\n"
        '      "kind": "dangling-image",\n'
        '      "message": "missing",\n'
        '      "subject": "r/é:1",\n'
        '      "target": "ConfigMap kf/cm"\n'
        "    }\n"
        "  ],\n"
        '  "unchecked": [\n'
        "    {\n"
        '      "message": "not checked: dns",\n'
        '      "subject": "g/x:1"\n'
        "    }\n"
        "  ]\n"
        "}\n"
    )


def test_json_without_findings_is_no_drift() -> None:
    data = json.loads(render_drift(NONE, "json"))
    assert data["drift"] is False and data["findings"] == [] and data["unchecked"] == []
    assert [c["passed"] for c in data["checks"]] == [True, True, True, True]


def test_json_names_each_findings_target_and_titles_checks_with_it() -> None:
    data = json.loads(render_drift(KINDS, "json"))
    assert data["findings"] == [
        {
            "kind": "changed-out-of-band",
            "message": "edited by 'k'",
            "subject": "workspacekind/lab",
            "target": "WorkspaceKind lab",
        }
    ]
    assert [(c["name"], c["passed"]) for c in data["checks"][4:]] == [
        ("WorkspaceKind lab matches workspace.yaml", True),
        ("WorkspaceKind lab unchanged since the last apply", False),
        ("WorkspaceKind other matches workspace.yaml", True),
        ("WorkspaceKind other unchanged since the last apply", True),
    ]


def _suite(report: DriftReport) -> ET.Element:
    xml = render_drift(report, "junit")
    head, body = xml.split("?>\n", 1)
    assert head.startswith("<?xml version=") and xml.endswith("</testsuites>\n")
    root = ET.fromstring(body)  # noqa: S314 (our own output)
    assert root.tag == "testsuites" and len(root) == 1
    return root[0]


def test_junit_in_full() -> None:
    suite = _suite(REPORT)
    assert suite.tag == "testsuite"
    assert suite.attrib == {"name": "kfws drift", "tests": "4", "failures": "2", "errors": "0"}
    cases = list(suite)
    assert [(c.tag, c.attrib) for c in cases] == [
        ("testcase", {"classname": "kfws.drift", "name": name})
        for name in (
            "ConfigMap kf/cm matches workspace.yaml",
            "ConfigMap kf/cm unchanged since the last apply",
            "images offered by ConfigMap kf/cm exist and are unmoved",
            "web app reloaded since the last apply to ConfigMap kf/cm",
        )
    ]
    failures = [(c.find("failure"), i) for i, c in enumerate(cases) if len(c)]
    assert [i for _, i in failures] == [0, 2]
    first, second = (f for f, _ in failures)
    assert first is not None and second is not None
    assert first.attrib == {"message": "1 finding(s)", "type": "drift"}
    assert first.text == "not-as-declared: configmap/kf/cm: differs"
    assert second.attrib == {"message": "2 finding(s)", "type": "drift"}
    assert second.text == "dangling-image: r/a:1: missing\ntag-moved: r/b:1: moved"


def test_junit_without_findings_has_no_failures() -> None:
    suite = _suite(NONE)
    assert suite.get("tests") == "4" and suite.get("failures") == "0"
    assert all(len(case) == 0 for case in suite)


def test_junit_has_a_case_per_workspacekind_check_failing_only_the_drifted_one() -> None:
    suite = _suite(KINDS)
    assert suite.get("tests") == "8" and suite.get("failures") == "1"
    failed = [(c.get("name"), c.findtext("failure")) for c in suite if len(c)]
    assert failed == [
        (
            "WorkspaceKind lab unchanged since the last apply",
            "changed-out-of-band: workspacekind/lab: edited by 'k'",
        )
    ]


def test_outside_text_is_neutralised_in_every_format() -> None:
    text = render_drift(HOSTILE, "text")
    assert "       dangling-image: r/\\x07a|b:1: gone\\x0aforged line\n" in text
    # md_text escapes the escape's backslash, so the comment shows `\x0a` literally
    assert "| dangling-image | `r/\\x07a\\|b:1` | gone\\\\x0aforged line |" in render_drift(
        HOSTILE, "markdown"
    )
    failure = _suite(HOSTILE).find("testcase[3]/failure")
    assert failure is not None
    assert failure.text == "dangling-image: r/\\x07a|b:1: gone\\x0aforged line"
    unchecked = DriftReport((), (Finding(DriftKind.UNCHECKED, "r/\x07b:1", "x\ny"),))
    assert "       r/\\x07b:1: x\\x0ay\n" in render_drift(unchecked, "text")


def test_a_hostile_title_is_neutralised_in_every_format() -> None:
    # a kind's name comes from the workspace file: it must not forge a line or a table cell
    report = DriftReport((Judged("WorkspaceKind a|b\x1b[2J\nFAIL", (MATCHES,)),))
    assert render_drift(report, "text").startswith(
        "ok   WorkspaceKind a|b\\x0aFAIL matches workspace.yaml\n\n"  # the ESC sequence dropped
    )
    assert (
        "| WorkspaceKind a\\|b\\\\x1b\\[2J\\\\x0aFAIL matches workspace.yaml | ✅ |\n"
        in render_drift(report, "markdown")
    )
    (case,) = _suite(report)
    assert case.get("name") == "WorkspaceKind a|b\\x0aFAIL matches workspace.yaml"
    data = json.loads(render_drift(report, "json"))
    assert data["checks"] == [
        {"name": "WorkspaceKind a|b\x1b[2J\nFAIL matches workspace.yaml", "passed": True}
    ]
