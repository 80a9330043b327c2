"""kfws import's file writing (kfws.commands.import_): atomic, validated first, keeping the
file's permissions (what each target writes into the file is tested with the target)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kfws.commands.import_ import _write


def test_an_invalid_result_is_never_written(tmp_path: Path) -> None:
    from kfws.errors import KfwsError

    path = tmp_path / "workspace.yaml"
    path.write_text("kept: as is\n")
    with pytest.raises(KfwsError) as e:
        _write(path, "apiVersion: kfws/v1alpha1\nkind: Nope\n")
    assert "not written" in e.value.message
    assert path.read_text() == "kept: as is\n"
