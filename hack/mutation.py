"""make mutation: mutation score of the pure core, per module, with the surviving mutants.

For each module, mutmut (2.x) plants one small bug at a time (a flipped comparison, a changed
constant, a dropped keyword...) and runs only the module's mirror unit tests (tests/unit/...),
with -x so a mutant dies at its first failing test. A mutant that no test notices "survives".
Score = (killed + timed out) / all mutants. It is slow (one test run per mutant), so it is not
part of `make test`; MODULES="kfws/reference.py kfws/drift.py" runs a subset.

By default each mutant runs in a process forked from one that already imported pytest and the
libraries (mutation_fork.py: the mutated module served from memory, no file changed).
MUTATION_RUNNER=mutmut runs `mutmut run` instead (a fresh pytest per mutant, the file edited in
place, several times slower: README). Both run in a scratch copy of the tree (under /tmp):
you can keep editing and committing while it runs.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mutation_fork import BaselineFailed, Outcome, preload, run_module

SOURCE = Path(__file__).resolve().parent.parent
ROOT = SOURCE  # main() points it at the scratch copy
VENV_BIN = Path(sys.executable).parent
DEFAULT_MODULES = (
    "kfws/reference.py kfws/drift.py kfws/targets/spawner/drift.py "
    "kfws/targets/spawner/config_yaml.py "
    "kfws/spec kfws/plan kfws/images kfws/render"
)
STATUSES = ("killed", "timeout", "suspicious", "survived", "skipped")
RUNNER = os.environ.get("MUTATION_RUNNER", "fork")
# only pass/fail counts: plain asserts (no rewriting of every test module on each run) and
# no Hypothesis reporting plugin cut the CPU per mutant by ~4x (1.8 s -> 0.4 s for a file)
PYTEST_ARGS = [
    "-x",
    "-q",
    "-p",
    "no:cacheprovider",
    "--assert=plain",
    "-p",
    "no:hypothesispytest",
    "-m",
    "not env and not fuzz",
]


def source_files(arg: str) -> list[Path]:
    path = ROOT / arg
    if path.is_dir():
        return sorted(p for p in path.glob("*.py") if p.name != "__init__.py")
    if path.is_file():
        return [path]
    sys.exit(f"make mutation: {arg} is neither a module nor a package under {ROOT}")


def mirror_tests(src: Path) -> list[str]:
    """kfws/a/b.py: tests/unit/a/test_b*.py or tests/unit/a/; kfws/x.py: tests/unit/test_x*.py"""
    rel = src.relative_to(ROOT / "kfws")
    folder = ROOT / "tests" / "unit" / rel.parent
    tests = sorted(str(p.relative_to(ROOT)) for p in folder.glob(f"test_{rel.stem}*.py"))
    if tests:
        return tests
    if rel.parent != Path("."):
        return [str(folder.relative_to(ROOT))]
    return []


def mutmut(*args: str) -> str:
    done = subprocess.run(
        [str(VENV_BIN / "mutmut"), *args], cwd=ROOT, capture_output=True, text=True, check=False
    )
    return done.stdout


def ids(status: str) -> list[str]:
    return [t for t in mutmut("result-ids", status).split() if t.isdigit()]


RESTARTS = 20


def _children(pid: int) -> list[str]:
    """The command lines of `pid`'s child processes (Linux /proc)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if ppid == pid:
                found.append((proc / "cmdline").read_bytes().decode(errors="replace"))
        except (OSError, ValueError, IndexError):
            continue
    return found


def run_mutmut(command: list[str], errors: Path) -> bool:
    """Runs mutmut; True when it hung: no child but multiprocessing's resource tracker (its
    worker, or the baseline test run, is gone) three times in a row, 15 s apart."""
    with errors.open("w") as err:
        proc = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True
        )
        idle = 0
        while proc.poll() is None:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                busy = [c for c in _children(proc.pid) if "resource_tracker" not in c]
                idle = 0 if busy else idle + 1
                if idle >= 3:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
                    return True
    return False


def run_one(src: Path) -> Outcome | None:
    rel = str(src.relative_to(ROOT))
    tests = mirror_tests(src)
    if not tests:
        print(f"{rel}: no mirror tests under tests/unit, every mutant would survive; skipped")
        return None
    if RUNNER != "mutmut":
        outcome = run_module(ROOT, src, [*PYTEST_ARGS, *tests])
        if not outcome.statuses:
            print(f"{rel}: not measured: mutmut found no mutants", flush=True)
            return None
        return outcome
    return run_mutmut_in_place(src, tests)


