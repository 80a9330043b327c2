"""Round-trip editing of Kubeflow's `spawner_ui_config.yaml` that keeps every other byte.

kfws owns, under `spawnerFormDefaults`, the image groups' `value` (the preselected image) and
`options` (the dropdown), and the flags `allowCustomImage`, `hideRegistry`, `hideTag` and
`imagePullPolicy`; each of those may be a plain value or Kubeflow's wrapped form
`{value: ..., readOnly: ...}`. Nothing else in the file is ours: admins keep comments, blank
lines, quoting and other sections there, and they must survive an edit byte for byte.

How: a YAML round-trip dumper reflows text (indentation of lists, quoting, line width), so the
edit is a set of character-range splices instead, located with the parser's marks (line, column
and index of every node): a changed scalar is replaced inside its own span, a changed block list
is rebuilt from its original item lines (an item kept keeps its line, with its comment) plus new
lines at the list's own indentation, a missing key is inserted after the last line of its
mapping. Untouched ranges are copied verbatim. After the edit, the whole document is parsed again
and compared with the old one: only the owned values may differ, or nothing is returned.

This module reads (bounds on size, depth and aliases; every owned node located); the edit is
kfws.targets.spawner.config_edit.

The parser is PyYAML's (YAML 1.1), because that is what Kubeflow's web app reads the file with:
`yes`/`on` are booleans to it, so they are to us. Only safe construction is used.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml

from kfws.errors import ClusterError
from kfws.spec.model import GROUP_KEYS, GroupKey
from kfws.spec.yaml_chars import first_unprintable

ROOT_KEY = "spawnerFormDefaults"
DEFAULT_WHERE = "spawner_ui_config.yaml"

FlagKey = Literal["allowCustomImage", "hideRegistry", "hideTag", "imagePullPolicy"]
FLAG_KEYS: tuple[FlagKey, ...] = ("allowCustomImage", "hideRegistry", "hideTag", "imagePullPolicy")
_FLAG_TYPES: Mapping[str, type] = {
    "allowCustomImage": bool,
    "hideRegistry": bool,
    "hideTag": bool,
    "imagePullPolicy": str,
}
_STR = "tag:yaml.org,2002:str"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"


@dataclass(frozen=True)
class LiveGroup:
    """One image group as the file has it (or, given to `edit_spawner`, as it should become:
    `value` None there means "leave the preselected image alone")."""

    key: GroupKey
    value: str | None
    options: tuple[str, ...]


@dataclass(frozen=True)
class LiveSpawner:
    """The owned part of the file. As a desired state, a group or flag that is absent / None is
    left alone."""

    groups: tuple[LiveGroup, ...] = ()  # in GROUP_KEYS order
    allow_custom_image: bool | None = None
    hide_registry: bool | None = None
    hide_tag: bool | None = None
    image_pull_policy: str | None = None
    # read from the Kubeflow 1.0 layout: allow_custom_image is `not image.readOnly` there
    legacy: bool = field(default=False, compare=False)

    def group(self, key: str) -> LiveGroup | None:
        return next((g for g in self.groups if g.key == key), None)

    def flags(self) -> dict[str, bool | str | None]:
        return {
            "allowCustomImage": self.allow_custom_image,
            "hideRegistry": self.hide_registry,
            "hideTag": self.hide_tag,
            "imagePullPolicy": self.image_pull_policy,
        }

    def owned(self) -> dict[str, Any]:
        """JSON-able: what kfws owns in the file, the shape it records and diffs."""
        data: dict[str, Any] = {
            g.key: {"value": g.value, "options": list(g.options)} for g in self.groups
        }
        data.update({k: v for k, v in self.flags().items() if v is not None})
        return data


# --------------------------------------------------------------------------------------------
# parsing


# The live text is hostile input: bounded before the parser builds anything from it.
MAX_TEXT = 256 * 1024  # characters; Kubeflow's own config is about 10 KiB
# libyaml when present for the passes that need no positions (the bounds, the safe load): the
# pure-Python parser takes seconds on a text this size; positions come from it alone, since the
# splices need its character indexes
_FAST = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _safe_load(text: str) -> Any:
    return yaml.load(text, Loader=_FAST)  # noqa: S506 (_FAST is a safe loader, C or Python)


MAX_DEPTH = 64  # nesting levels (a real config has fewer than 10)
MAX_EXPANDED = 500_000  # nodes with every alias expanded (billion laughs stops here)
_CONFLICT = re.compile(r"^(<{7}|={7}|>{7}|\|{7})(?:[ \t][^\r\n]*)?$", re.MULTILINE)
_FIX = "fix the ConfigMap by hand (kubectl edit), then re-run kfws plan"


def _not_yaml(where: str, message: str) -> ClusterError:
    return ClusterError(
        f"the live spawner config is not valid YAML{message}; kfws will not overwrite it",
        where=where,
        hint=_FIX,
    )


def _check_bounds(text: str, where: str) -> None:
    """Size, a merge-conflict marker left in the text (the parser would blame the line after
    it), and nesting depth, checked with the event parser, which does not recurse: the node
    composer does, and a deep document would crash it."""
    if len(text) > MAX_TEXT:
        raise _not_yaml(
            where, f": it is {len(text):,} characters, more than kfws reads ({MAX_TEXT:,})"
        )
    marker = _CONFLICT.search(text)
    if marker is not None:
        line = text.count("\n", 0, marker.start()) + 1
        raise _not_yaml(
            where,
            f" at line {line}: a merge-conflict marker `{marker.group(1)}` (a conflicted edit "
            "was pasted into the ConfigMap)",
        )
    depth = 0
    for event in yaml.parse(text, Loader=_FAST):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                at = f"{event.start_mark.line + 1}" if event.start_mark else "?"
                raise _not_yaml(where, f" at line {at}: nested more than {MAX_DEPTH} levels deep")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _expanded_size(root: yaml.Node) -> int | None:
    """How many nodes the document has once every alias is expanded (what a reader that
    copies it, like json.dumps, would build), capped just above MAX_EXPANDED; None when an
    alias refers to a node that contains it. Iterative: aliases may nest deeper than the text."""
    size: dict[int, int] = {}
    started: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finish = stack.pop()
        nid = id(node)
        if finish:
            total = 1 + sum(size[id(c)] for c in _children(node))
            size[nid] = min(total, MAX_EXPANDED + 1)
            continue
        if nid in size:
            continue
        started.add(nid)
        stack.append((node, True))
        for child in _children(node):
            cid = id(child)
            if cid in started and cid not in size:
                return None  # a cycle: the child is still being expanded above us
            if cid not in size:
                stack.append((child, False))
    return size[id(root)]


def _compose(text: str, where: str) -> yaml.MappingNode:
    _check_bounds_safely(text, where)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is not None:
            expanded = _expanded_size(node)
            if expanded is None:
                raise _not_yaml(where, ": an alias refers to a node that contains it")
            if expanded > MAX_EXPANDED:
                raise _not_yaml(where, f": its aliases expand to more than {MAX_EXPANDED:,} nodes")
        _safe_load(text)  # tags a safe loader refuses (!!python/..., !custom) fail here
    except yaml.YAMLError as e:
        raise _not_yaml(where, _yaml_error_place(e)) from None
    if node is None:
        raise _bad(where, "", "the file is empty")
    if not isinstance(node, yaml.MappingNode):
        raise _bad(where, "", f"expected a mapping at the top, found {_kind(node)}")
    return node


def _check_bounds_safely(text: str, where: str) -> None:
    # before any parser: PyYAML reports a refused character by a position, not a line, and
    # libyaml can't even encode a lone surrogate (a JSON "\ud800" escape) to read it
    bad = first_unprintable(text)
    if bad is not None:
        raise _not_yaml(where, f" at line {bad.line}, column {bad.column}: {bad.message}")
    try:
        _check_bounds(text, where)
    except yaml.YAMLError as e:
        raise _not_yaml(where, _yaml_error_place(e)) from None


def _yaml_error_place(e: yaml.YAMLError) -> str:
    """ " at line N, column C: problem (while ... at line M)": the parser marks the place it
    gave up, and names where the construct it was reading began, often the line at fault."""
    mark = getattr(e, "problem_mark", None)
    at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = getattr(e, "problem", None) or str(e).splitlines()[0]
    context, cmark = getattr(e, "context", None), getattr(e, "context_mark", None)
    began = ""
    if context and cmark is not None and (mark is None or cmark.line != mark.line):
        began = f" ({context} that began at line {cmark.line + 1})"
    return f"{at}: {problem}{began}"


def _bad(where: str, path: str, message: str) -> ClusterError:
    at = f" at `{path}`" if path else ""
    return ClusterError(
        f"the live spawner config has an unexpected shape{at}: {message}; kfws will not "
        "overwrite it",
        where=where,
        hint=_FIX,
    )


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    tag = str(node.tag).rsplit(":", 1)[-1]
    return {"str": "a string", "bool": "a boolean", "null": "nothing (null)"}.get(
        tag, f"a value of type {tag} ({node.value!r})"
    )


def _entries(node: yaml.MappingNode, path: str, where: str) -> dict[str, tuple[Any, Any]]:
    """key -> (key node, value node); duplicate keys and merge keys are refused (they make
    what the web app sees ambiguous, or an edit take effect elsewhere)."""
    found: dict[str, tuple[Any, Any]] = {}
    for k, v in node.value:
        if not isinstance(k, yaml.ScalarNode):
            continue
        name = str(k.value)
        if name == "<<":
            raise _bad(where, path, "merge keys (`<<`) are not supported in the owned sections")
        if name in found:
            raise _bad(
                where,
                f"{path}.{name}" if path else name,
                f"the key is there twice (lines {found[name][0].start_mark.line + 1} and "
                f"{k.start_mark.line + 1})",
            )
        found[name] = (k, v)
    return found


@dataclass
class _Located:
    """The owned nodes of one document, for reading and for splicing."""

    text: str
    where: str
    root: Any  # spawnerFormDefaults mapping node
    root_key: Any
    root_entries: dict[str, tuple[Any, Any]]
    groups: dict[str, tuple[Any, Any, dict[str, tuple[Any, Any]]]]  # key -> (key, map, entries)
    legacy: bool = False  # the Kubeflow 1.0 layout (see _is_legacy)


# A node's marks start at its properties (`&a !!str x` and `!!str &a x` begin at the `&` and
# the `!`), so its anchor is at its own start; an alias's node is the anchored one, whose marks
# come before the alias (an anchor precedes its aliases).
_ANCHORED = re.compile(r"(?:!\S*(?:\s|#[^\r\n]*)+)?&")


def _anchored(text: str, node: Any) -> bool:
    return _ANCHORED.match(text, node.start_mark.index) is not None


def _check_inline(text: str, key: Any, value: Any, path: str, where: str) -> None:
    """Refuse aliases and anchors on owned nodes: an edit there would show up elsewhere."""
    if value.start_mark.index < key.end_mark.index:
        raise _bad(where, path, "it is a YAML alias (`*name`); kfws edits only literal values")
    if _anchored(text, value):
        raise _bad(where, path, "it carries a YAML anchor (`&name`); kfws edits only plain values")


# A plan reads the live text, then edits that same text: remembering the last parses saves a
# pure-Python compose (the slow part) per plan. A pure function of its arguments; the result is
# never mutated.
@functools.lru_cache(maxsize=2)
def _locate(text: str, where: str) -> _Located:
    top = _compose(text, where)
    top_entries = _entries(top, "", where)
    if ROOT_KEY not in top_entries:
        raise _bad(where, "", f"there is no `{ROOT_KEY}` section")
    root_key, root = top_entries[ROOT_KEY]
    if not isinstance(root, yaml.MappingNode):
        raise _bad(where, ROOT_KEY, f"expected a mapping, found {_kind(root)}")
    _check_inline(text, root_key, root, ROOT_KEY, where)
    entries = _entries(root, ROOT_KEY, where)
    groups: dict[str, tuple[Any, Any, dict[str, tuple[Any, Any]]]] = {}
    for gk in GROUP_KEYS:
        if gk not in entries:
            continue
        k, g = entries[gk]
        path = f"{ROOT_KEY}.{gk}"
        if not isinstance(g, yaml.MappingNode):
            raise _bad(where, path, f"expected a mapping, found {_kind(g)}")
        _check_inline(text, k, g, path, where)
        groups[gk] = (k, g, _entries(g, path, where))
    legacy = "image" in groups and not any(k in entries for k in _NEWER_KEYS)
    return _Located(text, where, root, root_key, entries, groups, legacy)


# Keys only the Kubeflow 1.3+ web app reads. A config with an `image` group and none of these
# is the 1.0 layout, where `image.readOnly: true` is what stops users typing their own image
# (1.0's web app never reads `allowCustomImage`; 1.3+ reads it, and `image.readOnly` there locks
# the image field altogether).
_NEWER_KEYS = (
    "allowCustomImage",
    "hideRegistry",
    "hideTag",
    "imagePullPolicy",
    "imageGroupOne",
    "imageGroupTwo",
)
LEGACY_READ_ONLY = "image.readOnly"


def _legacy_read_only(loc: _Located) -> tuple[Any, Any] | None:
    """(key node, value node) of `image.readOnly` in the 1.0 layout, or None."""
    if not loc.legacy:
        return None
    k, v = loc.groups["image"][2].get("readOnly", (None, None))
    if k is None:
        return None
    _check_inline(loc.text, k, v, f"{ROOT_KEY}.image.readOnly", loc.where)
    return k, v


def _scalar(node: Any, want: type, path: str, where: str, *, nullable: bool = False) -> Any:
    if isinstance(node, yaml.ScalarNode):
        if node.tag == _NULL and nullable:
            return None
        if want is str and node.tag == _STR:
            return str(node.value)
        if want is bool and node.tag == _BOOL:
            return bool(yaml.constructor.SafeConstructor.bool_values[str(node.value).lower()])
    expected = {str: "a string", bool: "true or false"}[want]
    raise _bad(where, path, f"expected {expected}, found {_kind(node)}")


def _read_group(loc: _Located, gk: GroupKey) -> LiveGroup:
    path = f"{ROOT_KEY}.{gk}"
    entries = loc.groups[gk][2]
    value: str | None = None
    if "value" in entries:
        k, v = entries["value"]
        _check_inline(loc.text, k, v, f"{path}.value", loc.where)
        value = _scalar(v, str, f"{path}.value", loc.where, nullable=True)
    options: list[str] = []
    if "options" in entries:
        k, seq = entries["options"]
        _check_inline(loc.text, k, seq, f"{path}.options", loc.where)
        if isinstance(seq, yaml.SequenceNode):
            pos = seq.start_mark.index
            for i, item in enumerate(seq.value):
                ipath = f"{path}.options[{i}]"
                if item.start_mark.index < pos or _anchored(loc.text, item):
                    raise _bad(loc.where, ipath, "YAML anchors and aliases are not supported here")
                options.append(_scalar(item, str, ipath, loc.where))
                pos = item.end_mark.index
        elif not (isinstance(seq, yaml.ScalarNode) and seq.tag == _NULL):
            raise _bad(where=loc.where, path=f"{path}.options", message=_expected_list(seq))
    return LiveGroup(gk, value, tuple(options))


def _expected_list(node: Any) -> str:
    return f"expected a list of image references, found {_kind(node)}"


def _flag_node(loc: _Located, name: str) -> tuple[Any, Any, str] | None:
    """(key node, value node, form) of a flag: the scalar itself, or the `value` of its wrapped
    mapping (value node None when the wrapped mapping has no `value`)."""
    if name not in loc.root_entries:
        return None
    k, v = loc.root_entries[name]
    path = f"{ROOT_KEY}.{name}"
    _check_inline(loc.text, k, v, path, loc.where)
    if isinstance(v, yaml.MappingNode):
        inner = _entries(v, path, loc.where)
        if "value" not in inner:
            return (k, None, "wrapped")
        ik, iv = inner["value"]
        _check_inline(loc.text, ik, iv, f"{path}.value", loc.where)
        return (ik, iv, "wrapped")
    return (k, v, "plain")


def read_spawner(text: str, *, where: str = DEFAULT_WHERE) -> LiveSpawner:
    """The owned part of a live `spawner_ui_config.yaml`. Raises ClusterError (naming `where`,
    the path and the line) when the file doesn't parse or an owned value has an unexpected type."""
    return _read(_locate(text, where))


def _read(loc: _Located) -> LiveSpawner:
    where = loc.where
    groups = tuple(_read_group(loc, gk) for gk in GROUP_KEYS if gk in loc.groups)
    flags: dict[str, Any] = {}
    legacy = _legacy_read_only(loc)
    if legacy is not None:  # users may type their own image unless the field is read-only
        path = f"{ROOT_KEY}.{LEGACY_READ_ONLY}"
        read_only = _scalar(legacy[1], bool, path, where, nullable=True)
        flags["allowCustomImage"] = None if read_only is None else not read_only
    for name in FLAG_KEYS:
        found = _flag_node(loc, name)
        if found is None:
            continue
        _, node, form = found
        path = f"{ROOT_KEY}.{name}" + (".value" if form == "wrapped" else "")
        flags[name] = (
            None if node is None else _scalar(node, _FLAG_TYPES[name], path, where, nullable=True)
        )
    return LiveSpawner(
        groups=groups,
        allow_custom_image=flags.get("allowCustomImage"),
        hide_registry=flags.get("hideRegistry"),
        hide_tag=flags.get("hideTag"),
        image_pull_policy=flags.get("imagePullPolicy"),
        legacy=loc.legacy,
    )
