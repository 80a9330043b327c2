"""The narrow adapter to BuildKit: runs `buildctl build` (BuildKit's own client; no protocol of
ours) against the daemons BUILDKIT_HOST / KFWS_BUILDKIT_HOSTS name, one build per process.

Registry credentials reach buildctl the way they reach `docker push`: it reads the Docker
config (DOCKER_CONFIG / ~/.docker/config.json, credential helpers) itself, so kfws never sees,
passes or logs them. Build secrets are named on the command line by where their value lives;
kfws reads a value only to blank it out of the log and the terminal.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path

from kfws.build.buildctl_args import BuildKitOptions, build_command, connection_flags
from kfws.build.progress import StepTracker, failure, push_refused, redact
from kfws.errors import EngineError
from kfws.observe.engine import BuildRequest, Progress, _log_file, _tail
from kfws.observe.registry.manifests import DIGEST_RE
from kfws.sanitize import terminal
from kfws.spec.model import BuildSecret

BUILDCTL_VARIABLE = "KFWS_BUILDCTL"  # a buildctl that is not the one on PATH
MAX_SECRET_SIZE = 1 << 20


def find_buildctl(environ: Mapping[str, str]) -> str:
    found = environ.get(BUILDCTL_VARIABLE) or shutil.which("buildctl")
    if not found:
        raise EngineError(
            "BuildKit is the chosen builder but `buildctl` (BuildKit's client) is not on PATH",
            where="buildkit",
            hint="install buildctl (it comes with BuildKit's release archive), point "
            f"{BUILDCTL_VARIABLE} at it, or choose `build: {{engine: docker}}` in workspace.yaml",
        )
    return found


def secret_values(secrets: Sequence[BuildSecret], environ: Mapping[str, str]) -> list[str]:
    """Each secret's value, read at apply time only to blank it out of logs and output.
    Raises when one is not there (the caller decides which secrets a build needs)."""
    values = []
    for s in secrets:
        if s.env is not None:
            value = environ.get(s.env)
            if not value:
                raise EngineError(
                    f"the build secret {s.id!r} is read from the environment variable {s.env}, "
                    "which is not set",
                    where=s.location,
                    hint=f"export {s.env} before `kfws apply` (its value is never printed)",
                )
            values.append(value)
        elif s.file is not None:
            try:
                with s.file.open("rb") as f:
                    data = f.read(MAX_SECRET_SIZE + 1)
            except OSError as e:
                raise EngineError(
                    f"the build secret {s.id!r} is read from {s.file}: {e.strerror or e}",
                    where=s.location,
                    hint="create the file, or fix `file:` of that secret in workspace.yaml",
                ) from None
            if len(data) > MAX_SECRET_SIZE:
                raise EngineError(
                    f"the build secret {s.id!r} ({s.file}) is larger than 1 MiB",
                    where=s.location,
                    hint="BuildKit secrets are small values (tokens, .netrc files)",
                )
            text = data.decode("utf-8", errors="replace")
            values += [text, text.strip()]
    return [v for v in values if len(v) >= 4]  # blanking "1" or "ab" would garble every log


class BuildKitClient:
    """One or more BuildKit daemons; each build goes to the least busy one."""

    def __init__(
        self, hosts: Sequence[str], tls_dir: str | None, environ: Mapping[str, str]
    ) -> None:
        self._buildctl = find_buildctl(environ)
        self._tls_dir = tls_dir
        self._busy = dict.fromkeys(hosts, 0)
        self._started = dict.fromkeys(hosts, 0)  # builds handed to each so far
        self._lock = threading.Lock()
        self._running: set[subprocess.Popen[str]] = set()
        self._interrupted = False
        for host in hosts:
            self._check(host)

    @property
    def hosts(self) -> tuple[str, ...]:
        return tuple(self._busy)

    def _check(self, host: str) -> None:
        """A daemon that can't be reached is said before any build starts."""
        cmd = [self._buildctl, *connection_flags(host, self._tls_dir), "debug", "workers"]
        try:
            r = subprocess.run(
                cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60
            )
        except (OSError, subprocess.TimeoutExpired) as e:
            r = subprocess.CompletedProcess(cmd, 1, "", str(e))
        if r.returncode != 0:
            reason = terminal((r.stderr.strip().splitlines() or ["no answer"])[-1])
            raise EngineError(
                f"cannot reach the BuildKit daemon at {host}: {reason}",
                where="buildkit",
                hint="start buildkitd, or fix BUILDKIT_HOST / KFWS_BUILDKIT_HOSTS (for tcp://, "
                "the client certificates in KFWS_BUILDKIT_TLS_DIR: ca.pem, cert.pem, key.pem)",
            )

    def _acquire(self) -> str:
        """The least busy daemon; among equals, the one given fewest builds so far (so builds
        spread over all daemons even when each ends before the next starts)."""
        with self._lock:
            host = min(self._busy, key=lambda h: (self._busy[h], self._started[h]))
            self._busy[host] += 1
            self._started[host] += 1
            return host

    def _release(self, host: str) -> None:
        with self._lock:
            self._busy[host] -= 1

    def interrupt(self) -> None:
        """Ctrl-C: stop every running buildctl; each cancels its build in the daemon."""
        with self._lock:
            self._interrupted = True
            running = list(self._running)
        for proc in running:
            proc.send_signal(signal.SIGINT)  # what Ctrl-C in a terminal sends it

    def build(
        self,
        request: BuildRequest,
        options: BuildKitOptions,
        log_path: Path,
        progress: Progress,
        hide: Sequence[str],
    ) -> str:
        """Builds and pushes; returns the pushed manifest (or index) digest. The full output
        goes to `log_path`, with the values in `hide` blanked out."""
        host = self._acquire()
        try:
            with tempfile.TemporaryDirectory(prefix="kfws-buildctl-") as tmp:
                metadata = Path(tmp) / "metadata.json"
                cmd = build_command(self._buildctl, host, self._tls_dir, request, options, metadata)
                rc, tail = self._run(cmd, host, request.reference, log_path, progress, hide)
                refusal = push_refused(tail) if rc != 0 else None
                if refusal is not None:
                    # the image is built (in BuildKit's cache); only a blob upload was refused:
                    # push again once, as `docker push` would, and say so in the log
                    progress(
                        f"{request.reference}: the registry refused a blob ({refusal}); "
                        "pushing again"
                    )
                    rc, tail = self._run(
                        cmd, host, request.reference, log_path, progress, hide, again=True
                    )
                if rc != 0:
                    raise EngineError(
                        f"the build of {request.reference} failed: "
                        f"{terminal(failure(tail))}\n" + _tail(log_path),
                        where=f"image {request.reference}",
                        hint=f"the full build log is {log_path} (BuildKit at {host})",
                    )
                return _digest(metadata, request.reference, log_path)
        finally:
            self._release(host)

    def _run(
        self,
        cmd: list[str],
        host: str,
        reference: str,
        log_path: Path,
        progress: Progress,
        hide: Sequence[str],
        *,
        again: bool = False,
    ) -> tuple[int, deque[str]]:
        tracker = StepTracker()
        tail: deque[str] = deque(maxlen=50)
        with _log_file(log_path, append=again) as log:
            what = "pushing again after the registry refused a blob" if again else "(BuildKit)"
            log.write(f"# buildctl build on {host} {what}\n")
            with self._lock:
                if self._interrupted:
                    raise KeyboardInterrupt
                proc = subprocess.Popen(
                    cmd,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                    encoding="utf-8",
                    errors="replace",
                )
                self._running.add(proc)
            try:
                assert proc.stdout is not None
                for raw in proc.stdout:
                    line = redact(raw.rstrip("\n"), hide)
                    log.write(line + "\n")
                    tail.append(line)
                    step = tracker.step(line)
                    if step is not None:
                        progress(f"{reference}: {terminal(step)}")
                rc = proc.wait()
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                with self._lock:
                    self._running.discard(proc)
        if self._interrupted:
            raise EngineError(
                f"the build of {reference} was interrupted", where=f"image {reference}"
            )
        return rc, tail


def _digest(metadata: Path, reference: str, log_path: Path) -> str:
    try:
        doc = json.loads(metadata.read_text(encoding="utf-8"))
        digest = doc.get("containerimage.digest") if isinstance(doc, dict) else None
    except (OSError, ValueError):
        digest = None
    if not isinstance(digest, str) or not DIGEST_RE.match(digest):
        raise EngineError(
            f"the build of {reference} ended without the pushed image's digest",
            where=f"image {reference}",
            hint=f"see {log_path}",
        )
    return digest


def default_tls_dir(environ: Mapping[str, str]) -> str | None:
    from kfws.build.choose import TLS_DIR_VARIABLE

    value = environ.get(TLS_DIR_VARIABLE)
    return os.path.expanduser(value) if value else None
