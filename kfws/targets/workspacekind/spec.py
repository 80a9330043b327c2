"""Reads the workspace file's `workspaceKinds:` section (already valid against the JSON Schema)
into KindSpecs, with the checks a schema can't express, each reported at its file:line:col
through kfws.spec's collector (so every problem of the file shows at once)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from kfws.spec import checks
from kfws.targets.workspacekind.model import DeclaredImage, KindSpec, Port

if TYPE_CHECKING:
    from kfws.spec.load import Located, Path_

SECTION = "workspaceKinds"

Check = Callable[["Path_", "str | None"], None]


def parse_workspace_kinds(
    raw: Mapping[str, Any] | None, names: set[str], located: Located, check: Check
) -> tuple[KindSpec, ...]:
    """`names`: the managed images' names (an image may be one, or a full reference)."""
    kinds = []
    for kind_name, body in (raw or {}).items():
        kp: Path_ = (SECTION, kind_name)
        images: list[DeclaredImage] = []
        first: dict[str, int] = {}
        for i, item in enumerate(body.get("images") or []):
            images.append(_image(item, (*kp, "images", i), names, located, check))
            vid = images[-1].id
            if vid in first:
                check(
                    (*kp, "images", i, "id"),
                    f"the id {vid!r} is already used by images[{first[vid]}]",
                )
            first.setdefault(vid, i)
        ids = set(first)
        for i, image in enumerate(images):
            for j, old in enumerate(image.replaces):
                if old in ids:
                    check(
                        (*kp, "images", i, "replaces", j),
                        f"{old!r} is declared here: only a value the file drops can be replaced",
                    )
        kinds.append(
            KindSpec(
                name=str(kind_name),
                images=tuple(images),
                default=str(body["default"]) if "default" in body else None,
                location=_line(located, (*kp, "default") if "default" in body else kp),
            )
        )
    return tuple(kinds)


def _line(located: Located, path: Path_) -> str:
    return located.where(path).rsplit(":", 1)[0]  # "workspace.yaml:12"


def _image(
    item: Mapping[str, Any], p: Path_, names: set[str], located: Located, check: Check
) -> DeclaredImage:
    vid = str(item["id"])
    ref = str(item["image"])
    check((*p, "image"), checks.reference_problem(ref, names))
    if "displayName" not in item and len(vid) < 2:
        check((*p, "id"), "an id shorter than 2 characters needs a `displayName` (2-128)")
    ports = None
    if "ports" in item:
        ports = tuple(
            Port(str(x["id"]), int(x["port"]), x.get("displayName")) for x in item["ports"]
        )
        port_ids = [port.id for port in ports]
        dupes = sorted({x for x in port_ids if port_ids.count(x) > 1})
        if dupes:
            check((*p, "ports"), f"port ids listed more than once: {', '.join(dupes)}")
    redirect_to = item.get("redirectTo")
    if redirect_to == vid:
        check((*p, "redirectTo"), "a value can't redirect to itself")
    message = item.get("redirectMessage")
    if message is not None and redirect_to is None:
        check((*p, "redirectMessage"), "needs `redirectTo`: the message is the redirect's")
    return DeclaredImage(
        id=vid,
        image=ref,
        display_name=item.get("displayName"),
        description=item.get("description"),
        labels=tuple((str(k), str(v)) for k, v in (item.get("labels") or {}).items()),
        hidden=bool(item.get("hidden", False)),
        pull_policy=str(item.get("pullPolicy", "IfNotPresent")),
        ports=ports,
        redirect_to=redirect_to,
        redirect_level=(message or {}).get("level"),
        redirect_text=(message or {}).get("text"),
        replaces=tuple(str(x) for x in item.get("replaces") or ()),
        location=_line(located, p),
    )
