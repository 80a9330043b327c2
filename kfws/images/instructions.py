"""Splits a Dockerfile into its instructions the way Docker's parser does (pure).

Docker's rules (moby/buildkit frontend/dockerfile/parser): parser directives (`# escape=`)
only at the very top; a line whose first non-blank character is `#` is a comment and is dropped
wherever it is, also inside a line continuation; an instruction continues while its line ends
with the escape character (`\\` unless a directive changed it) plus optional blanks; blank
lines inside a continuation are skipped; the first word is the instruction, case-insensitive.
kfws reads base images with it, and the tests check generated Dockerfiles with it. Hand-written
(about 40 lines) because the comment-in-continuation rule is exactly what a line-based reader
gets wrong, and the PyPI parsers differ from Docker on it or on directives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DIRECTIVE = re.compile(r"#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*")
_COMMENT = re.compile(r"\s*#")


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: "FROM", "RUN", ...
    rest: str  # everything after the keyword, continuations joined
    line: int  # 1-based line where it starts


def split_instructions(text: str) -> list[Instruction]:
    lines = text.removeprefix("\ufeff").split("\n")
    escape = "\\"
    start = 0
    seen: set[str] = set()
    for start, line in enumerate(lines):  # noqa: B007 - start is used after the loop
        match = _DIRECTIVE.fullmatch(line.rstrip("\r"))
        name = match.group(1).lower() if match else ""
        if not match or name in seen or name not in ("escape", "syntax", "check"):
            break  # an unknown directive is a comment, and comments end the directives
        seen.add(name)
        if name == "escape" and match.group(2) in ("\\", "`"):
            escape = match.group(2)
    else:
        start = len(lines)
    continuation = re.compile(re.escape(escape) + r"[ \t]*$")
    out: list[Instruction] = []
    i = start
    while i < len(lines):
        line = lines[i].rstrip("\r")
        first = i + 1
        i += 1
        if _COMMENT.match(line) or not line.strip():
            continue
        joined = line.lstrip()
        while continuation.search(joined):
            joined = continuation.sub("", joined)
            while i < len(lines) and (
                _COMMENT.match(lines[i]) or not lines[i].rstrip("\r").strip()
            ):
                i += 1  # comments and blank lines inside a continuation are skipped
            if i >= len(lines):
                break
            joined += lines[i].rstrip("\r")
            i += 1
        keyword, *rest = re.split(r"\s+", joined.strip(), maxsplit=1)
        out.append(Instruction(keyword.upper(), rest[0] if rest else "", first))
    return out
