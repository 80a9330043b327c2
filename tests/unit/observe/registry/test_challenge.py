"""registry.challenge: parsing `WWW-Authenticate` challenges."""

from __future__ import annotations

import pytest

from kfws.observe.registry.challenge import Challenge, parse_www_authenticate


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
            'scope="repository:library/busybox:pull"',
            [
                Challenge(
                    "bearer",
                    {
                        "realm": "https://auth.docker.io/token",
                        "service": "registry.docker.io",
                        "scope": "repository:library/busybox:pull",
                    },
                )
            ],
        ),
        ('Basic realm="kfws-local"', [Challenge("basic", {"realm": "kfws-local"})]),
        ("basic REALM=plain", [Challenge("basic", {"realm": "plain"})]),
        (  # a quoted scope holding a comma and a space, and an escaped quote
            'Bearer realm="http://127.0.0.1:9/t", scope="repository:a/b:pull,push '
            'repository:c:pull", error="insufficient_scope", x="a\\"b"',
            [
                Challenge(
                    "bearer",
                    {
                        "realm": "http://127.0.0.1:9/t",
                        "scope": "repository:a/b:pull,push repository:c:pull",
                        "error": "insufficient_scope",
                        "x": 'a"b',
                    },
                )
            ],
        ),
        (  # two challenges in one header
            'Basic realm="r1", Bearer realm="https://t/token",service=reg',
            [
                Challenge("basic", {"realm": "r1"}),
                Challenge("bearer", {"realm": "https://t/token", "service": "reg"}),
            ],
        ),
        ("Negotiate abc123==", [Challenge("negotiate", {})]),  # token68 ignored
        ("", []),
        (" , ,", []),
        ('realm="no scheme"', []),
        ('Bearer realm="unterminated', [Challenge("bearer", {"realm": "unterminated"})]),
    ],
)
def test_parse_www_authenticate(header: str, expected: list[Challenge]) -> None:
    assert parse_www_authenticate(header) == expected


def test_challenge_properties() -> None:
    c = Challenge("bearer", {"realm": "https://t", "service": "s", "scope": "repository:x:pull"})
    assert (c.realm, c.service, c.scope) == ("https://t", "s", "repository:x:pull")
    assert Challenge("basic").realm is None
