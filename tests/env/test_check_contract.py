"""The Kubeflow contract check against the real engine: a real JupyterLab image passes, and each
deliberately broken image gets its own named failure. Nothing is left running afterwards."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from kfws import output
from kfws.apply.verify import CheckOutcome, CheckTarget, VerifyOptions, run_checks
from kfws.check import CheckKind
from kfws.observe.check_cache import CheckCache
from kfws.observe.contract import SESSION_LABEL
from tests.conftest import need_env
from tests.env.kfws_cli import KFWS, run_kfws, unique, write_workspace

ROOT = Path(__file__).parents[2]
PREFIX = "/notebook/kubeflow/check/api/kernels"


@pytest.fixture(scope="module")
def engine() -> Iterator[docker.DockerClient]:
    need_env("DOCKER_HOST")
    client = docker.from_env(timeout=600)
    yield client
    client.close()


def build(engine: docker.DockerClient, dockerfile: str, **args: str) -> str:
    tag = f"kfws-test/{unique('contract')}:1"
    engine.images.build(
        fileobj=io.BytesIO(dockerfile.encode()),
        tag=tag,
        buildargs=args,
        network_mode="host",
        rm=True,
    )
    return tag


@pytest.fixture(scope="module")
def lab(engine: docker.DockerClient) -> Iterator[str]:
    """The demo's team JupyterLab image (pip install jupyterlab from PyPI): built once."""
    tag = f"kfws-test/{unique('jupyterlab')}:1"
    engine.images.build(
        path=str(ROOT / "images" / "jupyter-tools"),
        tag=tag,
        buildargs={"BASE": need_env("KFWS_TEST_PYTHON_BASE_IMAGE")},
        network_mode="host",
        rm=True,
    )
    yield tag
    engine.images.remove(tag, force=True)


def check(
    tmp_path: Path, ref: str, kind: CheckKind = CheckKind.JUPYTER, timeout: float = 90
) -> CheckOutcome:
    opts = VerifyOptions(
        "kubeflow", timeout, prober=need_env("KFWS_PROBE_IMAGE"), cache=CheckCache(tmp_path / "c")
    )
    (outcome,) = run_checks([CheckTarget(ref, ref, None, (kind,))], opts, output)
    return outcome


def leftovers(engine: docker.DockerClient) -> list[str]:
    flt = {"label": SESSION_LABEL}
    return [c.name for c in engine.containers.list(all=True, filters=flt)] + [
        v.name for v in engine.volumes.list(filters=flt)
    ]


def test_the_demo_jupyterlab_image_passes_and_is_remembered(
    engine: docker.DockerClient, lab: str, tmp_path: Path
) -> None:
    first = check(tmp_path, lab)
    assert (first.status, first.failures, first.error) == ("passed", (), "")
    assert check(tmp_path, lab).status == "remembered"
    assert leftovers(engine) == []


def test_jupyter_ignoring_nb_prefix_is_named(
    engine: docker.DockerClient, lab: str, tmp_path: Path
) -> None:
    image = build(
        engine,
        f"FROM {lab}\nCMD jupyter lab --ip=0.0.0.0 --port=8888 --no-browser "
        "--IdentityProvider.token='' --ServerApp.allow_origin='*'\n",
    )
    outcome = check(tmp_path, image)
    assert outcome.status == "failed"
    assert outcome.failures[0].startswith(f"404 at {PREFIX}: the server ignores NB_PREFIX")
    assert "--ServerApp.base_url" in outcome.failures[0]
    assert any("404 GET /notebook/kubeflow/check/api/kernels" in line for line in outcome.log)


def test_jupyter_refusing_other_origins_is_named(
    engine: docker.DockerClient, lab: str, tmp_path: Path
) -> None:
    image = build(
        engine,
        f"FROM {lab}\nCMD exec jupyter lab --ip=0.0.0.0 --port=8888 --no-browser "
        "--IdentityProvider.token='' --ServerApp.base_url=$NB_PREFIX\n",
    )
    outcome = check(tmp_path, image)
    assert outcome.failures[0].startswith(f"{PREFIX} answers 200 only without an Origin header")
    assert "allow_origin='*'" in outcome.failures[0]


