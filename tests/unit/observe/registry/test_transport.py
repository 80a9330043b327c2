"""registry.transport: Retry-After parsing, origins, no retries for a name that does not resolve."""

from __future__ import annotations

import socket
from email.utils import formatdate
from typing import NoReturn

import pytest
import requests
from requests.utils import select_proxy

from kfws.errors import RegistryError
from kfws.observe.registry import RegistryClient
from kfws.observe.registry.transport import (
    RETRY_AFTER_CAP,
    _Session,
    origin,
    retry_after_seconds,
)
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


PROXY = "http://proxy.example.invalid:3128"
REG = "https://reg.example.com"
PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


@pytest.fixture
def proxy_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("HTTPS_PROXY", PROXY)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,.internal.example")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/bundle.pem")
    return monkeypatch


@pytest.mark.parametrize(
    ("url", "verify", "proxy", "verified_by"),
    [
        ("https://reg.example.com/v2/a/manifests/x", True, PROXY, "/etc/ssl/bundle.pem"),
        ("https://reg.example.com/v2/a/manifests/x", "/ca.pem", PROXY, "/ca.pem"),
        ("http://127.0.0.1:5000/v2/a/blobs/y", True, None, "/etc/ssl/bundle.pem"),
        ("https://r.internal.example/v2/", True, None, "/etc/ssl/bundle.pem"),
    ],
)
def test_the_environment_answers_as_requests_does(
    proxy_env: pytest.MonkeyPatch, url: str, verify: bool | str, proxy: str | None, verified_by: str
) -> None:
    ours = _Session().merge_environment_settings(url, {}, True, verify, None)
    assert ours == requests.Session().merge_environment_settings(url, {}, True, verify, None)
    assert select_proxy(url, ours["proxies"]) == proxy
    assert ours["verify"] == verified_by


def test_the_environment_is_read_once_per_origin(proxy_env: pytest.MonkeyPatch) -> None:
    session = _Session()
    first = session.merge_environment_settings(f"{REG}/v2/a/manifests/x", {}, True, True, None)
    first["proxies"]["https"] = "http://changed.example.invalid"  # each answer is a copy
    proxy_env.setenv("HTTPS_PROXY", "http://later.example.invalid:8080")
    same = session.merge_environment_settings(f"{REG}/v2/b/blobs/y", {}, True, True, None)
    assert select_proxy(f"{REG}/v2/b/blobs/y", same["proxies"]) == PROXY
    other = session.merge_environment_settings("https://o.example/v2/", {}, True, True, None)
    assert (
        select_proxy("https://o.example/v2/", other["proxies"])
        == "http://later.example.invalid:8080"
    )
    with_ca = session.merge_environment_settings(REG, {}, True, "/ca.pem", None)
    assert with_ca["verify"] == "/ca.pem"  # the TLS setting is part of what is shared
    assert session.merge_environment_settings(REG, {}, True, True, None)["verify"] == (
        "/etc/ssl/bundle.pem"
    )
    given = {"https": "http://given.example.invalid"}  # a request's own proxies win, unshared
    assert session.merge_environment_settings(REG, given, True, True, None)["proxies"] == {
        "https": "http://given.example.invalid",
        "no": "127.0.0.1,.internal.example",
    }
