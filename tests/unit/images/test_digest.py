from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

import pytest

from kfws.images.digest import (
    INPUTS_LABEL,
    MAX_MANIFEST_FILES,
    TAG_SCHEME,
    ContextEntry,
    base_images,
    content_tag,
    digest_of_document,
    input_digest,
    input_document,
    inputs_manifest,
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
        (0o100010, "file", 0o755),  # any one executable bit is "executable", as git has it
        (0o100001, "file", 0o755),
        (0o040700, "dir", 0o755),
        (0o040600, "dir", 0o755),  # a directory is 0o755 whatever its bits
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
        ('ARG BASE="q/r:1"\nFROM $BASE\n', None, ["q/r:1"]),  # the default's quotes go
        ("ARG BASE=q/r:X\nFROM $BASE\n", None, ["q/r:X"]),  # and only they
        # an ARG after the first FROM belongs to that stage, not to the FROM lines
        ("FROM a:1\nARG BASE=x/y:1\nFROM ${BASE}\n", None, ["a:1"]),
        # a FROM with only flags names nothing; the lines after it still count
        ("FROM --platform=linux/amd64\nFROM real:4\n", None, ["real:4"]),
    ],
)
def test_base_images(dockerfile: str, args: dict[str, str] | None, expected: list[str]) -> None:
    assert base_images(dockerfile, args) == expected


def test_a_context_entry_cannot_change_once_hashed() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        FILES[0].content_sha256 = "e" * 64  # type: ignore[misc]


def test_the_input_document_in_full() -> None:
    # entries sorted by path, modes as oct strings, args and bases sorted by name
    document = input_document(
        dockerfile_text="FROM base\n",
        entries=(FILES[2], ContextEntry("data", "dir", 0o755, ""), FILES[0]),
        args={"Z": "1", "A": "2"},
        target="final",
        platform="linux/amd64",
        base_digests={"z/base": None, "a/base": "sha256:" + "0" * 64},
    )
    assert document == {
        "scheme": "kfws1",
        "dockerfile": hashlib.sha256(b"FROM base\n").hexdigest(),
        "context": [
            ["Dockerfile", "file", "0o644", "a" * 64],
            ["data", "dir", "0o755", ""],
            ["start.sh", "file", "0o755", "c" * 64],
        ],
        "args": {"A": "2", "Z": "1"},
        "target": "final",
        "platform": "linux/amd64",
        "bases": {"a/base": "sha256:" + "0" * 64, "z/base": None},
    }
    assert list(document["args"]) == ["A", "Z"]
    assert list(document["bases"]) == ["a/base", "z/base"]


def test_the_digest_hashes_compact_json_with_sorted_keys() -> None:
    canonical = b'{"a":[1,"x"],"b":{"c":null}}'
    expected = "sha256:" + hashlib.sha256(canonical).hexdigest()
    assert digest_of_document({"b": {"c": None}, "a": [1, "x"]}) == expected


def _document(entries: list[ContextEntry]) -> dict[str, Any]:
    return input_document(
        dockerfile_text="FROM base\n",
        entries=entries,
        args={"TOKEN": "secret-value", "A": "1"},
        target="final",
        platform="linux/arm64",
        base_digests={"base": "sha256:" + "0" * 64},
    )


def test_the_inputs_manifest_in_full() -> None:
    entries = [
        ContextEntry("run.sh", "file", 0o755, "1" * 64),
        ContextEntry("app.py", "file", 0o644, "2" * 64),
        ContextEntry("lib", "dir", 0o755, ""),
        ContextEntry("link", "symlink", 0o755, "3" * 64),
    ]
    dockerfile_sha = hashlib.sha256(b"FROM base\n").hexdigest()
    expected = {
        "v": 1,
        "dockerfile": dockerfile_sha[:12],
        "args": ["A", "TOKEN"],  # names only: a value may be a secret
        "target": "final",
        "platform": "linux/arm64",
        "bases": {"base": "sha256:" + "0" * 64},
        # 12 hex digits each; "+x" only on an executable file; no directories
        "files": {"app.py": "2" * 12, "link": "3" * 12, "run.sh": "1" * 12 + "+x"},
    }
    text = inputs_manifest(_document(entries))
    assert text == json.dumps(expected, sort_keys=True, separators=(",", ":"))
    assert "secret-value" not in text
    assert INPUTS_LABEL == "dev.kfws.inputs"  # the label name images already carry


def test_the_manifest_lists_up_to_the_limit_then_only_a_count_and_a_digest() -> None:
    entries = [ContextEntry(f"f{i:04}", "file", 0o644, "a" * 64) for i in range(MAX_MANIFEST_FILES)]
    listed = json.loads(inputs_manifest(_document(entries)))
    assert len(listed["files"]) == MAX_MANIFEST_FILES == 400
    assert "fileCount" not in listed and "filesDigest" not in listed
    more = [
        *entries,
        ContextEntry("zz", "dir", 0o755, ""),
        ContextEntry("zz/f", "file", 0o644, "b" * 64),
    ]
    counted = json.loads(inputs_manifest(_document(more)))
    assert "files" not in counted and counted["fileCount"] == 401
    files = {e.path: e.content_sha256[:12] for e in more if e.kind != "dir"}
    listing = json.dumps(files, sort_keys=True).encode()
    assert counted["filesDigest"] == hashlib.sha256(listing).hexdigest()[:12]
