"""make mutation's runner: mutmut 2's own mutants, each tested in a forked process.

Starting pytest and importing the third-party libraries takes most of a test run on a loaded
machine, and mutmut 2 pays it once per mutant (and its worker process sometimes dies there).
Here one parent process imports pytest and the libraries the code and its tests use, but no
kfws module; for each mutant it forks a child, which serves the mutated module from memory
through an import hook (no file is changed) and runs the module's mirror tests with pytest.
The child imports every kfws module fresh, so the mutant is what the tests see.
"""

from __future__ import annotations

import ast
import contextlib
import difflib
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import select
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from mutmut import ALL, Context, list_mutations, mutate  # type: ignore[import-untyped]

# as mutmut 2: a mutant whose tests run 10 times longer than the unmutated module's is counted
# as a timeout (caught); the floor is for a loaded machine, where a fast baseline says little
TIMEOUT_FACTOR = 10
TIMEOUT_FLOOR = 60.0


@dataclass
class Outcome:
    statuses: dict[str, list[str]] = field(default_factory=dict)  # status -> mutant numbers
    diffs: dict[str, str] = field(default_factory=dict)  # survivor number -> diff


class BaselineFailed(Exception):
    """The unmutated module's tests fail (or time out): no score would mean anything."""


class MutantFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves one module's (mutated) source from memory, first on sys.meta_path."""

    def __init__(self, name: str, path: Path, code: str) -> None:
        self.name, self.path, self.code = name, path, code

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.name:
            return None
        return importlib.util.spec_from_loader(fullname, self, origin=str(self.path))

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None  # the default module object

    def exec_module(self, module: ModuleType) -> None:
        module.__file__ = str(self.path)
        # the code is kfws's own source with one mutmut change: running it is the point
        exec(compile(self.code, str(self.path), "exec"), module.__dict__)  # noqa: S102


def preload(root: Path) -> None:
    """Imports, once in the parent, every non-kfws module the code and the unit tests import
    (pytest, hypothesis, yaml, jsonschema...): the children inherit them instead of importing
    them again. kfws itself is left out, so each child imports it fresh with its mutant."""
    names: set[str] = {"pytest", "hypothesis"}
    for folder in (root / "kfws", root / "tests" / "unit"):
        for py in folder.rglob("*.py"):
            try:
                tree = ast.parse(py.read_text(), str(py))
            except (SyntaxError, UnicodeDecodeError):
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names.update(a.name for a in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names.add(node.module)
    for name in sorted(names):
        if name.split(".")[0] in ("kfws", "tests", "__future__"):
            continue
        try:
            importlib.import_module(name)
        except Exception:  # noqa: S112 (optional or test-only: the child imports it, or fails)
            continue
    leaked = sorted(m for m in sys.modules if m == "kfws" or m.startswith("kfws."))
    if leaked:  # a library importing kfws back would hand the children the unmutated module
        raise RuntimeError(f"the runner's parent imported {leaked[0]}: mutants would not be seen")


def run_in_child(
    root: Path, finder: MutantFinder, args: list[str], timeout: float, log: str
) -> str:
    """'survived' (tests pass), 'killed' (any failure, collection error or crash), 'timeout'."""
    pid = os.fork()
    if pid == 0:  # the child: never returns, whatever the mutant does
        code = 1
        try:
            os.setpgid(0, 0)  # its own process group: a timeout kills what the tests started too
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(out, 1)
            os.dup2(out, 2)
            os.chdir(root)
            sys.path.insert(0, str(root))
            sys.meta_path.insert(0, finder)
            import pytest

            code = 0 if pytest.main(args) == 0 else 1
        finally:
            os._exit(code)  # never the parent's cleanup (it removes the scratch tree)
    with contextlib.suppress(OSError):  # already done by the child, or it is gone
        os.setpgid(pid, pid)
    pidfd = os.pidfd_open(pid)
    try:
        ready, _, _ = select.select([pidfd], [], [], timeout)
        if not ready:
            _kill(pid)
            os.waitpid(pid, 0)
            return "timeout"
        _, status = os.waitpid(pid, 0)
    except BaseException:  # Ctrl-C or SIGTERM: no child left running a mutant
        _kill(pid)
        os.waitpid(pid, 0)
        raise
    finally:
        os.close(pidfd)
    return "survived" if os.waitstatus_to_exitcode(status) == 0 else "killed"


def _kill(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        os.kill(pid, signal.SIGKILL)


def run_module(root: Path, src: Path, args: list[str]) -> Outcome:
    """Every mutmut 2 mutant of `src`, numbered from 1 in mutmut's order."""
    rel = str(src.relative_to(root))
    name = rel.removesuffix(".py").replace("/", ".")
    source = src.read_text()
    mutants = list_mutations(Context(source=source, filename=rel, mutation_id=ALL))
    log = str(root.parent / "baseline.log")
    started = time.monotonic()
    status = run_in_child(root, MutantFinder(name, src, source), args, 3600.0, log)
    baseline = time.monotonic() - started
    if status != "survived":
        tail = "\n".join(Path(log).read_text(errors="replace").splitlines()[-15:])
        how = "fail" if status == "killed" else "time out"
        raise BaselineFailed(f"{rel}: the unmutated module's tests {how}:\n{tail}")
    timeout = max(TIMEOUT_FLOOR, TIMEOUT_FACTOR * baseline)
    outcome = Outcome()
    for number, mid in enumerate(mutants, 1):
        mutated, _ = mutate(Context(source=source, mutation_id=mid, filename=rel))
        finder = MutantFinder(name, src, mutated)
        status = run_in_child(root, finder, args, timeout, os.devnull)
        outcome.statuses.setdefault(status, []).append(str(number))
        if status == "survived":
            diff = difflib.unified_diff(
                source.splitlines(), mutated.splitlines(), rel, rel, lineterm="", n=1
            )
            outcome.diffs[str(number)] = "\n".join(diff)
    return outcome
