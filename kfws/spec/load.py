"""Loads workspace.yaml strictly: safe YAML with a location for every value, the JSON Schema,
then the checks a schema can't express (kfws.spec.checks). Every problem is collected with its
`file:line:col` and path before one SpecError is raised. No network.

Strict means: no Python tags (safe construction only), duplicate keys are an error (PyYAML
silently keeps the last), no tabs in indentation, UTF-8 only, at most 1 MiB, alias expansion
bounded (no "billion laughs"), and a mapping at the top.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from kfws.errors import SpecError
from kfws.spec.model import Spec
from kfws.spec.yaml_chars import first_unprintable

MAX_BYTES = 1 << 20
MAX_NODES = 50_000  # after alias expansion; a real workspace has a few hundred
MAX_DEPTH = 64  # nesting; a real workspace is 5 deep, and the walk below recurses per level

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Located:
    """The document as plain data, and where each path of it is in the file."""

    data: Any
    marks: dict[Path_, tuple[int, int]]  # path -> (line, column), 1-based
    file: str

    def where(self, path: Path_) -> str:
        # the nearest located ancestor: a missing key is reported where its parent is
        for i in range(len(path), -1, -1):
            if path[:i] in self.marks:
                line, col = self.marks[path[:i]]
                return f"{self.file}:{line}:{col}"
        return f"{self.file}:1:1"


def format_path(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


class _Problems:
    def __init__(self) -> None:
        self.items: list[tuple[tuple[int, int], str, str]] = []

    def add(self, where: str, path: Path_ | None, message: str) -> None:
        prefix = f"{format_path(path)}: " if path is not None else ""
        line, col = _line_col(where)
        self.items.append(((line, col), where, prefix + message))

    def raise_if_any(self) -> None:
        if self.items:
            ordered = sorted(set(self.items), key=lambda p: (p[0], p[2]))
            raise SpecError(
                [(where, msg) for _, where, msg in ordered],
                hint="fix these in the workspace file; `kfws schema` prints the format",
            )


def _line_col(where: str) -> tuple[int, int]:
    parts = where.rsplit(":", 2)
    try:
        return int(parts[-2]), int(parts[-1])
    except (ValueError, IndexError):
        return 0, 0


def _read(path: Path, problems: _Problems) -> str | None:
    name = str(path)
    try:
        # the size is checked on the open file before reading: `-f /dev/zero` or a FIFO must
        # be refused, not read forever
        with path.open("rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                problems.add(f"{name}:1:1", None, "not a regular file; give a workspace file")
                return None
            if st.st_size > MAX_BYTES:
                problems.add(
                    f"{name}:1:1", None, f"the file is {st.st_size} bytes; the limit is 1 MiB"
                )
                return None
            raw = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        problems.add(f"{name}:1:1", None, "no such file; `kfws init` writes a starter workspace")
        return None
    except IsADirectoryError:
        problems.add(f"{name}:1:1", None, "a folder, not a workspace file")
        return None
    except OSError as e:
        problems.add(f"{name}:1:1", None, f"cannot read it: {e.strerror}")
        return None
    if len(raw) > MAX_BYTES:
        problems.add(f"{name}:1:1", None, "the file is over the 1 MiB limit")
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        col = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        problems.add(f"{name}:{line}:{col}", None, "not UTF-8 text; save the file as UTF-8")
        return None
    for number, line_text in enumerate(text.splitlines(), 1):
        stripped = line_text.lstrip(" ")
        if stripped.startswith("\t"):
            col = len(line_text) - len(stripped) + 1
            problems.add(
                f"{name}:{number}:{col}", None, "a tab in indentation; YAML indents with spaces"
            )
    return text


def _compose(text: str, file: str, problems: _Problems) -> yaml.Node | None:
    try:
        # libyaml's parser when PyYAML has it (several times faster on big files); same marks
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        return yaml.compose(text, Loader=loader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"{file}:{mark.line + 1}:{mark.column + 1}" if mark else f"{file}:1:1"
        problems.add(where, None, f"not valid YAML: {e.problem or e.context}")
    except yaml.YAMLError as e:
        # a reader error has a position (in units that depend on the reader), not a mark:
        # locate the refused character in the decoded text instead
        bad = first_unprintable(text)
        if bad is not None:
            problems.add(f"{file}:{bad.line}:{bad.column}", None, f"not valid YAML: {bad.message}")
        else:
            problems.add(f"{file}:1:1", None, f"not valid YAML: {str(e).splitlines()[0]}")
    return None


_SAFE_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:timestamp",
}


class _TooBig(Exception):
    pass


class _TooDeep(Exception):
    def __init__(self, node: yaml.Node) -> None:
        self.node = node


class _Loop(Exception):
    def __init__(self, node: yaml.Node) -> None:
        self.node = node


def _at(file: str, node: yaml.Node) -> str:
    return f"{file}:{node.start_mark.line + 1}:{node.start_mark.column + 1}"


def _to_data(root: yaml.Node, file: str, problems: _Problems) -> Located:
    marks: dict[Path_, tuple[int, int]] = {}
    constructor = yaml.SafeLoader("")  # for scalar values exactly as safe_load gives them
    count = 0

    active: set[int] = set()  # ids of the collections being walked: an alias to one is a loop

    def walk(node: yaml.Node, path: Path_) -> Any:
        nonlocal count
        count += 1
        if count > MAX_NODES:
            raise _TooBig
        if len(path) > MAX_DEPTH:
            raise _TooDeep(node)
        if id(node) in active:
            raise _Loop(node)
        marks.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        where = f"{file}:{node.start_mark.line + 1}:{node.start_mark.column + 1}"
        if node.tag not in _SAFE_TAGS:
            problems.add(where, path, f"the tag {node.tag} is not allowed (plain YAML only)")
            return None
        if not isinstance(node, yaml.CollectionNode):
            return scalar(node, where, path)
        active.add(id(node))
        try:
            return collection(node, path, where)
        finally:
            active.discard(id(node))

    def collection(node: yaml.Node, path: Path_, where: str) -> Any:
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            seen: dict[Any, int] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    problems.add(where, path, "mapping keys must be plain scalars")
                    continue
                key_where = (
                    f"{file}:{key_node.start_mark.line + 1}:{key_node.start_mark.column + 1}"
                )
                if key_node.tag == "tag:yaml.org,2002:merge":
                    problems.add(
                        key_where, path, "merge keys (<<) are not supported; write the values out"
                    )
                    continue
                if key_node.tag not in _SAFE_TAGS:
                    problems.add(key_where, path, f"the tag {key_node.tag} is not allowed")
                    continue
                key = scalar(key_node, key_where, path)
                if key in seen:
                    problems.add(
                        key_where,
                        path,
                        f"duplicate key {key!r} (first at line {seen[key]}); YAML would keep "
                        "only the last one",
                    )
                    continue
                seen[key] = key_node.start_mark.line + 1
                child = (*path, str(key))
                marks[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                out[key] = walk(value_node, child)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [walk(item, (*path, i)) for i, item in enumerate(node.value)]
        return scalar(node, where, path)

    def scalar(node: yaml.Node, where: str, path: Path_) -> Any:
        try:
            return constructor.construct_object(node)
        except (yaml.YAMLError, ValueError) as e:
            problems.add(where, path, f"cannot read this value: {str(e).splitlines()[0]}")
            return None

    try:
        data = walk(root, ())
    except _TooBig:
        problems.add(
            f"{file}:1:1",
            None,
            f"more than {MAX_NODES} values after expanding aliases (an alias bomb?)",
        )
        data = None
    except _TooDeep as e:
        problems.add(_at(file, e.node), None, f"nested more than {MAX_DEPTH} levels deep")
        data = None
    except _Loop as e:
        problems.add(_at(file, e.node), None, "an alias that contains itself (a loop)")
        data = None
    return Located(data, marks, file)


def parse_located(path: Path) -> Located:
    """Reads and parses the file strictly; raises SpecError with every problem found."""
    problems = _Problems()
    text = _read(path, problems)
    problems.raise_if_any()
    assert text is not None
    root = _compose(text, str(path), problems)
    problems.raise_if_any()
    if root is None:
        problems.add(
            f"{path}:1:1", None, "the file is empty; `kfws init` writes a starter workspace"
        )
        problems.raise_if_any()
    assert root is not None
    located = _to_data(root, str(path), problems)
    problems.raise_if_any()
    if not isinstance(located.data, dict):
        problems.add(f"{path}:1:1", None, "the top level must be a mapping (apiVersion, kind, ...)")
        problems.raise_if_any()
    return located


def read_yaml_text(path: Path) -> str:
    """The file's text once it is known to be bounded UTF-8 YAML, before a round-trip editor
    (kfws import) merges into it: its own errors would name no file and no line. Not checked
    against the schema: a file being filled in may be incomplete. Raises SpecError."""
    problems = _Problems()
    text = _read(path, problems)
    problems.raise_if_any()
    assert text is not None
    _compose(text, str(path), problems)
    problems.raise_if_any()
    return text


@cache
def workspace_schema() -> dict[str, Any]:
    text = resources.files("kfws").joinpath("data/workspace.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _schema_node(schema: dict[str, Any], path: Path_) -> dict[str, Any] | None:
    node: Any = schema
    for part in path:
        if not isinstance(node, dict):
            return None
        if isinstance(part, int):
            node = node.get("items")
        elif part in node.get("properties", {}):
            node = node["properties"][part]
        elif isinstance(node.get("additionalProperties"), dict):
            node = node["additionalProperties"]
        else:
            return None
    return node if isinstance(node, dict) else None


def _control_problems(node: Any, path: Path_, located: Located, problems: _Problems) -> None:
    """A newline, NUL, ESC or bidi override in any string (key or value) is refused wherever it
    is: such a string could end a line of a generated Dockerfile, or read other than it is."""
    from kfws.spec.checks import control_problem

    if isinstance(node, dict):
        for key, value in node.items():
            child = (*path, str(key))
            if not isinstance(key, str):
                # YAML 1.1 reads ON, yes, 1, null as bool, int, None: `env: {ON: 1}` would
                # quietly become TRUE=1
                problems.add(
                    located.where(child),
                    child,
                    f"this key is read as {type(key).__name__} {key!r}, not as text; quote it",
                )
                continue
            problem = control_problem(str(key))
            if problem:
                problems.add(located.where(child), (*path, repr(str(key))), "the key " + problem)
            _control_problems(value, child, located, problems)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            _control_problems(item, (*path, i), located, problems)
    elif isinstance(node, str):
        problem = control_problem(node)
        if problem:
            problems.add(located.where(path), path, problem)


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    """Schema patterns as ECMA-262 reads them (kfws.spec.schema_check.ecma_pattern)."""
    import jsonschema

    from kfws.spec.schema_check import ecma_pattern

    if isinstance(instance, str) and not ecma_pattern(pattern).search(instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


@cache
def _validator() -> Any:
    import jsonschema

    cls = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
        jsonschema.Draft202012Validator, {"pattern": _pattern}
    )
    return cls(workspace_schema())


def _schema_problems(located: Located, problems: _Problems) -> None:
    from kfws.spec.schema_check import valid

    schema = workspace_schema()
    if valid(located.data, schema) is True:
        return  # jsonschema would find nothing: not even imported (it costs more than the rest)
    validator = _validator()
    for error in validator.iter_errors(located.data):
        path: Path_ = tuple(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = sorted((_schema_node(schema, path) or {}).get("properties", {}))
            for key in sorted((k for k in error.instance if k not in allowed), key=str):
                from kfws.spec.checks import secret_key_problem

                secret = secret_key_problem(str(key))
                if secret:
                    problems.add(located.where((*path, str(key))), (*path, str(key)), secret)
                    continue
                guess = difflib.get_close_matches(str(key), allowed, n=1)
                hint = (
                    f"; did you mean {guess[0]!r}?" if guess else f"; allowed: {', '.join(allowed)}"
                )
                problems.add(
                    located.where((*path, str(key))), (*path, str(key)), f"unknown key{hint}"
                )
            continue
        problems.add(located.where(path), path, _message(error))


def _message(error: Any) -> str:
    if error.validator == "enum":
        return f"{error.instance!r} is not one of {', '.join(map(repr, error.validator_value))}"
    if error.validator == "const":
        return f"must be {error.validator_value!r}, not {error.instance!r}"
    if error.validator == "type":
        return f"{error.instance!r} is not of type {error.validator_value}"
    if error.validator == "pattern":
        return f"{error.instance!r} does not match the expected form {error.validator_value}"
    if error.validator == "required":
        return str(error.message).replace("is a required property", "is required")
    return str(error.message)


def iter_problems(path: Path) -> Iterator[tuple[str, str]]:
    """For `kfws validate`: every problem as (location, message), or nothing."""
    try:
        load_spec(path)
    except SpecError as e:
        yield from e.problems


def load_spec(path: Path) -> Spec:
    from kfws.spec.build import build_spec

    located = parse_located(path)
    problems = _Problems()
    _control_problems(located.data, (), located, problems)
    _schema_problems(located, problems)
    problems.raise_if_any()
    digest = "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    return build_spec(located, path.resolve(), digest, problems)
