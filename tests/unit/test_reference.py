from __future__ import annotations

import dataclasses

import pytest

from kfws.reference import ReferenceError, looks_like_reference, parse_reference, repository


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
    [
        ("jupyter-tf", False),
        ("XX", False),
        ("a/b", True),
        ("a:1", True),
        ("a@sha256:x", True),
    ],
)
def test_names_versus_references(text: str, expected: bool) -> None:
    assert looks_like_reference(text) is expected


def test_str_round_trips() -> None:
    text = "127.0.0.1:15001/ds-team/nb:v1"
    assert str(parse_reference(text)) == text


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        # a first component with '.', ':' or '[' or "localhost" is a host; else a Hub namespace
        ("[::1]:5000/a", "[::1]:5000", "a", None, None),
        ("[FE80::1]/a", "[FE80::1]", "a", None, None),  # IPv6 hosts keep their case
        ("[abcd]/a", "[abcd]", "a", None, None),  # bracketed: a host, even with no ':'
        ("host:5000/a", "host:5000", "a", None, None),
        ("team/a", "docker.io", "team/a", None, None),
        ("registry-1.docker.io/x/y", "docker.io", "x/y", None, None),
        ("docker.io/python", "docker.io", "library/python", None, None),
        ("r.io/python", "r.io", "python", None, None),  # only Docker Hub adds library/
        ("r.io/a@sha512:" + "A" * 128, "r.io", "a", None, "sha512:" + "A" * 128),
    ],
)
def test_hosts_and_hub_names(
    text: str, registry: str, repository: str, tag: str | None, digest: str | None
) -> None:
    ref = parse_reference(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (
        registry,
        repository,
        tag,
        digest,
    )


TAG_RULE = (
    "must be 1-128 characters of letters, digits, '_', '.' and '-', not starting with '.' or '-'"
)
GRAMMAR = "(expected [registry[:port]/]path[:tag][@sha256:digest])"
HEX64 = "a sha256 digest is 'sha256:' and 64 lower-case hex digits"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("r.io/a@sha256:" + "A" * 64, f"'r.io/a@sha256:{'A' * 64}': {HEX64}"),
        ("r.io/a@sha256:" + "0" * 63, f"'r.io/a@sha256:{'0' * 63}': {HEX64}"),
        ("r.io/a@md5", "'r.io/a@md5': the digest after '@' must look like sha256:<64 hex digits>"),
        ("r.io/a:t!", f"'r.io/a:t!': the tag 't!' {TAG_RULE}"),
        ("a:t!", f"'a:t!': the tag 't!' {TAG_RULE}"),  # no '/' at all
        ("r.io/a:t:x", f"'r.io/a:t:x': the tag 't:x' {TAG_RULE}"),  # all after the first ':'
        ("r.io:5000/a:t!", f"'r.io:5000/a:t!': the tag 't!' {TAG_RULE}"),  # not the port
        ("R.io/A", "'R.io/A': repository paths must be lower case"),
        (
            "r.io/a b",
            f"'r.io/a b' is not a valid image reference {GRAMMAR}",
        ),
        ("A", f"'A' is not a valid image reference {GRAMMAR}"),  # no '/': not a path-case problem
        ("r.io/a\t", "'r.io/a\\t' is not an image reference (empty or surrounding spaces)"),
        ("", "'' is not an image reference (empty or surrounding spaces)"),
    ],
)
def test_invalid_messages_name_the_text_and_the_part(text: str, message: str) -> None:
    with pytest.raises(ReferenceError) as e:
        parse_reference(text)
    assert str(e.value) == message


def test_length_limit_is_host_tag_and_digest_maximums() -> None:
    # 255 (name) + 128 (tag) + 72 (sha256 digest) = 455 characters at most
    longest = "r.io/" + "a" * 450
    assert len(longest) == 455 and parse_reference(longest).repository == "a" * 450
    with pytest.raises(ReferenceError) as e:
        parse_reference(longest + "a")
    assert str(e.value) == f"{longest[:40]}… is too long to be an image reference"


@pytest.mark.parametrize(
    ("text", "with_registry"),
    [
        ("127.0.0.1:15001/ds-team/nb:v1", "127.0.0.1:15001/ds-team/nb"),
        ("r.io/a@sha256:" + "0" * 64, "r.io/a"),
        ("r.io/a:t@sha256:" + "0" * 64, "r.io/a"),
        ("docker.io/library/python", "docker.io/library/python"),
    ],
)
def test_str_and_repository_with_registry(text: str, with_registry: str) -> None:
    ref = parse_reference(text)
    assert str(ref) == text
    assert ref.repository_with_registry == with_registry


def test_references_are_immutable_values() -> None:
    ref = parse_reference("r.io/a:1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        ref.tag = "2"  # type: ignore[misc]
    assert {ref, parse_reference("r.io/a:1")} == {ref}


@pytest.mark.parametrize(
    ("ref", "repo"),
    [
        ("reg/team/nb:v1", "reg/team/nb"),
        ("reg/team/nb@sha256:" + "a" * 64, "reg/team/nb"),
        ("reg/team/nb:v1@sha256:" + "a" * 64, "reg/team/nb"),
        ("127.0.0.1:5000/team/nb:v1", "127.0.0.1:5000/team/nb"),
        ("127.0.0.1:5000/team/nb", "127.0.0.1:5000/team/nb"),  # the port stays
        ("nb", "nb"),
        ("nb:v1", "nb"),
        ("a@b@c", "a"),  # live text need not be a valid reference: only the first @ counts
        ("host:1/x:y/z", "host:1/x:y/z"),  # a ':' before the last '/' is no tag
        ("", ""),
    ],
)
def test_repository_drops_the_tag_and_digest_and_keeps_a_port(ref: str, repo: str) -> None:
    assert repository(ref) == repo
