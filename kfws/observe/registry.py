"""The narrow adapter kfws uses to ask OCI registries what they hold (the distribution API, v2).

Nothing else in kfws talks HTTP to registries. Three questions only:
- `resolve(repo, ref)`: the manifest digest, media type and size a tag (or digest) points at, or
  None when the registry says it has no such manifest or repository (404 / MANIFEST_UNKNOWN /
  NAME_UNKNOWN). Every other failure — 401/403, 429 or 5xx after retries, timeout, connection
  refused, TLS verification — raises `RegistryError` naming the registry, the image and the fix.
  Never "missing": taking an error for a missing image rebuilds and re-pushes everything.
- `image_labels(repo, ref, platform)`: the `config.Labels` of an image (from an index, the
  manifest for the platform, linux/amd64 by default).
- `resolve_many(items, parallelism)`: `resolve` for many at bounded concurrency.

Transport: `https://` verified against the system's CAs, or the registry's `caFile`
(RegistryOptions.ca_file) when the workspace gives one. Plain `http://` only when the workspace
marks the registry `insecure: true` — then *only* plain HTTP is tried (no https first, no
fallback). Unlike dockerd, a loopback address is not implicitly insecure: the workspace must say so.

Auth: anonymous first; on a 401 the `WWW-Authenticate` challenge is followed — `Basic` with the
Docker config's credentials, or `Bearer realm=…,service=…,scope=…`: a token from the realm
(anonymously, with basic credentials, or an identity token as an OAuth2 refresh token), cached
per registry and scope until shortly before it expires. Once a registry has challenged us, later
requests to it carry the authorization up front (no 401 round trip per image). An `http://` token
realm is refused unless the registry (or the realm's host) is marked insecure: credentials are not
sent in clear text by accident. Credentials and tokens never appear in logs, messages or reprs.

Retries: connection errors, 429 (honouring Retry-After, capped) and 5xx are retried with
exponential backoff and jitter; `retries` is the number of retries after the first attempt.
"""

from __future__ import annotations

import base64
import hashlib
import http.cookiejar
import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import requests.adapters

from kfws.errors import RegistryError
from kfws.observe.docker_auth import DOCKER_HUB_HOSTS, Credentials, DockerConfig
from kfws.spec.model import RegistryOptions

log = logging.getLogger(__name__)

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
IMAGE_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
MANIFEST_ACCEPT = ", ".join((OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST))
DEFAULT_PLATFORM = "linux/amd64"
DOCKER_HUB_API = "registry-1.docker.io"
USER_AGENT = "kfws (registry observer)"
MISSING_CODES = frozenset({"MANIFEST_UNKNOWN", "NAME_UNKNOWN"})

RETRY_AFTER_CAP = 30.0  # seconds: never wait longer than this for one Retry-After
BACKOFF_CAP = 10.0
TOKEN_MIN_LIFETIME = 60  # seconds, as the token spec says when expires_in is absent or smaller
TOKEN_EXPIRY_MARGIN = 10
MAX_REDIRECTS = 5
_DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$|^sha512:[0-9a-f]{128}$")
_TOKEN_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


@dataclass(frozen=True)
class ManifestInfo:
    digest: str  # "sha256:…" of the manifest (or index) the reference points at
    media_type: str  # e.g. application/vnd.oci.image.index.v1+json
    size: int  # bytes of that manifest


@dataclass(frozen=True)
class Challenge:
    """One challenge of a `WWW-Authenticate` header: scheme (lower case) and its parameters
    (names lower case)."""

    scheme: str
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def realm(self) -> str | None:
        return self.params.get("realm")

    @property
    def service(self) -> str | None:
        return self.params.get("service")

    @property
    def scope(self) -> str | None:
        return self.params.get("scope")


