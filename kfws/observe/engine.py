"""The narrow adapter to the Docker Engine (whatever DOCKER_HOST names: local socket, tcp, ssh).

Looks up local images, builds and pushes. Registry credentials for pushes come from the Docker
config the SDK reads (DOCKER_CONFIG / ~/.docker/config.json, credential helpers); kfws never sees
or logs them. The SDK is imported lazily so commands that don't build never load it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kfws.errors import EngineError
from kfws.observe.registry.manifests import MAX_BLOB_SIZE
from kfws.sanitize import terminal

INPUT_DIGEST_LABEL = "dev.kfws.input-digest"
IMAGE_NAME_LABEL = "dev.kfws.image-name"

Progress = Callable[[str], None]
NEEDS_BUILDKIT = (
    "heredocs, `RUN --mount` (cache, secret) and several platforms need BuildKit: set "
    "`build: {engine: buildkit}` in workspace.yaml and BUILDKIT_HOST to a buildkitd"
)


@dataclass(frozen=True)
class BuildRequest:
    reference: str  # "host/repo:tag" to tag the result with
    context: Path  # a folder (for generated Dockerfiles: a folder holding just the Dockerfile)
    dockerfile: Path  # absolute; may be outside the context (the SDK then sends it along)
    args: Mapping[str, str]
    target: str | None
    platform: str | None
    labels: Mapping[str, str]
    network: str | None = None  # None: the engine's default network; "host" only when asked


def _engine_address() -> str:
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


class EngineClient:
    def __init__(self) -> None:
        import docker
        import docker.errors

        self._errors = docker.errors
        try:
            self._client = docker.from_env(timeout=600)
            self._client.ping()
        except Exception as e:  # the SDK raises several unrelated types for "can't connect"
            raise EngineError(
                f"cannot reach the Docker Engine at {_engine_address()}: {_short(e)}",
                where="docker engine",
                hint="start dockerd, or point DOCKER_HOST at a running engine "
                "(unix://..., tcp://host:2376, ssh://user@host)",
            ) from e

    def default_platform(self) -> str | None:
        """The engine's own platform, "os/arch" (what the legacy builder builds when no
        platform is given); None when it does not say."""
        try:
            version = self._client.version()
        except self._errors.APIError:
            return None
        parts = [version.get(k) if isinstance(version, dict) else None for k in ("Os", "Arch")]
        if not all(isinstance(p, str) and 0 < len(p) <= 64 for p in parts):
            return None
        return "/".join(str(p) for p in parts)

    def local_image_id(self, reference: str, input_digest: str) -> str | None:
        """The id of the local image tagged `reference`, if it was built from these inputs."""
        found = self.local_image(reference, input_digest)
        return found[0] if found else None

    def local_image(self, reference: str, input_digest: str) -> tuple[str, int | None] | None:
        """(id, uncompressed size or None) of the local image tagged `reference`, if it was
        built from these inputs."""
        try:
            image = self._client.images.get(reference)
        except self._errors.ImageNotFound:
            return None
        except self._errors.APIError as e:
            raise EngineError(
                f"cannot inspect {reference}: {_short(e)}", where="docker engine"
            ) from e
        labels = (image.attrs.get("Config") or {}).get("Labels") or {}
        if labels.get(INPUT_DIGEST_LABEL) != input_digest:
            return None
        size = image.attrs.get("Size")
        sane = type(size) is int and 0 <= size <= MAX_BLOB_SIZE * 16
        return str(image.id), size if sane else None

    def build(self, request: BuildRequest, log_path: Path, progress: Progress) -> str:
        """Builds and tags the image; returns its id. The full log goes to `log_path`."""
        try:
            rel_dockerfile = request.dockerfile.relative_to(request.context).as_posix()
            dockerfile_arg = rel_dockerfile
        except ValueError:
            dockerfile_arg = str(request.dockerfile)  # outside the context: the SDK embeds it
        stream = self._client.api.build(
            path=str(request.context),
            dockerfile=dockerfile_arg,
            tag=request.reference,
            buildargs=dict(request.args),
            target=request.target,
            platform=request.platform,
            labels=dict(request.labels),
            network_mode=request.network,  # None: not sent, so the engine's default
            rm=True,
            forcerm=True,
            decode=True,
        )
        image_id: str | None = None
        with _log_file(log_path) as log:
            for event in _guard(stream, f"build of {request.reference}", log_path):
                text = event.get("stream")
                if isinstance(text, str):
                    log.write(text)
                    line = text.strip()
                    if line.startswith("Step "):
                        progress(f"{request.reference}: {line}")
                if "aux" in event and isinstance(event["aux"], dict):
                    image_id = event["aux"].get("ID", image_id)
                if "error" in event:
                    log.write(str(event["error"]) + "\n")
                    log.flush()  # the tail below reads the file: everything must be in it
                    error = printable(str(event["error"]).strip().splitlines()[-1:] or [""])
                    # cache/secret mounts, heredocs...: only BuildKit (kfws.build) has them
                    needs_buildkit = "requires BuildKit" in str(event["error"])
                    raise EngineError(
                        f"the build of {request.reference} failed: {error[0]}\n" + _tail(log_path),
                        where=f"image {request.reference}",
                        hint=f"the full build log is {log_path}"
                        + (f"; {NEEDS_BUILDKIT}" if needs_buildkit else ""),
                    )
        if image_id is None:
            raise EngineError(
                f"the build of {request.reference} ended without an image id",
                where=f"image {request.reference}",
                hint=f"see {log_path}",
            )
        return image_id

    def push(self, reference: str, log_path: Path, progress: Progress) -> str:
        """Pushes `reference`; returns the manifest digest the engine reports."""
        repository, _, tag = reference.rpartition(":")
        stream = self._client.api.push(repository, tag=tag, stream=True, decode=True)
        digest: str | None = None
        pushed_layers: set[str] = set()
        with _log_file(log_path, append=True) as log:
            for event in _guard(stream, f"push of {reference}", log_path):
                log.write(_redacted_event(event) + "\n")
                if "error" in event:
                    raise EngineError(
                        f"the push of {reference} failed: {str(event['error']).strip()}",
                        where=f"image {reference}",
                        hint="check `docker login` for that registry (or its credential helper) "
                        f"and that it is reachable; the log is {log_path}",
                    )
                status = event.get("status")
                if status == "Pushed" and event.get("id") not in pushed_layers:
                    pushed_layers.add(str(event.get("id")))
                    progress(f"{reference}: pushed layer {event.get('id')}")
                aux = event.get("aux")
                if isinstance(aux, dict) and "Digest" in aux:
                    digest = str(aux["Digest"])
        if digest is None:
            raise EngineError(
                f"the push of {reference} ended without a digest (cut off?)",
                where=f"image {reference}",
                hint=f"retry the apply; the log is {log_path}",
            )
        return digest


def _guard(stream: Iterator[dict[str, Any]], what: str, log_path: Path) -> Iterator[dict[str, Any]]:
    """Turns SDK and connection failures in the middle of a stream into one EngineError."""
    try:
        yield from stream
    except EngineError:
        raise
    except Exception as e:
        explanation = str(getattr(e, "explanation", "") or "")
        if "dockerfile parse error" in explanation or "requires BuildKit" in explanation:
            raise EngineError(
                f"the Docker Engine's legacy builder refused the Dockerfile: {explanation}",
                where=f"the {what}",
                hint=NEEDS_BUILDKIT,
            ) from None
        raise EngineError(
            f"the {what} was cut off: {_short(e)}",
            where="docker engine",
            hint=f"check the engine at {_engine_address()}; the log so far is {log_path}",
        ) from e


def _redacted_event(event: dict[str, Any]) -> str:
    # push events carry no credentials, but keep the log to the fields we understand
    keys = ("status", "id", "progress", "error", "aux")
    return " ".join(f"{k}={event[k]}" for k in keys if k in event)


def ensure_private_dir(path: Path) -> None:
    """`path` exists and only its owner can enter it (0700): build logs show build args, paths
    and registry names. A folder that already exists with wider modes is tightened, unless it
    is a shared one (sticky, like /tmp) or someone else's: then only the files are private."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = path.stat()
    mine = st.st_uid == os.getuid()
    if stat.S_IMODE(st.st_mode) & 0o077 and mine and not st.st_mode & stat.S_ISVTX:
        path.chmod(0o700)


