"""Image references as the cluster writes them: notebooks' images and pods' imageIDs."""

from __future__ import annotations

import pytest

from kfws.usage.refs import Ref, ref, references_in, running_digest

D = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("reg:5000/team/nb:v1", Ref("reg:5000/team/nb", "v1", None)),
        ("reg:5000/team/nb", Ref("reg:5000/team/nb", "latest", None)),
        (f"reg:5000/team/nb@{D}", Ref("reg:5000/team/nb", None, D)),
        (f"reg:5000/team/nb:v1@{D}", Ref("reg:5000/team/nb", "v1", D)),
        ("jupyter/scipy", Ref("docker.io/jupyter/scipy", "latest", None)),
        ("python:3", Ref("docker.io/library/python", "3", None)),
        ("", None),
        ("Not A Reference", None),
        ("reg.example.com/x@sha256:short", None),
    ],
)
def test_ref_normalises_as_docker_does(text: str, expected: Ref | None) -> None:
    assert ref(text) == expected


@pytest.mark.parametrize(
    ("image_id", "expected"),
    [
        (f"reg:5000/team/nb@{D}", ("reg:5000/team/nb", D)),  # containerd, CRI-O
        (f"docker-pullable://reg:5000/team/nb@{D}", ("reg:5000/team/nb", D)),  # dockershim
        (f"docker-pullable://python@{D}", ("docker.io/library/python", D)),
        (D, (None, None)),  # an image ID only: not a registry digest
        (f"docker://{D}", (None, None)),
        ("", (None, None)),
        (None, (None, None)),
        ("reg.example.com/nb@sha256:abc", (None, None)),
    ],
)
def test_running_digest_reads_every_runtime_spelling(
    image_id: str | None, expected: tuple[str | None, str | None]
) -> None:
    assert running_digest(image_id) == expected


def test_references_in_backups_finds_yaml_strings_and_tokens_of_broken_texts() -> None:
    spawner = (
        "spawnerFormDefaults:\n  image:\n    value: reg.example.com/team/a:v1\n"
        "    options:\n    - reg.example.com/team/a:v1\n    - reg.example.com/team/b@" + D + "\n"
        "    # - reg.example.com/team/commented:v0\n"
        "  cpu: {value: '0.5'}\n"
    )
    broken = "options: [reg.example.com/team/c:v3, {unclosed"
    assert references_in([spawner, broken]) == {
        Ref("reg.example.com/team/a", "v1", None),
        Ref("reg.example.com/team/b", None, D),
        Ref("reg.example.com/team/c", "v3", None),
    }
    assert references_in(["cpu: '0.5'\nname: x\n"]) == frozenset()