def parse_www_authenticate(header: str) -> list[Challenge]:
    """RFC 7235 challenges: `Bearer realm="https://a/token",service="reg",scope="x:y:pull",
    Basic realm="r"` -> [Challenge("bearer", {...}), Challenge("basic", {...})]. Quoted values
    may hold commas and backslash escapes; a token68 is ignored; garbage is skipped."""
    challenges: list[tuple[str, dict[str, str]]] = []
    i, n = 0, len(header)
    while i < n:
        while i < n and header[i] in " \t,":
            i += 1
        m = _TOKEN_RE.match(header, i)
        if not m:
            i += 1  # not a token: skip it
            continue
        name, j = m.group(0), m.end()
        k = j
        while k < n and header[k] in " \t":
            k += 1
        if k < n and header[k] == "=" and not header.startswith("=", k + 1):
            k += 1
            while k < n and header[k] in " \t":
                k += 1
            if k < n and header[k] == '"':
                value, k = _quoted(header, k)
            else:
                end = k
                while end < n and header[end] not in ", \t":
                    end += 1
                value, k = header[k:end], end
            if challenges:  # a parameter before any scheme is dropped
                challenges[-1][1][name.lower()] = value
            i = k
        elif k < n and header[k] == "=":  # token68 ("abc==")
            while k < n and header[k] not in ", \t":
                k += 1
            i = k
        else:
            challenges.append((name.lower(), {}))
            i = j
    return [Challenge(scheme, params) for scheme, params in challenges]


def _quoted(s: str, start: int) -> tuple[str, int]:
    out: list[str] = []
    i = start + 1
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            out.append(s[i + 1])
            i += 2
            continue
        if c == '"':
            return "".join(out), i + 1
        out.append(c)
        i += 1
    return "".join(out), i  # unterminated: take the rest


def split_repository(repository: str) -> tuple[str, str]:
    """ "host[:port]/name" -> (host, name); a first part without "." or ":" (and not
    "localhost") is a Docker Hub path: ("docker.io", "library/x" for a bare "x")."""
    first, sep, rest = repository.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        host, name = first, rest
    else:
        host, name = "docker.io", repository
    if host in DOCKER_HUB_HOSTS:
        host = "docker.io"
        if "/" not in name:
            name = f"library/{name}"
    if not name or name != name.lower() or "//" in name or name.endswith("/"):
        raise RegistryError(
            f"{repository!r} is not a valid repository name",
            where=f"image {repository}",
            hint="repository names are lower case, path components separated by single slashes",
        )
    return host, name


def parse_platform(platform: str) -> tuple[str, str, str | None]:
    parts = platform.split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise RegistryError(
            f"{platform!r} is not a platform (os/arch or os/arch/variant, e.g. linux/amd64)",
            where=f"platform {platform}",
        )
    return parts[0], parts[1], parts[2] if len(parts) == 3 else None


def pick_platform(index: Mapping[str, Any], platform: str) -> Mapping[str, Any] | None:
    """The descriptor in an image index for platform ("linux/arm64/v8"); when no variant is
    asked for, the first entry of that os/arch wins. Attestation entries never match."""
    want_os, want_arch, want_variant = parse_platform(platform)
    for desc in index.get("manifests") or []:
        p = desc.get("platform") or {}
        if p.get("os") != want_os or p.get("architecture") != want_arch:
            continue
        if want_variant is not None and p.get("variant") != want_variant:
            continue
        return dict(desc)
    return None


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


class _Cancelled(Exception):
    """resolve_many gave up on the batch (another lookup failed); never escapes it."""


@dataclass(repr=False)
class _Registry:
    host: str  # as the workspace names it ("docker.io" for Docker Hub)
    base_url: str  # "https://host" or "http://host"
    verify: bool | str
    insecure: bool
    challenge: Challenge | None = None
    credentials: Credentials | None = None
    credentials_loaded: bool = False
    credentials_lock: threading.Lock = field(default_factory=threading.Lock)

    def __repr__(self) -> str:
        return f"_Registry({self.base_url!r}, challenge={self.challenge and self.challenge.scheme})"


@dataclass(frozen=True, repr=False)
class _Token:
    value: str
    expires_at: float

    def __repr__(self) -> str:
        return "_Token(<redacted>)"


