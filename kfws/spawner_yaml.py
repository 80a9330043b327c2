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

The parser is PyYAML's (YAML 1.1), because that is what Kubeflow's web app reads the file with:
`yes`/`on` are booleans to it, so they are to us. Only safe construction is used.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml

from kfws.errors import ClusterError
from kfws.spec.model import GROUP_KEYS, GroupKey

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
_BREAKS = "\r\n\x85\u2028\u2029"


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


def _check_inline(text: str, key: Any, value: Any, path: str, where: str) -> None:
    """Refuse aliases and anchors on owned nodes: an edit there would show up elsewhere."""
    if value.start_mark.index < key.end_mark.index:
        raise _bad(where, path, "it is a YAML alias (`*name`); kfws edits only literal values")
    between = text[key.end_mark.index : value.start_mark.index]
    between = re.sub(r"#[^\r\n]*", "", between)
    if "&" in between or "*" in between:
        raise _bad(where, path, "it carries a YAML anchor or alias; kfws edits only plain values")


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
                between = re.sub(r"#[^\r\n]*", "", loc.text[pos : item.start_mark.index])
                if item.start_mark.index < pos or "*" in between or "&" in between:
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


# --------------------------------------------------------------------------------------------
# text helpers


def _newline(text: str) -> str:
    m = re.search(r"\r\n|\n|\r", text)
    return m.group(0) if m else "\n"


def _line_start(text: str, idx: int) -> int:
    i = idx
    while i > 0 and text[i - 1] not in _BREAKS:
        i -= 1
    return i


def _line_end(text: str, idx: int) -> int:
    """The index just past the line break ending the line that holds `idx` (or len(text))."""
    i = idx
    n = len(text)
    while i < n and text[i] not in _BREAKS:
        i += 1
    if i < n:
        i += 2 if text.startswith("\r\n", i) else 1
    return i


def _node_end_line(text: str, node: Any) -> int:
    """The index past the line break of the node's last line (comments on it included)."""
    last = _last_scalar(node)
    idx: int = last.end_mark.index
    if isinstance(last, yaml.CollectionNode):  # a flow collection ends with its bracket
        return _line_end(text, max(idx - 1, 0))
    if idx > 0 and text[idx - 1] in _BREAKS:  # block scalars end at the next line's start
        return idx
    return _line_end(text, idx)


def _last_scalar(node: Any) -> Any:
    if isinstance(node, yaml.CollectionNode) and node.flow_style:
        return node
    if isinstance(node, yaml.MappingNode) and node.value:
        return _last_scalar(node.value[-1][1])
    if isinstance(node, yaml.SequenceNode) and node.value:
        return _last_scalar(node.value[-1])
    return node


def _plain_ok(s: str, context: str) -> bool:
    if not s or s != s.strip() or any(c in s for c in _BREAKS + "\t"):
        return False
    try:
        if context == "flow":
            return bool(yaml.safe_load(f"[{s}]") == [s])
        if context == "item":
            return bool(yaml.safe_load(f"- {s}") == [s])
        return bool(yaml.safe_load(f"k: {s}") == {"k": s})
    except yaml.YAMLError:
        return False


