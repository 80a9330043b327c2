from __future__ import annotations

import os
from pathlib import Path

import pytest

from kfws.safe_read import UnsafeFileError, check_regular, read_bounded


def test_a_regular_file_within_the_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"12345")
    assert read_bounded(path, limit=5) == b"12345"
    check_regular(path)


@pytest.mark.parametrize("reader", [read_bounded, check_regular])
def test_devices_fifos_folders_and_missing_files_are_refused(
    tmp_path: Path, reader: object
) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    cases = {Path("/dev/zero"): "a device", fifo: "FIFO", tmp_path: "a directory"}
    cases[tmp_path / "missing"] = "no such file"
    for path, why in cases.items():
        with pytest.raises(UnsafeFileError) as e:
            if reader is read_bounded:
                read_bounded(path, limit=10)
            else:
                check_regular(path)
        assert why in e.value.reason


def test_a_file_over_the_limit_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big"
    path.write_bytes(b"x" * 11)
    with pytest.raises(UnsafeFileError) as e:
        read_bounded(path, limit=10)
    assert "11 bytes; the limit is 10" in e.value.reason
