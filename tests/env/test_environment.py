"""The local environment itself: what every later test stands on, checked across the wire."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import docker
import requests

from tests.conftest import need_env


def test_dockerd_answers_and_has_no_bridge_network() -> None:
    client = docker.DockerClient(base_url=need_env("DOCKER_HOST"))
    assert client.ping() is True
    names = {n.name for n in client.networks.list()}
    assert "bridge" not in names  # started with --bridge=none: no docker0 on a private range


def test_open_registry_serves_the_base_image() -> None:
    registry = need_env("KFWS_TEST_REGISTRY")
    base = need_env("KFWS_TEST_BASE_IMAGE")
    repo, tag = base.removeprefix(registry + "/").rsplit(":", 1)
    r = requests.head(
        f"http://{registry}/v2/{repo}/manifests/{tag}",
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
        timeout=10,
    )
    assert r.status_code == 200
    assert r.headers["Docker-Content-Digest"].startswith("sha256:")


def _auth_from_docker_config(host: str) -> tuple[str, str]:
    config = json.loads((Path(need_env("DOCKER_CONFIG")) / "config.json").read_text())
    user, _, password = base64.b64decode(config["auths"][host]["auth"]).decode().partition(":")
    return user, password


def test_auth_registry_needs_tls_and_credentials() -> None:
    host = need_env("KFWS_TEST_REGISTRY_AUTH")
    ca = need_env("KFWS_TEST_CA_FILE")
    url = f"https://{host}/v2/"
    assert requests.get(url, verify=ca, timeout=10).status_code == 401
    assert requests.get(url, verify=ca, auth=("kfws-test", "wrong"), timeout=10).status_code == 401
    assert requests.get(url, verify=ca, auth=_auth_from_docker_config(host), timeout=10).ok
    # the certificate is signed by the environment's own CA only: default trust refuses it
    try:
        requests.get(url, timeout=10)
    except requests.exceptions.SSLError:
        pass
    else:
        raise AssertionError("the auth registry's certificate was trusted without its CA")


def test_docker_config_file_is_private() -> None:
    mode = os.stat(Path(need_env("DOCKER_CONFIG")) / "config.json").st_mode & 0o777
    assert mode == 0o600
