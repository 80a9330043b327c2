"""`kfws usage` as text, Markdown or JSON (pure): the images and the notebooks using them, then
the entries cluster targets count the users of themselves (WorkspaceKind values and their
Workspaces), headed with the nouns the target gave. Every field is outside text (notebook names,
images and ids come from the cluster) and is neutralised here."""

from __future__ import annotations

import json
from typing import Any

from kfws.sanitize import json_text, md_code, md_text, one_line
from kfws.usage.model import EntryUsage
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


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"


def notes(e: EntryUsage) -> str:
    """ "default", "hidden, redirects to X" / "-"."""
    parts = [word for word, on in (("default", e.default), ("hidden", e.hidden)) if on]
    parts += [f"redirects to {e.redirect}"] if e.redirect else []
    return ", ".join(parts) or "-"


def entry_groups(report: UsageReport) -> list[list[EntryUsage]]:
    """The counted entries, one group per kind of entry (e.g. WorkspaceKind values), in the
    order the targets gave them."""
    groups: dict[tuple[str, str, str], list[EntryUsage]] = {}
    for e in report.entries:
        groups.setdefault((e.kind, e.noun, e.users_noun), []).append(e)
    return list(groups.values())


def owner_totals(group: list[EntryUsage]) -> list[str]:
    """ "WorkspaceKind jupyterlab: 9 workspaces on 4 values", one per object."""
    owners: dict[str, list[EntryUsage]] = {}
    for e in group:
        owners.setdefault(e.owner, []).append(e)
    return [
        f"{es[0].kind} {owner}: {_plural(sum(e.users for e in es), es[0].users_noun)} on "
        f"{_plural(len(es), es[0].noun)}"
        for owner, es in owners.items()
    ]


def _entries_text(group: list[EntryUsage]) -> list[str]:
    first = group[0]
    rows = [(first.kind.upper(), first.noun.upper(), "IMAGE", f"{first.users_noun.upper()}S")]
    rows += [(one_line(e.owner), one_line(e.id), one_line(e.image), str(e.users)) for e in group]
    widths = [max(len(r[c]) for r in rows) for c in range(4)]
    lines = ["  ".join(r[c].ljust(widths[c]) for c in range(4)) + "  NOTES" for r in rows[:1]]
    lines += [
        "  ".join(r[c].ljust(widths[c]) for c in range(4)) + "  " + one_line(notes(e))
        for r, e in zip(rows[1:], group, strict=True)
    ]
    return ["", *lines, "", *(one_line(t) + "." for t in owner_totals(group))]


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
    for group in entry_groups(report):
        lines += _entries_text(group)
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
    for group in entry_groups(report):
        first = group[0]
        lines += [
            "",
            f"### {md_text(first.kind)} {md_text(first.noun)}s",
            "",
            f"| {md_text(first.kind)} | {md_text(first.noun)} | image | "
            f"{md_text(first.users_noun)}s | notes |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {md_text(e.owner)} | {md_code(e.id, in_table=True)} | "
            f"{md_code(e.image, in_table=True)} | {e.users} | {md_text(notes(e))} |"
            for e in group
        ]
        lines += ["", *(md_text(t) + "." for t in owner_totals(group))]
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
        "entries": [
            {
                "kind": e.kind,
                "name": e.owner,
                "id": e.id,
                "image": e.image,
                "users": e.users,
                "hidden": e.hidden,
                "redirect": e.redirect,
                "default": e.default,
            }
            for e in report.entries
        ],
        "notebooksVisible": report.notebooks_visible,
        "unseen": list(report.unseen),
    }
