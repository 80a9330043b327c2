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


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        # PyYAML tells a refused character by a position only; the merge's own YAML library
        # would name neither the file nor the line
        (
            b"apiVersion: kfws/v1alpha1\nkind: Workspace\nx: caf\xc3\xa9 a\x07b\n",
            "3:10: not valid YAML: U+0007 (a control character) is not allowed in YAML; delete "
            'it, or write it as "\\x07" inside a double-quoted string',
        ),
        (b"a: caf\xe9\n", "1:7: not UTF-8 text; save the file as UTF-8"),  # was exit 3
        (b"a: [1,\n", "2:1: not valid YAML: did not find expected node content"),
    ],
)
def test_a_file_to_merge_into_that_is_not_yaml_is_refused_at_its_line_before_the_cluster(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    # the real command in a process of its own: refused before any cluster is contacted (the
    # context named does not exist), exit 1, the file left as it was, no traceback
    import subprocess
    import sys

    path = tmp_path / "w.yaml"
    path.write_bytes(content)
    done = subprocess.run(
        [sys.executable, "-m", "kfws", "import", "-o", str(path), "--context", "no-such"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        "error: 1 problem in the workspace file:\n"
        f"  {path}:{problem}\n"
        "  hint: fix these in the workspace file; `kfws schema` prints the format\n"
    )
    assert path.read_bytes() == content
