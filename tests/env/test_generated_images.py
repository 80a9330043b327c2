"""Generated images do what workspace.yaml says, checked in the images the real dockerd builds
(through `kfws apply`) and run (Docker SDK, network_mode none, as the notebook user)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from tests.conftest import need_env
from tests.env.kfws_cli import run_kfws, unique, write_workspace


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    c = docker.from_env(timeout=600)
    yield c
    c.close()


def images_only(prefix: str, *images: dict[str, Any]) -> dict[str, Any]:
    registry = need_env("KFWS_TEST_REGISTRY")
    return {
        "apiVersion": "kfws/v1alpha1",
        "kind": "Workspace",
        "registry": {
            "default": f"{registry}/{prefix}",
            "registries": {registry: {"insecure": True}},
        },
        "images": list(images),
    }


def applied_reference(folder: Path, name: str) -> str:
    planned = run_kfws("plan", "--format", "json", cwd=folder)
    plan = json.loads(planned.out)
    return next(str(c["target"]) for c in plan["changes"] if c["details"].get("name") == name)


def apply(folder: Path, doc: dict[str, Any], name: str) -> str:
    write_workspace(folder, doc)
    reference = applied_reference(folder, name)
    result = run_kfws("apply", "--auto-approve", cwd=folder)
    assert result.code == 0, result.text
    # BuildKit pushes without loading into the Docker Engine: take it from the registry
    docker.from_env().images.pull(reference)
    return reference


def run_as_user(client: Any, reference: str, *command: str) -> tuple[int, str]:
    container = client.containers.run(
        reference, list(command), detach=True, network_mode="none", user="jovyan"
    )
    try:
        status = container.wait(timeout=120)
        # stdout only: with no network, sudo warns on stderr that it can't resolve the host
        out = container.logs(stdout=True, stderr=False).decode()
        return int(status["StatusCode"]), out + container.logs(stdout=False, stderr=True).decode()
    finally:
        container.remove(force=True)


ENV = {
    "DOLLAR": "$HOME ${PATH} $(id) `id`",
    "UNICODE": "café データ ✓",
    "QUOTES": "a \"b\" 'c'",
    "BACKSLASH": "C:\\temp\\ end\\",
    "SPACES": "  two  spaces  ",
    "EMPTY": "",
    "EQUALS": "a=b=c",
}


def test_env_values_reach_the_image_exactly_as_written(
    tmp_path: Path, client: Any, builder: str
) -> None:
    base = need_env("KFWS_TEST_BASE_IMAGE")
    folders = ["/data/it's here", "/opt/$(id) `x`"]
    image = {"name": "nb", "from": base, "env": ENV, "folders": folders}
    reference = apply(tmp_path, images_only(unique("env"), image), "nb")
    env = client.images.get(reference).attrs["Config"]["Env"]
    for key, value in ENV.items():
        assert f"{key}={value}" in env, (key, env)
    # folders with quotes and shell syntax are created as written, and the user owns them
    status, out = run_as_user(
        client, reference, "sh", "-c", 'touch "$1/f" "$2/f" && ls /opt', "-", *folders
    )
    assert status == 0 and "$(id) `x`" in out.splitlines(), out


def test_build_env_reaches_the_installs_but_not_the_image(
    tmp_path: Path, client: Any, builder: str
) -> None:
    # pip is already in the base: `-r` and `-c` are satisfied without any index, and the
    # unreachable index proves nothing was fetched; the ARGs show in the RUN step's history
    (tmp_path / "reqs").mkdir(parents=True)
    (tmp_path / "reqs" / "requirements.txt").write_text("pip\n")
    (tmp_path / "constraints.txt").write_text("pip>=1\n")
    image = {
        "name": "nb",
        "from": need_env("KFWS_TEST_PYTHON_BASE_IMAGE"),
        "pip": [
            "--index-url http://127.0.0.1:9/simple",
            "--trusted-host=127.0.0.1:9",
            "-r reqs/requirements.txt",
            "-c constraints.txt",
        ],
        "buildEnv": {"KFWS_PROBE": "probe $HOME café", "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
        "env": {"KEPT": "yes"},
    }
    reference = apply(tmp_path, images_only(unique("benv"), image), "nb")
    built = client.images.get(reference)
    env = built.attrs["Config"]["Env"]
    assert "KEPT=yes" in env
    assert not [e for e in env if e.startswith(("KFWS_PROBE=", "PIP_DISABLE_PIP_VERSION_CHECK="))]
    pip_steps = [h["CreatedBy"] for h in built.history() if "pip install" in h["CreatedBy"]]
    assert pip_steps and "KFWS_PROBE=probe $HOME café" in pip_steps[0], pip_steps
    status, out = run_as_user(client, reference, "ls", "-a", "/tmp")
    assert status == 0 and "kfws-pip" not in out  # the copied files were removed


def test_passwordless_sudo_works_for_the_notebook_user(tmp_path: Path, client: Any) -> None:
    image = {"name": "nb", "from": need_env("KFWS_TEST_PYTHON_BASE_IMAGE"), "sudo": "passwordless"}
    reference = apply(tmp_path, images_only(unique("sudo"), image), "nb")
    status, out = run_as_user(client, reference, "sudo", "-n", "id", "-u")
    assert status == 0 and out.splitlines()[0] == "0", out
    assert run_as_user(client, reference, "sudo", "-n", "true")[0] == 0


# A Debian base with apt but without sudo, whose apt can still find sudo: the machine's builds
# have no route to a Debian mirror, so the package is re-made from the installed files into a
# local (file:) apt repository, then sudo is purged. What kfws generates then has to install it.
NO_SUDO_BASE = """\
FROM {base}
USER root
RUN set -e; mkdir -p /opt/repo/pkg/DEBIAN; \\
    dpkg -L sudo | while read -r f; do \\
      if [ -L "$f" ] || [ -f "$f" ]; then \\
        mkdir -p "/opt/repo/pkg$(dirname "$f")"; cp -a "$f" "/opt/repo/pkg$f"; fi; done; \\
    dpkg-query -s sudo | grep -E '^(Package|Version|Architecture|Maintainer|Depends):' \\
      > /opt/repo/pkg/DEBIAN/control; \\
    echo 'Description: sudo, re-made for the kfws test' >> /opt/repo/pkg/DEBIAN/control; \\
    dpkg-deb --build /opt/repo/pkg /opt/repo/sudo.deb >/dev/null; rm -rf /opt/repo/pkg; \\
    cd /opt/repo; dpkg-deb -f sudo.deb > Packages; \\
    printf 'Filename: ./sudo.deb\\nSize: %s\\nSHA256: %s\\n\\n' \\
      "$(stat -c %s sudo.deb)" "$(sha256sum sudo.deb | cut -d' ' -f1)" >> Packages; \\
    echo 'deb [trusted=yes] file:/opt/repo ./' > /etc/apt/sources.list.d/local.list; \\
    SUDO_FORCE_REMOVE=yes apt-get purge -y sudo >/dev/null; ! command -v sudo