class RegistryClient:
    """Ask registries about manifests. Thread-safe; one connection pool shared by all threads."""

    def __init__(
        self,
        options_for: Callable[[str], RegistryOptions],
        *,
        docker_config_dir: Path | None = None,
        timeout: float = 10,
        retries: int = 3,
        backoff: float = 0.25,
        pool_size: int = 16,
    ) -> None:
        self._options_for = options_for
        self._docker_config_dir = docker_config_dir
        self._docker_config: DockerConfig | None = None
        self._timeout = timeout
        self._retries = max(0, retries)
        self._backoff = backoff
        self._lock = threading.Lock()
        self._registries: dict[str, _Registry] = {}
        self._tokens: dict[tuple[str, str], _Token] = {}
        self._token_locks: dict[tuple[str, str], threading.Lock] = {}
        self._session = requests.Session()
        # registries have no business setting cookies; a jar that takes none is never mutated
        self._session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        self._session.headers["User-Agent"] = USER_AGENT
        self._pool_size = 0
        self._ensure_pool(pool_size)

    def __repr__(self) -> str:
        return f"RegistryClient(registries={sorted(self._registries)})"

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- the three questions ---------------------------------------------------------------

    def resolve(self, repository: str, reference: str) -> ManifestInfo | None:
        return self._resolve(repository, reference, None)

    def image_labels(
        self, repository: str, reference: str, platform: str | None = None
    ) -> dict[str, str]:
        host, name = split_repository(repository)
        what = _image(repository, reference)
        manifest, media_type = self._get_manifest(host, name, reference, what)
        if media_type in INDEX_TYPES:
            wanted = platform or DEFAULT_PLATFORM
            desc = pick_platform(manifest, wanted)
            if desc is None or not isinstance(desc.get("digest"), str):
                found = sorted(
                    "/".join(
                        str(p.get(k))
                        for k in ("os", "architecture", "variant")
                        if (p := d.get("platform") or {}).get(k)
                    )
                    for d in manifest.get("manifests") or []
                )
                raise RegistryError(
                    f"{what} has no image for platform {wanted} (it has: "
                    f"{', '.join(found) or 'none'})",
                    where=f"registry {host}",
                    hint="set `platform:` for the image in workspace.yaml to one it provides",
                )
            manifest, media_type = self._get_manifest(host, name, str(desc["digest"]), what)
        if media_type not in IMAGE_TYPES:
            raise _unknown_schema(host, what, media_type)
        config = manifest.get("config") or {}
        digest = config.get("digest")
        if not isinstance(digest, str) or not _DIGEST_RE.match(digest):
            raise RegistryError(
                f"the manifest of {what} names no valid config blob",
                where=f"registry {host}",
            )
        r = self._send("GET", host, f"/v2/{name}/blobs/{digest}", name=name, what=what)
        if r.status_code != 200:
            raise _unexpected(host, what, r, "reading the image config")
        body = _verified(r.content, digest, host, f"the config blob of {what}")
        try:
            doc = json.loads(body)
            labels = (doc.get("config") or {}).get("Labels") or {}
        except (json.JSONDecodeError, AttributeError):
            raise RegistryError(
                f"the config blob of {what} is not an image config", where=f"registry {host}"
            ) from None
        return {str(k): str(v) for k, v in labels.items()}

    def resolve_many(
        self, items: Sequence[tuple[str, str]], parallelism: int = 8
    ) -> dict[tuple[str, str], ManifestInfo | None]:
        """resolve() for each (repository, reference), at most `parallelism` at once. The result
        has one entry per distinct item, in the order given. The first failure (in time) is
        raised; lookups not yet started are dropped and running ones stop at their next retry."""
        unique = list(dict.fromkeys(items))
        if parallelism <= 1 or len(unique) <= 1:
            return {item: self.resolve(*item) for item in unique}
        self._ensure_pool(parallelism)
        cancel = threading.Event()
        results: dict[tuple[str, str], ManifestInfo | None] = {}
        with ThreadPoolExecutor(
            max_workers=min(parallelism, len(unique)), thread_name_prefix="kfws-registry"
        ) as pool:
            futures = {
                pool.submit(self._resolve, repo, ref, cancel): (repo, ref) for repo, ref in unique
            }
            try:
                for future in as_completed(futures):
                    results[futures[future]] = future.result()
            except BaseException:
                cancel.set()
                for future in futures:
                    future.cancel()
                raise
        return {item: results[item] for item in unique}

    # ---- manifests ---------------------------------------------------------------------------

    def _resolve(
        self, repository: str, reference: str, cancel: threading.Event | None
    ) -> ManifestInfo | None:
        host, name = split_repository(repository)
        what = _image(repository, reference)
        path = f"/v2/{name}/manifests/{reference}"
        r = self._send("HEAD", host, path, name=name, what=what, cancel=cancel)
        if r.status_code == 404:
            return None
        if r.status_code != 200:
            raise _unexpected(host, what, r, "resolving the manifest")
        digest = r.headers.get("Docker-Content-Digest", "")
        media_type = _media_type(r)
        length = r.headers.get("Content-Length", "")
        if _DIGEST_RE.match(digest) and media_type and length.isdigit():
            return ManifestInfo(digest, media_type, int(length))
        # HEAD told us too little (some registries send no digest on HEAD): GET and hash it
        r = self._send("GET", host, path, name=name, what=what, cancel=cancel)
        codes = _error_codes(r) if 400 <= r.status_code < 500 else set()
        if r.status_code == 404 or (codes and codes <= MISSING_CODES):
            return None
        if r.status_code != 200:
            raise _unexpected(host, what, r, "reading the manifest")
        body = r.content
        digest = r.headers.get("Docker-Content-Digest", "")
        if not _DIGEST_RE.match(digest):
            digest = _digest_of(body, reference if _DIGEST_RE.match(reference) else "sha256:")
        media_type = media_type or _body_media_type(body) or "application/octet-stream"
        return ManifestInfo(digest, media_type, len(body))

    def _get_manifest(
        self, host: str, name: str, reference: str, what: str
    ) -> tuple[dict[str, Any], str]:
        r = self._send("GET", host, f"/v2/{name}/manifests/{reference}", name=name, what=what)
        if r.status_code == 404:
            raise RegistryError(
                f"{what} does not exist in its registry",
                where=f"registry {host}",
                hint="push it first, or fix the reference",
            )
        if r.status_code != 200:
            raise _unexpected(host, what, r, "reading the manifest")
        body = r.content
        if _DIGEST_RE.match(reference):
            _verified(body, reference, host, f"the manifest served for {what}")
        try:
            doc = json.loads(body)
        except json.JSONDecodeError:
            raise _unknown_schema(host, what, _media_type(r) or "not JSON") from None
        if not isinstance(doc, dict):
            raise _unknown_schema(host, what, "not a JSON object")
        media_type = _media_type(r)
        if media_type not in INDEX_TYPES | IMAGE_TYPES:
            media_type = str(doc.get("mediaType") or media_type or "")
        if media_type not in INDEX_TYPES | IMAGE_TYPES and doc.get("schemaVersion") == 2:
            media_type = (
                OCI_INDEX if "manifests" in doc else OCI_MANIFEST if "config" in doc else ""
            )
        if doc.get("schemaVersion") == 1:
            media_type = "Docker image manifest schema 1"
        return doc, media_type

    # ---- HTTP, auth, retries -----------------------------------------------------------------

    def _ensure_pool(self, size: int) -> None:
        with self._lock:
            if size <= self._pool_size:
                return
            adapter = requests.adapters.HTTPAdapter(
                pool_connections=8, pool_maxsize=size, max_retries=0
            )
            self._session.mount("https://", adapter)
            self._session.mount("http://", adapter)
            self._pool_size = size

    def _registry(self, host: str) -> _Registry:
        with self._lock:
            found = self._registries.get(host)
            if found is not None:
                return found
        options = self._options_for(host)
        endpoint = DOCKER_HUB_API if host in DOCKER_HUB_HOSTS else host
        verify: bool | str = True
        if options.ca_file is not None:
            if not Path(options.ca_file).is_file():
                raise RegistryError(
                    f"the caFile {options.ca_file} given for registry {host} does not exist",
                    where=f"registry {host}",
                    hint="fix `caFile` for that registry in workspace.yaml",
                )
            verify = str(options.ca_file)
        scheme = "http" if options.insecure else "https"
        state = _Registry(host, f"{scheme}://{endpoint}", verify, options.insecure)
        with self._lock:
            return self._registries.setdefault(host, state)

    def _credentials(self, reg: _Registry) -> Credentials | None:
        # one lookup per registry, even when many threads meet its challenge at once (a
        # credential helper may be slow, or prompt to unlock a keychain)
        with reg.credentials_lock:
            if not reg.credentials_loaded:
                with self._lock:
                    if self._docker_config is None:
                        self._docker_config = DockerConfig(self._docker_config_dir)
                    config = self._docker_config
                reg.credentials = config.credentials_for(reg.host)
                reg.credentials_loaded = True
            return reg.credentials

    def _config_path(self) -> str:
        if self._docker_config is not None:
            return str(self._docker_config.path)
        return "the Docker config (DOCKER_CONFIG or ~/.docker/config.json)"

    def _authorization(
        self, reg: _Registry, challenge: Challenge, scope: str, what: str, stale: str | None
    ) -> str | None:
        if challenge.scheme == "basic":
            creds = self._credentials(reg)
            basic = creds.basic if creds else None
            if basic is None:
                return None
            raw = f"{basic[0]}:{basic[1]}".encode()
            return "Basic " + base64.b64encode(raw).decode()
        if challenge.scheme == "bearer":
            return "Bearer " + self._token(reg, challenge, scope, what, stale)
        return None

    def _token(
        self, reg: _Registry, challenge: Challenge, scope: str, what: str, stale: str | None
    ) -> str:
        key = (reg.host, scope)
        with self._lock:
            lock = self._token_locks.setdefault(key, threading.Lock())
        with lock:
            with self._lock:
                cached = self._tokens.get(key)
                if cached and stale == f"Bearer {cached.value}":
                    cached = None  # the registry just refused it
                    del self._tokens[key]
            if cached and cached.expires_at > time.monotonic():
                return cached.value
            token = self._fetch_token(reg, challenge, scope, what)
            with self._lock:
                self._tokens[key] = token
            return token.value

    def _fetch_token(self, reg: _Registry, challenge: Challenge, scope: str, what: str) -> _Token:
        realm = challenge.realm
        if not realm or urlsplit(realm).scheme not in ("http", "https"):
            raise RegistryError(
                f"registry {reg.host} asked for a bearer token without a usable realm "
                f"(while asking for {what})",
                where=f"registry {reg.host}",
            )
        realm_parts = urlsplit(realm)
        realm_host = realm_parts.netloc
        realm_reg = reg if realm_host == reg.host else self._registry(realm_host)
        if realm_parts.scheme == "http" and not (reg.insecure or realm_reg.insecure):
            raise RegistryError(
                f"registry {reg.host} sends us to a plain-HTTP token service ({realm_host}); "
                "kfws does not send credentials in clear text",
                where=f"registry {reg.host}",
                hint=f"mark {reg.host} `insecure: true` in workspace.yaml if that is intended",
            )
        creds = self._credentials(reg)
        service = challenge.service
        headers = {"Accept": "application/json"}
        try:
            if creds is not None and creds.identity_token:
                form = {
                    "grant_type": "refresh_token",
                    "refresh_token": creds.identity_token,
                    "client_id": "kfws",
                    "scope": scope,
                    **({"service": service} if service else {}),
                }
                r = self._session.post(
                    realm, data=form, headers=headers, timeout=self._timeout,
                    verify=realm_reg.verify, allow_redirects=False,
                )  # fmt: skip
            else:
                params: dict[str, str | list[str]] = {"scope": scope.split(" ")}
                if service:
                    params["service"] = service
                basic = creds.basic if creds else None
                if basic:
                    params["account"] = basic[0]
                r = self._session.get(
                    realm, params=params, headers=headers, timeout=self._timeout,
                    verify=realm_reg.verify, auth=basic, allow_redirects=False,
                )  # fmt: skip
        except requests.exceptions.SSLError as e:
            raise _tls_error(realm_reg, f"the token service of {reg.host}", e) from None
        except requests.exceptions.Timeout:
            raise RegistryError(
                f"the token service {realm_host} of registry {reg.host} did not answer within "
                f"{self._timeout:g}s (while asking for {what})",
                where=f"registry {reg.host}",
            ) from None
        except requests.exceptions.ConnectionError as e:
            raise RegistryError(
                f"cannot connect to the token service {realm_host} of registry {reg.host} "
                f"({_connection_reason(e)}) while asking for {what}",
                where=f"registry {reg.host}",
                hint="check that the registry's token service is running and reachable",
            ) from None
        log.debug("GET token %s (scope %s) -> %s", realm, scope, r.status_code)
        if r.status_code in (401, 403):
            raise self._auth_error(reg, what, r.status_code, creds, token_service=True)
        if r.status_code != 200:
            raise RegistryError(
                f"the token service {realm_host} of registry {reg.host} answered "
                f"{r.status_code} {r.reason} (while asking for {what})",
                where=f"registry {reg.host}",
            )
        try:
            doc = r.json()
            value = doc.get("token") or doc.get("access_token")
            lifetime = int(doc.get("expires_in") or TOKEN_MIN_LIFETIME)
        except (ValueError, AttributeError, TypeError):
            value, lifetime = None, 0
        if not isinstance(value, str) or not value:
            raise RegistryError(
                f"the token service {realm_host} of registry {reg.host} gave no token",
                where=f"registry {reg.host}",
            )
        lifetime = max(lifetime, TOKEN_MIN_LIFETIME) - TOKEN_EXPIRY_MARGIN
        return _Token(value, time.monotonic() + lifetime)

    def _auth_error(
        self,
        reg: _Registry,
        what: str,
        status: int,
        creds: Credentials | None,
        *,
        token_service: bool = False,
    ) -> RegistryError:
        by = "its token service" if token_service else "it"
        fix = (
            f"run `docker login {reg.host}` or configure a credential helper for it "
            f"(credHelpers in {self._config_path()})"
        )
        if creds is None:
            return RegistryError(
                f"registry {reg.host} requires credentials to read {what} "
                f"(HTTP {status}), and there are none for it in {self._config_path()}",
                where=f"registry {reg.host}",
                hint=fix,
            )
        refused = "refused the credentials" if status == 401 else "denied access"
        return RegistryError(
            f"registry {reg.host}: {by} {refused} (HTTP {status}) for {what}",
            where=f"registry {reg.host}",
            hint=f"check that the account may pull that repository; {fix}",
        )

    def _send(
        self,
        method: str,
        host: str,
        path: str,
        *,
        name: str,
        what: str,
        cancel: threading.Event | None = None,
    ) -> requests.Response:
        reg = self._registry(host)
        scope = f"repository:{name}:pull"
        headers = {"Accept": MANIFEST_ACCEPT}
        challenge = reg.challenge
        if challenge is not None:
            auth = self._authorization(reg, challenge, scope, what, None)
            if auth:
                headers["Authorization"] = auth
        answered_challenge = False
        while True:
            r = self._exchange(method, reg.base_url + path, headers, reg, what, cancel)
            if r.status_code == 401 and not answered_challenge:
                answered_challenge = True
                challenges = parse_www_authenticate(r.headers.get("WWW-Authenticate", ""))
                usable = [c for c in challenges if c.scheme in ("bearer", "basic")]
                r.close()
                if not usable:
                    raise self._auth_error(reg, what, 401, self._credentials(reg))
                challenge = usable[0]
                reg.challenge = challenge
                auth = self._authorization(
                    reg, challenge, challenge.scope or scope, what, headers.get("Authorization")
                )
                if auth is None:
                    raise self._auth_error(reg, what, 401, None)
                headers["Authorization"] = auth
                continue
            if r.status_code in (401, 403):
                r.close()
                raise self._auth_error(reg, what, r.status_code, self._credentials(reg))
            if r.is_redirect:
                return self._follow(method, r, reg, headers, what, cancel)
            return r

    def _follow(
        self,
        method: str,
        r: requests.Response,
        reg: _Registry,
        headers: dict[str, str],
        what: str,
        cancel: threading.Event | None,
    ) -> requests.Response:
        """Redirects (blob storage, mirrors): the registry's credentials and CA go only to the
        registry's own host; elsewhere without Authorization and with the system's CAs."""
        own = urlsplit(reg.base_url).netloc
        for _ in range(MAX_REDIRECTS):
            url = urljoin(r.url, r.headers["Location"])
            method = "GET" if r.status_code == 303 else method
            r.close()
            same = urlsplit(url).netloc == own
            if urlsplit(url).scheme == "http" and not same and not reg.insecure:
                raise RegistryError(
                    f"registry {reg.host} redirected {what} to plain HTTP ({urlsplit(url).netloc})",
                    where=f"registry {reg.host}",
                )
            hop_headers = headers if same else {"Accept": headers["Accept"]}
            target = reg if same else _Registry(reg.host, url, True, reg.insecure)
            r = self._exchange(method, url, hop_headers, target, what, cancel)
            if not r.is_redirect:
                return r
        raise RegistryError(
            f"registry {reg.host} redirected {what} more than {MAX_REDIRECTS} times",
            where=f"registry {reg.host}",
        )

    def _exchange(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        reg: _Registry,
        what: str,
        cancel: threading.Event | None,
    ) -> requests.Response:
        """One request, retried on connection errors, 429 and 5xx. TLS errors are not retried."""
        attempt = 0
        while True:
            if cancel is not None and cancel.is_set():
                raise _Cancelled
            try:
                r = self._session.request(
                    method,
                    url,
                    headers=headers,
                    timeout=self._timeout,
                    verify=reg.verify,
                    allow_redirects=False,
                )
            except requests.exceptions.SSLError as e:
                raise _tls_error(reg, what, e) from None
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as e:
                log.debug("%s %s -> %s (attempt %d)", method, url, type(e).__name__, attempt + 1)
                if attempt < self._retries:
                    attempt += 1
                    self._sleep(self._delay(attempt), cancel)
                    continue
                raise _connection_error(reg, what, e, attempt + 1, self._timeout) from None
            log.debug("%s %s -> %d", method, url, r.status_code)
            if r.status_code == 429 or r.status_code >= 500:
                if attempt < self._retries:
                    attempt += 1
                    wait = retry_after_seconds(r.headers.get("Retry-After"))
                    r.close()
                    self._sleep(self._delay(attempt) if wait is None else wait, cancel)
                    continue
                raise _busy_error(reg, what, r, attempt + 1)
            return r

    def _delay(self, attempt: int) -> float:
        ceiling = min(BACKOFF_CAP, self._backoff * 2.0 ** (attempt - 1))
        return ceiling * random.uniform(0.5, 1.0)  # noqa: S311 (jitter, not a secret)

    @staticmethod
    def _sleep(seconds: float, cancel: threading.Event | None) -> None:
        if cancel is None:
            time.sleep(seconds)
        elif cancel.wait(seconds):
            raise _Cancelled


