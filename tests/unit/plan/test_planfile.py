from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from kfws.errors import PlanError
from kfws.plan.model import PLAN_FORMAT_VERSION, Plan
from kfws.plan.planfile import (
    MAX_DEPTH,
    MAX_PLAN_BYTES,
    plan_to_json,
    read_plan,
    workspace_path,
    write_plan,
)
from kfws.targets.spawner.kinds import UPDATE
from tests.unit.factories import full_plan

PLAN = full_plan()


def saved(tmp_path: Path, data: Any = None, *, text: str | None = None) -> Path:
    path = tmp_path / "plan.json"
    if text is None:
        text = json.dumps(data if data is not None else json.loads(plan_to_json(PLAN)))
    path.write_text(text, encoding="utf-8")
    return path


def data() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(plan_to_json(PLAN))
    return loaded


def refused(path: Path) -> str:
    with pytest.raises(PlanError) as e:
        read_plan(path)
    assert e.value.where == str(path)
    return e.value.message


def test_round_trip_is_exact(tmp_path: Path) -> None:
    (tmp_path / "workspace.yaml").write_text("x")
    plan = Plan(str(tmp_path / "workspace.yaml"), PLAN.spec_digest, PLAN.fingerprint, PLAN.changes)
    path = tmp_path / "plan.json"
    write_plan(plan, path)
    back = read_plan(path)
    assert back.spec_path == "workspace.yaml"
    assert plan_to_json(back) == plan_to_json(
        Plan("workspace.yaml", plan.spec_digest, plan.fingerprint, plan.changes)
    )


def test_same_plan_same_bytes(tmp_path: Path) -> None:
    path = saved(tmp_path)
    assert plan_to_json(read_plan(path)) == plan_to_json(PLAN)


def test_the_workspace_is_recorded_relative_to_the_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ws").mkdir()
    (tmp_path / "plans").mkdir()
    monkeypatch.chdir(tmp_path / "ws")
    write_plan(PLAN, tmp_path / "plans" / "p.json")  # PLAN.spec_path is "workspace.yaml"
    recorded = json.loads((tmp_path / "plans" / "p.json").read_text())["workspace"]["path"]
    assert recorded == "../ws/workspace.yaml"
    monkeypatch.chdir("/")
    plan = read_plan(tmp_path / "plans" / "p.json")
    found = workspace_path(plan, tmp_path / "plans" / "p.json")
    assert found.resolve() == tmp_path / "ws" / "workspace.yaml"


def test_summary_counts_every_kind() -> None:
    summary = data()["summary"]
    assert summary == {
        "build": 1,
        "rebuild": 1,
        "push": 0,
        "check": 2,
        "update-spawner": 1,
        "restart-webapp": 1,
        "update-workspacekind": 0,  # every registered target's kinds are counted
    }


def test_a_summary_that_disagrees_with_the_changes_is_refused(tmp_path: Path) -> None:
    d = data()
    d["summary"]["build"] = 0
    assert "summary says 0 build" in refused(saved(tmp_path, d))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not JSON"),
        ("[]", "not a valid kfws plan: at the top level"),
        (json.dumps({"formatVersion": PLAN_FORMAT_VERSION + 1}), "format version"),
        (json.dumps({"formatVersion": PLAN_FORMAT_VERSION, "changes": []}), "required"),
        ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "nested deeper"),
        ('{"formatVersion": 1' + "0" * 5000 + "}", "digits"),
        ('{"formatVersion": NaN}', "NaN"),
        ('{"formatVersion": 1e999}', "out of range"),
        ('{"formatVersion": 1, "x": "\\ud800"}', "lone surrogate"),
    ],
)
def test_malformed_plan_files_are_refused(tmp_path: Path, content: str, message: str) -> None:
    assert message in refused(saved(tmp_path, text=content))


def test_bad_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_bytes(b'{"formatVersion": 1, "x": "\xff\xfe"}')
    assert "not UTF-8" in refused(path)


@pytest.mark.parametrize(
    ("where", "value", "rule"),
    [
        (("extra",), 1, "Additional properties"),
        (("changes", 0, "details", "name"), "x" * 129, "longer than 128"),
        (("changes", 0, "target"), "a\nb", "not in the expected form"),
        (("changes", 4, "details", "namespace"), "Not A Name", "not in the expected form"),
        (("changes", 4, "details", "evil"), "1", "Additional properties"),
        (("changes", 5, "details", "mode"), "explode", "must be one of"),
        (("changes", 4, "after"), "x" * (1 << 20 | 1), "longer than"),
        (("changes", 2, "details", "kinds"), ["lab"], "must be one of"),
        (("fingerprint",), [{"key": "k", "value": 1}], "must be"),
        (("warnings",), ["w"] * 10_001, "more than 10000"),
    ],
)
def test_the_schema_bounds_and_closes_every_object(
    tmp_path: Path, where: tuple[Any, ...], value: Any, rule: str
) -> None:
    d = data()
    node: Any = d
    for step in where[:-1]:
        node = node[step]
    node[where[-1]] = value
    message = refused(saved(tmp_path, d))
    assert rule in message
    assert len(message) < 400  # a megabyte value is not quoted back


