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
