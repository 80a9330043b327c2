"""Fixtures the cluster tests share: the admin client, a pristine seeded target, and running
kfws as the least-privilege ServiceAccount (what every write test must do)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kubernetes import client

from tests.conftest import need_env
from tests.env import k8s_helpers as k8s


@pytest.fixture(scope="module")
def admin() -> client.ApiClient:
    return k8s.admin_client()


@pytest.fixture
def pristine() -> Iterator[None]:
    """The target as seeded before the test, and again after it (tests here change it)."""
    k8s.reseed()
    yield
    k8s.reseed()


@pytest.fixture
def restricted_kubeconfig(monkeypatch: pytest.MonkeyPatch) -> None:
    """kfws reads KUBECONFIG at call time: point it at the writer Role's ServiceAccount."""
    monkeypatch.setenv("KUBECONFIG", need_env("KFWS_TEST_KUBECONFIG_RESTRICTED"))


@pytest.fixture(params=["buildkit", "docker"])
def builder(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test once per builder: BuildKit (the environment's buildkitd, which kfws picks
    when BUILDKIT_HOST is set and the workspace says nothing) and the Docker Engine's."""
    if request.param == "docker":
        docker_builder(monkeypatch)
    else:
        need_env("BUILDKIT_HOST")
    return str(request.param)


def docker_builder(monkeypatch: pytest.MonkeyPatch) -> None:
    """No BuildKit daemon named: kfws builds with the Docker Engine."""
    monkeypatch.delenv("BUILDKIT_HOST", raising=False)
    monkeypatch.delenv("KFWS_BUILDKIT_HOSTS", raising=False)
