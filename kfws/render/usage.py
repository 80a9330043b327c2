"""`kfws usage` as text, Markdown or JSON (pure). Every field is outside text (notebook names and
images come from the cluster) and is neutralised here."""

from __future__ import annotations

import json
from typing import Any

from kfws.sanitize import json_text, md_code, md_text, one_line
from kfws.usage.report import ImageUsage, UsageReport, Use


def render_usage(report: UsageReport, fmt: str) -> str:
    if fmt == "json":
        return json_text(json.dumps(as_json(report), indent=2, sort_keys=True)) + "\n"
    if fmt == "markdown":
        return _markdown(report)
    return _text(report)


def counts(i: ImageUsage) -> str:
    """ "3 notebooks (2 running, 1 stopped)" / "none"."""
    n = len(i.uses)
    if not n:
        return "none"
    return f"{n} notebook{'s' if n != 1 else ''} ({i.running} running, {i.stopped} stopped)"


def by(i: ImageUsage) -> str:
    parts = [
        f"{what} {i.count(how)}"
        for how, what in (("tag", "tag"), ("digest", "digest"), ("runs", "runs digest"))
        if i.count(how)
    ]
    return ", ".join(parts) or "-"


def _gone_line(u: Use, i: ImageUsage) -> str:
    state = "stopped: it will not start again" if u.stopped else "running: a restart fails"
    return f"{u.key} ({state}) names {i.image}"


def _text(report: UsageReport) -> str:
    lines: list[str] = []
    rows = [("IMAGE", "OFFERED", "NOTEBOOKS", "NAMESPACES", "BY")]
    for i in report.images:
        rows.append(
            (
                one_line(i.image),
                "yes" if i.offered else "no",
                counts(i),
                one_line(", ".join(i.namespaces)) or "-",
                by(i),
            )
        )
    widths = [max(len(r[c]) for r in rows) for c in range(4)]
    for r in rows:
        lines.append("  ".join(r[c].ljust(widths[c]) for c in range(4)) + "  " + r[4])
    lines.append("")
    lines.append(_summary(report))
    not_offered = report.not_offered_in_use
    if not_offered:
        lines += ["", "In use, no longer offered (or never offered):"]
        lines += [f"  {one_line(i.image)}: {counts(i)}" for i in not_offered]
    if report.gone:
        lines += ["", "Notebooks naming an image its registry no longer has:"]
        lines += [f"  {one_line(_gone_line(u, i))}" for u, i in report.gone]
    if report.unseen:
        lines += ["", "Not seen:"]
        lines += [f"  {one_line(text)}" for text in report.unseen]
    return "\n".join(lines) + "\n"


def _summary(report: UsageReport) -> str:
    if not report.notebooks_visible:
        return f"{len(report.images)} images; which notebooks use them: not seen (see below)."
    namespaces = len({u.namespace for i in report.images for u in i.uses})
    return f"{len(report.images)} images, {report.notebooks} notebooks in {namespaces} namespaces."


def _markdown(report: UsageReport) -> str:
    lines = [
        "### Image usage",
        "",
        "| image | offered | notebooks | namespaces | by |",
        "|---|---|---|---|---|",
    ]
    for i in report.images:
        ns = ", ".join(md_text(n) for n in i.namespaces) or "-"
        lines.append(
            f"| {md_code(i.image, in_table=True)} | {'yes' if i.offered else 'no'} | "
            f"{counts(i)} | {ns} | {by(i)} |"
        )
    lines += ["", md_text(_summary(report))]
    if report.not_offered_in_use:
        lines += ["", "**In use, no longer offered:**", ""]
        lines += [f"- {md_code(i.image)}: {counts(i)}" for i in report.not_offered_in_use]
    if report.gone:
        lines += ["", "**Notebooks naming an image its registry no longer has:**", ""]
        lines += [f"- {md_text(_gone_line(u, i))}" for u, i in report.gone]
    if report.unseen:
        lines += ["", "**Not seen:**", ""]
        lines += [f"- {md_text(text)}" for text in report.unseen]
    return "\n".join(lines) + "\n"


def as_json(report: UsageReport) -> dict[str, Any]:
    return {
        "images": [
            {
                "image": i.image,
                "repository": i.repository,
                "tag": i.tag,
                "digest": i.digest,
                "offered": i.offered,
                "built": i.built,
                "registry": i.registry,
                "running": i.running,
                "stopped": i.stopped,
                "namespaces": list(i.namespaces),
                "notebooks": [
                    {"namespace": u.namespace, "name": u.name, "stopped": u.stopped, "by": u.how}
                    for u in i.uses
                ],
            }
            for i in report.images
        ],
        "notOfferedInUse": [i.image for i in report.not_offered_in_use],
        "missingFromRegistry": [
            {"notebook": u.key, "image": i.image, "stopped": u.stopped} for u, i in report.gone
        ],
        "notebooksVisible": report.notebooks_visible,
        "unseen": list(report.unseen),
    }