# ---- helpers: messages and small parsers ---------------------------------------------------


def _image(repository: str, reference: str) -> str:
    return (
        f"{repository}@{reference}" if _DIGEST_RE.match(reference) else f"{repository}:{reference}"
    )


def _media_type(r: requests.Response) -> str:
    return r.headers.get("Content-Type", "").split(";", 1)[0].strip()


def _body_media_type(body: bytes) -> str | None:
    try:
        doc = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    value = doc.get("mediaType") if isinstance(doc, dict) else None
    return value if isinstance(value, str) else None


def _digest_of(body: bytes, like: str) -> str:
    algorithm = like.partition(":")[0] or "sha256"
    if algorithm == "sha512":
        return "sha512:" + hashlib.sha512(body).hexdigest()
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _verified(body: bytes, digest: str, host: str, what: str) -> bytes:
    if _digest_of(body, digest) != digest:
        raise RegistryError(
            f"{what} does not match its digest {digest}",
            where=f"registry {host}",
            hint="the registry (or a proxy in between) served corrupt data",
        )
    return body


def _error_codes(r: requests.Response) -> set[str]:
    try:
        doc = r.json()
        return {str(e.get("code")) for e in doc.get("errors") or [] if isinstance(e, dict)}
    except (ValueError, AttributeError):
        return set()