def test_missing_plan_file(tmp_path: Path) -> None:
    assert "no such file" in refused(tmp_path / "nope.json")


def test_devices_fifos_and_folders_are_refused_unread(tmp_path: Path) -> None:
    assert "a device" in refused(Path("/dev/zero"))
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert "FIFO" in refused(fifo)  # returns at once: the FIFO is never waited on
    assert "a directory" in refused(tmp_path)


def test_the_size_is_checked_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    with path.open("wb") as f:
        f.truncate(MAX_PLAN_BYTES + 1)  # sparse: no megabytes written
    assert "the limit is" in refused(path)


def test_saved_plans_match_the_published_schema() -> None:
    import jsonschema

    schema = json.loads((Path(__file__).parents[3] / "schemas" / "plan.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(data(), schema)
    empty = Plan("w.yaml", "sha256:" + "0" * 64, (), ())
    jsonschema.validate(json.loads(plan_to_json(empty)), schema)


def test_invisible_characters_are_escaped_in_the_json() -> None:
    from kfws.plan.model import Change

    text = "image:\n  value: evil\u202e\u0085\n"
    change = Change(UPDATE, "configmap/kf/cm", "r", "a: 1\n", text, {})
    written = plan_to_json(Plan("w.yaml", "sha256:" + "0" * 64, (), (change,)))
    assert "\u202e" not in written and "\\u202e" in written and "\\u0085" in written
    assert json.loads(written)["changes"][0]["after"] == text


def test_out_never_replaces_a_device_or_a_link(tmp_path: Path) -> None:
    # only paths under tmp_path: under `make mutation` a mutant of write_plan does replace
    # what it is given (it once replaced the machine's /dev/null with a plan). A FIFO stands
    # for a device: both are "exists, not a regular file"
    fifo, target = tmp_path / "fifo", tmp_path / "target.json"
    os.mkfifo(fifo)
    target.write_text("kept")
    link = tmp_path / "stdout"
    link.symlink_to(target)
    folder = tmp_path / "folder"
    folder.mkdir()
    for path in (fifo, link, folder):
        with pytest.raises(PlanError) as e:
            write_plan(PLAN, path)
        assert (e.value.message, e.value.where, e.value.hint) == (
            "--out must name a regular file (it is replaced as a whole)",
            str(path),
            "to print the plan as JSON, use `--format json` instead",
        )
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and link.is_symlink() and folder.is_dir()
    assert target.read_text() == "kept"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "folder", "stdout", "target.json"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        # at the limits: refused for what the JSON says, not for its shape
        ("[" * 32 + "]" * 32, "not a valid kfws plan: at the top level"),
        ('{"formatVersion": 1234567890123456789}', "plan format version 1234567890123456789"),
        ('{"formatVersion": -1234567890123456789}', "plan format version -1234567890123456789"),
        # brackets inside strings and closed ones do not count as nesting
        ('["' + "[{" * 40 + '"]', "not a valid kfws plan: at the top level"),
        ("[" + ",".join(["[]"] * 40) + "]", "not a valid kfws plan: at the top level"),
        # one past them
        ("[" * 33 + "]" * 33, "not a kfws plan: JSON nested deeper than 32 levels"),
        ('{"formatVersion": 12345678901234567890}', "not a kfws plan: a number of 20 digits"),
        ('{"formatVersion": -inf}', "not JSON: Expecting value at line 1 column 19"),
        ('{"formatVersion": -1e999}', "not a kfws plan: a number out of range (-1e999…)"),
        ('{"formatVersion": Infinity}', "not a kfws plan: Infinity (not JSON)"),
    ],
)
def test_the_nesting_and_number_limits_are_exact(
    tmp_path: Path, content: str, message: str
) -> None:
    assert refused(saved(tmp_path, text=content)).startswith(message)


def test_a_plan_of_exactly_the_size_limit_is_read(tmp_path: Path) -> None:
    assert MAX_PLAN_BYTES == 16 << 20
    path = tmp_path / "plan.json"
    with path.open("wb") as f:
        f.truncate(MAX_PLAN_BYTES)  # sparse NUL bytes: read, then refused as not JSON
    assert refused(path).startswith("not JSON")
    with path.open("wb") as f:
        f.truncate(MAX_PLAN_BYTES + 1)
    assert refused(path) == "cannot read the plan: it is 16,777,217 bytes; the limit is 16,777,216"


REWRITE = "plans are written by `kfws plan --out FILE`; make a new one, don't edit it"


