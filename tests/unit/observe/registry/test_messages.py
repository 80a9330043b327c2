"""registry.messages: registry text made safe to print; DNS failures told apart."""

from __future__ import annotations

import socket

import pytest
import requests

from kfws.observe.registry.messages import DETAIL_LIMIT, is_dns_failure, shown


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("plain text", "plain text"),
        ("\x1b[31mred", "\\x1b[31mred"),
        ("a\r\nb\x00c\x7f", "a\\x0d\\x0ab\\x00c\\x7f"),
        ("\u202eevil\u2066", "\\u202eevil\\u2066"),
        ("caf\u00e9 \u2713", "caf\u00e9 \u2713"),  # printable non-ASCII stays as it is
    ],
)
def test_shown_neutralises_control_and_format_characters(raw: str, expected: str) -> None:
    assert shown(raw) == expected


def test_shown_is_bounded() -> None:
    out = shown("y" * 100_000)
    assert len(out) == DETAIL_LIMIT and out.endswith("…")
    assert len(shown("\x1b" * 1000, 50)) == 50


def test_is_dns_failure_walks_the_cause_chain() -> None:
    try:
        try:
            raise socket.gaierror(-2, "Name or service not known")
        except socket.gaierror as inner:
            raise requests.exceptions.ConnectionError("Max retries exceeded") from inner
    except requests.exceptions.ConnectionError as e:
        assert is_dns_failure(e)
    assert not is_dns_failure(requests.exceptions.ConnectionError("Connection refused"))
    assert is_dns_failure(OSError("Temporary failure in name resolution"))
