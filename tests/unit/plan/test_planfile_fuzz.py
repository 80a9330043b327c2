"""Fuzz: 1,000 mutated saved plans through the CLI entry point, in-process (`kfws show` and
`kfws apply`). A mutant is refused with a message (exit 1) or shown (exit 0); never exit 3, never
a traceback. Mutations are random byte edits and random JSON edits of a real saved plan, from a
fixed seed so a failure reproduces."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kfws.cli import main
from kfws.plan.planfile import write_plan
from tests.unit.factories import full_plan

SEED = 20261129
MUTANTS = 1000

JUNK: list[Any] = [
    None,
    True,
    -1,
    0,
    2**70,
    1.5,
    "",
    "x" * 5000,
    "a\nb",
    "\x1b[2J\x1b]0;owned\x07",
    "\u202eevil",
    "\ud800",
    "/dev/zero",
    "../../../../dev/zero",
    "fifo",  # a FIFO next to the plan
    "sha256:" + "0" * 64,
    [],
    {},
    [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],
    {"kind": "build"},
]


def _junk(rng: random.Random) -> Any:
    return copy.deepcopy(rng.choice(JUNK))  # a fresh copy: later edits mustn't alias it


def _paths(node: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield at
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*at, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*at, i))


def _json_mutant(rng: random.Random, data: Any) -> str:
    data = json.loads(json.dumps(data))
    for _ in range(rng.randint(1, 3)):
        paths = [p for p in _paths(data) if p]
        path = rng.choice(paths)
        parent: Any = data
        for step in path[:-1]:
            parent = parent[step]
        key = path[-1]
        match rng.randrange(6):
            case 0:
                parent[key] = _junk(rng)
            case 1:
                del parent[key]
            case 2 if isinstance(parent, dict):
                parent[rng.choice(["extra", "$ref", "__proto__", key + "x"])] = _junk(rng)
            case 3 if isinstance(parent[key], str):
                text = parent[key]
                cut = rng.randrange(len(text) + 1)
                parent[key] = (
                    text[:cut] + rng.choice(["\x00", "\x1b[31m", "`", "</details>"]) + text[cut:]
                )
            case 4 if isinstance(parent[key], list) and parent[key]:
                rng.shuffle(parent[key])
                parent[key].append(rng.choice(parent[key]))
            case _:
                parent[key] = _junk(rng) if rng.random() < 0.5 else str(parent[key])
    return json.dumps(data, indent=rng.choice([None, 2]))


def _byte_mutant(rng: random.Random, raw: bytes) -> bytes:
    data = bytearray(raw)
    for _ in range(rng.randint(1, 8)):
        i = rng.randrange(len(data))
        match rng.randrange(5):
            case 0:
                data[i] = rng.randrange(256)
            case 1:
                del data[i : i + rng.randint(1, 40)]
            case 2:
                data[i:i] = rng.choice(
                    [b"\xff", b"\xc3(", b"\x00", b"[[[[[[[[", b"1e999", b"9" * 50]
                )
            case 3:
                j = rng.randrange(len(data))
                data[i:i] = data[min(i, j) : max(i, j)][:200]
            case _:
                del data[i:]
                if not data:
                    data = bytearray(b"{")
    return bytes(data)


def _run(argv: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue() + err.getvalue()


@pytest.mark.fuzz  # ~15 s of CPU: make test runs it, make test-unit and make mutation do not
@pytest.mark.usefixtures("restore_logging")
def test_mutated_plans_never_crash_show_or_apply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the workspace the plan names ("workspace.yaml") is absent
    original = tmp_path / "original.json"
    write_plan(full_plan(), original)
    raw = original.read_bytes()
    data = json.loads(raw)
    os.mkfifo(tmp_path / "fifo")
    rng = random.Random(SEED)  # noqa: S311 - a reproducible fuzzer, not cryptography
    plan = tmp_path / "plan.json"
    outcomes: dict[tuple[str, int], int] = {}
    for n in range(MUTANTS):
        mutant = _byte_mutant(rng, raw) if n % 2 else _json_mutant(rng, data).encode()
        plan.write_bytes(mutant)
        for argv in (
            ["show", str(plan), "--format", rng.choice(["text", "markdown", "json"])],
            ["apply", str(plan), "--auto-approve"],  # the workspace it names doesn't exist
        ):
            code, text = _run(argv)
            assert code in (0, 1), f"mutant {n}: {argv[0]} exited {code}:\n{text[-2000:]}"
            assert "Traceback" not in text and "internal error" not in text, f"mutant {n}"
            outcomes[(argv[0], code)] = outcomes.get((argv[0], code), 0) + 1
    # the mutants reach every stage: some are refused as malformed, some pass every check
    assert outcomes.get(("show", 1), 0) > MUTANTS // 4
    assert outcomes.get(("show", 0), 0) > MUTANTS // 20
    assert outcomes.get(("apply", 0), 0) == 0  # none of them ever gets to apply anything
