"""registry.config_cache: configs remembered by digest in a private file, hostile content
ignored, bounded, and a file that cannot be written never fails a run."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from kfws.observe.registry import config_cache
from kfws.observe.registry.config_cache import ConfigCache, default_path
from kfws.observe.registry.facts import ImageConfig

D1, D2, D3 = ("sha256:" + c * 64 for c in "123")
KFWS = ImageConfig(
    {"dev.kfws.image-name": "nb", "dev.kfws.input-digest": D3},
    "2026-11-01T00:00:00Z",
    "linux/amd64",
)
PLAIN = ImageConfig({}, None, None)


@pytest.fixture(autouse=True)
def no_home_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A mutant that loses the path given falls back to the default one: never the real home."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


def test_remembers_across_instances_in_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "kfws" / "image-configs.json"
    first = ConfigCache(path)
    assert first.get(D1) is None
    first.put(D1, KFWS)
    first.put(D2, PLAIN)
    assert first.get(D1) == KFWS
    first.save()
    second = ConfigCache(path)
    assert second.get(D1) == KFWS and second.get(D2) == PLAIN and second.get(D3) is None
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["image-configs.json"]
    assert json.loads(path.read_text(encoding="utf-8")) == {
        "version": 1,
        "configs": {
            D1: {
                "labels": {"dev.kfws.image-name": "nb", "dev.kfws.input-digest": D3},
                "created": "2026-11-01T00:00:00Z",
                "platform": "linux/amd64",
            },
            D2: {"labels": {}, "created": None, "platform": None},
        },
    }


def test_nothing_new_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "image-configs.json"
    cache = ConfigCache(path)
    cache.save()
    assert not path.exists()
    cache.put(D1, KFWS)
    cache.save()
    before = path.stat().st_ino  # a write replaces the file: a new inode
    again = ConfigCache(path)
    again.put(D1, KFWS)  # already remembered: not new
    again.save()
    assert path.stat().st_ino == before
    again.put(D2, PLAIN)
    again.save()
    after = path.stat().st_ino
    assert after != before
    again.save()  # saved already: nothing new
    assert path.stat().st_ino == after


def sized(chars: int) -> ImageConfig:
    """A config whose entry in the file is exactly `chars` characters (compact JSON)."""
    empty = {"labels": {"k": ""}, "created": None, "platform": None}
    return ImageConfig({"k": "x" * (chars - len(json.dumps(empty, separators=(",", ":"))))})


def test_a_digest_that_is_not_one_or_an_oversized_entry_is_not_kept(tmp_path: Path) -> None:
    cache = ConfigCache(tmp_path / "c.json")
    cache.put("sha256:abc", KFWS)
    cache.put(D1, sized(8193))
    cache.put(D2, sized(8192))
    assert cache.get("sha256:abc") is None and cache.get(D1) is None
    assert cache.get(D2) == sized(8192)
    cache.save()
    assert list(json.loads(cache.path.read_text(encoding="utf-8"))["configs"]) == [D2]


def test_an_entry_in_the_file_is_bounded_as_when_it_was_kept(tmp_path: Path) -> None:
    path = tmp_path / "image-configs.json"
    fits, big = sized(8192), sized(8193)
    entries = {
        D1: {"labels": dict(fits.labels), "created": None, "platform": None},
        D2: {"labels": dict(big.labels), "created": None, "platform": None},
    }
    path.write_text(json.dumps({"version": 1, "configs": entries}), encoding="utf-8")
    cache = ConfigCache(path)
    assert cache.get(D1) == fits and cache.get(D2) is None


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"version": 2, "configs": {}}',
        '{"version": 1, "configs": []}',
        "\x00\xff",
    ],
)
def test_a_malformed_file_remembers_nothing(tmp_path: Path, text: str) -> None:
    path = tmp_path / "image-configs.json"
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    assert ConfigCache(path).get(D1) is None


def test_malformed_entries_are_ignored_and_the_others_kept(tmp_path: Path) -> None:
    good = {"labels": {"a": "b"}, "created": "2026-11-01T00:00:00Z", "platform": "linux/arm64"}
    bad = [
        "not an object",
        {"labels": {"a": "b"}, "created": None},  # a field missing
        {**good, "extra": 1},  # a field too many
        {**good, "labels": ["a"]},
        {**good, "labels": {"a": 1}},
        {**good, "created": 5},
        {**good, "created": "2" * 65},
        {**good, "platform": "p" * (3 * 64 + 3)},
        {**good, "labels": {"big": "x" * config_cache.MAX_ENTRY_CHARS}},
    ]
    digests = ["sha256:" + f"{i:064x}" for i in range(len(bad))]
    path = tmp_path / "image-configs.json"
    configs = {**dict(zip(digests, bad, strict=True)), "sha256:short": good, D1: good}
    # the longest `created` and `platform` facts.image_config keeps are still facts
    longest = {**good, "created": "2" * 64, "platform": "p" * (3 * 64 + 2)}
    configs[D2] = longest
    path.write_text(json.dumps({"version": 1, "configs": configs}), encoding="utf-8")
    cache = ConfigCache(path)
    assert [cache.get(d) for d in [*digests, "sha256:short"]] == [None] * (len(bad) + 1)
    assert cache.get(D1) == ImageConfig({"a": "b"}, "2026-11-01T00:00:00Z", "linux/arm64")
    assert cache.get(D2) == ImageConfig({"a": "b"}, "2" * 64, "p" * (3 * 64 + 2))


def test_the_oldest_entries_go_first_past_the_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert config_cache.MAX_ENTRIES == 20_000  # the bound the README states
    monkeypatch.setattr(config_cache, "MAX_ENTRIES", 2)
    path = tmp_path / "image-configs.json"
    cache = ConfigCache(path)
    for digest in (D1, D2, D3):
        cache.put(digest, PLAIN)
    cache.save()
    assert list(json.loads(path.read_text(encoding="utf-8"))["configs"]) == [D2, D3]


def test_a_cache_that_cannot_be_written_costs_nothing_but_time(tmp_path: Path) -> None:
    (tmp_path / "kfws").write_text("a file where the folder should be", encoding="utf-8")
    cache = ConfigCache(tmp_path / "kfws" / "image-configs.json")
    cache.put(D1, KFWS)
    cache.save()  # no error
    assert cache.get(D1) == KFWS  # still remembered for this run
    assert [p.name for p in tmp_path.iterdir()] == ["kfws"]


def test_a_failed_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    (tmp_path / "image-configs.json").mkdir()  # a folder where the file goes: rename fails
    cache = ConfigCache(tmp_path / "image-configs.json")
    cache.put(D1, KFWS)
    cache.save()
    assert [p.name for p in tmp_path.iterdir()] == ["image-configs.json"]


def test_default_path_follows_xdg_cache_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_path() == tmp_path / "kfws" / "image-configs.json"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_path() == tmp_path / "home" / ".cache" / "kfws" / "image-configs.json"
