"""Why an image is rebuilt: its inputs manifest against the label of the image it replaces."""

from __future__ import annotations

import base64
import json
import zlib

import pytest

from kfws.images.digest import (
    MAX_MANIFEST_FILES,
    ContextEntry,
    input_document,
    inputs_manifest,
    pack_dockerfile,
    unpack_dockerfile,
)
from kfws.plan.why import why_rebuilt

OLD = "reg/team/nb:kfws1-old"


def manifest(
    files: dict[str, str] | None = None,
    *,
    dockerfile: str = "FROM base\n",
    args: dict[str, str] | None = None,
    target: str | None = None,
    platform: str | None = None,
    bases: dict[str, str | None] | None = None,
) -> str:
    document = input_document(
        dockerfile_text=dockerfile,
        entries=[ContextEntry(p, "file", 0o644, h * 64) for p, h in (files or {}).items()],
        args=args or {},
        target=target,
        platform=platform,
        base_digests=bases if bases is not None else {"base": "sha256:" + "a" * 64},
    )
    return inputs_manifest(document)


BASE = manifest({"app.py": "1", "gone.txt": "2"}, args={"PIP_INDEX": "x"})


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        (
            manifest(
                {"app.py": "1", "gone.txt": "2"},
                dockerfile="FROM base\nRUN x\n",
                args={"PIP_INDEX": "x"},
            ),
            ["the Dockerfile changed"],
        ),
        (
            manifest({"app.py": "3", "new.txt": "4"}, args={"PIP_INDEX": "x"}),
            [
                "context files added: new.txt",
                "context files removed: gone.txt",
                "context files changed: app.py",
            ],
        ),
        (
            manifest({"app.py": "1", "gone.txt": "2"}, args={"TOKEN": "s3cret"}),
            ["build args +TOKEN -PIP_INDEX"],
        ),
        (
            manifest(
                {"app.py": "1", "gone.txt": "2"},
                args={"PIP_INDEX": "x"},
                target="dev",
                platform="linux/arm64",
            ),
            ["target unset -> dev", "platform unset -> linux/arm64"],
        ),
        (
            manifest(
                {"app.py": "1", "gone.txt": "2"},
                args={"PIP_INDEX": "x"},
                bases={"base": "sha256:" + "b" * 64},
            ),
            ["base base was rebuilt upstream (its digest moved)"],
        ),
        # only a build arg value differs: values are never recorded
        (
            manifest({"app.py": "1", "gone.txt": "2"}, args={"PIP_INDEX": "y"}),
            ["no recorded input changed: a build arg value (not recorded) did"],
        ),
    ],
)
def test_what_changed(new: str, expected: list[str]) -> None:
    assert why_rebuilt(new, OLD, BASE) == expected


def test_no_values_in_the_label() -> None:
    assert "s3cret" not in manifest(args={"TOKEN": "s3cret"})


@pytest.mark.parametrize(
    "hostile", [None, "", "not json", "[]", '{"v": 2}', "[" * 100_000, json.dumps({"v": 1}) + "x"]
)
def test_an_unreadable_old_label_says_so(hostile: str | None) -> None:
    assert why_rebuilt(BASE, OLD, hostile) == [
        f"{OLD} records no inputs (not built by this kfws): cannot tell what changed"
    ]


def test_a_hostile_but_well_formed_label_is_compared_not_trusted() -> None:
    old = json.dumps({"v": 1, "files": ["x"], "args": "AB", "bases": 7, "dockerfile": None})
    why = why_rebuilt(BASE, OLD, old)
    assert "the Dockerfile changed" in why and "build args +PIP_INDEX" in why


def test_many_files_are_capped_in_the_label_and_the_lines() -> None:
    many = {f"f{i:04}": "1" for i in range(MAX_MANIFEST_FILES + 1)}
    label = json.loads(manifest(many))
    assert "files" not in label and label["fileCount"] == MAX_MANIFEST_FILES + 1
    few = {f"f{i:02}": "1" for i in range(30)}
    (line,) = why_rebuilt(manifest(few), OLD, manifest({}))
    assert line.endswith("and 20 more")