def _edit(where: tuple[Any, ...], value: Any) -> str:
    d = data()
    node: Any = d
    for step in where[:-1]:
        node = node[step]
    node[where[-1]] = value
    return json.dumps(d)


@pytest.mark.parametrize(
    ("content", "message", "hint"),
    [
        ("not json", "not JSON: Expecting value at line 1 column 1", REWRITE),
        (
            json.dumps({"formatVersion": 2}),
            "plan format version 2 is not the one this kfws reads (1)",
            "re-run `kfws plan --out` with this version of kfws",
        ),
        ("[]", "not a valid kfws plan: at the top level: must be object", REWRITE),
        (
            _edit(("changes", 0, "target"), "a\nb"),
            "not a valid kfws plan: at changes/0/target: not in the expected form (got 'a\\nb')",
            REWRITE,
        ),
        (
            _edit(("changes", 0, "target"), "a\n" + "b" * 68),  # a long value: cut
            "not a valid kfws plan: at changes/0/target: not in the expected form "
            f"(got 'a\\n{'b' * 58}…')",
            REWRITE,
        ),
        (
            _edit(("formatVersion",), True),  # == 1 in Python, not in the schema
            "not a valid kfws plan: at formatVersion: must be 1 (got True)",
            REWRITE,
        ),
        (
            _edit(("summary", "build"), 1.5),
            "not a valid kfws plan: at summary/build: must be integer (got 1.5)",
            REWRITE,
        ),
        (
            _edit(("changes", 5, "details", "mode"), "x"),
            "not a valid kfws plan: at changes/5/details/mode: must be one of "
            "['rollout', 'delete-pods'] (got 'x')",
            REWRITE,
        ),
        ("[" * 33, "not a kfws plan: JSON nested deeper than 32 levels", REWRITE),
        ('{"a": "\\ud800"}', "not a kfws plan: a string holds an invalid Unicode escape (a lone "
         "surrogate)", REWRITE),
    ],
)  # fmt: skip
def test_each_refusal_in_full_with_what_to_do(
    tmp_path: Path, content: str, message: str, hint: str
) -> None:
    with pytest.raises(PlanError) as e:
        read_plan(saved(tmp_path, text=content))
    assert (e.value.message, e.value.hint) == (message, hint)


def test_an_unreadable_plan_says_to_give_a_saved_plan(tmp_path: Path) -> None:
    with pytest.raises(PlanError) as e:
        read_plan(tmp_path / "nope.json")
    assert e.value.message == "cannot read the plan: no such file"
    assert e.value.hint == "give the path of a plan saved by `kfws plan --out FILE`"
    path = tmp_path / "plan.json"
    path.write_bytes(b'{"a": "\xff"}')
    with pytest.raises(PlanError) as e:
        read_plan(path)
    assert (e.value.message, e.value.hint) == ("not UTF-8 (byte 7): not a kfws plan", REWRITE)


def test_the_json_is_sorted_indented_by_two_and_keeps_non_ascii() -> None:
    from kfws.plan.model import Change, ChangeKind, Observation

    change = Change(ChangeKind.PUSH_IMAGE, "r/é:1", "why", None, "sha256:1", {"b": 1, "a": 2})
    plan = Plan("w.yaml", "sha256:0", (Observation("k", None),), (change,), ("w",))
    assert plan_to_json(plan) == (
        "{\n"
        '  "changes": [\n'
        "    {\n"
        '      "after": "sha256:1",\n'
        '      "before": null,\n'
        '      "details": {\n'
        '        "a": 2,\n'
        '        "b": 1\n'
        "      },\n"
        '      "kind": "push",\n'
        '      "reason": "why",\n'
        '      "target": "r/é:1"\n'
        "    }\n"
        "  ],\n"
        '  "fingerprint": [\n'
        "    {\n"
        '      "key": "k",\n'
        '      "value": null\n'
        "    }\n"
        "  ],\n"
        '  "formatVersion": 1,\n'
        '  "summary": {\n'
        '    "build": 0,\n'
        '    "check": 0,\n'
        '    "push": 1,\n'
        '    "rebuild": 0,\n'
        '    "restart-webapp": 0,\n'
        '    "update-spawner": 0,\n'
        '    "update-workspacekind": 0\n'
        "  },\n"
        '  "warnings": [\n'
        '    "w"\n'
        "  ],\n"
        '  "workspace": {\n'
        '    "digest": "sha256:0",\n'
        '    "path": "w.yaml"\n'
        "  }\n"
        "}\n"
    )


@pytest.mark.parametrize("data", [[], "plan", None, 1])
def test_a_plan_that_is_not_an_object_is_refused(data: Any) -> None:
    from kfws.plan.planfile import plan_from_dict

    with pytest.raises(PlanError) as e:
        plan_from_dict(data, source="p.json")
    assert (e.value.message, e.value.where) == (
        "not a kfws plan (expected a JSON object)",
        "p.json",
    )


