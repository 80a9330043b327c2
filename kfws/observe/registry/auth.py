"""Answering a registry's auth challenge: the `Authorization` header for a request.

`Basic` with the Docker config's credentials, or `Bearer realm=…,service=…,scope=…`: a token from
the realm (anonymously, with basic credentials, or an identity token as an OAuth2 refresh token),
cached per registry and scope until shortly before it expires. An `http://` token realm is
refused unless the registry (or the realm's host) is marked insecure: credentials are not sent in
clear text by accident. Credentials and tokens never appear in logs, messages or reprs."""

from __future__ import annotations

import base64
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests

from kfws.errors import RegistryError
from kfws.observe.docker_auth import Credentials, DockerConfig
from kfws.observe.registry import bodies, messages
from kfws.observe.registry.challenge import Challenge
from kfws.observe.registry.endpoint import Endpoint, Endpoints
from kfws.observe.registry.transport import Transport

log = logging.getLogger("kfws.observe.registry")

TOKEN_MIN_LIFETIME = 60  # seconds, as the token spec says when expires_in is absent or smaller
TOKEN_EXPIRY_MARGIN = 10


@dataclass(frozen=True, repr=False)
class Token:
    value: str
    expires_at: float

    def __repr__(self) -> str:
        return "Token(<redacted>)"


class Authenticator:
    """Credentials (one Docker config lookup per registry) and bearer tokens (one fetch per
    registry and scope at a time, shared by all threads)."""

    def __init__(
        self, endpoints: Endpoints, transport: Transport, docker_config_dir: Path | None
    ) -> None:
        self._endpoints = endpoints
        self._transport = transport
        self._docker_config_dir = docker_config_dir
        self._docker_config: DockerConfig | None = None
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, str], Token] = {}
        self._token_locks: dict[tuple[str, str], threading.Lock] = {}

    def credentials(self, reg: Endpoint) -> Credentials | None:
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

    def config_path(self) -> str:
        if self._docker_config is not None:
            return str(self._docker_config.path)
        return "the Docker config (DOCKER_CONFIG or ~/.docker/config.json)"

    def authorization(
        self, reg: Endpoint, challenge: Challenge, scope: str, what: str, stale: str | None
    ) -> str | None:
        """The header value answering `challenge`, or None when we have nothing to answer with.
        `stale` is the value the registry just refused (a cached token is then fetched anew)."""
        if challenge.scheme == "basic":
            creds = self.credentials(reg)
            basic = creds.basic if creds else None
            if basic is None:
                return None
            raw = f"{basic[0]}:{basic[1]}".encode()
            return "Basic " + base64.b64encode(raw).decode()
        if challenge.scheme == "bearer":
            return "Bearer " + self._token(reg, challenge, scope, what, stale)
        return None

    def auth_error(
        self,
        reg: Endpoint,
        what: str,
        status: int,
        creds: Credentials | None,
        *,
        token_service: bool = False,
    ) -> RegistryError:
        by = "its token service" if token_service else "it"
        fix = (
            f"run `docker login {reg.host}` or configure a credential helper for it "
            f"(credHelpers in {self.config_path()})"
        )
        if creds is None:
            return RegistryError(
                f"registry {reg.host} requires credentials to read {what} "
                f"(HTTP {status}), and there are none for it in {self.config_path()}",
                where=f"registry {reg.host}",
                hint=fix,
            )
        refused = "refused the credentials" if status == 401 else "denied access"
        return RegistryError(
            f"registry {reg.host}: {by} {refused} (HTTP {status}) for {what}",
            where=f"registry {reg.host}",
            hint=f"check that the account may pull that repository; {fix}",
        )

    def _token(
        self, reg: Endpoint, challenge: Challenge, scope: str, what: str, stale: str | None
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

    def _fetch_token(self, reg: Endpoint, challenge: Challenge, scope: str, what: str) -> Token:
        realm = challenge.realm
        if not realm or urlsplit(realm).scheme not in ("http", "https"):
            raise RegistryError(
                f"registry {reg.host} asked for a bearer token without a usable realm "
                f"(while asking for {what})",
                where=f"registry {reg.host}",
            )
        realm_parts = urlsplit(realm)
        realm_host = realm_parts.netloc
        realm_reg = reg if realm_host == reg.host else self._endpoints.get(realm_host)
        if realm_parts.scheme == "http" and not (reg.insecure or realm_reg.insecure):
            raise RegistryError(
                f"registry {reg.host} sends us to a plain-HTTP token service ({realm_host}); "
                "kfws does not send credentials in clear text",
                where=f"registry {reg.host}",
                hint=f"mark {reg.host} `insecure: true` in workspace.yaml if that is intended",
            )
        creds = self.credentials(reg)
        service = challenge.service
        headers = {"Accept": "application/json"}
        timeout = self._transport.timeout
        token_for = f"a token for {what} (from its token service {realm_host})"
        try:
            if creds is not None and creds.identity_token:
                form = {
                    "grant_type": "refresh_token",
                    "refresh_token": creds.identity_token,
                    "client_id": "kfws",
                    "scope": scope,
                    **({"service": service} if service else {}),
                }
                r = self._transport.once(
                    "POST", realm, bodies.TOKEN, reg.host, token_for,
                    data=form, headers=headers, verify=realm_reg.verify,
                )  # fmt: skip
            else:
                params: dict[str, str | list[str]] = {"scope": scope.split(" ")}
                if service:
                    params["service"] = service
                basic = creds.basic if creds else None
                if basic:
                    params["account"] = basic[0]
                r = self._transport.once(
                    "GET", realm, bodies.TOKEN, reg.host, token_for,
                    params=params, headers=headers, verify=realm_reg.verify, auth=basic,
                )  # fmt: skip
        except requests.exceptions.SSLError as e:
            raise messages.tls_error(realm_reg, f"the token service of {reg.host}", e) from None
        except requests.exceptions.Timeout:
            raise RegistryError(
                f"the token service {realm_host} of registry {reg.host} did not answer within "
                f"{timeout:g}s (while asking for {what})",
                where=f"registry {reg.host}",
            ) from None
        except requests.exceptions.ConnectionError as e:
            raise RegistryError(
                f"cannot connect to the token service {realm_host} of registry {reg.host} "
                f"({messages.connection_reason(e)}) while asking for {what}",
                where=f"registry {reg.host}",
                hint="check that the registry's token service is running and reachable",
            ) from None
        log.debug("GET token %s (scope %s) -> %s", realm, scope, r.status_code)
        if r.status_code in (401, 403):
            raise self.auth_error(reg, what, r.status_code, creds, token_service=True)
        if r.status_code != 200:
            raise RegistryError(
                f"the token service {realm_host} of registry {reg.host} answered "
                f"{r.status_code} {messages.shown(r.reason or '', 60)} (while asking for {what})",
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
        return Token(value, time.monotonic() + lifetime)
