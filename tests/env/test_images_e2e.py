"""The images half of plan/apply, end to end from the CLI against dockerd and the registries."""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import stat
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import need_env
from tests.env.conftest import docker_builder
from tests.env.kfws_cli import run_kfws, unique, write_workspace

MANIFEST_ACCEPT = "application/vnd.docker.distribution.manifest.v2+json"


def registry_digest(registry: str, repo: str, tag: str, **kw: Any) -> str | None:
    scheme = "https" if "verify" in kw else "http"
    r = requests.head(
        f"{scheme}://{registry}/v2/{repo}/manifests/{tag}",
        headers={"Accept": MANIFEST_ACCEPT},
        timeout=10,
        **kw,
    )
    return r.headers.get("Docker-Content-Digest") if r.status_code == 200 else None


def workspace(tmp: Path, registry: str, prefix: str, **extra: Any) -> dict[str, Any]:
    base = need_env("KFWS_TEST_BASE_IMAGE")
    ctx = tmp / "images" / "tool"
    ctx.mkdir(parents=True, exist_ok=True)
    (ctx / "Dockerfile").write_text(
        f"FROM {base}\nCOPY hello.txt /home/jovyan/hello.txt\nRUN test -s /home/jovyan/hello.txt\n"
    )
    (ctx / "hello.txt").write_text("hello\n")
    doc: dict[str, Any] = {
        "apiVersion": "kfws/v1alpha1",
        "kind": "Workspace",
        "registry": {
            "default": f"{registry}/{prefix}",
            # the base images live in the open registry; the target may be another one
            "registries": {
                need_env("KFWS_TEST_REGISTRY"): {"insecure": True},
                registry: {"insecure": True},
            },
        },
        # the local dockerd has no bridge network: builds must ask for the host's
        "build": {"network": "host"},
        "images": [
            {
                # sudo needs a base with sudo (or apt to install it): the Debian one
                "name": "sudo-nb",
                "from": need_env("KFWS_TEST_PYTHON_BASE_IMAGE"),
                "sudo": "passwordless",
                "env": {"TEAM": "ds"},
            },
            {"name": "tool", "build": {"context": "images/tool"}},
            {"name": "pinned", "tag": "v1", "from": base, "folders": ["/home/jovyan/data"]},
        ],
    }
    doc.update(extra)
    return doc


def plan_json(tmp: Path) -> dict[str, Any]:
    result = run_kfws("plan", "--format", "json", cwd=tmp)
    assert result.code == 0, result.text
    data: dict[str, Any] = json.loads(result.out)
    return data


def kinds(plan: dict[str, Any]) -> dict[str, str]:
    return {c["details"]["name"]: c["kind"] for c in plan["changes"]}


def test_plan_apply_then_nothing_to_do_then_exactly_the_touched_image(
    tmp_path: Path, builder: str
) -> None:
    registry = need_env("KFWS_TEST_REGISTRY")
    prefix = unique("e2e")
    write_workspace(tmp_path, workspace(tmp_path, registry, prefix))

    first = run_kfws("plan", "--detailed-exitcode", cwd=tmp_path)
    assert first.code == 2, first.text
    assert "Plan: 3 to build." in first.out
    plan = plan_json(tmp_path)
    assert kinds(plan) == {"sudo-nb": "build", "tool": "build", "pinned": "build"}

    applied = run_kfws("apply", "--auto-approve", cwd=tmp_path)
    assert applied.code == 0, applied.text
    assert "3 built, 3 pushed" in applied.out
    for change in plan["changes"]:
        repo_tag = change["target"].removeprefix(registry + "/")
        repo, tag = repo_tag.rsplit(":", 1)
        assert registry_digest(registry, repo, tag) is not None, change["target"]

    again = run_kfws("plan", "--detailed-exitcode", cwd=tmp_path)
    assert again.code == 0, again.text
    assert "No changes" in again.out

    # one byte in one context: only that image gets a new content tag to build
    (tmp_path / "images" / "tool" / "hello.txt").write_text("hello!\n")
    assert kinds(plan_json(tmp_path)) == {"tool": "build"}

    # an explicit tag whose inputs changed is a rebuild of the same tag
    doc = workspace(tmp_path, registry, prefix)
    doc["images"][2]["env"] = {"NEW": "1"}
    write_workspace(tmp_path, doc)
    (tmp_path / "images" / "tool" / "hello.txt").write_text("hello\n")
    plan = plan_json(tmp_path)
    assert kinds(plan) == {"pinned": "rebuild"}
    assert "built from inputs" in plan["changes"][0]["reason"]


