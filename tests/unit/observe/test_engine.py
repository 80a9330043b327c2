"""The engine adapter's local side: private build logs, and build output made safe to show.
Real files in tmp_path; the Docker Engine itself is exercised in tests/env."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from kfws.errors import EngineError
from kfws.observe.engine import _log_file, _tail, ensure_private_dir, printable


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_log_folder_and_file_are_private(tmp_path: Path) -> None:
    log = tmp_path / "state" / "logs" / "nb-v1.log"
    with _log_file(log) as f:
        f.write("Step 1/2 : FROM x\n")
    assert mode(log.parent) == 0o700 and mode(log) == 0o600


def test_wider_modes_that_were_there_before_are_tightened(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    log = folder / "nb-v1.log"
    log.write_text("old\n")
    log.chmod(0o644)
    with _log_file(log) as f:
        f.write("new\n")
    assert mode(folder) == 0o700 and mode(log) == 0o600
    assert log.read_text() == "new\n"
    with _log_file(log, append=True) as f:
        f.write("pushed\n")
    assert log.read_text() == "new\npushed\n" and mode(log) == 0o600


def test_a_shared_sticky_folder_is_left_alone_but_the_file_is_private(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    ensure_private_dir(shared)
    assert mode(shared) == 0o1777
    with _log_file(shared / "x.log") as f:
        f.write("x\n")
    assert mode(shared / "x.log") == 0o600


def test_a_planted_symlink_is_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    (tmp_path / "logs").mkdir()
    os.symlink(victim, tmp_path / "logs" / "nb-v1.log")
    with (
        pytest.raises(EngineError, match="cannot write the build log"),
        _log_file(tmp_path / "logs" / "nb-v1.log"),
    ):
        pass
    assert victim.read_text() == "precious\n"


def test_the_log_is_on_disk_line_by_line_while_the_build_runs(tmp_path: Path) -> None:
    log = tmp_path / "nb.log"
    with _log_file(log) as f:
        f.write("Step 2/2 : RUN sleep 60\n")
        assert "RUN sleep 60" in log.read_text()  # followable (and testable) before the end
        f.write("\x1b[91mwget: can't connect\x1b[0m\n")
        assert _tail(log).splitlines()[-1] == "    wget: can't connect"


def test_printable_drops_colours_and_shows_other_controls() -> None:
    assert printable(["\x1b[91merror\x1b[0m", "a\rb\x07c\u202ed\te", "\x1b]0;title\x07x"]) == [
        "error",
        "a\\x0db\\x07c\\u202ed\te",
        "x",
    ]


def test_tail_keeps_the_last_lines(tmp_path: Path) -> None:
    log = tmp_path / "nb.log"
    log.write_text("".join(f"line {i}\n" for i in range(100)))
    tail = _tail(log, lines=3)
    assert tail.splitlines() == [
        "  last lines of the build log:",
        "    line 97",
        "    line 98",
        "    line 99",
    ]