def _error_detail(r: requests.Response) -> str:
    try:
        doc = r.json()
        errors = [e for e in doc.get("errors") or [] if isinstance(e, dict)]
    except (ValueError, AttributeError):
        return ""
    text = "; ".join(
        f"{e.get('code')}: {e.get('message')}" if e.get("message") else str(e.get("code"))
        for e in errors
    )
    return f" ({text[:200]})" if text else ""


def _unexpected(host: str, what: str, r: requests.Response, doing: str) -> RegistryError:
    detail = _error_detail(r)
    r.close()
    return RegistryError(
        f"registry {host} answered {r.status_code} {r.reason} {doing} for {what}{detail}",
        where=f"registry {host}",
        hint="check the image reference; is this an OCI distribution (v2) registry?",
    )


def _unknown_schema(host: str, what: str, media_type: str) -> RegistryError:
    return RegistryError(
        f"{what} has a manifest kfws does not understand ({media_type or 'no media type'})",
        where=f"registry {host}",
        hint="kfws reads OCI and Docker v2 manifests and indexes; re-push the image with a "
        "current Docker or buildx",
    )


def _tls_error(reg: _Registry, what: str, e: Exception) -> RegistryError:
    text = str(e)
    m = re.search(r"certificate verify failed: ([^()'\"]+)", text)
    if m:
        reason = "certificate verify failed: " + m.group(1).strip()
    elif "wrong version number" in text or "record layer failure" in text:
        reason = "the server did not answer TLS (plain HTTP?)"
    elif "hostname" in text.lower():
        reason = "the certificate does not name this host"
    else:
        reason = "TLS handshake failed"
    ca = f" (verified with caFile {reg.verify})" if isinstance(reg.verify, str) else ""
    return RegistryError(
        f"TLS verification failed talking to registry {reg.host}{ca} for {what}: {reason}",
        where=f"registry {reg.host}",
        hint=f"set `caFile` for {reg.host} in workspace.yaml (registries:) to the CA that signed "
        "its certificate, or `insecure: true` if it serves plain HTTP",
    )


