from __future__ import annotations

import pytest

from kfws.reference import ReferenceError, looks_like_reference, parse_reference


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        ("jupyter", "docker.io", "library/jupyter", None, None),
        ("kubeflow/notebook:v1", "docker.io", "kubeflow/notebook", "v1", None),
        (
            "ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-scipy:v1.10.0",
            "ghcr.io",
            "kubeflow/kubeflow/notebook-servers/jupyter-scipy",
            "v1.10.0",
            None,
        ),
        (
            "127.0.0.1:15001/ds-team/nb:kfws1-abc",
            "127.0.0.1:15001",
            "ds-team/nb",
            "kfws1-abc",
            None,
        ),
        ("localhost/x", "localhost", "x", None, None),
        ("Registry.Example.com/a/b", "registry.example.com", "a/b", None, None),
        ("index.docker.io/library/python:3", "docker.io", "library/python", "3", None),
        ("r.io/a@sha256:" + "0" * 64, "r.io", "a", None, "sha256:" + "0" * 64),
        ("r.io/a:t@sha256:" + "f" * 64, "r.io", "a", "t", "sha256:" + "f" * 64),
        ("r.io/a__b/c-d.e:T_1.x", "r.io", "a__b/c-d.e", "T_1.x", None),
    ],
)
def test_valid(
    text: str, registry: str, repository: str, tag: str | None, digest: str | None
) -> None:
    ref = parse_reference(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (
        registry,
        repository,
        tag,
        digest,
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        (" r.io/a", "spaces"),
        ("r.io/A/b", "lower case"),
        ("r.io/a:" + "t" * 129, "1-128 characters"),
        ("r.io/a:-t", "1-128 characters"),
        ("r.io/a@sha256:abc", "sha256"),
        ("r.io/a@md5", "digest"),
        ("r.io//a", "not a valid image reference"),
        ("r.io/a/", "not a valid image reference"),
        # the whole string must match: a trailing newline would start a new Dockerfile line
        ("r.io/a:1\n", "surrounding spaces"),
        ("r.io/a:1\nRUN id", "1-128 characters"),
        ("r.io/a:vé", "1-128 characters"),  # Docker's \w is ASCII
    ],
)
def test_invalid(text: str, message: str) -> None:
    with pytest.raises(ReferenceError) as e:
        parse_reference(text)
    assert message in str(e.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("jupyter-tf", False), ("a/b", True), ("a:1", True), ("a@sha256:x", True)],
)
def test_names_versus_references(text: str, expected: bool) -> None:
    assert looks_like_reference(text) is expected


def test_str_round_trips() -> None:
    text = "127.0.0.1:15001/ds-team/nb:v1"
    assert str(parse_reference(text)) == text