MANAGED_OLD = {"reg/team/jupyter-base:kfws1-aaa": "inputs:sha256:" + "1" * 64}
MANAGED_NEW = {"reg/team/jupyter-base:kfws1-bbb": "inputs:sha256:" + "2" * 64}


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # a content-tagged managed base: a new tag, matched by repository
        (
            MANAGED_OLD,
            MANAGED_NEW,
            "managed base reg/team/jupyter-base:kfws1-aaa -> reg/team/jupyter-base:kfws1-bbb "
            "changed: its inputs moved, so it is built first",
        ),
        # an explicitly tagged managed base: the same reference, other inputs
        (
            {"reg/team/jupyter-base:v1": "inputs:sha256:" + "1" * 64},
            {"reg/team/jupyter-base:v1": "inputs:sha256:" + "2" * 64},
            "managed base reg/team/jupyter-base:v1 changed: its inputs moved, so it is built first",
        ),
        # an external base whose tag was bumped
        (
            {"reg/base/python:1": "sha256:" + "1" * 64},
            {"reg/base/python:2": "sha256:" + "2" * 64},
            "base reg/base/python:1 -> reg/base/python:2 was rebuilt upstream (its digest moved)",
        ),
        # another repository altogether
        (
            {"reg/base/python:1": "sha256:" + "1" * 64},
            {"reg/other:1": "x"},
            "new base image reg/other:1",
        ),
    ],
)
def test_managed_bases_are_matched_by_repository(
    old: dict[str, str | None], new: dict[str, str | None], expected: str
) -> None:
    assert why_rebuilt(manifest(bases=new), OLD, manifest(bases=old)) == [expected]


def with_text(dockerfile: str) -> str:
    document = input_document(
        dockerfile_text=dockerfile,
        entries=[],
        args={},
        target=None,
        platform=None,
        base_digests={},
    )
    return inputs_manifest(document, dockerfile)


def test_the_dockerfile_diff_is_shown_when_both_labels_hold_the_text() -> None:
    old = with_text("FROM base\nUSER root\nRUN pip install a\nUSER jovyan\n")
    new = with_text("FROM base\nUSER root\nRUN pip install a b\nUSER jovyan\n")
    assert why_rebuilt(new, OLD, old) == [
        "the Dockerfile changed",
        f"  --- Dockerfile ({OLD})",
        "  +++ Dockerfile (now)",
        "  @@ -2,3 +2,3 @@",
        "   USER root",
        "  -RUN pip install a",
        "  +RUN pip install a b",
        "   USER jovyan",
    ]


def test_no_diff_when_the_old_label_has_no_text() -> None:
    old = manifest(dockerfile="FROM base\nRUN a\n", bases={})  # an older kfws: hash only
    assert why_rebuilt(with_text("FROM base\nRUN b\n"), OLD, old) == ["the Dockerfile changed"]


def test_a_long_diff_is_cut() -> None:
    old = with_text("".join(f"RUN a{i}\n" for i in range(60)))
    new = with_text("".join(f"RUN b{i}\n" for i in range(60)))
    why = why_rebuilt(new, OLD, old)
    assert len(why) == 1 + 40 + 1
    assert why[-1] == "  ... 83 more diff lines"


def test_a_dockerfile_holding_a_credential_is_not_recorded() -> None:
    assert pack_dockerfile("FROM base\nENV GH=ghp_" + "a" * 36 + "\n") is None
    assert "dockerfileText" not in with_text("FROM base\nENV GH=ghp_" + "a" * 36 + "\n")
    assert unpack_dockerfile(pack_dockerfile("FROM base\n")) == "FROM base\n"
    huge = "".join(f"RUN echo {i} {'x' * 40}{i * 7919}\n" for i in range(3000))
    assert pack_dockerfile(huge) is None  # over the label's size: only the hash is kept


