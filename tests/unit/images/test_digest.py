from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pytest

from kfws.images.digest import (
    TAG_SCHEME,
    ContextEntry,
    base_images,
    content_tag,
    input_digest,
    normalise_mode,
)

FILES = (
    ContextEntry("Dockerfile", "file", 0o644, "a" * 64),
    ContextEntry("requirements.txt", "file", 0o644, "b" * 64),
    ContextEntry("start.sh", "file", 0o755, "c" * 64),
)


def digest(**overrides: Any) -> str:
    base: dict[str, Any] = {
        "dockerfile_text": "FROM base\n",
        "entries": FILES,
        "args": {"PY": "3.11"},
        "target": None,
        "platform": "linux/amd64",
        "base_digests": {"base": "sha256:" + "0" * 64},
    }
    base.update(overrides)
    return input_digest(**base)


def test_same_inputs_same_digest_whatever_the_entry_order() -> None:
    assert digest() == digest(entries=tuple(reversed(FILES)))


@pytest.mark.parametrize(
    "overrides",
    [
        {"dockerfile_text": "FROM base\nRUN true\n"},
        {"entries": (*FILES[:2], ContextEntry("start.sh", "file", 0o644, "c" * 64))},
        {"entries": (*FILES[:2], ContextEntry("start.sh", "file", 0o755, "d" * 64))},
        {"entries": FILES[:2]},
        {"entries": (*FILES, ContextEntry("data", "dir", 0o755, ""))},
        {"args": {"PY": "3.12"}},
        {"args": {}},
        {"target": "final"},
        {"platform": "linux/arm64"},
        {"base_digests": {"base": "sha256:" + "1" * 64}},
        {"base_digests": {"base": None}},
    ],
    ids=lambda o: next(iter(o)),
)
def test_every_input_changes_the_digest(overrides: Mapping[str, Any]) -> None:
    assert digest(**overrides) != digest()


def test_content_tag_carries_the_scheme_and_is_a_valid_docker_tag() -> None:
    full = digest()
    tag = content_tag(full)
    # exactly kfws1- + the first 24 hex digits of the digest: one digit short is another tag
    assert TAG_SCHEME == "kfws1"
    assert re.fullmatch(r"kfws1-[0-9a-f]{24}", tag), tag
    assert tag == "kfws1-" + full.removeprefix("sha256:")[:24]


@pytest.mark.parametrize(
    ("st_mode", "kind", "expected"),
    [
        (0o100644, "file", 0o644),
        (0o100600, "file", 0o644),
        (0o100775, "file", 0o755),
        (0o100700, "file", 0o755),
        (0o040700, "dir", 0o755),
    ],
)
def test_modes_are_normalised_to_what_git_keeps(st_mode: int, kind: str, expected: int) -> None:
    assert normalise_mode(kind, st_mode) == expected


@pytest.mark.parametrize(
    ("dockerfile", "args", "expected"),
    [
        ("FROM a/b:1\n", None, ["a/b:1"]),
        (
            "FROM --platform=linux/amd64 a/b:1 AS build\nFROM build\nFROM c:2\n",
            None,
            ["a/b:1", "c:2"],
        ),
        ("FROM scratch\nCOPY x /\n", None, []),
        ("ARG BASE=x/y:1\nFROM ${BASE}\n", None, ["x/y:1"]),
        ("ARG BASE=x/y:1\nFROM $BASE\n", {"BASE": "z:9"}, ["z:9"]),
        ("FROM ${UNSET}\n", None, []),
        ("# FROM commented:1\nFROM real:1\nFROM real:1\n", None, ["real:1"]),
        ("FROM \\\n  split/line:3\n", None, ["split/line:3"]),
        # Docker drops a comment line inside a continuation: it is not the base image
        ("FROM \\\n# the base:\n  real/base:1\n", None, ["real/base:1"]),
        ("FROM \\\n  # indented\n\n  real/base:2 AS b\nFROM b\n", None, ["real/base:2"]),
    ],
)
def test_base_images(dockerfile: str, args: dict[str, str] | None, expected: list[str]) -> None:
    assert base_images(dockerfile, args) == expected
