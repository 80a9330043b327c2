"""HTTP to registries: one pooled session, retries with backoff, and redirects that never carry
the registry's credentials or CA anywhere else.

Retries: connection errors, 429 (honouring Retry-After, capped) and 5xx are retried with
exponential backoff and jitter; `retries` is the number of retries after the first attempt. TLS
errors are never retried (they will not heal by themselves)."""

from __future__ import annotations

import http.cookiejar
import logging
import random
import threading
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import requests
import requests.adapters

from kfws.errors import RegistryError
from kfws.observe.registry import bodies, messages
from kfws.observe.registry.endpoint import Endpoint

if TYPE_CHECKING:
    from requests.sessions import _Settings

log = logging.getLogger("kfws.observe.registry")

USER_AGENT = "kfws (registry observer)"
RETRY_AFTER_CAP = 30.0  # seconds: never wait longer than this for one Retry-After
BACKOFF_CAP = 10.0
MAX_REDIRECTS = 5


class Cancelled(Exception):
    """resolve_many gave up on the batch (another lookup failed); never escapes it."""


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """A Retry-After header (seconds, or an HTTP date) as seconds from now, capped; None when
    absent or unparseable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), RETRY_AFTER_CAP)
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    return min(max(when - (time.time() if now is None else now), 0.0), RETRY_AFTER_CAP)


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, lower-case host, port with the scheme's default filled in): two URLs may share
    credentials only when these are equal."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    default = {"https": 443, "http": 80}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port if port is not None else default


class _Session(requests.Session):
    """A requests.Session that works out what the environment says about a request (proxies
    from HTTPS_PROXY / NO_PROXY and the like, REQUESTS_CA_BUNDLE) once per origin and TLS
    setting, not once per request: requests walks the whole environment for every request, a
    fifth of kfws's own time when prune reads thousands of manifests. The answer depends on
    nothing else (the proxy rules look at the scheme, host and port only), so it is the same;
    a change to the environment while kfws runs is not seen, as for any program."""

    def __init__(self) -> None:
        super().__init__()
        self._settings: dict[tuple[str, str, object, object, object], _Settings] = {}

    def merge_environment_settings(
        self,
        url: str | bytes | None,
        proxies: Any,
        stream: bool | None,
        verify: Any,
        cert: Any,
    ) -> _Settings:
        if proxies or not isinstance(url, str):  # proxies given for this request: not shared
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        parts = urlsplit(url)
        key = (parts.scheme.lower(), parts.netloc.lower(), stream, verify, cert)
        found = self._settings.get(key)  # a racing duplicate computes the same answer
        if found is None:
            found = super().merge_environment_settings(url, {}, stream, verify, cert)
            self._settings[key] = found
        # requests may fill in a request's proxies: each request gets its own copy
        return {**found, "proxies": dict(found["proxies"])}


class Transport:
    """Thread-safe; one connection pool shared by all threads."""

    def __init__(self, *, timeout: float, retries: int, backoff: float, pool_size: int) -> None:
        self.timeout = timeout
        self._retries = max(0, retries)
        self._backoff = backoff
        self._lock = threading.Lock()
        self._session = _Session()
        # registries have no business setting cookies; a jar that takes none is never mutated
        self._session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        self._session.headers["User-Agent"] = USER_AGENT
        self._pool_size = 0
        self.ensure_pool(pool_size)

    def close(self) -> None:
        self._session.close()

    def ensure_pool(self, size: int) -> None:
        with self._lock:
            if size <= self._pool_size:
                return
            adapter = requests.adapters.HTTPAdapter(
                pool_connections=8, pool_maxsize=size, max_retries=0
            )
            self._session.mount("https://", adapter)
            self._session.mount("http://", adapter)
            self._pool_size = size

    def once(
        self, method: str, url: str, limit: bodies.Limit, host: str, what: str, **kwargs: Any
    ) -> requests.Response:
        """One request, no retries, no redirects followed (the token service); its body read
        up to `limit` (bodies.load)."""
        r = self._session.request(
            method, url, timeout=self.timeout, allow_redirects=False, stream=True, **kwargs
        )
        return bodies.load(r, limit, host, what)

    def exchange(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        reg: Endpoint,
        what: str,
        cancel: threading.Event | None,
        limit: bodies.Limit,
    ) -> requests.Response:
        """One request, retried on connection errors, 429 and 5xx. TLS errors are not retried.
        The body is streamed and read up to `limit` (bodies.load): never a whole unbounded
        answer in memory."""
        attempt = 0
        while True:
            if cancel is not None and cancel.is_set():
                raise Cancelled
            try:
                r = self._session.request(
                    method,
                    url,
                    headers=headers,
                    timeout=self.timeout,
                    verify=reg.verify,
                    allow_redirects=False,
                    stream=True,
                )
            except requests.exceptions.SSLError as e:
                raise messages.tls_error(reg, what, e) from None
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as e:
                log.debug("%s %s -> %s (attempt %d)", method, url, type(e).__name__, attempt + 1)
                # a name that does not resolve will not resolve a second later: asking again
                # only makes an air-gapped plan slow (seconds of backoff per image)
                if attempt < self._retries and not messages.is_dns_failure(e):
                    attempt += 1
                    self._sleep(self._delay(attempt), cancel)
                    continue
                raise messages.connection_error(reg, what, e, attempt + 1, self.timeout) from None
            log.debug("%s %s -> %d", method, url, r.status_code)
            if r.status_code == 429 or r.status_code >= 500:
                if attempt < self._retries:
                    attempt += 1
                    wait = retry_after_seconds(r.headers.get("Retry-After"))
                    r.close()
                    self._sleep(self._delay(attempt) if wait is None else wait, cancel)
                    continue
                raise messages.busy_error(
                    reg, what, bodies.load(r, limit, reg.host, what), attempt + 1
                )
            if r.is_redirect:
                return r  # follow() closes it unread
            return bodies.load(r, limit, reg.host, what)

    def follow(
        self,
        method: str,
        r: requests.Response,
        reg: Endpoint,
        headers: dict[str, str],
        what: str,
        cancel: threading.Event | None,
        limit: bodies.Limit,
    ) -> requests.Response:
        """Redirects (blob storage, mirrors). The registry's credentials and CA go only to its
        own origin (same scheme, host and port); any other hop goes without Authorization and
        with the system's CAs. A hop to plain HTTP is refused unless the workspace marked the
        registry `insecure: true` -- so an https->http redirect, even on the same host, never
        sends credentials (or anything else) in clear text."""
        own = origin(reg.base_url)
        for _ in range(MAX_REDIRECTS):
            url = urljoin(r.url, r.headers["Location"])
            method = "GET" if r.status_code == 303 else method
            r.close()
            target_origin = origin(url)
            if target_origin[0] not in ("http", "https"):
                raise RegistryError(
                    f"registry {reg.host} redirected {what} to a URL kfws does not follow "
                    f"({messages.shown(target_origin[0], 40) or 'no scheme'})",
                    where=f"registry {reg.host}",
                )
            if target_origin[0] == "http" and not reg.insecure:
                raise RegistryError(
                    f"registry {reg.host} redirected {what} to plain HTTP "
                    f"({messages.shown(urlsplit(url).netloc, 100)}); kfws does not follow it, "
                    "so no credentials or data travel in clear text",
                    where=f"registry {reg.host}",
                    hint=f"fix the registry's redirect (e.g. its storage `redirect` base URL) to "
                    f"use https, or mark {reg.host} `insecure: true` if plain HTTP is intended",
                )
            same = target_origin == own
            hop_headers = headers if same else {"Accept": headers["Accept"]}
            target = reg if same else Endpoint(reg.host, url, True, reg.insecure)
            log.debug("redirect to %s (%s)", url, "same origin" if same else "no credentials")
            r = self.exchange(method, url, hop_headers, target, what, cancel, limit)
            if not r.is_redirect:
                return r
        raise RegistryError(
            f"registry {reg.host} redirected {what} more than {MAX_REDIRECTS} times",
            where=f"registry {reg.host}",
        )

    def _delay(self, attempt: int) -> float:
        ceiling = min(BACKOFF_CAP, self._backoff * 2.0 ** (attempt - 1))
        return ceiling * random.uniform(0.5, 1.0)  # noqa: S311 (jitter, not a secret)

    @staticmethod
    def _sleep(seconds: float, cancel: threading.Event | None) -> None:
        if cancel is None:
            time.sleep(seconds)
        elif cancel.wait(seconds):
            raise Cancelled
