"""registry.transport: Retry-After parsing."""

from __future__ import annotations

from email.utils import formatdate

import pytest

from kfws.observe.registry.transport import RETRY_AFTER_CAP, retry_after_seconds


def test_retry_after() -> None:
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("") is None
    assert retry_after_seconds("nonsense") is None
    assert retry_after_seconds("2") == 2.0
    assert retry_after_seconds("100000") == RETRY_AFTER_CAP
    now = 1_800_000_000.0
    assert retry_after_seconds(formatdate(now + 5, usegmt=True), now=now) == pytest.approx(5)
    assert retry_after_seconds(formatdate(now - 50, usegmt=True), now=now) == 0.0
