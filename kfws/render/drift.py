"""DriftReport -> text, Markdown, JSON or JUnit XML (pure). JUnit has one test case per check,
so CI systems show a failed check with the findings as its failure message."""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

from kfws.drift import DriftReport
from kfws.sanitize import json_text, md_code, md_text, one_line


def render_drift(report: DriftReport, fmt: str) -> str:
    if fmt == "json":
        return _json(report)
    if fmt == "markdown":
        return _markdown(report)
    if fmt == "junit":
        return _junit(report)
    return _text(report)


def _summary(report: DriftReport) -> str:
    n = len(report.findings)
    text = f"Drift: {n} finding{'s' if n != 1 else ''}." if n else "No drift."
    u = len(report.unchecked)
    if u:
        text += f" {u} image{'s' if u != 1 else ''} not checked."
    return text


def _text(report: DriftReport) -> str:
    lines = []
    for check, findings in report.by_check():
        lines.append(f"{'FAIL' if findings else 'ok  '} {one_line(check)}")
        lines.extend(
            f"       {f.kind.value}: {one_line(f.subject)}: {one_line(f.message)}" for f in findings
        )
    if report.unchecked:
        lines.append("skip images not checked (not counted as drift unless --strict)")
        lines.extend(
            f"       {one_line(f.subject)}: {one_line(f.message)}" for f in report.unchecked
        )
    lines.append("")
    lines.append(_summary(report))
    return "\n".join(lines) + "\n"


def _markdown(report: DriftReport) -> str:
    lines = ["### kfws drift", "", f"**{_summary(report)}**", ""]
    lines += ["| check | result |", "|---|---|"]
    for check, findings in report.by_check():
        lines.append(f"| {md_text(check)} | {'❌ ' + str(len(findings)) if findings else '✅'} |")
    if report.findings:
        lines += ["", "| kind | subject | finding |", "|---|---|---|"]
        lines += [
            f"| {f.kind.value} | {md_code(f.subject, in_table=True)} | {md_text(f.message)} |"
            for f in report.findings
        ]
    return "\n".join(lines) + "\n"


def _json(report: DriftReport) -> str:
    data = {
        "drift": report.drifted,
        "findings": [
            {"kind": f.kind.value, "subject": f.subject, "message": f.message, "target": j.target}
            for j in report.judged
            for f in j.findings
        ],
        "checks": [{"name": name, "passed": not findings} for name, findings in report.by_check()],
        "unchecked": [{"subject": f.subject, "message": f.message} for f in report.unchecked],
    }
    return json_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)) + "\n"


def _junit(report: DriftReport) -> str:
    checks = report.by_check()
    failures = sum(1 for _, f in checks if f)
    suite = ET.Element(
        "testsuite", name="kfws drift", tests=str(len(checks)), failures=str(failures), errors="0"
    )
    for name, findings in checks:
        case = ET.SubElement(suite, "testcase", classname="kfws.drift", name=one_line(name))
        if findings:
            failure = ET.SubElement(
                case, "failure", message=f"{len(findings)} finding(s)", type="drift"
            )
            # one_line: XML 1.0 can't hold most control characters at all
            failure.text = "\n".join(
                f"{f.kind.value}: {one_line(f.subject)}: {one_line(f.message)}" for f in findings
            )
    suites = ET.Element("testsuites")
    suites.append(suite)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
