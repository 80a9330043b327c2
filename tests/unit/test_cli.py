from __future__ import annotations

import subprocess
import sys

import pytest

from kfws import __version__
from kfws.cli import main


def test_version_flag_prints_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"kfws {__version__}"


def test_no_command_prints_help_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 1
    assert "usage: kfws" in capsys.readouterr().err


def test_module_entry_point_runs() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "kfws", "--help"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0
    assert "workspace" in proc.stdout
