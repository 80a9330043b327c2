"""The pure part of kfws.targets.lock: is a lock still held by a live holder? (the Lease itself is
exercised by the env tests). A Lease is read as the API's JSON (MicroTime strings)."""

from __future__ import annotations

from typing import Any


def _lease(renewed: str | None, ttl: int | None = 120, acquired: str | None = None) -> Any:
    return {"spec": {"renewTime": renewed, "acquireTime": acquired, "leaseDurationSeconds": ttl}}


def test_a_lock_renewed_within_its_duration_is_live_and_an_older_one_is_not() -> None:
    from datetime import UTC, datetime

    from kfws.targets.lock import lock_state

    now = datetime(2026, 11, 29, 5, 0, tzinfo=UTC)
    live, said = lock_state(_lease("2026-11-29T04:59:40.000001Z"), now)
    assert live and "last renewed 20s ago" in said and "still renewing" in said
    live, said = lock_state(_lease("2026-11-29T04:50:00.000001Z"), now)
    assert not live and "600s ago" in said and "holder is gone" in said
    live, said = lock_state(_lease(None), now)
    assert not live and "never renewed" in said


def test_an_unrenewed_lock_counts_from_its_acquire_time_and_its_own_duration() -> None:
    from datetime import UTC, datetime

    from kfws.targets.lock import lock_state

    now = datetime(2026, 11, 29, 5, 0, tzinfo=UTC)
    live, said = lock_state(_lease(None, 30, acquired="2026-11-29T04:59:00.000001Z"), now)
    assert not live and "60s ago, over its 30s" in said
    live, said = lock_state(_lease(None, None, acquired="2026-11-29T04:59:00.000001Z"), now)
    assert live and "expires 120s after a renewal" in said  # no duration: kfws's own
