from __future__ import annotations

import json
from pathlib import Path

import pytest

from kfws.errors import PlanError
from kfws.plan.model import PLAN_FORMAT_VERSION, Change, ChangeKind, Observation, Plan
from kfws.plan.planfile import plan_to_json, read_plan, write_plan

PLAN = Plan(
    spec_path="workspace.yaml",
    spec_digest="sha256:" + "a" * 64,
    fingerprint=(
        Observation("inputs:nb", "sha256:" + "1" * 64),
        Observation("registry:r/nb:t", None),
    ),
    changes=(
        Change(
            ChangeKind.BUILD_IMAGE,
            "r/nb:t",
            "the tag is not in the registry",
            None,
            "sha256:1",
            {"name": "nb", "tag": "t"},
        ),
        Change(
            ChangeKind.UPDATE_SPAWNER,
            "configmap/kubeflow/cm",
            "options changed",
            "a: 1\n",
            "a: 2\n",
            {"resourceVersion": "7"},
        ),
    ),
    warnings=("spawner option x:1 does not exist in its registry",),
)


def test_round_trip_is_exact(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    write_plan(PLAN, path)
    assert read_plan(path) == PLAN


def test_same_plan_same_bytes() -> None:
    assert plan_to_json(PLAN) == plan_to_json(read_back(plan_to_json(PLAN)))


def read_back(text: str) -> Plan:
    from kfws.plan.planfile import plan_from_dict

    return plan_from_dict(json.loads(text), source="mem")


def test_summary_counts_every_kind() -> None:
    summary = json.loads(plan_to_json(PLAN))["summary"]
    assert summary["build"] == 1 and summary["update-spawner"] == 1 and summary["push"] == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not JSON"),
        ("[]", "not a kfws plan"),
        (json.dumps({"formatVersion": PLAN_FORMAT_VERSION + 1}), "format version"),
        (json.dumps({"formatVersion": PLAN_FORMAT_VERSION, "changes": []}), "malformed plan"),
        (
            json.dumps(
                {
                    "formatVersion": PLAN_FORMAT_VERSION,
                    "workspace": {"path": "w", "digest": "d"},
                    "fingerprint": [],
                    "changes": [{"kind": "explode", "target": "x", "reason": "r"}],
                }
            ),
            "malformed plan",
        ),
    ],
)
def test_bad_plan_files_are_refused_with_the_file_named(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "plan.json"
    path.write_text(content)
    with pytest.raises(PlanError) as e:
        read_plan(path)
    assert message in e.value.message
    assert e.value.where == str(path)


def test_missing_plan_file(tmp_path: Path) -> None:
    with pytest.raises(PlanError) as e:
        read_plan(tmp_path / "nope.json")
    assert "cannot read" in e.value.message


def test_saved_plans_match_the_published_schema() -> None:
    import jsonschema

    schema = json.loads((Path(__file__).parents[3] / "schemas" / "plan.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(json.loads(plan_to_json(PLAN)), schema)
    empty = Plan("w.yaml", "sha256:" + "0" * 64, (), ())
    jsonschema.validate(json.loads(plan_to_json(empty)), schema)
