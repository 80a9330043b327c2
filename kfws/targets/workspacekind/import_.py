"""`kfws import` for WorkspaceKinds: write the live image values of each kind into the workspace
file's `workspaceKinds:` section, so a plan right after shows no change for them. A value the file
can't declare (an id outside what the schema takes) is left out and said so. Everything else in
the file (comments, other sections) is kept. Images are written as full references (see
`entry`)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from kfws.errors import KfwsError
from kfws.targets.workspacekind.model import DEFAULT_PULL_POLICY, ImageValue, KindState
from kfws.targets.workspacekind.spec import SECTION

ID_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


def declarable(vid: str) -> bool:
    return (
        0 < len(vid) <= 200
        and set(vid) <= ID_CHARS
        and vid[0].isalnum()
        and vid[-1].isalnum()
        and vid.isascii()
    )


def _quoted(value: str) -> Any:
    """A string the workspace loader (YAML 1.1) reads back as the same string: `no`, `1.10`,
    `on` or `null` are quoted."""
    import yaml
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    try:
        same = yaml.safe_load(value) == value
    except yaml.YAMLError:
        same = False
    return value if same else DoubleQuotedScalarString(value)


def entry(value: ImageValue) -> dict[str, Any]:
    """The value as the file declares it. The image as the full reference it is: a managed
    image's name would resolve to its current build, which may not be what the kind offers
    (and an in-use value's image can't change: the plan would add a new id)."""
    from ruamel.yaml.comments import CommentedMap

    out = CommentedMap(id=_quoted(value.id), image=_quoted(value.image))
    if value.display_name != value.id:
        out["displayName"] = _quoted(value.display_name)
    if value.description is not None:
        out["description"] = _quoted(value.description)
    if value.labels:
        out["labels"] = CommentedMap((_quoted(k), _quoted(v)) for k, v in value.labels)
    if value.hidden:
        out["hidden"] = True
    if value.pull_policy != DEFAULT_PULL_POLICY:
        out["pullPolicy"] = value.pull_policy
    out["ports"] = [p.to_api() for p in value.ports]
    if value.redirect is not None:
        out["redirectTo"] = _quoted(value.redirect.to)
        if value.redirect.text is not None:
            out["redirectMessage"] = CommentedMap(
                level=value.redirect.level or "Info", text=_quoted(value.redirect.text)
            )
    return out


def merge_kinds(text: str | None, kinds: Sequence[KindState]) -> tuple[str, list[str]]:
    """The file with `workspaceKinds.<kind>` written for each of `kinds`; notes on what was
    left out."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.error import YAMLError

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    try:
        doc = yaml.load(text) if text and text.strip() else CommentedMap()
    except YAMLError as e:
        raise KfwsError(f"the workspace file is not valid YAML: {e}") from None
    if not isinstance(doc, dict):
        raise KfwsError("the workspace file's top level is not a mapping")
    doc.setdefault("apiVersion", "kfws/v1alpha1")
    doc.setdefault("kind", "Workspace")
    section = doc.get(SECTION)
    if not isinstance(section, dict):
        section = CommentedMap()
        doc[SECTION] = section
    notes: list[str] = []
    for kind in kinds:
        images = []
        for lv in kind.values:
            if declarable(lv.value.id):
                images.append(entry(lv.value))
            else:
                notes.append(f"{SECTION}.{kind.name}: left out value {lv.value.id!r} (an id "
                             "the file can't declare); kfws leaves it alone")  # fmt: skip
        if not images:
            notes.append(f"{SECTION}.{kind.name}: no value kfws can declare; not written")
            continue
        body = CommentedMap()
        if kind.default is not None and declarable(kind.default):
            body["default"] = _quoted(kind.default)
        body["images"] = images
        section[kind.name] = body
    if not section:
        del doc[SECTION]
    buf = io.StringIO()
    yaml.dump(doc, buf)
    return buf.getvalue(), notes