def test_warnings_are_read_back() -> None:
    from kfws.plan.planfile import plan_from_dict

    d = data()
    d["warnings"] = ["careful", "again"]
    assert plan_from_dict(d, source="p.json").warnings == ("careful", "again")


@pytest.mark.parametrize(
    ("edit", "error"),
    [
        (lambda d: d.pop("workspace"), "KeyError"),
        (lambda d: d.update(fingerprint=3), "TypeError"),
        (lambda d: d["changes"][0].update(kind="explode"), "ValueError"),
    ],
)
def test_a_malformed_plan_names_the_error_kind(edit: Any, error: str) -> None:
    from kfws.plan.planfile import REWRITE_HINT, plan_from_dict

    d = data()
    edit(d)
    with pytest.raises(PlanError) as e:
        plan_from_dict(d, source="p.json")
    assert (e.value.message, e.value.hint) == (f"malformed plan file ({error})", REWRITE_HINT)


def test_the_summary_mismatch_in_full(tmp_path: Path) -> None:
    d = data()
    d["summary"]["check"] = 3
    path = saved(tmp_path, d)
    with pytest.raises(PlanError) as e:
        read_plan(path)
    assert (
        e.value.message == "its summary says 3 check change(s) but it lists 2: the file was edited"
    )
    assert (
        e.value.hint == "plans are written by `kfws plan --out FILE`; make a new one, don't edit it"
    )


def test_a_summary_without_a_kind_the_plan_has_none_of_reads(tmp_path: Path) -> None:
    # a plan saved before the workspacekind target existed does not count its kind
    d = data()
    del d["summary"]["update-workspacekind"]
    assert plan_to_json(read_plan(saved(tmp_path, d))) == plan_to_json(PLAN)


def test_a_plan_that_cannot_be_written_says_why_and_leaves_nothing(tmp_path: Path) -> None:
    path = tmp_path / "no-such-folder" / "plan.json"
    with pytest.raises(PlanError) as e:
        write_plan(PLAN, path)
    assert e.value.message == "cannot write the plan: No such file or directory"
    assert (e.value.where, e.value.hint) == (str(path), "choose a writable path for --out")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        # an overflowing number is quoted by its first 20 characters
        (
            '{"formatVersion": 1' + "0" * 30 + "e999}",
            "not a kfws plan: a number out of range (1" + "0" * 19 + "…)",
        ),
        # depth counts back down at each closing bracket: 1 + 32 nested after a closed list
        ("[[]," + "[" * 32 + "]" * 32 + "]", "not a kfws plan: JSON nested deeper than 32 levels"),
        ("[[]," + "[" * 31 + "]" * 31 + "]", "not a valid kfws plan: at the top level"),
    ],
)
def test_more_limits_in_full(tmp_path: Path, content: str, message: str) -> None:
    assert refused(saved(tmp_path, text=content)).startswith(message)


@pytest.mark.parametrize(("length", "got"), [(60, f"'a\\n{'b' * 58}'"), (61, f"'a\\n{'b' * 58}…'")])
def test_a_quoted_value_is_cut_after_60_characters(tmp_path: Path, length: int, got: str) -> None:
    value = "a\n" + "b" * (length - 2)
    assert refused(saved(tmp_path, text=_edit(("changes", 0, "target"), value))) == (
        f"not a valid kfws plan: at changes/0/target: not in the expected form (got {got})"
    )


def _without(where: tuple[Any, ...]) -> str:
    d = data()
    node: Any = d
    for step in where[:-1]:
        node = node[step]
    del node[where[-1]]
    return json.dumps(d)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            _edit(("changes", 0, "reason"), "r" * 65537),
            "not a valid kfws plan: at changes/0/reason: longer than 65536 characters "
            f"(got '{'r' * 60}…')",
        ),
        (
            _edit(("changes", 1, "details", "why"), ["x"] * 101),
            "not a valid kfws plan: at changes/1/details/why: more than 100 entries",
        ),
        (
            _edit(("summary", "build"), -1),
            "not a valid kfws plan: at summary/build: breaks the rule 'minimum' (got -1)",
        ),
        (
            _without(("warnings",)),
            "not a valid kfws plan: at the top level: 'warnings' is a required property",
        ),
        # jsonschema's own message quotes the key: cut at 200 characters
        (
            _edit(("workspace", "k" * 300), 1),
            "not a valid kfws plan: at workspace: "
            + "Additional properties are not allowed ('"
            + "k" * 160,
        ),
    ],
)
def test_each_schema_rule_is_named_in_words(tmp_path: Path, content: str, message: str) -> None:
    assert refused(saved(tmp_path, text=content)) == message
