"""Registry credentials from the Docker client config, read the way `docker` reads them.

Where: `docker_config_dir` if given, else `$DOCKER_CONFIG`, else `~/.docker`; the file is
`config.json` in it (a missing file means no credentials: anonymous access).

Per registry host, in this order:
1. `credHelpers[host]`: run `docker-credential-<helper> get` with the server URL on stdin;
2. `credsStore`: the same with the default store helper;
3. `auths[<key>]` where the key names the host as Docker matches it (`host`, `https://host`,
   `http://host/v1/`, ...): `auth` (base64 "user:password"), or `username` + `password`, and
   `identitytoken` (an OAuth2 refresh token for the bearer-token flow).
A helper that has nothing for the host ("credentials not found") falls through to the next source.

Credentials are never logged, printed, or put into exception messages or reprs.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kfws.errors import RegistryError

DOCKER_HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
DOCKER_HUB_SERVER = "https://index.docker.io/v1/"
HELPER_TIMEOUT = 30.0
_NOT_FOUND = "credentials not found"


@dataclass(frozen=True, repr=False)
class Credentials:
    """A username and password, or an identity (refresh) token. The repr never shows them."""

    username: str | None = None
    password: str | None = None
    identity_token: str | None = None

    @property
    def basic(self) -> tuple[str, str] | None:
        if self.username is None or self.password is None:
            return None
        return self.username, self.password

    def __repr__(self) -> str:
        kinds = [
            k
            for k, v in (("basic", self.basic), ("identity-token", self.identity_token))
            if v is not None
        ]
        return f"Credentials(<redacted: {', '.join(kinds) or 'empty'}>)"

    __str__ = __repr__


def auth_key_hostname(key: str) -> str:
    """The registry host an `auths` key names, as Docker's ConvertToHostname does:
    "https://host:5000/v1/" -> "host:5000", "host/v2" -> "host"."""
    stripped = key.strip()
    if "://" in stripped:
        parts = urlsplit(stripped)
        if parts.hostname:
            host = parts.hostname
            if ":" in host:  # IPv6 literal
                host = f"[{host}]"
            return f"{host}:{parts.port}" if parts.port else host
    return stripped.split("/", 1)[0]


def server_url(host: str) -> str:
    """What Docker passes to credential helpers and stores keys under for a registry host."""
    return DOCKER_HUB_SERVER if host in DOCKER_HUB_HOSTS else host


def find_auth_entry(auths: dict[str, Any], host: str) -> dict[str, Any] | None:
    """The `auths` entry for host: an exact key first, then any key that names the same host."""
    wanted = {host} if host not in DOCKER_HUB_HOSTS else set(DOCKER_HUB_HOSTS)
    exact = auths.get(server_url(host))
    if isinstance(exact, dict):
        return exact
    for key in sorted(auths):
        if auth_key_hostname(key) in wanted and isinstance(auths[key], dict):
            entry: dict[str, Any] = auths[key]
            return entry
    return None


def _from_entry(entry: dict[str, Any], host: str, source: str) -> Credentials | None:
    username = entry.get("username") or None
    password = entry.get("password") or None
    encoded = entry.get("auth")
    if encoded:
        try:
            decoded = base64.b64decode(str(encoded), validate=False).decode()
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        if ":" not in decoded:
            raise RegistryError(
                f"the `auth` value for {host} in {source} is not base64 of user:password",
                where=f"registry {host}",
                hint=f"run `docker login {host}` again",
            )
        username, _, password = decoded.partition(":")
    token = entry.get("identitytoken") or None
    if username is None and password is None and token is None:
        return None
    return Credentials(username=username, password=password, identity_token=token)


class DockerConfig:
    """The parsed config.json (or nothing). Holds no secret until asked for a host."""

    def __init__(self, config_dir: Path | None = None) -> None:
        if config_dir is None:
            env = os.environ.get("DOCKER_CONFIG")
            config_dir = Path(env) if env else Path.home() / ".docker"
        self.path = config_dir / "config.json"
        self._data: dict[str, Any] = {}
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return
        except OSError as e:
            raise RegistryError(
                f"cannot read the Docker config {self.path}: {e.strerror}",
                where=str(self.path),
                hint="fix its permissions, or point DOCKER_CONFIG at another folder",
            ) from None
        try:
            data = json.loads(text) if text.strip() else {}
        except json.JSONDecodeError as e:
            # the message carries only the position, never the file's content
            raise RegistryError(
                f"the Docker config {self.path} is not valid JSON (line {e.lineno}, column "
                f"{e.colno})",
                where=str(self.path),
                hint="fix the file, or run `docker login` to rewrite it",
            ) from None
        if not isinstance(data, dict):
            raise RegistryError(
                f"the Docker config {self.path} is not a JSON object", where=str(self.path)
            )
        self._data = data

    def __repr__(self) -> str:
        return f"DockerConfig({str(self.path)!r})"

    def credentials_for(self, host: str) -> Credentials | None:
        helpers = self._data.get("credHelpers") or {}
        helper = helpers.get(host) if isinstance(helpers, dict) else None
        if helper is None and host in DOCKER_HUB_HOSTS and isinstance(helpers, dict):
            helper = next((helpers[h] for h in sorted(DOCKER_HUB_HOSTS) if h in helpers), None)
        if helper:
            found = run_helper(str(helper), host, f"{self.path} credHelpers")
            if found is not None:
                return found
        store = self._data.get("credsStore")
        if store:
            found = run_helper(str(store), host, f"{self.path} credsStore")
            if found is not None:
                return found
        auths = self._data.get("auths") or {}
        if not isinstance(auths, dict):
            return None
        entry = find_auth_entry(auths, host)
        return _from_entry(entry, host, str(self.path)) if entry else None


def run_helper(name: str, host: str, configured_in: str) -> Credentials | None:
    """`docker-credential-<name> get`, the server URL on stdin, no shell. None when the helper
    has no credentials for the host. Its output is never shown (it holds the secret)."""
    program = f"docker-credential-{name}"
    try:
        proc = subprocess.run(
            [program, "get"],
            input=server_url(host),
            capture_output=True,
            text=True,
            timeout=HELPER_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        raise RegistryError(
            f"the credential helper {program} (set in {configured_in} for {host}) is not "
            "installed or not on PATH",
            where=f"registry {host}",
            hint=f"install {program}, or remove it from the Docker config and run "
            f"`docker login {host}`",
        ) from None
    except subprocess.TimeoutExpired:
        raise RegistryError(
            f"the credential helper {program} did not answer within {HELPER_TIMEOUT:.0f}s "
            f"for {host}",
            where=f"registry {host}",
            hint="unlock the keychain it uses, or check the helper by hand",
        ) from None
    except OSError as e:
        raise RegistryError(
            f"cannot run the credential helper {program} for {host}: {e.strerror}",
            where=f"registry {host}",
        ) from None
    if proc.returncode != 0:
        if _NOT_FOUND in proc.stdout.lower() or _NOT_FOUND in proc.stderr.lower():
            return None
        raise RegistryError(
            f"the credential helper {program} failed for {host} (exit {proc.returncode})",
            where=f"registry {host}",
            hint="check the helper and the keychain or store behind it",
        )
    try:
        data = json.loads(proc.stdout)
        username = data.get("Username") or None
        secret = data.get("Secret") or None
    except (json.JSONDecodeError, AttributeError):
        raise RegistryError(
            f"the credential helper {program} answered something that is not its JSON for {host}",
            where=f"registry {host}",
        ) from None
    if secret is None:
        return None
    if username == "<token>":
        return Credentials(identity_token=str(secret))
    return Credentials(username=str(username or ""), password=str(secret))