@pytest.mark.parametrize(
    "hostile",
    [
        None,
        42,
        "FROM base",  # no prefix
        "zlib+b64:!!!not base64",
        "zlib+b64:" + base64.b64encode(b"not zlib").decode(),
        "zlib+b64:" + base64.b64encode(zlib.compress(b"\xff\xfe")).decode(),  # not UTF-8
        # a decompression bomb: small label, far more than any Dockerfile once inflated
        "zlib+b64:" + base64.b64encode(zlib.compress(b"A" * (4 << 20), 9)).decode(),
    ],
)
def test_hostile_dockerfile_labels_read_as_not_recorded(hostile: object) -> None:
    assert unpack_dockerfile(hostile) is None
    new = with_text("FROM base\nRUN b\n")
    old = json.loads(with_text("FROM base\nRUN a\n"))
    old["dockerfileText"] = hostile
    assert why_rebuilt(new, OLD, json.dumps(old)) == ["the Dockerfile changed"]


def label(**fields: object) -> str:
    """An inputs label as kfws writes it (v 1), with just the given fields."""
    return json.dumps({"v": 1, **fields})


def test_an_unreadable_new_manifest_gives_no_lines() -> None:
    assert why_rebuilt("not json", OLD, BASE) == []
    assert why_rebuilt(label()[:-1], OLD, BASE) == []


def test_a_label_up_to_256_kib_is_read_and_a_longer_one_is_not() -> None:
    def padded(size: int) -> str:
        text = label(target="dev", pad="")
        return label(target="dev", pad="x" * (size - len(text)))

    new = label(target="prod")
    assert len(padded(256 * 1024)) == 256 * 1024
    assert why_rebuilt(new, OLD, padded(256 * 1024)) == ["target dev -> prod"]
    assert why_rebuilt(new, OLD, padded(256 * 1024 + 1)) == [
        f"{OLD} records no inputs (not built by this kfws): cannot tell what changed"
    ]


@pytest.mark.parametrize("count", [10, 11])
def test_ten_paths_are_shown_and_the_rest_counted(count: int) -> None:
    files = {f"f{i:02}": "1" for i in range(count)}
    (line,) = why_rebuilt(label(files=files), OLD, label(files={}))
    shown = ", ".join(f"f{i:02}" for i in range(10))
    assert line == f"context files added: {shown}" + (" and 1 more" if count == 11 else "")


def test_removed_and_changed_files_are_listed_sorted() -> None:
    old = label(files={"b": "1", "a": "1", "z": "1", "y": "1"})
    new = label(files={"z": "2", "y": "2"})
    assert why_rebuilt(new, OLD, old) == [
        "context files removed: a, b",
        "context files changed: y, z",
    ]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # too many files for the label: compared through the listing's digest
        ({"filesDigest": "abc"}, {"filesDigest": "abd"}, ["the build context changed"]),
        ({"filesDigest": "abc"}, {"filesDigest": "abc"}, []),
        # one side lists files, the other a digest: the context changed
        ({"files": {"a": "1"}}, {"filesDigest": "abc"}, ["the build context changed"]),
        ({"filesDigest": "abc"}, {"files": {"a": "1"}}, ["the build context changed"]),
        # a label with neither (hand-made, or hostile) against one with either: changed
        ({}, {"files": {"a": "1"}}, ["the build context changed"]),
        ({"filesDigest": "abc"}, {}, ["the build context changed"]),
        ({"files": {"a": "1"}}, {}, ["the build context changed"]),
        # a hostile `files` that is not a map reads as no files
        ({"files": ["a"]}, {"files": {"a": "1"}}, ["context files added: a"]),
    ],
)
def test_the_build_context_without_a_listing_on_both_sides(
    old: dict[str, object], new: dict[str, object], expected: list[str]
) -> None:
    nothing = ["no recorded input changed: a build arg value (not recorded) did"]
    assert why_rebuilt(label(**new), OLD, label(**old)) == (expected or nothing)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ({"target": "dev"}, {}, "target dev -> unset"),
        (
            {"platform": "linux/amd64"},
            {"platform": "linux/arm64"},
            "platform linux/amd64 -> linux/arm64",
        ),
        ({"args": ["A", "B"]}, {"args": ["C"]}, "build args +C -A -B"),
        ({"args": "AB"}, {"args": ["A"]}, "build args +A"),  # a hostile non-list: none
        ({"dockerfile": "abc"}, {"dockerfile": "abd"}, "the Dockerfile changed"),
    ],
)
def test_each_recorded_input_is_one_line(
    old: dict[str, object], new: dict[str, object], expected: str
) -> None:
    assert why_rebuilt(label(**new), OLD, label(**old)) == [expected]


