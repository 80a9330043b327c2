"""Neutralises text that comes from outside (registry error bodies, ConfigMap contents, saved
plans, workspace strings) before it is shown: on a terminal, control characters become visible
escapes so they can't move the cursor, recolour, hide or reorder what the user reads; in Markdown
(a PR comment), nothing can open raw HTML, a link, or break out of its code span or fence.

Pure functions only; the renderers and kfws/output.py call them where text is printed.
"""

from __future__ import annotations

import html
import re
import unicodedata

# Cc: C0/C1 controls and DEL (ESC starts terminal sequences, CR overwrites the line);
# Cf: format characters, among them the bidi overrides (Trojan Source) and zero-width ones;
# Cs: lone surrogates (a JSON "\ud800" escape) that can't even be encoded for the terminal;
# Zl/Zp: Unicode line and paragraph separators, which some terminals and viewers break on.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_KEEP = frozenset({"\n", "\t"})
# Complete terminal escape sequences (CSI: colours, cursor moves, clearing; OSC: titles, links)
# are dropped whole rather than shown as `\x1b[31m` noise: build logs are full of colour codes.
_ANSI_SEQUENCE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
_BACKTICK_RUN = re.compile(r"`+")
# What could start Markdown syntax inside running text: emphasis, strikethrough, links and
# images, code spans, table cells (HTML is escaped as entities separately). md_text never puts
# text at a line start, so headings, quotes and list markers can't form.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]!|~])")


def _escape_char(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _is_unsafe(ch: str) -> bool:
    return ch not in _KEEP and unicodedata.category(ch) in _UNSAFE_CATEGORIES


def terminal(text: str, *, newlines: bool = True, keep_sequences: bool = False) -> str:
    """`text` with terminal escape sequences dropped and every other control/format character
    shown as an escape (`\\x07`, `\\u202e`). Newlines and tabs stay unless `newlines` is False
    (then a newline shows as `\\x0a` too). With `keep_sequences` escape sequences are shown
    escaped too (`\\x1b[31m`): in a PR comment they are a visible oddity, not noise."""
    if text.isascii() and text.isprintable():
        return text  # the common case, fast
    if not keep_sequences:
        text = _ANSI_SEQUENCE.sub("", text)
    out = []
    for ch in text:
        if _is_unsafe(ch) or (not newlines and ch in _KEEP):
            out.append(_escape_char(ch))
        else:
            out.append(ch)
    return "".join(out)


def one_line(text: str, *, keep_sequences: bool = False) -> str:
    """For places that hold a single line (a table cell, a heading): neutralised, no newline."""
    return terminal(text, newlines=False, keep_sequences=keep_sequences)


def md_text(text: str) -> str:
    """Plain text inside Markdown (a list item, a table cell): one line, HTML as entities, every
    Markdown special character backslash-escaped, so it renders as exactly these characters."""
    # `<` opens HTML and `&` an entity; a lone `>` is inert away from a line start
    escaped = one_line(text, keep_sequences=True).replace("&", "&amp;").replace("<", "&lt;")
    return _MD_SPECIAL.sub(r"\\\1", escaped)


def _longest_backtick_run(text: str) -> int:
    return max((len(m) for m in _BACKTICK_RUN.findall(text)), default=0)


def md_code(text: str, *, in_table: bool = False) -> str:
    """An inline code span holding exactly `text` (one line), whatever backticks it contains.
    In a GFM table a `|` ends the cell even inside a code span, so it is escaped there."""
    body = one_line(text, keep_sequences=True)
    if in_table:
        body = body.replace("|", "\\|")
    fence = "`" * (_longest_backtick_run(body) + 1)
    if body.startswith("`") or body.endswith("`") or not body.strip():
        body = f" {body} "  # CommonMark strips one space each side
    return f"{fence}{body}{fence}"


def md_fence(lines: list[str], info: str = "") -> list[str]:
    """A fenced code block holding `lines` verbatim (control characters neutralised): its fence
    is longer than any backtick run inside, so no line can close it early."""
    body = [one_line(line, keep_sequences=True) for line in lines]
    width = max(3, max((_longest_backtick_run(line) for line in body), default=0) + 1)
    fence = "`" * width
    return [f"{fence}{info}", *body, fence]


def html_text(text: str) -> str:
    """Text inside an HTML element of the Markdown output (e.g. `<summary>`): one line, escaped."""
    return html.escape(one_line(text, keep_sequences=True), quote=True)


def json_text(text: str) -> str:
    """JSON text (from json.dumps, which escapes C0 controls itself) with the other unsafe
    characters, which can only sit inside its strings, written as `\\uXXXX` escapes: the same
    JSON value, but nothing on the terminal reorders or hides it."""
    if text.isascii() and "\x7f" not in text:
        return text
    out: list[str] = []
    for ch in text:
        if ch not in _KEEP and ord(ch) >= 0x7F and _is_unsafe(ch):
            data = ch.encode("utf-16-be", "surrogatepass")
            out.extend(f"\\u{data[i]:02x}{data[i + 1]:02x}" for i in range(0, len(data), 2))
        else:
            out.append(ch)
    return "".join(out)