USER 1000
"""


def test_sudo_is_installed_on_a_debian_base_without_it(tmp_path: Path, client: Any) -> None:
    registry = need_env("KFWS_TEST_REGISTRY")
    no_sudo = f"{registry}/{unique('nosudo')}/python:bookworm"
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "Dockerfile").write_text(
        NO_SUDO_BASE.format(base=need_env("KFWS_TEST_PYTHON_BASE_IMAGE"))
    )
    client.images.build(path=str(tmp_path / "base"), tag=no_sudo, network_mode="host", rm=True)
    for line in client.images.push(no_sudo, stream=True, decode=True):
        assert "error" not in line, line
    assert run_as_user(client, no_sudo, "sh", "-c", "command -v sudo")[0] != 0
    image = {"name": "nb", "from": no_sudo, "sudo": "passwordless"}
    reference = apply(tmp_path / "ws", images_only(unique("sudo"), image), "nb")
    status, out = run_as_user(client, reference, "sudo", "-n", "id", "-u")
    assert status == 0 and out.splitlines()[0] == "0", out


def test_sudo_on_a_base_without_sudo_or_apt_fails_the_build_saying_why(tmp_path: Path) -> None:
    image = {"name": "nb", "from": need_env("KFWS_TEST_BASE_IMAGE"), "sudo": "passwordless"}
    write_workspace(tmp_path, images_only(unique("nosudo"), image))
    result = run_kfws("apply", "--auto-approve", cwd=tmp_path)
    assert result.code != 0
    assert "has neither sudo nor apt-get" in result.text, result.text
