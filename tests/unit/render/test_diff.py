"""The spawner config's unified diff: three lines of context, the key as the file name, lines
split on "\\n" only, a saved plan's non-text before/after read as empty."""

from __future__ import annotations

from typing import Any

import pytest

from kfws.plan.model import Change, ChangeKind
from kfws.render.diff import spawner_diff


def change(before: object, after: object, **details: Any) -> Change:
    return Change(ChangeKind.UPDATE_SPAWNER, "configmap/kf/cm", "r", before, after, details)


TEN = "".join(f"line {i}\n" for i in range(1, 11))


def test_three_lines_of_context_around_a_change_named_by_the_key() -> None:
    after = TEN.replace("line 5\n", "line five\n")
    assert spawner_diff(change(TEN, after, key="spawner_ui_config.yaml")) == [
        "--- a/spawner_ui_config.yaml",
        "+++ b/spawner_ui_config.yaml",
        "@@ -2,7 +2,7 @@",
        " line 2",
        " line 3",
        " line 4",
        "-line 5",
        "+line five",
        " line 6",
        " line 7",
        " line 8",
    ]


def test_the_key_is_the_file_name_and_defaults_to_the_spawner_key() -> None:
    assert spawner_diff(change("a\n", "b\n", key="other.yaml"))[:2] == [
        "--- a/other.yaml",
        "+++ b/other.yaml",
    ]
    assert spawner_diff(change("a\n", "b\n"))[:2] == [
        "--- a/spawner_ui_config.yaml",
        "+++ b/spawner_ui_config.yaml",
    ]


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (None, "a\n", ["@@ -0,0 +1 @@", "+a"]),  # nothing before: all added
        ("a\n", 7, ["@@ -1 +0,0 @@", "-a"]),  # not text (an edited plan): as empty
        ("x\ra\n", "x\rb\n", ["@@ -1 +1 @@", "-x\ra", "+x\rb"]),  # \r stays in its line
    ],
)
def test_lines_and_non_text_sides(before: object, after: object, expected: list[str]) -> None:
    assert spawner_diff(change(before, after))[2:] == expected


def test_a_missing_final_newline_is_no_change() -> None:
    assert spawner_diff(change("a\nb", "a\nb\n")) == []
    assert spawner_diff(change(None, "")) == []
