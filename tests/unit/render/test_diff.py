"""The unified diff of a text a cluster change writes: three lines of context, the given name as
the file name, lines split on "\\n" only, a saved plan's non-text before/after read as empty."""

from __future__ import annotations

import pytest

from kfws.render.diff import text_diff


def diff(before: object, after: object, name: str = "spawner_ui_config.yaml") -> list[str]:
    return text_diff(before, after, name)


TEN = "".join(f"line {i}\n" for i in range(1, 11))


def test_three_lines_of_context_around_a_change_named_by_the_key() -> None:
    after = TEN.replace("line 5\n", "line five\n")
    assert diff(TEN, after) == [
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


def test_the_name_is_the_file_name() -> None:
    assert diff("a\n", "b\n", "other.yaml")[:2] == ["--- a/other.yaml", "+++ b/other.yaml"]


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (None, "a\n", ["@@ -0,0 +1 @@", "+a"]),  # nothing before: all added
        ("a\n", 7, ["@@ -1 +0,0 @@", "-a"]),  # not text (an edited plan): as empty
        ("x\ra\n", "x\rb\n", ["@@ -1 +1 @@", "-x\ra", "+x\rb"]),  # \r stays in its line
    ],
)
def test_lines_and_non_text_sides(before: object, after: object, expected: list[str]) -> None:
    assert diff(before, after)[2:] == expected


def test_a_missing_final_newline_is_no_change() -> None:
    assert diff("a\nb", "a\nb\n") == []
    assert diff(None, "") == []
