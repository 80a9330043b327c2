"""Which builder builds an image, and which BuildKit daemons there are. Pure: the environment
is passed in."""

from __future__ import annotations

import re
from collections.abc import Mapping

from kfws.spec.model import BuildEngine, ImageSpec, Spec

# one daemon the way buildctl itself reads it; several (kfws spreads parallel builds over them)
# in KFWS_BUILDKIT_HOSTS, separated by commas or white space
HOST_VARIABLE = "BUILDKIT_HOST"
HOSTS_VARIABLE = "KFWS_BUILDKIT_HOSTS"
# client certificates for tcp:// daemons (buildctl --tlsdir: ca.pem, cert.pem, key.pem)
TLS_DIR_VARIABLE = "KFWS_BUILDKIT_TLS_DIR"
SCHEMES = ("unix", "tcp", "kube-pod", "docker-container", "podman-container", "ssh", "npipe")


def buildkit_hosts(environ: Mapping[str, str]) -> tuple[str, ...]:
    """The daemons named in the environment, in order, without repeats."""
    many = environ.get(HOSTS_VARIABLE, "").strip()
    raw = re.split(r"[\s,]+", many) if many else [environ.get(HOST_VARIABLE, "").strip()]
    return tuple(dict.fromkeys(h for h in raw if h))


def host_problem(host: str) -> str | None:
    """Why buildctl could not use this address (said before any build starts), or None."""
    scheme, sep, rest = host.partition("://")
    if not sep or not rest:
        return f"{host!r} is not a BuildKit address (e.g. unix:///run/buildkit/buildkitd.sock)"
    if scheme not in SCHEMES:
        return f"{host!r}: buildctl does not know the scheme {scheme}:// ({', '.join(SCHEMES)})"
    return None


def engine_for(spec: Spec, image: ImageSpec, hosts: tuple[str, ...]) -> BuildEngine:
    """The image's registry's `build.engine`, else the top-level one, else BuildKit when a
    daemon is named in the environment, else the Docker Engine."""
    chosen = spec.registry_options(image.registry_host).engine or spec.build.engine
    if chosen is not None:
        return chosen
    return "buildkit" if hosts else "docker"
