"""The builders of one apply: which one builds each image, made ready (and every problem found)
before the first build starts. kfws.apply.images asks `for_image` and gets an object with the
Docker Engine's build/push shape, whichever builder it is."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from kfws.build.buildctl_args import BuildKitOptions
from kfws.build.choose import buildkit_hosts, engine_for, host_problem
from kfws.errors import ApplyError, EngineError
from kfws.observe.engine import BuildRequest, Progress
from kfws.observe.model import BuildInputs
from kfws.plan.model import Change, ChangeKind
from kfws.spec.model import BuildSecret, ImageSpec, Spec

if TYPE_CHECKING:
    from kfws.observe.buildkit import BuildKitClient
    from kfws.observe.engine import EngineClient


class ImageBuilder(Protocol):
    def build(self, request: BuildRequest, log_path: Path, progress: Progress) -> str: ...

    def push(self, reference: str, log_path: Path, progress: Progress) -> str: ...


def _mentions(dockerfile: str, secret: BuildSecret) -> bool:
    """Does a Dockerfile mount this secret (`--mount=type=secret,id=<id>`)?"""
    return re.search(rf"\bid={re.escape(secret.id)}(?![\w.-])", dockerfile) is not None


class Builders:
    def __init__(
        self,
        spec: Spec,
        inputs: Mapping[str, BuildInputs],
        changes: Sequence[Change],
        environ: Mapping[str, str] | None = None,
    ) -> None:
        from kfws.observe.buildkit import default_tls_dir, secret_values

        env = os.environ if environ is None else environ
        self._spec = spec
        self._hosts = buildkit_hosts(env)
        self._lock = threading.Lock()
        self._docker: EngineClient | None = None
        self._buildkit: BuildKitClient | None = None
        self._secrets: dict[str, tuple[tuple[BuildSecret, ...], list[str]]] = {}
        self.engines: dict[str, str] = {}
        problems: list[str] = []
        needs_docker = needs_buildkit = False
        for change in changes:
            name = str(change.details["name"])
            image = spec.image(name)
            assert image is not None
            engine = engine_for(spec, image, self._hosts)
            self.engines[name] = engine
            builds = change.kind in (ChangeKind.BUILD_IMAGE, ChangeKind.REBUILD_IMAGE)
            platform = _platform(image)
            if engine == "docker" or not builds:
                needs_docker = True  # a `push` is of an image the Docker Engine holds
                if builds and "," in platform:
                    problems.append(
                        f"{image.location}: image {name} lists several platforms; only BuildKit "
                        "builds an index (set `build: {engine: buildkit}` and BUILDKIT_HOST)"
                    )
                continue
            needs_buildkit = True
            used = tuple(s for s in spec.build.secrets if _mentions(inputs[name].dockerfile, s))
            try:
                self._secrets[name] = (used, secret_values(used, env))
            except EngineError as e:
                problems.append(f"{e.where}: image {name}: {e.message}")
        if needs_buildkit:
            if not self._hosts:
                problems.append(
                    "BuildKit is chosen (`build: {engine: buildkit}`) but no daemon is named: "
                    "set BUILDKIT_HOST (or KFWS_BUILDKIT_HOSTS)"
                )
            problems += [p for p in map(host_problem, self._hosts) if p]
        if problems:
            raise ApplyError(
                "the builds can't start; nothing was built and the cluster was not touched:\n"
                + "\n".join(f"  {p}" for p in problems),
                where="apply",
                hint="fix the workspace or the environment and re-run",
            )
        if needs_buildkit:
            from kfws.observe.buildkit import BuildKitClient

            self._buildkit = BuildKitClient(self._hosts, default_tls_dir(env), env)
        if needs_docker:
            from kfws.observe.engine import EngineClient

            self._docker = EngineClient()

    def for_image(self, image: ImageSpec) -> ImageBuilder:
        if self.engines.get(image.name) == "buildkit" and self._buildkit is not None:
            used, hide = self._secrets.get(image.name, ((), []))
            insecure = frozenset(h for h, o in self._spec.registries.items() if o.insecure)
            options = BuildKitOptions(cache=image.cache, insecure_hosts=insecure, secrets=used)
            return _BuildKitImage(self._buildkit, options, hide, self._docker_client)
        return self._docker_client()

    def _docker_client(self) -> EngineClient:
        with self._lock:
            if self._docker is None:
                from kfws.observe.engine import EngineClient

                self._docker = EngineClient()
            return self._docker

    def interrupt(self) -> None:
        if self._buildkit is not None:
            self._buildkit.interrupt()


def _platform(image: ImageSpec) -> str:
    spec = image.build or image.generated
    return (spec.platform if spec is not None else None) or ""


class _BuildKitImage:
    """One image's BuildKit build: it pushes as it builds, so `push` hands back that digest
    (kfws.apply.images then checks the registry serves it). An image the plan only pushes is
    one the Docker Engine holds: the Docker Engine pushes it."""

    def __init__(
        self,
        client: BuildKitClient,
        options: BuildKitOptions,
        hide: list[str],
        docker: Callable[[], EngineClient],
    ) -> None:
        self._client = client
        self._options = options
        self._hide = hide
        self._docker = docker
        self._pushed: dict[str, str] = {}

    def build(self, request: BuildRequest, log_path: Path, progress: Progress) -> str:
        digest = self._client.build(request, self._options, log_path, progress, self._hide)
        self._pushed[request.reference] = digest
        return digest

    def push(self, reference: str, log_path: Path, progress: Progress) -> str:
        if reference in self._pushed:
            return self._pushed[reference]
        return self._docker().push(reference, log_path, progress)