def test_image_the_engine_holds_is_pushed_not_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docker_builder(monkeypatch)  # only the Docker Engine keeps what it built
    registry = need_env("KFWS_TEST_REGISTRY")
    doc = workspace(tmp_path, registry, unique("push"))
    doc["images"] = doc["images"][:1]
    write_workspace(tmp_path, doc)
    assert run_kfws("apply", "--auto-approve", cwd=tmp_path).code == 0
    # the plan's fingerprint names every image's reference, changed or not
    keys = [
        f["key"] for f in plan_json(tmp_path)["fingerprint"] if f["key"].startswith("registry:")
    ]
    repo, tag = keys[0].removeprefix(f"registry:{registry}/").rsplit(":", 1)
    digest = registry_digest(registry, repo, tag)
    assert digest
    # delete it from the registry (its delete API is on); the engine still holds the image
    assert requests.delete(f"http://{registry}/v2/{repo}/manifests/{digest}", timeout=10).ok

    assert kinds(plan_json(tmp_path)) == {"sudo-nb": "push"}
    applied = run_kfws("apply", "--auto-approve", cwd=tmp_path)
    assert applied.code == 0, applied.text
    assert "0 built, 1 pushed" in applied.out
    assert registry_digest(registry, repo, tag) == digest


def test_push_to_the_tls_and_auth_registry(tmp_path: Path, builder: str) -> None:
    registry = need_env("KFWS_TEST_REGISTRY_AUTH")
    ca = need_env("KFWS_TEST_CA_FILE")
    prefix = unique("auth")
    doc = workspace(tmp_path, registry, prefix)
    doc["images"] = doc["images"][:1]
    doc["registry"]["registries"][registry] = {"caFile": ca}
    write_workspace(tmp_path, doc)
    logs = tmp_path / "logs"
    applied = run_kfws("apply", "--auto-approve", "--log-dir", str(logs), cwd=tmp_path)
    assert applied.code == 0, applied.text
    assert run_kfws("plan", "--detailed-exitcode", cwd=tmp_path).code == 0
    # the registry's password (env-up keeps it next to the htpasswd file) is in no output or log
    password = Path(need_env("KFWS_TEST_REGISTRY_AUTH_HTPASSWD")).with_name("password")
    secret = password.read_text().strip()
    token = base64.b64encode(f"kfws-test:{secret}".encode()).decode()  # the config's form
    assert secret and secret not in applied.text and token not in applied.text
    assert all(secret not in p.read_text() and token not in p.read_text() for p in logs.glob("*"))


def test_wrong_credentials_stop_the_plan_naming_the_registry(tmp_path: Path) -> None:
    registry = need_env("KFWS_TEST_REGISTRY_AUTH")
    ca = need_env("KFWS_TEST_CA_FILE")
    bad_config = tmp_path / "docker-config"
    bad_config.mkdir()
    (bad_config / "config.json").write_text(
        json.dumps(
            {"auths": {registry: {"auth": "a2Z3cy10ZXN0Om4wdC10aGUtcGE1NQ=="}}}
        )  # kfws-test:n0t-the-pa55
    )
    doc = workspace(tmp_path, registry, unique("badcreds"))
    doc["registry"]["registries"][registry] = {"caFile": ca}
    write_workspace(tmp_path, doc)
    result = run_kfws("plan", cwd=tmp_path, env={"DOCKER_CONFIG": str(bad_config)})
    assert result.code == 1
    assert registry in result.err
    assert "n0t-the-pa55" not in result.text  # the password is never echoed


def test_a_stopped_registry_stops_the_plan_and_is_never_taken_as_missing(tmp_path: Path) -> None:
    registry_bin = shutil.which("docker-registry")
    assert registry_bin
    port = _free_port()
    config = tmp_path / "registry.yml"
    config.write_text(
        f"version: 0.1\nstorage: {{filesystem: {{rootdirectory: {tmp_path}/data}}}}\n"
        f"http: {{addr: 127.0.0.1:{port}}}\n"
    )
    proc = subprocess.Popen([registry_bin, "serve", str(config)], stderr=subprocess.DEVNULL)
    try:
        _wait_http(f"http://127.0.0.1:{port}/v2/")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    registry = f"127.0.0.1:{port}"
    doc = workspace(tmp_path, registry, "down")
    doc["images"] = [doc["images"][0]]
    write_workspace(tmp_path, doc)
    result = run_kfws("plan", cwd=tmp_path)
    assert result.code == 1, result.text
    assert registry in result.err
    assert "to build" not in result.out


