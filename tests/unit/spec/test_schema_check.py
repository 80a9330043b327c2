"""kfws.spec.schema_check.valid (jsonschema-rs) against jsonschema's verdict (the validator
kfws.spec.load uses, ECMA patterns included): True only where jsonschema finds no problem, False
only where it finds one, over the workspaces kfws ships and tests, every example in the schema
at its own node, and every single-value mutation of those workspaces. And it answers (not None)
for them, so a valid workspace really skips jsonschema."""

from __future__ import annotations

import copy
import datetime
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kfws.spec import load
from kfws.spec.schema_check import ecma_pattern, valid
from tests.unit.spec.test_fuzz_workspace import RICH

REPO = Path(__file__).parents[3]
SCHEMA = load.workspace_schema()
KINDS = {"jupyterlab": {"default": "tf", "images": [{"id": "tf", "image": "jupyter-tf"}]}}


def corpus() -> list[Any]:
    docs = [
        yaml.safe_load(RICH),
        yaml.safe_load((REPO / "kfws/data/starter-workspace.yaml").read_text()),
        yaml.safe_load((REPO / "workspace.yaml").read_text()),
    ]
    docs.append({**docs[0], "workspaceKinds": copy.deepcopy(KINDS)})
    docs[-1]["workspaceKinds"]["jupyterlab"]["images"][0].update(
        {"labels": {"python": "3.11"}, "pullPolicy": "Always", "ports": [{"id": "j", "port": 80}]}
    )
    return docs


# kfws's validator class: Draft 2020-12 with ECMA patterns
VALIDATOR = type(load._validator())


def jsonschema_valid(doc: Any, schema: Any = SCHEMA) -> bool:
    return not any(VALIDATOR(schema).iter_errors(doc))


def agrees(doc: Any, schema: Any = SCHEMA) -> bool | None:
    answer = valid(doc, schema)
    if answer is not None:
        assert answer is jsonschema_valid(doc, schema), (answer, doc)
    return answer


def test_the_workspaces_kfws_ships_and_tests_are_valid_without_jsonschema() -> None:
    for doc in corpus():
        assert agrees(doc) is True


def _examples(node: Any) -> Iterator[tuple[Any, Any]]:
    if isinstance(node, dict):
        for example in node.get("examples", []):
            yield example, node
        for key, value in node.items():
            if key != "examples":
                yield from _examples(value)
    elif isinstance(node, list):
        for item in node:
            yield from _examples(item)


def test_every_example_in_the_schema_is_judged_as_jsonschema_judges_it() -> None:
    pairs = list(_examples(SCHEMA))
    assert len(pairs) > 90
    assert [agrees(example, node) for example, node in pairs].count(True) == len(pairs)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    items = (
        node.items() if isinstance(node, dict) else enumerate(node if type(node) is list else [])
    )
    for key, value in items:
        yield from _paths(value, (*path, key))


OTHER: list[Any] = [None, "", "x", "UPPER", "a b", "a\n", 0, -1, 1, 1.0, 1.5, True, False]
OTHER += [[], ["a"], ["a", "a"], {}, {"k": "v"}, {1: "v"}, datetime.date(2026, 1, 1), 10**30]


def mutants(doc: Any, under: tuple[Any, ...]) -> Iterator[Any]:
    """`doc` with one value (at or below `under`) replaced by each of OTHER, or deleted, or
    given a key the schema does not know."""
    for path in [p for p in _paths(doc) if p[: len(under)] == under and p]:
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        key = path[-1]
        for value in OTHER:
            yield _replaced(doc, path, value)
        if isinstance(parent, dict):
            changed = copy.deepcopy(doc)
            target = changed
            for part in path[:-1]:
                target = target[part]
            del target[key]
            yield changed
            target["bogus"] = "x"
            yield changed


def _replaced(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    changed = copy.deepcopy(doc)
    target = changed
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = copy.deepcopy(value)
    return changed


# RICH (images, spawner), the starter workspace, and the WorkspaceKinds section (the rest of
# that document is RICH again)
@pytest.mark.parametrize(("which", "under"), [(0, ()), (1, ()), (3, ("workspaceKinds",))])
def test_every_single_value_mutation_is_judged_as_jsonschema_judges_it(
    which: int, under: tuple[str, ...]
) -> None:
    answers = [agrees(doc) for doc in mutants(corpus()[which], under)]
    assert True in answers and False in answers
    # unsure only for what YAML hardly writes here: a date, a huge int
    assert answers.count(None) < len(answers) / 10


def test_what_jsonschema_rs_cannot_take_is_left_to_jsonschema() -> None:
    """A date or a key that is not text (YAML writes both) is no JSON value: unsure, not a
    verdict."""
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    assert valid({"a": datetime.date(2026, 1, 1)}, schema) is None
    assert valid({1: "x"}, schema) is None
    assert valid({"a": "x"}, schema) is True
    assert valid({"a": 1}, schema) is False


def test_patterns_are_ecma_262_as_kfws_s_jsonschema_reads_them() -> None:
    """`$` is the end of the input: no match before a final newline (Python's re would)."""
    schema = {"type": "string", "pattern": "^a$"}
    assert (valid("a", schema), valid("a\n", schema)) == (True, False)
    assert jsonschema_valid("a\n", schema) is False
    assert ecma_pattern("^a$").pattern == "^a\\Z"


SMALL = """\
apiVersion: kfws/v1alpha1
kind: Workspace
registry: {default: registry.example.com/ds-team}
spawner:
  image: {mode: merge, options: [registry.example.com/base/py:3.11]}
  allowCustomImage: true
"""


def test_a_valid_workspace_loads_without_importing_jsonschema(tmp_path: Path) -> None:
    """The saving itself (in a fresh process: this one has imported jsonschema already)."""
    code = """
import sys
from pathlib import Path
from kfws.errors import SpecError
from kfws.spec.load import load_spec
try:
    load_spec(Path(sys.argv[1]))
except SpecError as e:
    print(*(message for _, message in e.problems))
print("jsonschema" in sys.modules)
"""
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(SMALL)
    bad.write_text(SMALL.replace("allowCustomImage: true", "allowCustomImag: true"))
    for path, out in (
        (good, "False\n"),
        (bad, "spawner.allowCustomImag: unknown key; did you mean 'allowCustomImage'?\nTrue\n"),
    ):
        proc = subprocess.run(
            [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
        )
        assert proc.stdout == out
