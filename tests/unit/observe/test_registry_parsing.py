"""The pure parts of the registry adapter: challenge parsing, names, platforms, Retry-After."""

from __future__ import annotations

from email.utils import formatdate

import pytest

from kfws.errors import RegistryError
from kfws.observe.registry import (
    RETRY_AFTER_CAP,
    Challenge,
    parse_www_authenticate,
    pick_platform,
    retry_after_seconds,
    split_repository,
)


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


@pytest.mark.parametrize(
    ("repository", "expected"),
    [
        ("127.0.0.1:15001/team/jupyter", ("127.0.0.1:15001", "team/jupyter")),
        ("registry.example.com/a/b/c", ("registry.example.com", "a/b/c")),
        ("localhost/x", ("localhost", "x")),
        ("busybox", ("docker.io", "library/busybox")),
        ("jupyter/base-notebook", ("docker.io", "jupyter/base-notebook")),
        ("docker.io/busybox", ("docker.io", "library/busybox")),
        ("index.docker.io/kubeflow/nb", ("docker.io", "kubeflow/nb")),
        ("[::1]:5000/x", ("[::1]:5000", "x")),
    ],
)
def test_split_repository(repository: str, expected: tuple[str, str]) -> None:
    assert split_repository(repository) == expected


@pytest.mark.parametrize("bad", ["host.io/", "host.io/Upper", "host.io/a//b", ""])
def test_split_repository_refuses_invalid_names(bad: str) -> None:
    with pytest.raises(RegistryError):
        split_repository(bad)


INDEX = {
    "manifests": [
        {"digest": "sha256:att", "platform": {"os": "unknown", "architecture": "unknown"}},
        {"digest": "sha256:amd", "platform": {"os": "linux", "architecture": "amd64"}},
        {
            "digest": "sha256:v7",
            "platform": {"os": "linux", "architecture": "arm", "variant": "v7"},
        },
        {
            "digest": "sha256:v8",
            "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"},
        },
    ]
}


@pytest.mark.parametrize(
    ("platform", "digest"),
    [
        ("linux/amd64", "sha256:amd"),
        ("linux/arm/v7", "sha256:v7"),
        ("linux/arm64", "sha256:v8"),  # no variant asked: any variant of that os/arch
        ("linux/arm64/v8", "sha256:v8"),
        ("linux/arm/v6", None),
        ("windows/amd64", None),
    ],
)
def test_pick_platform(platform: str, digest: str | None) -> None:
    found = pick_platform(INDEX, platform)
    assert (found["digest"] if found else None) == digest


@pytest.mark.parametrize("bad", ["linux", "linux/", "a/b/c/d"])
def test_pick_platform_refuses_malformed_platforms(bad: str) -> None:
    with pytest.raises(RegistryError, match="not a platform"):
        pick_platform(INDEX, bad)


def test_retry_after() -> None:
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("") is None
    assert retry_after_seconds("nonsense") is None
    assert retry_after_seconds("2") == 2.0
    assert retry_after_seconds("100000") == RETRY_AFTER_CAP
    now = 1_800_000_000.0
    assert retry_after_seconds(formatdate(now + 5, usegmt=True), now=now) == pytest.approx(5)
    assert retry_after_seconds(formatdate(now - 50, usegmt=True), now=now) == 0.0
