"""registry.transport: Retry-After parsing, origins, no retries for a name that does not resolve."""

from __future__ import annotations

import socket
from email.utils import formatdate
from typing import NoReturn

import pytest

from kfws.errors import RegistryError
from kfws.observe.registry import RegistryClient
from kfws.observe.registry.transport import RETRY_AFTER_CAP, origin, retry_after_seconds
from kfws.spec.model import RegistryOptions


def test_retry_after() -> None:
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("") is None
    assert retry_after_seconds("nonsense") is None
    assert retry_after_seconds("2") == 2.0
    assert retry_after_seconds("100000") == RETRY_AFTER_CAP
    now = 1_800_000_000.0
    assert retry_after_seconds(formatdate(now + 5, usegmt=True), now=now) == pytest.approx(5)
    assert retry_after_seconds(formatdate(now - 50, usegmt=True), now=now) == 0.0


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://Reg.Example.com/v2/", ("https", "reg.example.com", 443)),
        ("https://reg.example.com:443/x", ("https", "reg.example.com", 443)),
        ("http://reg.example.com/x", ("http", "reg.example.com", 80)),
        ("http://127.0.0.1:5000/x", ("http", "127.0.0.1", 5000)),
    ],
)
def test_origin(url: str, expected: tuple[str, str, int]) -> None:
    assert origin(url) == expected


def test_https_and_http_on_one_host_are_different_origins() -> None:
    assert origin("https://r.example:5000/a") != origin("http://r.example:5000/a")


def test_a_name_that_does_not_resolve_is_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    """A RESOLVER DOUBLE: getaddrinfo fails as it does for a name with no DNS record (no packet
    leaves the machine); the whole requests/urllib3 stack above it is real."""
    calls: list[str] = []

    def no_such_name(host: str, *args: object, **kwargs: object) -> NoReturn:
        calls.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_name)
    client = RegistryClient(lambda h: RegistryOptions(h), retries=3, backoff=5.0)
    with pytest.raises(RegistryError) as info:
        client.resolve("registry.example.invalid/team/nb", "v1")
    assert calls == ["registry.example.invalid"]  # one lookup, no retries (and no 5 s backoff)
    text = info.value.render()
    assert "does not resolve" in text and "check: false" in text and "--offline" in text
    assert "insecure" not in text
