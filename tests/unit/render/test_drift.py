"""A drift report in each format, told in full: every check's line, each finding, the unchecked
images, the summary's singular and plural; outside text neutralised in every format."""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

import pytest

from kfws.drift import DriftKind, DriftReport, Finding
from kfws.render.drift import render_drift

REPORT = DriftReport(
    (
        Finding(DriftKind.NOT_AS_DECLARED, "configmap/kf/cm", "differs"),
        Finding(DriftKind.DANGLING, "r/a:1", "missing"),
        Finding(DriftKind.MOVED, "r/b:1", "moved"),
    ),
    (Finding(DriftKind.UNCHECKED, "ghcr.io/x:1", "not checked: dns"),),
)
ONE = DriftReport(
    (Finding(DriftKind.NOT_RELOADED, "pod/w", "old"),),
    (
        Finding(DriftKind.UNCHECKED, "ghcr.io/x:1", "not checked: dns"),
        Finding(DriftKind.UNCHECKED, "ghcr.io/y:1", "not checked: 401"),
    ),
)
NONE = DriftReport(())
HOSTILE = DriftReport((Finding(DriftKind.DANGLING, "r/\x07a|b:1", "gone\nforged line"),))


def test_text_in_full() -> None:
    assert render_drift(REPORT, "text") == (
        "FAIL spawner matches workspace.yaml\n"
        "       not-as-declared: configmap/kf/cm: differs\n"
        "ok   spawner unchanged since the last apply\n"
        "FAIL spawner images exist and are unmoved\n"
        "       dangling-image: r/a:1: missing\n"
        "       tag-moved: r/b:1: moved\n"
        "ok   web app reloaded since the last apply\n"
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
        (DriftReport((), ONE.unchecked), "No drift. 2 images not checked."),
    ],
)
def test_summary_counts_in_singular_and_plural(report: DriftReport, summary: str) -> None:
    assert render_drift(report, "text").endswith(f"\n\n{summary}\n")
    assert f"\n**{summary}**\n" in render_drift(report, "markdown")


def test_text_without_findings_lists_every_check_ok_and_no_skip_line() -> None:
    assert render_drift(NONE, "text") == (
        "ok   spawner matches workspace.yaml\n"
        "ok   spawner unchanged since the last apply\n"
        "ok   spawner images exist and are unmoved\n"
        "ok   web app reloaded since the last apply\n"
        "\n"
        "No drift.\n"
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
        "| spawner matches workspace.yaml | ❌ 1 |\n"
        "| spawner unchanged since the last apply | ✅ |\n"
        "| spawner images exist and are unmoved | ❌ 2 |\n"
        "| web app reloaded since the last apply | ✅ |\n"
        "\n"
        "| kind | subject | finding |\n"
        "|---|---|---|\n"
        "| not-as-declared | `configmap/kf/cm` | differs |\n"
        "| dangling-image | `r/a:1` | missing |\n"
        "| tag-moved | `r/b:1` | moved |\n"
    )


def test_markdown_without_findings_has_no_findings_table() -> None:
    md = render_drift(NONE, "markdown")
    assert md.endswith("| web app reloaded since the last apply | ✅ |\n")
    assert "| kind |" not in md


def test_json_in_full_sorted_indented_and_not_ascii_escaped() -> None:
    report = DriftReport(
        (Finding(DriftKind.DANGLING, "r/é:1", "missing"),),
        (Finding(DriftKind.UNCHECKED, "g/x:1", "not checked: dns"),),
    )
    checks = "".join(
        f'    {{\n      "name": "{name}",\n      "passed": {passed}\n    }}{sep}\n'
        for name, passed, sep in (
            ("spawner matches workspace.yaml", "true", ","),
            ("spawner unchanged since the last apply", "true", ","),
            ("spawner images exist and are unmoved", "false", ","),
            ("web app reloaded since the last apply", "true", ""),
        )
    )
    assert render_drift(report, "json") == (
        '{\n  "checks": [\n' + checks + "  ],\n"
        '  "drift": true,\n'
        '  "findings": [\n'
        "    {\n"
        '      "kind": "dangling-image",\n'
        '      "message": "missing",\n'
        '      "subject": "r/é:1"\n'
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
        ("testcase", {"classname": "kfws.drift", "name": "spawner matches workspace.yaml"}),
        ("testcase", {"classname": "kfws.drift", "name": "spawner unchanged since the last apply"}),
        ("testcase", {"classname": "kfws.drift", "name": "spawner images exist and are unmoved"}),
        ("testcase", {"classname": "kfws.drift", "name": "web app reloaded since the last apply"}),
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
