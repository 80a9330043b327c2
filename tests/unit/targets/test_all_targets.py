"""The target seam (kfws.targets.base / all_targets): every registered target has every name
the Protocol asks for, with the same parameters; its change kinds name it and collide with no
other kind; no module outside a target's package reaches into it, but the table; and no module
below the CLI writes to the terminal (they report through the Reporter passed in)."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from kfws.plan.model import ChangeKind, ClusterKind
from kfws.targets.all_targets import TARGETS
from kfws.targets.base import Target
from kfws.targets.dispatch import all_kinds, kind_named

KFWS = Path(__file__).resolve().parents[3] / "kfws"
FUNCTIONS = sorted(
    n for n, v in vars(Target).items() if not n.startswith("_") and inspect.isfunction(v)
)
CONSTANTS = sorted(Target.__annotations__)
# modules that may import a target package: the table; and, until the Roles are per target,
# `kfws rbac --detect`, which reads the spawner's object names to narrow its Role to them; and,
# until the Protocol has a hook for a target's section of the workspace file, the spec loader,
# which has the WorkspaceKind target parse `workspaceKinds:` (only when the file declares it)
ALLOWED = {
    "kfws/targets/all_targets.py",
    "kfws/commands/rbac.py",
    "kfws/spec/build.py",
    "kfws/spec/model.py",
}


def _params(fn: object) -> list[tuple[str, object]]:
    params = list(inspect.signature(fn).parameters.values())  # type: ignore[arg-type]
    if params and params[0].name == "self":
        params = params[1:]
    return [(p.name, p.kind) for p in params]


def test_the_protocol_is_what_this_test_checks() -> None:
    assert "observe" in FUNCTIONS and "apply" in FUNCTIONS and "offered_images" in FUNCTIONS
    assert CONSTANTS == ["KINDS"]


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_every_target_has_every_protocol_name_with_the_same_parameters(name: str) -> None:
    module = TARGETS[name]
    for fn in FUNCTIONS:
        got = getattr(module, fn, None)
        assert callable(got), f"target {name} lacks {fn}"
        assert _params(got) == _params(getattr(Target, fn)), f"target {name}: {fn}"
    kinds = module.KINDS
    assert kinds and all(isinstance(k, ClusterKind) and k.target == name for k in kinds)


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_importing_a_submodule_never_replaces_a_protocol_function(name: str) -> None:
    """A submodule named like a Protocol function (spawner/plan.py beside the package's `plan`):
    its first import binds the package attribute to the module, so it must already have been
    imported when the function was bound; else the first call that imports it lazily
    replaces the function the table dispatches to."""
    import importlib

    module = TARGETS[name]
    folder = Path(module.__file__ or "").parent
    for fn in FUNCTIONS:
        if (folder / f"{fn}.py").exists():
            importlib.import_module(f"{module.__name__}.{fn}")
        got = getattr(module, fn)
        assert inspect.isfunction(got), f"target {name}: {fn} is now {got!r}"


def test_kinds_are_unique_and_every_one_reads_back_from_its_value() -> None:
    kinds = all_kinds()
    assert len({k.value for k in kinds}) == len(kinds)
    assert set(ChangeKind) <= set(kinds)
    for kind in kinds:
        assert kind_named(kind.value) is kind
    assert kind_named("no-such-kind") is None


def _imported(path: Path) -> set[str]:
    """The kfws modules a file imports (`from kfws.targets import spawner` counts as
    kfws.targets.spawner)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_no_module_outside_a_target_imports_from_it_but_the_table(name: str) -> None:
    package = KFWS / "targets" / name
    prefix = f"kfws.targets.{name}"
    reaching = sorted(
        str(path.relative_to(KFWS.parent))
        for path in KFWS.rglob("*.py")
        if package not in path.parents
        and str(path.relative_to(KFWS.parent)) not in ALLOWED
        and any(m == prefix or m.startswith(prefix + ".") for m in _imported(path))
    )
    assert reaching == []


def test_no_target_reaches_up_into_the_cli_layer() -> None:
    """Targets sit below the commands: the CLI wires them, never the other way round."""
    up = sorted(
        str(path.relative_to(KFWS.parent))
        for path in (KFWS / "targets").rglob("*.py")
        if any(m == "kfws.cli" or m.startswith("kfws.commands") for m in _imported(path))
    )
    assert up == []


# the CLI layer: the only code that may write to the terminal (through kfws.output)
CLI = {"kfws/cli.py", "kfws/output.py", "kfws/__main__.py"}
# what the rest may take from kfws.output: the Reporter they are handed, and pure colouring
FROM_OUTPUT = {"Reporter", "paint"}


def _script_guard(node: ast.AST) -> bool:
    """`if __name__ == "__main__":` (kfws/rbac.py's `python3 -m kfws.rbac` for hack/)."""
    return (
        isinstance(node, ast.If)
        and isinstance(node.test, ast.Compare)
        and isinstance(node.test.left, ast.Name)
        and node.test.left.id == "__name__"
    )


def terminal_writes(source: str) -> list[str]:
    """What in a module writes to the terminal, or can: print(), sys.stdout / sys.stderr, the
    kfws.output module or any of its writers."""
    found: list[str] = []

    def visit(node: ast.AST) -> None:
        if _script_guard(node):
            return
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id == "print":
                found.append(f"print() on line {node.lineno}")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id == "sys" and node.attr in ("stdout", "stderr"):
                found.append(f"sys.{node.attr} on line {node.lineno}")
        elif isinstance(node, ast.ImportFrom):
            if node.module == "kfws" and any(a.name == "output" for a in node.names):
                found.append(f"imports kfws.output on line {node.lineno}")
            elif node.module == "kfws.output":
                found.extend(
                    f"imports kfws.output.{a.name} on line {node.lineno}"
                    for a in node.names
                    if a.name not in FROM_OUTPUT
                )
        elif isinstance(node, ast.Import):
            found.extend(
                f"imports kfws.output on line {node.lineno}"
                for a in node.names
                if a.name == "kfws.output"
            )
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(source))
    return found


def test_no_module_below_the_cli_writes_to_the_terminal() -> None:
    writers = {
        str(path.relative_to(KFWS.parent)): terminal_writes(path.read_text(encoding="utf-8"))
        for path in sorted(KFWS.rglob("*.py"))
        if str(path.relative_to(KFWS.parent)) not in CLI and "commands" not in path.parts
    }
    assert {name: found for name, found in writers.items() if found} == {}
    assert "kfws/targets/workspacekind/rbac.py" in writers  # the check reads target modules


def test_the_terminal_check_sees_each_way_of_writing() -> None:
    assert terminal_writes(
        "from kfws import output\n"
        "from kfws.output import Reporter, out\n"
        "import kfws.output\n"
        "import sys\n"
        "def f(r: Reporter) -> None:\n"
        "    print('x')\n"
        "    sys.stderr.write('y')\n"
        "    r.progress('fine')\n"
        "if __name__ == '__main__':\n"
        "    print(sys.stdout)\n"
    ) == [
        "imports kfws.output on line 1",
        "imports kfws.output.out on line 2",
        "imports kfws.output on line 3",
        "print() on line 6",
        "sys.stderr on line 7",
    ]