def test_jupyter_wanting_a_token_is_named_and_the_token_not_shown(
    engine: docker.DockerClient, lab: str, tmp_path: Path
) -> None:
    image = build(
        engine,
        f"FROM {lab}\nCMD exec jupyter lab --ip=0.0.0.0 --port=8888 --no-browser "
        "--IdentityProvider.token=s3cr3t-t0ken --ServerApp.allow_origin='*' "
        "--ServerApp.base_url=$NB_PREFIX\n",
    )
    outcome = check(tmp_path, image)
    assert outcome.failures[0].startswith(f"403 at {PREFIX}: the server wants a token")
    assert "s3cr3t-t0ken" not in json.dumps(outcome.log)
    assert any("token=***" in line for line in outcome.log)


def test_a_server_on_8080_is_named(engine: docker.DockerClient, tmp_path: Path) -> None:
    image = build(
        engine,
        f"FROM {need_env('KFWS_TEST_BASE_IMAGE')}\n"
        'CMD ["nc", "-ll", "-p", "8080", "-e", "/usr/local/bin/nb-http"]\n',
    )
    outcome = check(tmp_path, image, timeout=10)
    assert outcome.failures == (
        "nothing listens on 8888 after 10 s; it listens on 8080: Kubeflow sends traffic to port "
        "8888; start the server there (e.g. `--ServerApp.port=8888`, bound to 0.0.0.0)",
    )


def test_a_home_uid_1000_cannot_write_is_named(engine: docker.DockerClient, tmp_path: Path) -> None:
    image = build(
        engine,
        f"FROM {need_env('KFWS_TEST_BASE_IMAGE')}\n"
        "USER root\nRUN chown -R 0:0 /home/jovyan && chmod 0755 /home/jovyan\nUSER 1000\n",
    )
    for kind in CheckKind:
        outcome = check(tmp_path, image, kind)
        (failure,) = outcome.failures
        assert failure.startswith("cannot write /home/jovyan as uid 1000 (")
        assert "Permission denied" in failure


def test_a_container_that_exits_at_once_is_named_with_its_log(
    engine: docker.DockerClient, tmp_path: Path
) -> None:
    image = build(
        engine,
        f"FROM {need_env('KFWS_TEST_BASE_IMAGE')}\n"
        'CMD ["sh", "-c", "echo loading config >&2; '
        'echo \\"no such file: lab.json\\" >&2; exit 3"]\n',
    )
    outcome = check(tmp_path, image)
    (failure,) = outcome.failures
    assert failure.startswith("the container exited after ")
    assert "with code 3: a notebook image must keep its server running on 8888" in failure
    assert outcome.log == ("loading config", "no such file: lab.json")


def test_an_editor_must_answer_slash(engine: docker.DockerClient, lab: str, tmp_path: Path) -> None:
    assert check(tmp_path, lab, CheckKind.WEB).failures[0].startswith("404 at /: Istio forwards")
    editor = build(
        engine,
        (ROOT / "images" / "editor-stand-in" / "Dockerfile").read_text(),
        BASE=need_env("KFWS_TEST_PYTHON_BASE_IMAGE"),
    )
    assert check(tmp_path, editor, CheckKind.WEB).status == "passed"


