"""Image sizes from the real registries (open HTTP, and TLS + htpasswd): two images that differ
by ~2 MB of incompressible bytes, pushed with the real engine. The oracle is independent of the
code under test: each blob's Content-Length as the registry serves it."""

from __future__ import annotations

import io
import os
import tarfile
import uuid
from typing import Any

import docker
import pytest
import requests

from kfws.observe.registry import DOCKER_MANIFEST, RegistryClient
from tests.conftest import need_env
from tests.env.test_registry import Env, _docker_push, put_index, registry_env

REPO = f"kfws-size-test/r{uuid.uuid4().hex[:10]}"
EXTRA = {"small": 200_000, "big": 2_200_000}  # random bytes: gzip can't shrink them


def build_sized(client: Any, base: str, extra: int) -> Any:
    dockerfile = f"FROM {base}\nCOPY blob /blob\n".encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in (("Dockerfile", dockerfile), ("blob", os.urandom(extra))):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    buf.seek(0)
    image, _ = client.images.build(fileobj=buf, custom_context=True, network_mode="host", rm=True)
    return image


@pytest.fixture(scope="module")
def env() -> Env:
    return registry_env()


@pytest.fixture(scope="module")
def sized(env: Env) -> None:
    client = docker.DockerClient(base_url=need_env("DOCKER_HOST"))
    base = need_env("KFWS_TEST_BASE_IMAGE")
    for tag, extra in EXTRA.items():
        image = build_sized(client, base, extra)
        for host in (env.open, env.auth):
            image.tag(f"{host}/{REPO}", tag)
            _docker_push(client, f"{host}/{REPO}", tag)


def blob_sizes(env: Env, host: str, tag: str, repo: str = REPO) -> int:
    """The oracle: the manifest's blobs, each sized by the registry's own Content-Length."""
    scheme, kw = ("http", {}) if host == env.open else ("https", {"verify": str(env.ca_file)})
    auth = env.auth_credentials() if host == env.auth else None
    get = requests.get(
        f"{scheme}://{host}/v2/{repo}/manifests/{tag}",
        headers={"Accept": DOCKER_MANIFEST},
        auth=auth,
        timeout=10,
        **kw,
    )
    doc = get.json()
    total = 0
    for desc in (doc["config"], *doc["layers"]):
        head = requests.head(
            f"{scheme}://{host}/v2/{repo}/blobs/{desc['digest']}",
            auth=auth,
            timeout=10,
            allow_redirects=True,
            **kw,
        )
        total += int(head.headers["Content-Length"])
    return total


@pytest.mark.usefixtures("sized")
@pytest.mark.parametrize("which", ["open", "auth"])
def test_size_is_the_sum_of_the_blobs_a_pull_downloads(env: Env, which: str) -> None:
    host = env.open if which == "open" else env.auth
    client = RegistryClient(env.options(), docker_config_dir=env.docker_config)
    sizes = client.sizes_each([(f"{host}/{REPO}", t) for t in EXTRA], parallelism=4)
    small, big = sizes[(f"{host}/{REPO}", "small")], sizes[(f"{host}/{REPO}", "big")]
    assert small == blob_sizes(env, host, "small")
    assert big == blob_sizes(env, host, "big")
    assert small is not None and big is not None
    # the images differ by the random bytes (gzip adds a little, never removes)
    assert EXTRA["big"] - EXTRA["small"] <= big - small < (EXTRA["big"] - EXTRA["small"]) * 1.01


@pytest.mark.usefixtures("sized")
def test_size_through_an_index_is_the_platform_image(env: Env) -> None:
    """A real OCI index in the open registry: small as amd64, big as arm64."""
    put_index(env, REPO, {"small": "amd64", "big": "arm64"})
    client = RegistryClient(env.options())
    repo = f"{env.open}/{REPO}"
    assert client.size(repo, "multi") == blob_sizes(env, env.open, "small")
    assert client.size(repo, "multi", platform="linux/arm64") == blob_sizes(env, env.open, "big")
    assert client.size(repo, "multi", platform="linux/s390x") is None  # unknown, not an error


def test_a_missing_image_has_no_size(env: Env) -> None:
    client = RegistryClient(env.options())
    assert client.size(f"{env.open}/{REPO}", "no-such-tag") is None
