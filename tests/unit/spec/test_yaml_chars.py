"""The refused character found again in the decoded text, and agreeing with both PyYAML readers
about which character it is (their positions are in different units; the character is not)."""

from __future__ import annotations

import pytest
import yaml

from kfws.spec.yaml_chars import BadChar, first_unprintable

BELL_FIX = 'delete it, or write it as "\\x07" inside a double-quoted string'


def test_clean_text_has_none_even_with_a_bom_tabs_crlf_and_non_ascii() -> None:
    assert first_unprintable("\ufeffa:\tcafé\r\nb: \U0001f600 \u00a0\x85\n") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\x07", BadChar(1, 1, f"U+0007 (a control character) is not allowed in YAML; {BELL_FIX}")),
        # the BOM is not a column an editor shows
        (
            "\ufeffab\x07",
            BadChar(1, 3, f"U+0007 (a control character) is not allowed in YAML; {BELL_FIX}"),
        ),
        # only the first is told; lines counted by "\n", columns in characters, not bytes
        (
            "a\r\n\U0001f600é\x00\x07\n",
            BadChar(
                2,
                3,
                'U+0000 (NUL) is not allowed in YAML; delete it, or write it as "\\x00" inside '
                "a double-quoted string",
            ),
        ),
        (
            "a\nb\n\x7f",
            BadChar(
                3,
                1,
                "U+007F (DEL) is not allowed in YAML; delete it, or "
                'write it as "\\x7f" inside a double-quoted string',
            ),
        ),
        ("x: \ufffe", BadChar(1, 4, "U+FFFE (not a character) is not allowed in YAML; delete it")),
        ("x: \udfff", BadChar(1, 4, "U+DFFF (a lone surrogate) is not allowed in YAML; delete it")),
    ],
)
def test_the_first_refused_character_is_located_and_named(text: str, expected: BadChar) -> None:
    assert first_unprintable(text) == expected


LOADERS = [yaml.SafeLoader] + ([yaml.CSafeLoader] if hasattr(yaml, "CSafeLoader") else [])


@pytest.mark.parametrize("loader", LOADERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("text", ["a: \x07\n", "\ufeffa: é\nb: x\x1by\x07\n", "a: [1,\n\x0c]\n"])
def test_it_is_the_character_the_yaml_reader_refused(text: str, loader: type) -> None:
    with pytest.raises(yaml.reader.ReaderError) as e:
        yaml.compose(text, Loader=loader)
    bad = first_unprintable(text)
    assert bad is not None
    assert bad.message.startswith(f"U+{e.value.character:04X} ")


def test_escape_is_named_and_a_newline_at_the_very_start_counts() -> None:
    assert first_unprintable("\n\x1b") == BadChar(
        2,
        1,
        'U+001B (escape) is not allowed in YAML; delete it, or write it as "\\x1b" inside a '
        "double-quoted string",
    )
    assert first_unprintable("\na\n\n  \x7f") == BadChar(
        4,
        3,
        'U+007F (DEL) is not allowed in YAML; delete it, or write it as "\\x7f" inside a '
        "double-quoted string",
    )


def test_a_located_character_is_a_value_nobody_can_change() -> None:
    import dataclasses

    found = first_unprintable("\x07")
    assert found is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        found.line = 9  # type: ignore[misc]
