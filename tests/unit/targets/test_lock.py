"""The pure part of kfws.targets.lock: is a lock still held by a live holder? (the Lease itself is
exercised by the env tests)."""

from __future__ import annotations


def _lease(renewed: object, ttl: int | None = 120) -> object:
    from types import SimpleNamespace

    return SimpleNamespace(
        spec=SimpleNamespace(renew_time=renewed, acquire_time=None, lease_duration_seconds=ttl)
    )


def test_a_lock_renewed_within_its_duration_is_live_and_an_older_one_is_not() -> None:
    from datetime import UTC, datetime, timedelta

    from kfws.targets.lock import lock_state

    now = datetime(2026, 11, 29, 5, 0, tzinfo=UTC)
    live, said = lock_state(_lease(now - timedelta(seconds=20)), now)
    assert live and "last renewed 20s ago" in said and "still renewing" in said
    live, said = lock_state(_lease("2026-11-29T04:50:00.000001Z"), now)
    assert not live and "600s ago" in said and "holder is gone" in said
    live, said = lock_state(_lease(None), now)
    assert not live and "never renewed" in said
