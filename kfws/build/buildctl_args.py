"""The `buildctl build` command line for one image. Pure.

Everything goes through buildctl's own flags: the Dockerfile frontend built into buildkitd
(`dockerfile.v0`: no frontend image to pull), the build context and the Dockerfile's folder as
local sources, labels and build args as frontend options, the image pushed by the image
exporter, the registry cache imported and exported. No credential is ever on this line:
buildctl reads them from the Docker config (DOCKER_CONFIG) itself, and secrets are named by
where their value lives (an environment variable or a file), never by the value.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kfws.observe.engine import BuildRequest
from kfws.spec.model import BuildSecret


@dataclass(frozen=True)
class BuildKitOptions:
    """What a BuildKit build needs beyond the engine-neutral BuildRequest."""

    cache: str | None = None  # the registry cache reference, imported and exported
    insecure_hosts: frozenset[str] = frozenset()  # registries spoken to over plain HTTP
    secrets: tuple[BuildSecret, ...] = ()  # the ones whose value is there at apply time


def _host(reference: str) -> str:
    return reference.split("/", 1)[0]


def _registry_attrs(reference: str, insecure: frozenset[str]) -> str:
    return ",registry.insecure=true" if _host(reference) in insecure else ""


def _csv(value: str) -> str:
    """A value inside buildctl's comma-separated attributes (names/refs): quoted when needed."""
    if any(c in value for c in ',"='):
        return '"' + value.replace('"', '""') + '"'
    return value


def connection_flags(host: str, tls_dir: str | None) -> list[str]:
    flags = ["--addr", host]
    if tls_dir and host.startswith("tcp://"):
        flags += ["--tlsdir", tls_dir]
    return flags


def build_command(
    buildctl: str,
    host: str,
    tls_dir: str | None,
    request: BuildRequest,
    options: BuildKitOptions,
    metadata_file: Path,
) -> list[str]:
    dockerfile = request.dockerfile
    cmd = [
        buildctl,
        *connection_flags(host, tls_dir),
        "build",
        "--progress=plain",
        "--frontend=dockerfile.v0",
        "--local",
        f"context={request.context}",
        "--local",
        f"dockerfile={dockerfile.parent}",
        "--opt",
        f"filename={dockerfile.name}",
        "--metadata-file",
        str(metadata_file),
    ]
    for key, value in sorted(request.args.items()):
        cmd += ["--opt", f"build-arg:{key}={value}"]
    for key, value in sorted(request.labels.items()):
        cmd += ["--opt", f"label:{key}={value}"]
    if request.target:
        cmd += ["--opt", f"target={request.target}"]
    if request.platform:
        cmd += ["--opt", f"platform={request.platform}"]
    if request.network == "host":
        cmd += ["--opt", "force-network-mode=host", "--allow", "network.host"]
    elif request.network == "none":
        cmd += ["--opt", "force-network-mode=none"]
    for secret in options.secrets:
        if secret.env is not None:
            cmd += ["--secret", f"id={_csv(secret.id)},env={_csv(secret.env)}"]
        elif secret.file is not None:
            cmd += ["--secret", f"id={_csv(secret.id)},src={_csv(str(secret.file))}"]
    insecure = options.insecure_hosts
    cmd += [
        "--output",
        # Docker media types, as the legacy builder pushes: the same image to every registry,
        # cluster runtime and tool reading it, whichever builder made it
        f"type=image,name={_csv(request.reference)},push=true,oci-mediatypes=false"
        + _registry_attrs(request.reference, insecure),
    ]
    if options.cache:
        attrs = _registry_attrs(options.cache, insecure)
        cmd += ["--import-cache", f"type=registry,ref={_csv(options.cache)}{attrs}"]
        cmd += [
            "--export-cache",
            f"type=registry,ref={_csv(options.cache)},mode=max,ignore-error=true{attrs}",
        ]
    return cmd
