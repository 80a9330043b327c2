from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kfws.cli import main
from tests.unit.spec.test_load import GOOD, write

REPO = Path(__file__).parents[3]


def test_validate_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, GOOD)
    assert main(["validate", "-f", str(path)]) == 0
    assert f"{path}: valid" in capsys.readouterr().out


def test_validate_lists_every_problem_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, GOOD.replace("name: nb", "name: NB") + "imagse: 1\n")
    assert main(["validate", "-f", str(path)]) == 1
    err = capsys.readouterr().err
    assert "2 problems" in err and "did you mean 'images'" in err and f"{path}:6:" in err
    assert "Traceback" not in err


def test_validate_json_for_tools(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, GOOD + "imagse: 1\n")
    assert main(["validate", "-f", str(path), "--format", "json"]) == 1
    (result,) = json.loads(capsys.readouterr().out)
    assert result["valid"] is False
    assert result["problems"][0]["location"] == f"{path}:15:1"


def test_init_writes_a_valid_starter_and_refuses_to_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "workspace.yaml"
    assert main(["init", "-f", str(target)]) == 0
    assert (tmp_path / "workspace.schema.json").is_file()
    assert target.read_text().startswith("# yaml-language-server: $schema=./workspace.schema.json")
    target.write_text("# mine\n")
    assert main(["init", "-f", str(target)]) == 1
    assert target.read_text() == "# mine\n"
    assert "--force" in capsys.readouterr().err
    assert main(["init", "-f", str(target), "--force"]) == 0
    assert main(["validate", "-f", str(target)]) == 0


def test_schema_prints_the_published_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads((REPO / "schemas" / "workspace.schema.json").read_text())


def test_schema_has_descriptions_and_examples_everywhere() -> None:
    schema = json.loads((REPO / "schemas" / "workspace.schema.json").read_text())

    def walk(node: object, path: str) -> None:
        if isinstance(node, dict):
            for name, sub in node.get("properties", {}).items():
                assert "description" in sub, f"{path}.{name}"
                assert "examples" in sub, f"{path}.{name}"
                walk(sub, f"{path}.{name}")
            if isinstance(node.get("items"), dict):
                walk(node["items"], path + "[]")
            if isinstance(node.get("additionalProperties"), dict):
                walk(node["additionalProperties"], path + ".*")

    walk(schema, "")


def test_validate_and_help_import_neither_docker_nor_kubernetes(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    code = (
        f"import sys; from kfws.cli import main; rc = main(['validate', '-f', {str(path)!r}]);"
        "print(rc, 'docker' in sys.modules, 'kubernetes' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split()[-3:] == ["0", "False", "False"]


def test_internal_errors_show_no_traceback_without_debug(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import kfws.commands.schema as schema_cmd

    def boom(args: object) -> int:  # a stand-in for a bug: nothing real raises on purpose
        raise RuntimeError("boom")

    monkeypatch.setattr(schema_cmd, "run", boom)
    assert main(["schema"]) == 3
    err = capsys.readouterr().err
    assert "internal error" in err and "Traceback" not in err and "--debug" in err
    assert main(["--debug", "schema"]) == 3
    assert "Traceback" in capsys.readouterr().err


def test_dockerfile_of_an_unknown_name_suggests_the_close_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, GOOD)
    assert main(["dockerfile", "nbb", "-f", str(path)]) == 1
    assert "did you mean 'nb'?" in capsys.readouterr().err


def test_dockerfile_that_is_not_utf8_is_an_error_not_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, GOOD)
    (tmp_path / "images" / "tools" / "Dockerfile").write_bytes(b"FROM caf\xe9\n")
    assert main(["dockerfile", "tools", "-f", str(path)]) == 1
    err = capsys.readouterr().err
    assert "UTF-8" in err and "Traceback" not in err


def test_validate_places_a_control_character_at_its_line_and_column(tmp_path: Path) -> None:
    # the real command in a process of its own: exit code, whole message, no traceback
    path = tmp_path / "workspace.yaml"
    path.write_bytes(b"apiVersion: kfws/v1alpha1\nkind: Workspace\nx: caf\xc3\xa9 a\x07b\n")
    done = subprocess.run(
        [sys.executable, "-m", "kfws", "validate", "-f", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == (
        "error: 1 problem in the workspace file:\n"
        f"  {path}:3:10: not valid YAML: U+0007 (a control character) is not allowed in YAML; "
        'delete it, or write it as "\\x07" inside a double-quoted string\n'
        "  hint: fix these in the workspace file; `kfws schema` prints the format\n"
    )
