"""Size entries in words: human units, the +/- delta, unknown."""

from __future__ import annotations

import pytest

from kfws.plan.model import Change, ChangeKind
from kfws.render.sizes import change_size, delta, human, offered_sizes, size_words, why_lines
from kfws.targets.spawner.kinds import UPDATE


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "0 B"),
        (512, "512 B"),
        (4_096, "4.10 kB"),
        (312_000_000, "312 MB"),
        (1_920_000_000, "1.92 GB"),
        (25_400_000_000, "25.4 GB"),
        (3 * 10**15, "3000 TB"),
    ],
)
def test_human_units(n: int, words: str) -> None:
    assert human(n) == words


@pytest.mark.parametrize(
    ("new", "old", "words"),
    [
        (1_920_000_000, 1_608_000_000, "+312 MB"),
        (1_000, 2_500, "-1.50 kB"),
        (5, 5, "±0 B"),
        (6, 5, "+1 B"),
        (5, 6, "-1 B"),
    ],
)
def test_delta(new: int, old: int, words: str) -> None:
    assert delta(new, old) == words


def entry(bytes_: object, source: str, replaces: str | None = None, old: object = None) -> object:
    return {"bytes": bytes_, "source": source, "replaces": replaces, "replacesBytes": old}


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (entry(1_920_000_000, "registry"), "1.92 GB"),
        (
            entry(1_920_000_000, "registry", "r/tf:1", 1_608_000_000),
            "1.92 GB, +312 MB (replaces r/tf:1, 1.61 GB)",
        ),
        (
            entry(None, "pending", "r/tf:1", 1_000),
            "size known after build (replaces r/tf:1, 1.00 kB)",
        ),
        (
            entry(2_000, "engine"),
            "2.00 kB uncompressed (local build; compressed size known after push)",
        ),
        (entry(None, "unknown", "r/tf:1", None), "size unknown (replaces r/tf:1, size unknown)"),
        # a saved plan is hostile: nonsense reads as unknown, never a traceback
        (entry(-5, "registry"), "size unknown"),
        (entry(True, "registry"), "size unknown"),
        (entry("12", "registry"), "size unknown"),
        ("not a mapping", "size unknown"),
    ],
)
def test_size_words(value: object, words: str) -> None:
    assert size_words(value) == words


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (999, "999 B"),
        (1_000, "1.00 kB"),
        (9_994, "9.99 kB"),
        (10_000, "10.0 kB"),
        (99_940, "99.9 kB"),
        (100_000, "100 kB"),
        (999_400, "999 kB"),
        (10**12, "1.00 TB"),
        (-1_500, "-1.50 kB"),
    ],
)
def test_human_units_at_each_boundary(n: int, words: str) -> None:
    assert human(n) == words


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (entry(0, "registry"), "0 B"),
        (entry(5, "registry", None, 7), "5 B, -2 B"),  # a known old size alone still deltas
        (entry(5, "pending"), "size known after build"),
        (entry(None, "registry"), "size unknown"),
        (entry(None, "engine"), "size unknown"),
        (entry(5, "nonsense"), "size unknown"),
        (
            entry(5, "engine", "r/x:1", 7),
            "5 B uncompressed (local build; compressed size known after push)"
            " (replaces r/x:1, 7 B)",
        ),
        (entry(5, "registry", "r/x:1", -7), "5 B (replaces r/x:1, size unknown)"),
        (entry(5, "registry", 3, 7), "5 B, -2 B"),  # a replaces that is no reference: unsaid
        ({}, "size unknown"),
    ],
)
def test_size_words_for_every_source_and_nonsense(value: object, words: str) -> None:
    assert size_words(value) == words


def _change(kind: ChangeKind, **details: object) -> Change:
    return Change(kind, "t", "r", None, None, details)


def test_only_image_changes_have_a_size_and_why_and_only_the_spawner_offers_sizes() -> None:
    size = {"bytes": 5, "source": "registry"}
    rows = [{"image": "r/a:1", **size}, "junk", {"bytes": 1}]
    assert change_size(_change(ChangeKind.PUSH_IMAGE, size=size)) == "5 B"
    assert change_size(_change(ChangeKind.PUSH_IMAGE)) is None
    assert change_size(_change(ChangeKind.CHECK_IMAGE, size=size)) is None
    assert why_lines(_change(ChangeKind.REBUILD_IMAGE, why=["a", 3])) == ["a", "3"]
    assert why_lines(_change(ChangeKind.REBUILD_IMAGE, why="a")) == []
    assert why_lines(_change(ChangeKind.CHECK_IMAGE, why=["a"])) == []
    assert offered_sizes(_change(UPDATE, sizes=rows)) == [
        ("r/a:1", rows[0]),
        ("None", rows[2]),
    ]
    assert offered_sizes(_change(UPDATE, sizes={"image": "x"})) == []
    assert offered_sizes(_change(ChangeKind.BUILD_IMAGE, sizes=rows)) == []
