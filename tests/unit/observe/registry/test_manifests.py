"""registry.manifests: repository names and platforms in an index."""

from __future__ import annotations

import pytest

from kfws.errors import RegistryError
from kfws.observe.registry.manifests import (
    MAX_BLOB_SIZE,
    MAX_LAYERS,
    compressed_size,
    pick_platform,
    split_repository,
)


@pytest.mark.parametrize(
    ("repository", "expected"),
    [
        ("127.0.0.1:15001/team/jupyter", ("127.0.0.1:15001", "team/jupyter")),
        ("registry.example.com/a/b/c", ("registry.example.com", "a/b/c")),
        ("localhost/x", ("localhost", "x")),
        ("busybox", ("docker.io", "library/busybox")),
        ("jupyter/base-notebook", ("docker.io", "jupyter/base-notebook")),
        ("docker.io/busybox", ("docker.io", "library/busybox")),
        ("index.docker.io/kubeflow/nb", ("docker.io", "kubeflow/nb")),
        ("[::1]:5000/x", ("[::1]:5000", "x")),
    ],
)
def test_split_repository(repository: str, expected: tuple[str, str]) -> None:
    assert split_repository(repository) == expected


@pytest.mark.parametrize("bad", ["host.io/", "host.io/Upper", "host.io/a//b", ""])
def test_split_repository_refuses_invalid_names(bad: str) -> None:
    with pytest.raises(RegistryError):
        split_repository(bad)


INDEX = {
    "manifests": [
        {"digest": "sha256:att", "platform": {"os": "unknown", "architecture": "unknown"}},
        {"digest": "sha256:amd", "platform": {"os": "linux", "architecture": "amd64"}},
        {
            "digest": "sha256:v7",
            "platform": {"os": "linux", "architecture": "arm", "variant": "v7"},
        },
        {
            "digest": "sha256:v8",
            "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"},
        },
    ]
}


@pytest.mark.parametrize(
    ("platform", "digest"),
    [
        ("linux/amd64", "sha256:amd"),
        ("linux/arm/v7", "sha256:v7"),
        ("linux/arm64", "sha256:v8"),  # no variant asked: any variant of that os/arch
        ("linux/arm64/v8", "sha256:v8"),
        ("linux/arm/v6", None),
        ("windows/amd64", None),
    ],
)
def test_pick_platform(platform: str, digest: str | None) -> None:
    found = pick_platform(INDEX, platform)
    assert (found["digest"] if found else None) == digest


@pytest.mark.parametrize("bad", ["linux", "linux/", "a/b/c/d"])
def test_pick_platform_refuses_malformed_platforms(bad: str) -> None:
    with pytest.raises(RegistryError, match="not a platform"):
        pick_platform(INDEX, bad)


def _manifest(config: object = 100, *layers: object) -> dict[str, object]:
    return {"config": {"size": config}, "layers": [{"size": s} for s in layers]}


@pytest.mark.parametrize(
    ("manifest", "size"),
    [
        (_manifest(100, 1_000, 20), 1_120),
        (_manifest(0), 0),
        # hostile answers: size unknown, never a wrong number
        (_manifest(-1, 10), None),
        (_manifest(100, True), None),
        (_manifest(100, 1.5), None),
        (_manifest(100, "10"), None),
        (_manifest(100, MAX_BLOB_SIZE + 1), None),
        (_manifest(100, *([1] * (MAX_LAYERS + 1))), None),
        ({"config": {"size": 1}}, None),
        ({"config": [], "layers": []}, None),
        ({"config": {"size": 1}, "layers": ["x"]}, None),
    ],
)
def test_compressed_size(manifest: dict[str, object], size: int | None) -> None:
    assert compressed_size(manifest) == size
