"""The narrow adapter to the Docker Engine (whatever DOCKER_HOST names: local socket, tcp, ssh).

Looks up local images, builds and pushes. Registry credentials for pushes come from the Docker
config the SDK reads (DOCKER_CONFIG / ~/.docker/config.json, credential helpers); kfws never sees
or logs them. The SDK is imported lazily so commands that don't build never load it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kfws.errors import EngineError

INPUT_DIGEST_LABEL = "dev.kfws.input-digest"
IMAGE_NAME_LABEL = "dev.kfws.image-name"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class BuildRequest:
    reference: str  # "host/repo:tag" to tag the result with
    context: Path  # a folder (for generated Dockerfiles: a folder holding just the Dockerfile)
    dockerfile: Path  # absolute; may be outside the context (the SDK then sends it along)
    args: Mapping[str, str]
    target: str | None
    platform: str | None
    labels: Mapping[str, str]


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

    def local_image_id(self, reference: str, input_digest: str) -> str | None:
        """The id of the local image tagged `reference`, if it was built from these inputs."""
        try:
            image = self._client.images.get(reference)
        except self._errors.ImageNotFound:
            return None
        except self._errors.APIError as e:
            raise EngineError(
                f"cannot inspect {reference}: {_short(e)}", where="docker engine"
            ) from e
        labels = (image.attrs.get("Config") or {}).get("Labels") or {}
        return str(image.id) if labels.get(INPUT_DIGEST_LABEL) == input_digest else None

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
            network_mode="host",  # the engine runs without a bridge network
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
                    raise EngineError(
                        f"the build of {request.reference} failed: {str(event['error']).strip()}\n"
                        + _tail(log_path),
                        where=f"image {request.reference}",
                        hint=f"the full build log is {log_path}",
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
        raise EngineError(
            f"the {what} was cut off: {_short(e)}",
            where="docker engine",
            hint=f"check the engine at {_engine_address()}; the log so far is {log_path}",
        ) from e


def _redacted_event(event: dict[str, Any]) -> str:
    # push events carry no credentials, but keep the log to the fields we understand
    keys = ("status", "id", "progress", "error", "aux")
    return " ".join(f"{k}={event[k]}" for k in keys if k in event)


class _log_file:
    def __init__(self, path: Path, *, append: bool = False) -> None:
        self.path = path
        self.mode = "a" if append else "w"

    def __enter__(self) -> Any:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.f = self.path.open(self.mode, encoding="utf-8")
        return self.f

    def __exit__(self, *exc: object) -> None:
        self.f.close()


def _tail(path: Path, lines: int = 12) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return "  last lines of the build log:\n" + "\n".join("    " + t for t in text[-lines:])


def _short(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__
