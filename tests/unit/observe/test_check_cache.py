"""The remembered passes: private file, hostile content ignored, atomic updates."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from kfws.observe.check_cache import CheckCache, default_path


def test_records_and_reads_back_in_a_private_file(tmp_path: Path) -> None:
    cache = CheckCache(tmp_path / "state" / "kfws" / "checks.json")
    assert cache.passed() == frozenset()
    cache.record(["sha256:a jupyter v1", "sha256:b jupyter v1"], "reg/x:1")
    cache.record(["sha256:c web v1"], "reg/y:1")
    assert cache.passed() == {"sha256:a jupyter v1", "sha256:b jupyter v1", "sha256:c web v1"}
    assert stat.S_IMODE(cache.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.path.parent.stat().st_mode) == 0o700
    assert [p.name for p in cache.path.parent.iterdir()] == ["checks.json"]


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"version": 2, "passed": {"k": {}}}',
        '{"version": 1, "passed": ["k"]}',
        '{"version": 1, "passed": {"k": "not an object"}}',
        "\x00\xff",
    ],
)
def test_a_malformed_file_remembers_nothing(tmp_path: Path, text: str) -> None:
    path = tmp_path / "checks.json"
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    assert CheckCache(path).passed() == frozenset()


def test_default_path_follows_xdg_state_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert default_path() == tmp_path / "kfws" / "checks.json"