def _render(value: str | bool, *, style: str | None = None, context: str = "value") -> str:
    """One YAML scalar: booleans as true/false; strings plain when that reads back the same,
    else in the original quoting style, else double-quoted (JSON escapes are valid YAML)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if style == "'" and not any(c in value for c in _BREAKS):
        return "'" + value.replace("'", "''") + "'"
    if style == '"' or not _plain_ok(value, context):
        return json.dumps(value, ensure_ascii=False)
    return value


# --------------------------------------------------------------------------------------------
# editing


@dataclass
class _Splice:
    start: int
    end: int
    text: str
    depth: int  # at one position, insertions into deeper structures come first
    order: int


class _Editor:
    def __init__(self, loc: _Located) -> None:
        self.loc = loc
        self.text = loc.text
        self.nl = _newline(loc.text)
        self.splices: list[_Splice] = []

    def add(self, start: int, end: int, text: str, *, depth: int = 0) -> None:
        self.splices.append(_Splice(start, end, text, depth, len(self.splices)))

    def result(self) -> str:
        out: list[str] = []
        pos = 0
        n = len(self.text)
        needs_break = bool(self.text) and self.text[-1] not in _BREAKS
        for s in sorted(self.splices, key=lambda s: (s.start, -s.depth, s.order)):
            if s.start < pos:
                raise AssertionError("overlapping edits of the spawner config")
            out.append(self.text[pos : s.start])
            if s.start == n and s.text and needs_break:  # lines appended to a file whose
                if "".join(out)[-1:] not in _BREAKS:  # last line has no line break
                    out.append(self.nl)
                needs_break = False
            out.append(s.text)
            pos = s.end
        out.append(self.text[pos:])
        return "".join(out)

    # -- scalars

    def set_scalar(self, node: Any, value: str | bool, *, in_flow: bool = False) -> None:
        start, end = node.start_mark.index, node.end_mark.index
        style = node.style if node.tag == _STR else None
        rendered = _render(value, style=style, context="flow" if in_flow else "value")
        if node.style in ("|", ">"):
            self.add(start, end, rendered + self.nl)
        elif start == end and start > 0 and self.text[start - 1] not in " \t":
            self.add(start, end, " " + rendered)
        else:
            self.add(start, end, rendered)

    # -- insertion of a missing key into a mapping

    def insert_key(self, mapping: Any, lines: list[str], flow_text: str) -> None:
        """`lines`: the key's block form, unindented (relative indents of 2); `flow_text`:
        `key: value` for a flow mapping."""
        if mapping.flow_style:
            close = mapping.end_mark.index - 1  # the `}`
            sep = ", " if mapping.value else ""
            self.add(close, close, sep + flow_text)
            return
        column = mapping.value[0][0].start_mark.column if mapping.value else 0
        at = _node_end_line(self.text, mapping.value[-1][1])
        text = "".join(" " * column + line + self.nl for line in lines)
        self.add(at, at, text, depth=column)

    # -- lists

    def set_options(
        self, group_key: str, mapping: Any, entry: tuple[Any, Any] | None, items: tuple[str, ...]
    ) -> None:
        step = _indent_step(self.loc)
        if entry is None:
            block = ["options:", *(" " * step + "- " + _render(i, context="item") for i in items)]
            if not items:
                block = ["options: []"]
            self.insert_key(mapping, block, "options: " + _flow(items))
            return
        key, seq = entry
        if isinstance(seq, yaml.ScalarNode):  # null: `options:` or `options: ~`
            self._fill_empty(key, seq, items, mapping)
        elif seq.flow_style:
            if not seq.value and items and not mapping.flow_style and _alone_on_line(seq, key):
                self._fill_empty(key, seq, items, mapping)
            else:
                self.add(seq.start_mark.index, seq.end_mark.index, _flow(items))
        else:
            self._rebuild_block(key, seq, items)

    def _fill_empty(self, key: Any, node: Any, items: tuple[str, ...], mapping: Any) -> None:
        """`options:` / `options: ~` / `options: []` becomes a block list under the key."""
        if not items:
            if not (isinstance(node, yaml.SequenceNode) and not node.value):
                self.set_raw(key, node, "[]")
            return
        if mapping.flow_style:
            self.add(node.start_mark.index, node.end_mark.index, _flow(items))
            return
        start, end = node.start_mark.index, node.end_mark.index
        while start > key.end_mark.index and self.text[start - 1] in " \t":
            start -= 1
        self.add(start, end, "")
        indent = " " * (key.start_mark.column + _indent_step(self.loc))
        at = _line_end(self.text, max(end - 1, key.end_mark.index))
        lines = "".join(f"{indent}- {_render(i, context='item')}{self.nl}" for i in items)
        self.add(at, at, lines, depth=len(indent))

    def set_raw(self, key: Any, node: Any, raw: str) -> None:
        start, end = node.start_mark.index, node.end_mark.index
        if start == end and start > 0 and self.text[start - 1] not in " \t":
            raw = " " + raw
        self.add(start, end, raw)

    def _rebuild_block(self, key: Any, seq: Any, items: tuple[str, ...]) -> None:
        text = self.text
        first = seq.value[0]
        region_start = _line_start(text, seq.start_mark.index)
        indent = text[region_start : seq.start_mark.index]
        if indent.strip(" "):
            raise _bad(self.loc.where, "", "a list kfws owns does not start on its own line")
        same_line = first.start_mark.line == seq.start_mark.line
        gap = text[seq.start_mark.index : first.start_mark.index] if same_line else "- "
        if not gap.startswith("-") or gap.strip(" -"):
            gap = "- "
        # each old item owns the lines from just after the previous item to the end of its own
        # last line: comments and blank lines above an item travel with it
        segments: list[tuple[str, str]] = []
        pos = region_start
        for item in seq.value:
            end = _node_end_line(text, item)
            segments.append((str(item.value), text[pos:end]))
            pos = end
        region_end = pos
        if not items:
            pad = " " * max(len(indent), key.start_mark.column + _indent_step(self.loc))
            eof = region_end == len(text) and not text.endswith(tuple(_BREAKS))
            self.add(region_start, region_end, f"{pad}[]" + ("" if eof else self.nl))
            return
        used = [False] * len(segments)
        out: list[str] = []
        for want in items:
            idx = next((i for i, (v, _) in enumerate(segments) if v == want and not used[i]), None)
            if idx is not None:
                used[idx] = True
                seg = segments[idx][1]
                if not seg.endswith(tuple(_BREAKS)):
                    seg += self.nl
                out.append(seg)
            else:
                rendered = _render(want, style=first.style, context="item")
                out.append(f"{indent}{gap}{rendered}{self.nl}")
        new = "".join(out)
        if region_end == len(text) and not text.endswith(tuple(_BREAKS)):
            new = new[: -len(self.nl)]
        if new != text[region_start:region_end]:
            self.add(region_start, region_end, new)


def _alone_on_line(seq: Any, key: Any) -> bool:
    return bool(seq.start_mark.line == key.start_mark.line == seq.end_mark.line)


def _flow(items: tuple[str, ...]) -> str:
    return "[" + ", ".join(_render(i, context="flow") for i in items) + "]"


def _indent_step(loc: _Located) -> int:
    root = loc.root
    if not root.flow_style and root.value:
        step = root.value[0][0].start_mark.column - loc.root_key.start_mark.column
        if step > 0:
            return int(step)
    return 2


def _group_lines(group: LiveGroup, step: int) -> list[str]:
    pad = " " * step
    lines = [f"{group.key}:"]
    if group.value is not None:
        lines.append(f"{pad}value: {_render(group.value)}")
    if group.options:
        lines.append(f"{pad}options:")
        lines.extend(f"{pad * 2}- {_render(o, context='item')}" for o in group.options)
    else:
        lines.append(f"{pad}options: []")
    return lines


def edit_spawner(text: str, desired: LiveSpawner, *, where: str = DEFAULT_WHERE) -> str:
    """`text` with the owned values set to `desired` (groups and flags absent from `desired`
    are left alone), every other byte unchanged. Returns `text` itself when nothing differs.
    Raises ClusterError when `text` can't be edited safely; it is then never overwritten."""
    loc = _locate(text, where)
    live = _read(loc)  # one parse: the pure-Python composer is the slow part
    if loc.legacy:
        _refuse_newer_keys(desired, where)
    ed = _Editor(loc)
    step = _indent_step(loc)
    for want in desired.groups:
        have = live.group(want.key)
        if have is None:
            ed.insert_key(loc.root, _group_lines(want, step), _flow_group(want))
            continue
        _, gmap, entries = loc.groups[want.key]
        if want.value is not None and want.value != have.value:
            if "value" in entries:
                ed.set_scalar(entries["value"][1], want.value, in_flow=bool(gmap.flow_style))
            else:
                v = _render(want.value, context="flow" if gmap.flow_style else "value")
                ed.insert_key(gmap, [f"value: {v}"], f"value: {v}")
        if want.options != have.options:
            ed.set_options(want.key, gmap, entries.get("options"), want.options)
    want_flags = desired.flags()
    have_flags = live.flags()
    for name in FLAG_KEYS:
        value = want_flags[name]
        if value is None or value == have_flags[name]:
            continue
        if loc.legacy and name == "allowCustomImage":
            _set_legacy_read_only(ed, loc, not value)
            continue
        found = _flag_node(loc, name)
        rendered = _render(value)
        if found is None and name == "imagePullPolicy":  # Kubeflow reads it wrapped
            pad = " " * step
            lines = [f"{name}:", f"{pad}readOnly: false", f"{pad}value: {rendered}"]
            ed.insert_key(loc.root, lines, f"{name}: {{readOnly: false, value: {rendered}}}")
        elif found is None:
            ed.insert_key(loc.root, [f"{name}: {rendered}"], f"{name}: {rendered}")
        elif found[1] is None:  # wrapped without a `value`
            wrapped = loc.root_entries[name][1]
            ed.insert_key(wrapped, [f"value: {rendered}"], f"value: {rendered}")
        else:
            ed.set_scalar(found[1], value, in_flow=_in_flow(loc, name))
    new = ed.result()
    if new != text:
        _verify(text, new, desired, where, legacy=loc.legacy)
    return new


