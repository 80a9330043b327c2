"""Where and how to reach each registry: base URL, TLS verification, whether plain HTTP is
allowed, and what we learnt about it (its auth challenge, its credentials). One per host, made
from the workspace's registry options on first use."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kfws.errors import RegistryError
from kfws.observe.docker_auth import DOCKER_HUB_HOSTS, Credentials
from kfws.observe.registry.challenge import Challenge
from kfws.spec.model import RegistryOptions

DOCKER_HUB_API = "registry-1.docker.io"


@dataclass(repr=False)
class Endpoint:
    host: str  # as the workspace names it ("docker.io" for Docker Hub)
    base_url: str  # "https://host" or "http://host"
    verify: bool | str
    insecure: bool
    challenge: Challenge | None = None
    credentials: Credentials | None = None
    credentials_loaded: bool = False
    credentials_lock: threading.Lock = field(default_factory=threading.Lock)

    def __repr__(self) -> str:
        return f"Endpoint({self.base_url!r}, challenge={self.challenge and self.challenge.scheme})"


class Endpoints:
    """The Endpoint of each host, made once (thread-safe) from `options_for(host)`."""

    def __init__(self, options_for: Callable[[str], RegistryOptions]) -> None:
        self._options_for = options_for
        self._lock = threading.Lock()
        self._by_host: dict[str, Endpoint] = {}

    def hosts(self) -> list[str]:
        with self._lock:
            return sorted(self._by_host)

    def get(self, host: str) -> Endpoint:
        with self._lock:
            found = self._by_host.get(host)
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
        state = Endpoint(host, f"{scheme}://{endpoint}", verify, options.insecure)
        with self._lock:
            return self._by_host.setdefault(host, state)
