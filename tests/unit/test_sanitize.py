from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from kfws.sanitize import html_text, json_text, md_code, md_fence, md_text, one_line, terminal


def test_escape_sequences_are_dropped_and_other_controls_shown() -> None:
    assert terminal("red \x1b[31mALERT\x1b[0m done") == "red ALERT done"
    assert terminal("title\x1b]0;pwned\x07!") == "title!"
    assert terminal("bell\x07 cr\r nul\x00 del\x7f") == "bell\\x07 cr\\x0d nul\\x00 del\\x7f"
    assert terminal("csi\x9b2J") == "csi\\x9b2J"  # the one-byte C1 form of ESC [


def test_bidi_overrides_and_invisible_characters_are_shown() -> None:
    assert terminal("admin\u202e\u2066x") == "admin\\u202e\\u2066x"
    assert terminal("a\u200bb") == "a\\u200bb"
    assert terminal("line\u2028sep") == "line\\u2028sep"


def test_ordinary_text_and_newlines_stay() -> None:
    text = "configmap/kubeflow/x: naïve 日本 ✓\n\tnext"
    assert terminal(text) == text
    assert one_line("a\nb\tc") == "a\\x0ab\\x09c"


@given(st.text())
def test_nothing_unsafe_survives(text: str) -> None:
    shown = terminal(text)
    assert "\x1b" not in shown and "\r" not in shown
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", shown)
    shown.encode("utf-8")  # no lone surrogate left to crash the terminal write


def test_markdown_text_cannot_open_html_links_or_cells() -> None:
    shown = md_text("<img src=x onerror=alert(1)> [click](http://evil) | *x* `y`\nnext")
    assert "<" not in shown and "&lt;img" in shown
    assert "\\[click\\]" in shown and "\\|" in shown and "\\*x\\*" in shown and "\\`y\\`" in shown
    assert "\n" not in shown


def test_code_spans_use_a_longer_fence_than_any_backtick_run() -> None:
    assert md_code("plain") == "`plain`"
    assert md_code("a``b") == "```a``b```"
    assert md_code("`edge`") == "`` `edge` ``"
    assert md_code("a|b", in_table=True) == "`a\\|b`"


def test_fences_cannot_be_closed_by_the_content() -> None:
    block = md_fence(["ok", "```", "<script>x</script>", "````` still inside"], "diff")
    assert block[0] == "``````diff" and block[-1] == "``````"
    assert block[1:-1] == ["ok", "```", "<script>x</script>", "````` still inside"]


def test_html_text_is_escaped() -> None:
    assert html_text('a</summary><script>"') == "a&lt;/summary&gt;&lt;script&gt;&quot;"


def test_json_text_keeps_the_value_and_hides_nothing() -> None:
    import json

    value = {"t": "x\u202ey\u0085z\U000e0001"}
    text = json_text(json.dumps(value, ensure_ascii=False))
    assert json.loads(text) == value
    assert "\u202e" not in text and "\\u202e" in text and "\\udb40\\udc01" in text