def _refuse_newer_keys(desired: LiveSpawner, where: str) -> None:
    """The 1.0 web app reads only `image`: a group or flag it ignores would be a line that
    changes nothing for users (and would make the file look like the 1.3+ layout)."""
    ignored: list[str] = [g.key for g in desired.groups if g.key != "image"]
    ignored += [k for k, v in desired.flags().items() if v is not None and k != "allowCustomImage"]
    if ignored:
        names = ", ".join(f"`{k}`" for k in ignored)
        raise ClusterError(
            "the spawner config has the Kubeflow 1.0 layout (only an `image` group, whose "
            f"`readOnly` decides whether users may type their own image); its web app does not "
            f"read {names}, so kfws will not add {'it' if len(ignored) == 1 else 'them'}",
            where=where,
            hint=f"remove {names} from workspace.yaml's `spawner` for this cluster "
            "(`allowCustomImage` is written as `image.readOnly` there)",
        )


def _set_legacy_read_only(ed: _Editor, loc: _Located, read_only: bool) -> None:
    found = _legacy_read_only(loc)
    if found is not None and found[1].tag != _NULL:
        ed.set_scalar(found[1], read_only)
    elif found is not None:
        ed.set_raw(found[0], found[1], _render(read_only))
    else:
        v = _render(read_only)
        ed.insert_key(loc.groups["image"][1], [f"readOnly: {v}"], f"readOnly: {v}")


