"""The pure parts of kfws.targets.spawner.write (the cluster writes themselves are env tests)."""

from __future__ import annotations

from kfws.plan.model import PENDING_DIGEST
from kfws.targets.spawner.config_yaml import read_spawner
from kfws.targets.spawner.write import recorded_owned

DIGEST = "sha256:" + "c" * 64
TEXT = (
    f"spawnerFormDefaults:\n  image:\n    value: r/a@{DIGEST}\n    options:\n"
    f"      - r/a@{DIGEST}\n  allowCustomImage: true\n"
)


def test_the_applied_record_holds_the_written_digests_not_the_placeholder() -> None:
    planned = {"image": {"value": f"r/a@{PENDING_DIGEST}", "options": [f"r/a@{PENDING_DIGEST}"]}}
    owned = recorded_owned(planned, read_spawner(TEXT))
    # only what the plan declared (not allowCustomImage), with the digest actually written
    assert owned == {"image": {"value": f"r/a@{DIGEST}", "options": [f"r/a@{DIGEST}"]}}


def test_without_a_planned_record_everything_owned_is_recorded() -> None:
    assert recorded_owned(None, read_spawner(TEXT))["allowCustomImage"] is True
