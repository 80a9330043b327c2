"""Runs a notebook image the way Kubeflow's notebook controller would, and probes it.

The checked container gets the image's own entrypoint, command and user, NB_PREFIX, a fresh named
volume on /home/jovyan (Docker fills a new volume from the image's /home/jovyan, owner included,
much as the pod's fsGroup makes the PVC the user's) and no network but its own loopback. The
prober is a second container (a small image with sh and wget) that joins the checked container's
network namespace: no port is published and nothing is assumed reachable, so the same check runs
on a remote engine (DOCKER_HOST=tcp:// or ssh://). Every container and volume carries a session
label and is removed when the check ends, fails or is interrupted.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from kfws.check import (
    HOME,
    CheckKind,
    HomeWrite,
    RunFacts,
    parse_probe,
    probe_command,
    sanitise_log,
)
from kfws.errors import EngineError

SESSION_LABEL = "dev.kfws.check-session"
RUN_LABEL = "dev.kfws.check-run"
DEFAULT_PROBE_IMAGE = "busybox:1.36"
_POLL = 0.25  # seconds between looks at the two containers' states

# Writes and removes a file in the home volume, as whatever user the container runs as.
_HOME_SCRIPT = (
    'echo "@@uid $(id -u)"; f="$1/.kfws-write-check.$$"; '
    'if msg=$( { : > "$f"; } 2>&1 ); then rm -f "$f"; echo "@@write ok"; '
    'else echo "@@write fail $msg"; fi'
)


def probe_image() -> str:
    return os.environ.get("KFWS_PROBE_IMAGE") or DEFAULT_PROBE_IMAGE


@dataclass(frozen=True)
class CheckRun:
    facts: RunFacts
    log: list[str]  # the checked container's last log lines, sanitised
    seconds: float


class ContractRunner:
    """One per command: a Docker client and the session label of everything it starts."""

    def __init__(self, prober: str | None = None) -> None:
        import docker
        import docker.errors

        self._errors = docker.errors
        self.prober = prober or probe_image()
        self.session = uuid.uuid4().hex[:12]
        self.closed = False  # set on an interrupt: workers start nothing more
        try:
            self._client = docker.from_env(timeout=120)
            self._client.ping()
        except Exception as e:  # the SDK raises several unrelated types for "can't connect"
            raise EngineError(
                f"cannot reach the Docker Engine for the contract check: {_short(e)}",
                where="docker engine",
                hint="start dockerd, or point DOCKER_HOST at a running engine",
            ) from e

    # -- images ---------------------------------------------------------------------------

    def ensure_image(self, reference: str, digest: str | None) -> str:
        """The engine's id of the image to check: local if present, else pulled (by digest
        when known, so the check sees exactly what the spawner will offer)."""
        wanted = f"{reference.rpartition(':')[0]}@{digest}" if digest else reference
        try:
            return str(self._client.images.get(wanted).id)
        except self._errors.ImageNotFound:
            pass
        except self._errors.APIError as e:
            raise EngineError(f"cannot inspect {wanted}: {_short(e)}", where=reference) from e
        repository, _, tag = wanted.rpartition("@" if digest else ":")
        try:
            return str(self._client.images.pull(repository, tag=tag).id)
        except self._errors.APIError as e:
            raise EngineError(
                f"cannot pull {wanted} into the engine for the check: {_short(e)}",
                where=f"image {reference}",
                hint="check that the engine can reach and log in to that registry",
            ) from e

    def _ensure_prober(self) -> None:
        try:
            self._client.images.get(self.prober)
            return
        except self._errors.ImageNotFound:
            pass
        try:
            repository, _, tag = self.prober.rpartition(":")
            if "/" in tag or not repository:
                repository, tag = self.prober, "latest"
            self._client.images.pull(repository, tag=tag)
        except self._errors.APIError as e:
            raise EngineError(
                f"cannot pull the probe image {self.prober}: {_short(e)}",
                where="kfws check",
                hint="set KFWS_PROBE_IMAGE (or --probe-image) to a small image with sh and "
                "wget (busybox) in a registry the engine can reach",
            ) from e

    # -- one check --------------------------------------------------------------------------

    def run(
        self, image_id: str, kind: CheckKind, prefix: str, timeout: float, what: str
    ) -> CheckRun:
        """Checks one image; `what` (its name or reference) names it in errors and names."""
        self._ensure_prober()
        run_id = uuid.uuid4().hex[:8]
        labels = {SESSION_LABEL: self.session, RUN_LABEL: run_id}
        name = f"kfws-check-{re.sub(r'[^a-zA-Z0-9_.-]+', '-', what)[:40]}-{run_id}"
        start = time.monotonic()
        if self.closed:
            raise EngineError("the check was interrupted", where="kfws check")
        try:
            with _sigint_deferred():
                volume = self._client.volumes.create(name=name, labels=labels)
                target = self._client.containers.create(
                    image_id,
                    name=name,
                    environment={"NB_PREFIX": prefix},
                    network_mode="none",
                    volumes={volume.name: {"bind": HOME, "mode": "rw"}},
                    labels=labels,
                )
            if self.closed:  # interrupted (another thread) while the engine created them
                raise EngineError("the check was interrupted", where="kfws check")
            try:
                target.start()
            except self._errors.APIError as e:  # e.g. the entrypoint does not exist
                raise EngineError(
                    f"the container could not start: {_short(e)}",
                    where=f"image {what}",
                    hint="fix the image's ENTRYPOINT/CMD: Kubeflow starts it exactly like this",
                ) from e
            facts = self._watch(target, kind, prefix, timeout, labels, name, start)
            log = sanitise_log(target.logs(tail=200))
        except self._errors.DockerException as e:
            raise EngineError(
                f"the engine failed while running the check: {_short(e)}",
                where=f"image {what}",
                hint="re-run `kfws check`; if it persists, check the engine's state",
            ) from e
        finally:
            self.cleanup(f"{RUN_LABEL}={run_id}")
        return CheckRun(facts, log, time.monotonic() - start)

    def _watch(
        self,
        target: Any,
        kind: CheckKind,
        prefix: str,
        timeout: float,
        labels: dict[str, str],
        name: str,
        start: float,
    ) -> RunFacts:
        exited = self._exit_code(target)
        if exited is not None:
            return RunFacts(kind, prefix, timeout, None, exited, time.monotonic() - start)
        try:
            prober = self._client.containers.run(
                self.prober,
                probe_command(kind, prefix, timeout),
                name=f"{name}-probe",
                network_mode=f"container:{target.id}",
                labels=labels,
                detach=True,
            )
        except self._errors.APIError as e:
            exited = self._exit_code(target)
            if exited is not None:  # it died between our look and the prober's start
                return RunFacts(kind, prefix, timeout, None, exited, time.monotonic() - start)
            raise EngineError(
                f"cannot start the prober ({self.prober}): {_short(e)}", where="kfws check"
            ) from e
        deadline = time.monotonic() + timeout + 60  # the prober's own timeout, plus its requests
        while True:
            exited = self._exit_code(target)
            if exited is not None:
                return RunFacts(kind, prefix, timeout, None, exited, time.monotonic() - start)
            if self._exit_code(prober) is not None or time.monotonic() > deadline:
                break
            time.sleep(_POLL)
        probe = parse_probe(prober.logs().decode("utf-8", "replace"))
        home = self._home_write(target) if 8888 in probe.listening else None
        return RunFacts(kind, prefix, timeout, probe, None, home=home)

    def _home_write(self, target: Any) -> HomeWrite:
        # on a loaded engine an exec now and then returns before its output is attached (no
        # marker at all, exit code unknown): the script is idempotent, so ask again, a few times
        for _ in range(3):
            try:
                result = target.exec_run(["sh", "-c", _HOME_SCRIPT, "kfws-home", HOME])
            except self._errors.APIError as e:
                return HomeWrite(False, "?", f"could not run sh in the container: {_short(e)}")
            text = (result.output or b"").decode("utf-8", "replace")
            if "@@uid " in text or result.exit_code not in (0, None):
                break
        uid, ok, detail = "?", False, ""
        for line in text.splitlines():
            if line.startswith("@@uid "):
                uid = line[6:].strip()[:12] or "?"
            elif line.startswith("@@write ok"):
                ok = True
            elif line.startswith("@@write fail"):
                detail = " ".join(sanitise_log(line[12:].strip(), lines=1, width=160))
        if not ok and not detail and result.exit_code not in (0, None):
            detail = "the image has no working /bin/sh to test it with"
        return HomeWrite(ok, uid, detail)

    def _exit_code(self, container: Any) -> int | None:
        container.reload()
        if container.status in ("exited", "dead"):
            return int(container.attrs.get("State", {}).get("ExitCode", -1))
        return None

    def close(self) -> None:
        """On an interrupt: start nothing more and remove what this session started."""
        self.closed = True
        self.cleanup()

    def cleanup(self, label: str | None = None) -> None:
        """Removes every container and volume of one run, or of this whole session (on an
        interrupt); safe to call twice."""
        flt = {"label": label or f"{SESSION_LABEL}={self.session}"}
        for c in self._client.containers.list(all=True, filters=flt):
            with contextlib.suppress(self._errors.NotFound):
                c.remove(force=True, v=True)
        for v in self._client.volumes.list(filters=flt):
            with contextlib.suppress(self._errors.NotFound):
                v.remove(force=True)


@contextlib.contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Ctrl-C waits until the engine has answered a create: interrupted in flight, the engine
    would still make the container or volume, after the cleanup had looked for it. Only the
    main thread receives signals; elsewhere `closed` is checked after the create."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught and previous is not signal.SIG_IGN:
            if callable(previous):
                previous(signal.SIGINT, None)  # Python's own handler raises KeyboardInterrupt
            raise KeyboardInterrupt


def _short(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__