def test_a_failing_run_step_fails_the_apply_with_the_log_and_touches_nothing(
    tmp_path: Path, builder: str
) -> None:
    registry = need_env("KFWS_TEST_REGISTRY")
    doc = workspace(tmp_path, registry, unique("fail"))
    (tmp_path / "images" / "tool" / "Dockerfile").write_text(
        f"FROM {need_env('KFWS_TEST_BASE_IMAGE')}\nRUN echo about to fail && exit 3\n"
    )
    doc["images"] = [doc["images"][1]]
    write_workspace(tmp_path, doc)
    result = run_kfws("apply", "--auto-approve", "--log-dir", str(tmp_path / "logs"), cwd=tmp_path)
    assert result.code == 1
    assert "failed" in result.err and "the cluster was not touched" in result.err
    logs = list((tmp_path / "logs").glob("tool-*.log"))
    assert logs and "about to fail" in logs[0].read_text()
    assert str(tmp_path / "logs") in result.err
    # the build's own last lines are on the terminal, not only in the file
    tail = result.err.split("last lines of the build log:", 1)[1]
    said = {"docker": "returned a non-zero code: 3", "buildkit": "exit code: 3"}[builder]
    assert "about to fail" in tail and said in tail


def test_builds_use_the_engine_default_network_unless_the_workspace_asks_for_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The RUN step fetches from the registry on 127.0.0.1: only the host's network reaches it
    (the engine's default network gives the build its own loopback). A failure shows its own
    last lines on the terminal, the builder's colour codes stripped. (The Docker Engine's:
    the environment's buildkitd runs its steps on the host network by default.)"""
    docker_builder(monkeypatch)
    registry = need_env("KFWS_TEST_REGISTRY")
    doc = workspace(tmp_path, registry, unique("net"))
    (tmp_path / "images" / "tool" / "Dockerfile").write_text(
        f"FROM {need_env('KFWS_TEST_BASE_IMAGE')}\n"
        f"RUN wget -q -O /dev/null http://{registry}/v2/ && echo {unique('reached')}\n"
    )
    doc["images"] = [doc["images"][1]]
    logs = ("--log-dir", str(tmp_path / "logs"))

    del doc["build"]  # nothing asked: the engine's default network
    write_workspace(tmp_path, doc)
    default = run_kfws("apply", "--auto-approve", *logs, cwd=tmp_path)
    assert default.code == 1, default.text
    tail = default.err.split("last lines of the build log:", 1)[1]
    assert "Connection refused" in tail
    assert "\x1b" not in default.err and "[91m" not in default.err

    # host at the top level, but this image asks for the engine's default: its own key wins
    doc["build"] = {"network": "host"}
    doc["images"][0]["build"]["network"] = "default"
    write_workspace(tmp_path, doc)
    assert run_kfws("apply", "--auto-approve", *logs, cwd=tmp_path).code == 1

    del doc["images"][0]["build"]["network"]
    write_workspace(tmp_path, doc)
    host = run_kfws("apply", "--auto-approve", *logs, cwd=tmp_path)
    assert host.code == 0, host.text
    assert "1 built, 1 pushed" in host.out


def test_build_logs_and_kfws_state_are_private(tmp_path: Path, builder: str) -> None:
    registry = need_env("KFWS_TEST_REGISTRY")
    doc = workspace(tmp_path, registry, unique("private"))
    doc["images"] = doc["images"][:1]
    write_workspace(tmp_path, doc)
    state = tmp_path / "state"
    (state / "kfws" / "logs").mkdir(parents=True)
    for folder in (state, state / "kfws", state / "kfws" / "logs"):
        folder.chmod(0o755)  # as an older kfws, or a umask of 022, left them
    applied = run_kfws("apply", "--auto-approve", cwd=tmp_path, env={"XDG_STATE_HOME": str(state)})
    assert applied.code == 0, applied.text
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)  # noqa: E731
    assert mode(state) == 0o755  # not kfws's folder: left alone
    assert mode(state / "kfws") == 0o700 and mode(state / "kfws" / "logs") == 0o700
    logs = list((state / "kfws" / "logs").glob("sudo-nb-*.log"))
    assert logs and all(mode(p) == 0o600 for p in logs)