def test_check_cli_output_exit_code_and_an_unknown_image(tmp_path: Path, lab: str) -> None:
    write_workspace(
        tmp_path,
        {
            "apiVersion": "kfws/v1alpha1",
            "kind": "Workspace",
            "registry": {"default": f"{need_env('KFWS_TEST_REGISTRY')}/x"},
        },
    )
    env = {"XDG_STATE_HOME": str(tmp_path / "state")}
    ok = run_kfws("check", lab, cwd=tmp_path, env=env)
    assert ok.code == 0, ok.text
    assert f"✓ {lab} ({lab}), Jupyter contract: passed in " in ok.out
    assert run_kfws("check", lab, cwd=tmp_path, env=env).out.startswith(
        f"  ✓ {lab} ({lab}), Jupyter contract: passed before (same digest), not re-checked"
    )
    missing = run_kfws("check", "kfws-test/no-such-image:1", cwd=tmp_path, env=env)
    assert missing.code == 1
    assert "cannot pull kfws-test/no-such-image:1 into the engine for the check" in missing.text
    unknown = run_kfws("check", "nope", cwd=tmp_path, env=env)
    assert unknown.code == 1 and "no managed image named nope in the workspace" in unknown.err


def test_interrupting_a_check_removes_its_containers_and_volume(
    engine: docker.DockerClient, tmp_path: Path
) -> None:
    image = build(
        engine,
        f'FROM {need_env("KFWS_TEST_BASE_IMAGE")}\nCMD ["sleep", "600"]\n',
    )
    write_workspace(
        tmp_path,
        {
            "apiVersion": "kfws/v1alpha1",
            "kind": "Workspace",
            "registry": {"default": "r.example/x"},
        },
    )
    # what an earlier, killed run may have left is not this run's (nor its prober)
    stale = set(leftovers(engine))
    proc = subprocess.Popen(
        [KFWS, "check", image, "--check-timeout", "300"],
        cwd=tmp_path,
        env={**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120  # safety net only: we wait for the prober to appear
        while not any(n.endswith("-probe") for n in set(leftovers(engine)) - stale):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the check never started its prober"
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert set(leftovers(engine)) - stale == set()


class TcpEngine:
    """dockerd reached over tcp:// as a remote engine is: a plain TCP forwarder to its socket on
    127.0.0.1 (the check must not rely on the socket, a host port or the engine's network)."""

    def __init__(self, socket_path: str) -> None:
        import socket
        import threading

        self._socket, self._threading = socket, threading
        self.path = socket_path
        self.server = socket.create_server(("127.0.0.1", 0))
        self.address = f"tcp://127.0.0.1:{self.server.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            upstream = self._socket.socket(self._socket.AF_UNIX)
            upstream.connect(self.path)
            for a, b in ((conn, upstream), (upstream, conn)):
                self._threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: object, dst: object) -> None:
        import socket

        assert isinstance(src, socket.socket) and isinstance(dst, socket.socket)
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.server.close()


def test_the_check_runs_over_a_tcp_engine_address(
    engine: docker.DockerClient, tmp_path: Path
) -> None:
    host = need_env("DOCKER_HOST")
    assert host.startswith("unix://")
    remote = TcpEngine(host.removeprefix("unix://"))
    try:
        image = build(engine, f"FROM {need_env('KFWS_TEST_BASE_IMAGE')}\nENV REMOTE=1\n")
        write_workspace(
            tmp_path,
            {
                "apiVersion": "kfws/v1alpha1",
                "kind": "Workspace",
                "registry": {"default": "r.example/x"},
            },
        )
        env = {"DOCKER_HOST": remote.address, "XDG_STATE_HOME": str(tmp_path / "state")}
        result = run_kfws("check", image, "--kind", "web", cwd=tmp_path, env=env)
        assert result.code == 0, result.text
        assert "VS Code / RStudio contract: passed in " in result.out
    finally:
        remote.close()
    assert leftovers(engine) == []


def test_an_entrypoint_that_does_not_exist_is_named(
    engine: docker.DockerClient, tmp_path: Path
) -> None:
    image = build(engine, f'FROM {need_env("KFWS_TEST_BASE_IMAGE")}\nCMD ["/opt/no-such-server"]\n')
    outcome = check(tmp_path, image)
    assert outcome.status == "failed"
    assert "the container could not start: " in outcome.error
    assert "fix the image's ENTRYPOINT/CMD" in outcome.error
    assert leftovers(engine) == []
