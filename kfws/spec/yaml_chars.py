"""Where, in the text kfws decoded, the character YAML refuses is, and what it is.

PyYAML's reader error carries a position, not a line mark, and the position is not even the
same unit for its two readers: a character index from the pure-Python one, a UTF-8 byte offset
from libyaml (so a BOM or an accented letter earlier in the file shifts it). Rather than guess
which reader spoke, the text is searched again with PyYAML's own definition of a printable
character: both readers refuse exactly the first character outside it. Pure functions.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from yaml.reader import Reader

_NAMES = {"\0": "NUL", "\x1b": "escape", "\x7f": "DEL"}
_KINDS = {"Cc": "a control character", "Cs": "a lone surrogate", "Cn": "not a character"}


@dataclass(frozen=True)
class BadChar:
    line: int  # 1-based, counting "\n" as editors do
    column: int  # 1-based, in characters; a leading BOM is not a column
    message: str  # "U+0007 (a control character) is not allowed in YAML; ..."


def first_unprintable(text: str) -> BadChar | None:
    """The first character no YAML reader accepts, located in `text`; None if there is none."""
    match = Reader.NON_PRINTABLE.search(text)
    if match is None:
        return None
    index = match.start()
    ch = text[index]
    line_start = text.rfind("\n", 0, index) + 1
    column = index - line_start + 1
    if line_start == 0 and text.startswith("\ufeff"):
        column -= 1  # the BOM is invisible in an editor
    name = _NAMES.get(ch) or _KINDS.get(unicodedata.category(ch), "a special character")
    fix = "delete it"
    if unicodedata.category(ch) == "Cc":  # a surrogate or non-character has no YAML escape
        # every control character is below U+00A0: the two-digit escape always fits
        fix += f', or write it as "\\x{ord(ch):02x}" inside a double-quoted string'
    return BadChar(
        line=text.count("\n", 0, index) + 1,
        column=column,
        message=f"U+{ord(ch):04X} ({name}) is not allowed in YAML; {fix}",
    )
