"""The edit half of kfws.targets.spawner.config_yaml: splice the owned values of
`spawner_ui_config.yaml` into the text, keeping every other byte, then parse the result again
and refuse it unless only the owned values changed (see config_yaml's docstring for how)."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from kfws.errors import ClusterError

# the reader's node helpers: one package, one YAML model, read and edited in two modules
from kfws.targets.spawner.config_yaml import (
    _NULL,
    _STR,
    DEFAULT_WHERE,
    FLAG_KEYS,
    ROOT_KEY,
    LiveGroup,
    LiveSpawner,
    _bad,
    _flag_node,
    _legacy_read_only,
    _locate,
    _Located,
    _read,
    _safe_load,
)

# the line breaks YAML knows (a splice ends a line at any of them, as the parser does)
_BREAKS = "\r\n\x85\u2028\u2029"

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