class _log_file:
    """A build log: private (0600, also when it existed before), never through a symlink (a
    planted link can't make kfws overwrite another file), line-buffered so it can be followed
    (`tail -f`) while the build runs."""

    def __init__(self, path: Path, *, append: bool = False) -> None:
        self.path = path
        self.append = append

    def __enter__(self) -> Any:
        ensure_private_dir(self.path.parent)
        flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
        flags |= os.O_APPEND if self.append else os.O_TRUNC
        try:
            fd = os.open(self.path, flags, 0o600)
        except OSError as e:
            raise EngineError(
                f"cannot write the build log {self.path}: {e.strerror}",
                where="build log",
                hint="pass --log-dir with a folder you can write to",
            ) from None
        os.fchmod(fd, 0o600)
        self.f = os.fdopen(fd, "a" if self.append else "w", encoding="utf-8", buffering=1)
        return self.f

    def __exit__(self, *exc: object) -> None:
        self.f.close()


def printable(lines: list[str]) -> list[str]:
    """Build output made safe for the terminal (kfws.sanitize.terminal): colour codes dropped,
    any other control or format character (CR, BEL, bidi overrides) shown as an escape."""
    return [terminal(line) for line in lines]


def _tail(path: Path, lines: int = 12, max_bytes: int = 64 * 1024) -> str:
    try:
        with path.open("rb") as f:
            f.seek(max(0, f.seek(0, os.SEEK_END) - max_bytes))
            text = f.read().decode("utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    last = printable(text[-lines:])
    return "  last lines of the build log:\n" + "\n".join("    " + t for t in last)


def _short(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__