def _in_flow(loc: _Located, name: str) -> bool:
    _, v = loc.root_entries[name]
    return bool(loc.root.flow_style or (isinstance(v, yaml.MappingNode) and v.flow_style))


def _flow_group(group: LiveGroup) -> str:
    parts = []
    if group.value is not None:
        parts.append(f"value: {_render(group.value, context='flow')}")
    parts.append(f"options: {_flow(group.options)}")
    return f"{group.key}: {{{', '.join(parts)}}}"


def expected_document(old: Any, desired: LiveSpawner, *, legacy: bool = False) -> Any:
    """The parsed old document with the owned values set: what the edited text must parse to."""
    doc = json.loads(json.dumps(old, default=str))
    root = doc[ROOT_KEY]
    if legacy and desired.allow_custom_image is not None:
        root["image"]["readOnly"] = not desired.allow_custom_image
        desired = dataclasses.replace(desired, allow_custom_image=None)
    for g in desired.groups:
        created = g.key not in root
        group = root.setdefault(g.key, {})
        if g.value is not None and group.get("value") != g.value:
            group["value"] = g.value
        if created or tuple(group.get("options") or ()) != g.options:
            group["options"] = list(g.options)
    for name, value in desired.flags().items():
        current = root.get(name)
        if (
            value is None
            or (current.get("value") if isinstance(current, dict) else current) == value
        ):
            continue
        if isinstance(current, dict):
            root[name]["value"] = value
        elif name == "imagePullPolicy" and name not in root:
            root[name] = {"readOnly": False, "value": value}
        else:
            root[name] = value
    return doc


def _verify(old: str, new: str, desired: LiveSpawner, where: str, *, legacy: bool) -> None:
    try:
        got = _safe_load(new)
    except yaml.YAMLError as e:
        raise ClusterError(
            f"kfws's edit of the spawner config would not parse ({e}); nothing was written "
            "(a bug in kfws: please report it with the ConfigMap's text)",
            where=where,
        ) from None
    want = expected_document(_safe_load(old), desired, legacy=legacy)
    if json.loads(json.dumps(got, default=str)) != want:
        raise ClusterError(
            "kfws's edit of the spawner config would change more than the owned lists; "
            "nothing was written (a bug in kfws: please report it with the ConfigMap's text)",
            where=where,
        )


def owned_line_spans(
    text: str, *, where: str = DEFAULT_WHERE, whole_entries: bool = False
) -> Iterator[tuple[str, int, int]]:
    """(name, first, last) 0-based line numbers of every owned node: what an edit may touch
    ("image.options", "hideTag", ...). With `whole_entries`, each group's and flag's whole entry
    instead (named "image", "imagePullPolicy"): what inserting it adds. For tests and reports."""
    loc = _locate(text, where)
    for gk, (gkey, gmap, entries) in loc.groups.items():
        if whole_entries:
            yield gk, gkey.start_mark.line, _last_scalar(gmap).end_mark.line
            continue
        for name in ("value", "options"):
            if name in entries:
                k, v = entries[name]
                yield f"{gk}.{name}", k.start_mark.line, _last_scalar(v).end_mark.line
    legacy = _legacy_read_only(loc)
    if legacy is not None:
        yield "allowCustomImage", legacy[0].start_mark.line, legacy[1].end_mark.line
    for name in FLAG_KEYS:
        found = _flag_node(loc, name)
        if whole_entries and name in loc.root_entries:
            k, v = loc.root_entries[name]
            yield name, k.start_mark.line, _last_scalar(v).end_mark.line
        elif not whole_entries and found is not None and found[1] is not None:
            yield name, found[0].start_mark.line, found[1].end_mark.line
