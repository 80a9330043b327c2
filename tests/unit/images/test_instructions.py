"""The Dockerfile splitter against Docker's own parser rules (moby/buildkit parser tests)."""

from __future__ import annotations

import dataclasses

import pytest

from kfws.images.instructions import split_instructions


def kw(text: str) -> list[tuple[str, str]]:
    return [(i.keyword, i.rest) for i in split_instructions(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("FROM a\nRUN x\n", [("FROM", "a"), ("RUN", "x")]),
        ("from a\n", [("FROM", "a")]),
        # a comment inside a continuation is dropped, not taken for the next instruction
        ("FROM \\\n# a comment\n  base:1\n", [("FROM", "base:1")]),
        ("RUN a \\\n    # note\n    && b\n", [("RUN", "a     && b")]),
        # blank lines inside a continuation are skipped too
        ("RUN a \\\n\n  b\n", [("RUN", "a   b")]),
        # the escape char may be followed by blanks
        ("RUN a \\  \n b\n", [("RUN", "a  b")]),
        ("  # indented comment\nFROM x\n", [("FROM", "x")]),
        # the escape directive, only at the top
        ("# escape=`\nFROM x\nRUN a `\n b\n", [("FROM", "x"), ("RUN", "a  b")]),
        ("# note\n# escape=`\nRUN a `\n", [("RUN", "a `")]),
        ("FROM x\r\nRUN y\r\n", [("FROM", "x"), ("RUN", "y")]),
        ("\ufeffFROM x\n", [("FROM", "x")]),
        ("FROM\tx\n", [("FROM", "x")]),
        ("RUN a \\\n", [("RUN", "a")]),
        ("RUN\n", [("RUN", "")]),
        # directives: any known ones, each once, name case-insensitive, blanks around `=`
        ("# syntax=docker/dockerfile:1\n# escape=`\nRUN a `\n b\n", [("RUN", "a  b")]),
        ("# check=skip=all\n# escape=`\nRUN a `\n b\n", [("RUN", "a  b")]),
        ("#  Escape = ` \nRUN a `\n b\n", [("RUN", "a  b")]),
        # a repeated directive is a comment: it ends the directives, the first one holds
        ("# escape=`\n# escape=\\\n# escape=\\\nRUN a `\n b\n", [("RUN", "a  b")]),
        ("# escape=`\n# syntax=x\n# syntax=y\n# escape=\\\nRUN a \\\n", [("RUN", "a \\")]),
        # an escape other than \ or ` is ignored
        ("# escape=x\nRUN a x\n b\n", [("RUN", "a x"), ("B", "")]),
        ("# escape=x\nRUN a \\\n b\n", [("RUN", "a  b")]),
        # CRLF lines: comments and blank lines inside a continuation too
        ("RUN a \\\r\n# c\r\n\r\n b\r\n", [("RUN", "a  b")]),
        ("# escape=`\r\nRUN a `\r\n b\r\n", [("RUN", "a  b")]),
        ("# escape=`", []),  # only directives: no instructions
        ("# syntax=X\n# escape=`\nRUN a `\n b\n", [("RUN", "a  b")]),  # any value
        # a trailing X is text (only \r is stripped), also on continued and skipped lines
        ("FROM baseX\nRUN a \\\n bX\n", [("FROM", "baseX"), ("RUN", "a  bX")]),
        ("RUN a \\\nX\n", [("RUN", "a X")]),
        # a doubled escape at the end of the file: the last one continues into nothing
        ("RUN a \\\\\n", [("RUN", "a \\")]),
    ],
)
def test_docker_line_rules(text: str, expected: list[tuple[str, str]]) -> None:
    assert kw(text) == expected


def test_lines_are_counted_from_one_where_each_instruction_starts() -> None:
    steps = split_instructions("# c\nFROM a\n\nRUN b \\\n c\nUSER x\n")
    assert [s.line for s in steps] == [2, 4, 6]


def test_lines_are_counted_after_the_directives_too() -> None:
    steps = split_instructions("# escape=`\n# syntax=x\nFROM a\nRUN b `\n\n c\nUSER x")
    assert [(s.keyword, s.line) for s in steps] == [("FROM", 3), ("RUN", 4), ("USER", 7)]


def test_an_instruction_cannot_change_once_read() -> None:
    (step,) = split_instructions("FROM a\n")
    with pytest.raises(dataclasses.FrozenInstanceError):
        step.rest = "b"  # type: ignore[misc]
