"""kfws.private_file: kfws's own state files are 0600 in a 0700 folder, replaced whole, and a
failed write leaves neither half a file nor a temporary one."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from kfws.private_file import write_private


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_file_and_its_folder_are_private_and_hold_the_text(tmp_path: Path) -> None:
    path = tmp_path / "state" / "kfws" / "checks.json"
    write_private(path, '{"a": 1}')
    assert path.read_text(encoding="utf-8") == '{"a": 1}\n'
    assert (mode(path), mode(path.parent)) == (0o600, 0o700)


def test_an_existing_file_is_replaced_and_a_loose_folder_tightened(tmp_path: Path) -> None:
    folder = tmp_path / "kfws"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)  # noqa: S103 - the loose folder the write must tighten
    path = folder / "image-configs.json"
    path.write_text("old\n")
    os.chmod(path, 0o644)
    write_private(path, "new")
    assert path.read_text() == "new\n"
    assert (mode(path), mode(folder)) == (0o600, 0o700)
    assert sorted(p.name for p in folder.iterdir()) == ["image-configs.json"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary_one(tmp_path: Path) -> None:
    path = tmp_path / "kfws" / "checks.json"
    write_private(path, "old")
    with pytest.raises(UnicodeEncodeError):
        write_private(path, "\udc80")  # a lone surrogate: utf-8 refuses it mid-write
    assert path.read_text() == "old\n"
    assert [p.name for p in path.parent.iterdir()] == ["checks.json"]
