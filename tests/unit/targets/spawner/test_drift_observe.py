"""The pure helpers of kfws.targets.spawner.drift_observe: who may be blamed, and old records
read kindly."""

from __future__ import annotations

import pytest

from kfws.plan.model import PENDING_DIGEST
from kfws.targets.spawner.drift_observe import covers_key, fill_legacy_pending

KEY = "spawner_ui_config.yaml"
DIGEST = "sha256:" + "b" * 64


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"f:data": {f"f:{KEY}": {}}}, True),
        ({"f:data": {".": {}, f"f:{KEY}": {}, "f:other.yaml": {}}}, True),
        ({"f:data": {"f:other.yaml": {}}}, False),
        ({"f:metadata": {"f:labels": {"f:app": {}}}}, False),  # what kubectl-replace kept
        (None, False),
        ("garbage", False),
    ],
)
def test_covers_key(fields: object, expected: bool) -> None:
    assert covers_key(fields, KEY) is expected


def test_a_legacy_placeholder_record_reads_with_the_live_digest_of_the_same_repository() -> None:
    record = {"image": {"value": f"r/a@{PENDING_DIGEST}", "options": [f"r/a@{PENDING_DIGEST}"]}}
    live = {"image": {"value": f"r/a@{DIGEST}", "options": [f"r/a@{DIGEST}"]}}
    assert fill_legacy_pending(record, live) == live
    # another repository's digest is not borrowed: the record still differs
    other = {"image": {"value": f"r/b@{DIGEST}", "options": [f"r/b@{DIGEST}"]}}
    assert fill_legacy_pending(record, other) == record
    assert fill_legacy_pending(live, other) is live  # no placeholder: untouched