def test_apply_without_a_terminal_or_auto_approve_refuses(tmp_path: Path) -> None:
    registry = need_env("KFWS_TEST_REGISTRY")
    doc = workspace(tmp_path, registry, unique("noterm"))
    doc["images"] = doc["images"][:1]
    write_workspace(tmp_path, doc)
    result = run_kfws("apply", cwd=tmp_path)
    assert result.code == 1
    assert "--auto-approve" in result.err
    assert "to build" in result.out  # the plan is still shown


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_http(url: str) -> None:
    for _ in range(80):
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise AssertionError(f"{url} never answered")


def test_a_missing_base_image_is_named_and_nothing_is_planned(tmp_path: Path) -> None:
    registry = need_env("KFWS_TEST_REGISTRY")
    doc = workspace(tmp_path, registry, unique("nobase"))
    doc["images"] = [{"name": "orphan", "from": f"{registry}/kfws-base/nothing-here:1"}]
    write_workspace(tmp_path, doc)
    result = run_kfws("plan", cwd=tmp_path)
    assert result.code == 1
    assert f"the base image {registry}/kfws-base/nothing-here:1 does not exist" in result.err
    assert result.out == ""


def test_ctrl_c_during_a_build_exits_130_and_says_the_cluster_was_not_touched(
    tmp_path: Path, builder: str
) -> None:
    registry = need_env("KFWS_TEST_REGISTRY")
    doc = workspace(tmp_path, registry, unique("sigint"))
    marker = unique("kfws-sigint-build-running")
    (tmp_path / "images" / "tool" / "Dockerfile").write_text(
        f"FROM {need_env('KFWS_TEST_BASE_IMAGE')}\nRUN echo {marker} && sleep 600\n"
    )
    doc["images"] = [doc["images"][1]]
    write_workspace(tmp_path, doc)
    from tests.env.kfws_cli import KFWS

    proc = subprocess.Popen(
        [KFWS, "apply", "--auto-approve", "--log-dir", str(tmp_path / "logs")],
        cwd=tmp_path,
        env={**os.environ, "NO_COLOR": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        # the event: the RUN step's own output is in the (line-buffered) build log, so the
        # build is running inside the engine and kfws is waiting on it
        deadline = time.monotonic() + 300  # a safety net for a loaded machine, not a measure
        while not any(marker in p.read_text() for p in (tmp_path / "logs").glob("*.log")):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the build never started"
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        # it must not wait for the 600 s build: a generous safety net, far below it
        _, err = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        _stop_build_containers(marker)
    assert proc.returncode == 130, err
    if builder == "buildkit":  # kfws stopped buildctl, which cancelled the build in buildkitd
        assert _gone(marker), "the interrupted BuildKit build's RUN step is still running"
    assert "the cluster was not touched" in err
    assert "Traceback" not in err


def _gone(marker: str) -> bool:
    """Wait until no process on this machine has `marker` in its command line."""
    deadline = time.monotonic() + 120  # a safety net for a loaded machine, not a measure
    while time.monotonic() < deadline:
        alive = False
        for proc in Path("/proc").iterdir():
            try:
                alive = alive or marker.encode() in (proc / "cmdline").read_bytes()
            except OSError:  # not a process, or it just ended
                continue
        if not alive:
            return True
        time.sleep(0.2)
    return False


def _stop_build_containers(marker: str) -> None:
    """The engine goes on with an interrupted build on its own: stop ours (it sleeps 600 s)."""
    import docker

    client = docker.DockerClient(base_url=need_env("DOCKER_HOST"))
    for container in client.containers.list():
        if marker in " ".join(container.attrs.get("Config", {}).get("Cmd") or []):
            try:
                container.kill()
            except docker.errors.APIError as error:
                # it may have ended between the list and the kill (the engine stops an
                # interrupted build's step on its own too): 404 gone, 409 not running
                if error.status_code not in (404, 409):
                    raise
