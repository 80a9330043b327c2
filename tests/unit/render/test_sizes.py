"""Size entries in words: human units, the +/- delta, unknown."""

from __future__ import annotations

import pytest

from kfws.render.sizes import delta, human, size_words


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
    [(1_920_000_000, 1_608_000_000, "+312 MB"), (1_000, 2_500, "-1.50 kB"), (5, 5, "±0 B")],
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