def _connection_reason(e: Exception) -> str:
    text = str(e)
    if "Connection refused" in text:
        return "connection refused"
    if "Name or service not known" in text or "NameResolution" in text or "nodename" in text:
        return "the host name does not resolve"
    if "Connection reset" in text or "RemoteDisconnected" in text or "aborted" in text:
        return "the connection was closed"
    if "No route to host" in text or "unreachable" in text:
        return "no route to host"
    return "connection failed"


def _connection_error(
    reg: _Registry, what: str, e: Exception, attempts: int, timeout: float
) -> RegistryError:
    tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
    if isinstance(e, requests.exceptions.Timeout):
        return RegistryError(
            f"registry {reg.host} did not answer within {timeout:g}s ({tries}) for {what}",
            where=f"registry {reg.host}",
            hint="check the network and that the registry is up",
        )
    reason = _connection_reason(e)
    return RegistryError(
        f"cannot connect to registry {reg.host} ({reason}, {tries}) for {what}",
        where=f"registry {reg.host}",
        hint="check that the registry is running and the host and port in workspace.yaml"
        + ("" if reg.insecure else "; a plain-HTTP registry needs `insecure: true`"),
    )


def _busy_error(reg: _Registry, what: str, r: requests.Response, attempts: int) -> RegistryError:
    status = r.status_code
    detail = _error_detail(r)
    r.close()
    if status == 429:
        return RegistryError(
            f"registry {reg.host} kept answering 429 Too Many Requests ({attempts} attempts) "
            f"for {what}{detail}",
            where=f"registry {reg.host}",
            hint="lower --parallelism, or wait for the rate limit to reset",
        )
    return RegistryError(
        f"registry {reg.host} answered {status} {r.reason} ({attempts} attempts) for "
        f"{what}{detail}",
        where=f"registry {reg.host}",
        hint="the registry is failing; try again later or ask its operators",
    )