def run_mutmut_in_place(src: Path, tests: list[str]) -> Outcome | None:
    rel = str(src.relative_to(ROOT))
    (ROOT / ".mutmut-cache").unlink(missing_ok=True)
    # through this script's --pytest mode: mutmut 2 counts only exit code 1 as "killed", so a
    # mutant that breaks collection (pytest exit 2, e.g. a dropped @dataclass) would "survive"
    runner = f"{VENV_BIN / 'python'} {ROOT / 'hack' / 'mutation.py'} --pytest "
    runner += " ".join(PYTEST_ARGS[:-1]) + " '" + PYTEST_ARGS[-1] + "' " + " ".join(tests)
    command = [
        str(VENV_BIN / "mutmut"),
        "run",
        "--paths-to-mutate",
        rel,
        "--runner",
        runner,
        "--tests-dir",
        "tests/unit",
        "--no-progress",
        "--simple-output",
        "--CI",
    ]
    errors = ROOT.parent / "mutmut.err"
    for _ in range(RESTARTS):
        if not run_mutmut(command, errors):
            break
        # mutmut's worker died (it happens on this shared machine, cause unknown) and mutmut
        # would wait for it forever: put the file back, start again; the results so far are in
        # its cache, so it resumes where it stopped
        backup = src.with_name(src.name + ".bak")
        if backup.exists():
            backup.replace(src)
        print(f"{rel}: mutmut's worker died; resuming", flush=True)
    result = {status: ids(status) for status in STATUSES}
    if not any(result.values()):
        # mutmut 2 parses with parso, which does not know `match` statements: say so, no 100%
        why = (errors.read_text().strip().splitlines() or ["no mutants"])[-1][:160]
        print(f"{rel}: not measured: {why}", flush=True)
        return None
    diffs = {mid: mutmut("show", mid).rstrip() for mid in result["survived"]}
    return Outcome({s: ids for s, ids in result.items() if ids}, diffs)


def main() -> int:
    global ROOT
    ROOT = Path(tempfile.mkdtemp(prefix="kfws-mutation-")) / "tree"
    # killed (Ctrl-C or kill PID): still run the finally below, so no scratch tree is left behind
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    modules = os.environ.get("MODULES", "").split() or DEFAULT_MODULES.split()
    # __pycache__ is copied (mtimes too): mutmut forbids writing bytecode, so without it every
    # run would compile every module again; the mutated file's new mtime invalidates its own
    skip = shutil.ignore_patterns(
        ".venv", ".git", ".kfws-env", ".hypothesis", ".*_cache", ".mutmut*"
    )
    shutil.copytree(SOURCE, ROOT, ignore=skip)
    try:
        if RUNNER != "mutmut":
            preload(ROOT)
        return report(modules)
    except BaselineFailed as failed:
        print(f"make mutation: {failed}\nfix the tests first: no score is measured", flush=True)
        return 1
    finally:
        shutil.rmtree(ROOT.parent, ignore_errors=True)


def report(modules: list[str]) -> int:
    rows: list[tuple[str, int, int, float]] = []
    started = time.monotonic()
    for arg in modules:
        for src in source_files(arg):
            t0 = time.monotonic()
            outcome = run_one(src)
            if outcome is None:
                continue
            result = outcome.statuses
            # "suspicious" is mutmut's name for killed, but slowly (a loaded machine): caught
            caught = sum(len(result.get(s, [])) for s in ("killed", "timeout", "suspicious"))
            total = caught + len(result.get("survived", []))
            rel = str(src.relative_to(ROOT))
            rows.append((rel, caught, total, time.monotonic() - t0))
            print(f"{rel}: {caught}/{total} caught", flush=True)
            for mid in result.get("survived", []):
                print(f"--- survived in {rel}: mutant {mid}")
                print(outcome.diffs[mid], flush=True)
    print("\nmodule                              caught/total  score   time")
    for rel, caught, total, secs in rows:
        score = 100.0 * caught / total if total else 100.0
        print(f"{rel:36} {caught:5}/{total:<5}  {score:5.1f}%  {secs:5.0f}s")
    caught = sum(r[1] for r in rows)
    total = sum(r[2] for r in rows)
    if total:
        print(f"{'all':36} {caught:5}/{total:<5}  {100.0 * caught / total:5.1f}%", end="")
        print(f"  {time.monotonic() - started:5.0f}s")
    return 0


def pytest_as_mutmut_expects(args: list[str]) -> int:
    import pytest

    # mutmut 2 reads the runner's output as UTF-8 text in its worker process, which dies on a
    # test printing invalid UTF-8 (the hostile-input tests do), and the run then hangs for good.
    # Only the exit code counts, so no output at all.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    return 0 if pytest.main(args) == 0 else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["--pytest"]:
        sys.exit(pytest_as_mutmut_expects(sys.argv[2:]))
    sys.exit(main())