def test_a_hostile_bases_map_reads_as_no_bases() -> None:
    assert why_rebuilt(label(bases={"reg/py:1": "sha256:1"}), OLD, label(bases=["x"])) == [
        "new base image reg/py:1"
    ]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # the same base, the same digest: nothing to say
        ({"reg/py:1": "sha256:1"}, {"reg/py:1": "sha256:1"}, []),
        # a base by digest, then by tag: the same repository
        (
            {"reg/py@sha256:1": "sha256:1"},
            {"reg/py:2": "sha256:2"},
            ["base reg/py@sha256:1 -> reg/py:2 was rebuilt upstream (its digest moved)"],
        ),
        # a host with a port is not a tag
        (
            {"127.0.0.1:5000/py:1": "sha256:1"},
            {"127.0.0.1:5000/py:2": "sha256:1"},
            [],
        ),
        # no registry host: the name alone
        (
            {"python:3.11": "sha256:1"},
            {"python:3.12": "sha256:2"},
            ["base python:3.11 -> python:3.12 was rebuilt upstream (its digest moved)"],
        ),
        (
            {"python:3.11": "sha256:1"},
            {"pythonx:3.12": "sha256:2"},
            ["new base image pythonx:3.12"],
        ),
        # another repository on the same registry host (a port is no tag)
        (
            {"127.0.0.1:5000/a:1": "sha256:1"},
            {"127.0.0.1:5000/b:1": "sha256:2"},
            ["new base image 127.0.0.1:5000/b:1"],
        ),
        # the same name in another registry is another repository
        ({"reg1/py:1": "sha256:1"}, {"reg2/py:1": "sha256:2"}, ["new base image reg2/py:1"]),
        # an unchanged managed base: nothing to say
        ({"reg/b:1": "inputs:sha256:1"}, {"reg/b:1": "inputs:sha256:1"}, []),
        # a managed base that is new, not moved
        ({}, {"reg/b:1": "inputs:sha256:1"}, ["new base image reg/b:1"]),
        # an external base that became managed: its inputs are new
        (
            {"reg/b:1": "sha256:1"},
            {"reg/b:1": "inputs:sha256:1"},
            ["managed base reg/b:1 changed: its inputs moved, so it is built first"],
        ),
        # sorted by reference
        (
            {},
            {"reg/z:1": "sha256:1", "reg/a:1": "sha256:1"},
            ["new base image reg/a:1", "new base image reg/z:1"],
        ),
    ],
)
def test_base_lines(old: dict[str, str], new: dict[str, str], expected: list[str]) -> None:
    nothing = ["no recorded input changed: a build arg value (not recorded) did"]
    assert why_rebuilt(label(bases=new), OLD, label(bases=old)) == (expected or nothing)


def test_a_diff_of_exactly_forty_lines_is_shown_whole() -> None:
    # 3 header lines, 1 line of context, then 18 removed and 18 added lines: 40
    old = with_text("FROM base\n" + "".join(f"RUN a{i}\n" for i in range(18)))
    new = with_text("FROM base\n" + "".join(f"RUN b{i}\n" for i in range(18)))
    diff = why_rebuilt(new, OLD, old)[1:]
    assert len(diff) == 40
    assert diff[-1] == "  +RUN b17"


def test_a_diff_of_forty_one_lines_is_cut_to_forty_and_a_count() -> None:
    # 3 header lines, then 19 removed and 19 added lines: 41
    old = with_text("".join(f"RUN a{i}\n" for i in range(19)))
    new = with_text("".join(f"RUN b{i}\n" for i in range(19)))
    diff = why_rebuilt(new, OLD, old)[1:]
    assert len(diff) == 41
    assert diff[-2:] == ["  +RUN b17", "  ... 1 more diff lines"]
