"""The pure parts of kfws.apply.spawner (the cluster writes themselves are env tests)."""

from __future__ import annotations

from kfws.apply.spawner import recorded_owned
from kfws.plan.model import PENDING_DIGEST
from kfws.spawner_yaml import read_spawner

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


def _lease(renewed: object, ttl: int | None = 120) -> object:
    from types import SimpleNamespace

    return SimpleNamespace(
        spec=SimpleNamespace(renew_time=renewed, acquire_time=None, lease_duration_seconds=ttl)
    )


def test_a_lock_renewed_within_its_duration_is_live_and_an_older_one_is_not() -> None:
    from datetime import UTC, datetime, timedelta

    from kfws.apply.spawner import lock_state

    now = datetime(2026, 11, 29, 5, 0, tzinfo=UTC)
    live, said = lock_state(_lease(now - timedelta(seconds=20)), now)
    assert live and "last renewed 20s ago" in said and "still renewing" in said
    live, said = lock_state(_lease("2026-11-29T04:50:00.000001Z"), now)
    assert not live and "600s ago" in said and "holder is gone" in said
    live, said = lock_state(_lease(None), now)
    assert not live and "never renewed" in said
