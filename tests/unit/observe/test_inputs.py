"""Build inputs read from real folders (tmp_path): the files, not the network."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from kfws.errors import SpecError
from kfws.observe.inputs import check_build_args, context_entries, read_inputs
from kfws.spec.model import BuildSpec, GeneratedSpec, ImageSpec
from tests.unit.factories import spec

BASE_DIGEST = "sha256:" + "b" * 64


def make_context(root: Path) -> Path:
    ctx = root / "ctx"
    (ctx / "src").mkdir(parents=True)
    (ctx / "Dockerfile").write_text("FROM reg.example.com/base:1\nCOPY . /app\n")
    (ctx / "src" / "app.py").write_text("print('hi')\n")
    (ctx / "start.sh").write_text("#!/bin/sh\n")
    (ctx / "start.sh").chmod(0o755)
    (ctx / "notes.tmp").write_text("scratch\n")
    (ctx / ".dockerignore").write_text("# comment\n*.tmp\n")
    return ctx


def built(ctx: Path, dockerfile: Path | None = None, **build: object) -> ImageSpec:
    return ImageSpec(
        name="app",
        repository="reg.example.com/team/app",
        tag=None,
        build=BuildSpec(context=ctx, dockerfile=dockerfile or ctx / "Dockerfile", **build),  # type: ignore[arg-type]
        generated=None,
        location="workspace.yaml:3",
    )


def resolve(ref: str) -> str | None:
    assert ref == "reg.example.com/base:1"
    return BASE_DIGEST


def test_dockerignore_is_honoured_and_the_dockerfile_always_counts(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    (ctx / ".dockerignore").write_text("*.tmp\nDockerfile\n")
    paths = [e.path for e in context_entries(ctx, ctx / "Dockerfile")]
    assert "notes.tmp" not in paths
    assert "Dockerfile" in paths and "src/app.py" in paths and "start.sh" in paths


def test_same_content_elsewhere_gives_the_same_tag(tmp_path: Path) -> None:
    a = make_context(tmp_path / "one")
    b = tmp_path / "two" / "deeper" / "ctx"
    shutil.copytree(a, b, symlinks=True)
    assert read_inputs(built(a), resolve).tag == read_inputs(built(b), resolve).tag


def test_ignored_files_dont_change_the_tag_but_others_do(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    first = read_inputs(built(ctx), resolve)
    (ctx / "notes.tmp").write_text("changed\n")
    assert read_inputs(built(ctx), resolve).tag == first.tag
    (ctx / "src" / "app.py").write_text("print('bye')\n")
    assert read_inputs(built(ctx), resolve).tag != first.tag


def test_mode_change_changes_the_tag(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    first = read_inputs(built(ctx), resolve).tag
    (ctx / "start.sh").chmod(0o644)
    assert read_inputs(built(ctx), resolve).tag != first


def test_dockerfile_outside_the_context_is_part_of_the_digest(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    outside = tmp_path / "Dockerfile.prod"
    outside.write_text("FROM reg.example.com/base:1\n")
    first = read_inputs(built(ctx, outside), resolve)
    outside.write_text("FROM reg.example.com/base:1\nRUN true\n")
    assert read_inputs(built(ctx, outside), resolve).tag != first.tag


def test_build_args_and_base_digest_change_the_tag(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    plain = read_inputs(built(ctx), resolve).tag
    assert read_inputs(built(ctx, args={"PY": "3.11"}), resolve).tag != plain
    assert read_inputs(built(ctx), lambda ref: "sha256:" + "c" * 64).tag != plain


def test_symlinks_are_hashed_by_target_not_followed(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    os.symlink("src/app.py", ctx / "link")
    entries = {e.path: e for e in context_entries(ctx, ctx / "Dockerfile")}
    assert entries["link"].kind == "symlink"
    # the link's hash is its target text, not the bytes it points at
    assert entries["link"].content_sha256 == hashlib.sha256(b"src/app.py").hexdigest()
    before = read_inputs(built(ctx), resolve).tag
    (ctx / "src" / "app.py").write_text("changed\n")
    after = {e.path: e for e in context_entries(ctx, ctx / "Dockerfile")}
    assert after["link"] == entries["link"]  # not followed
    assert read_inputs(built(ctx), resolve).tag != before  # the file itself still counts
    os.remove(ctx / "link")
    os.symlink("src", ctx / "link")
    changed = {e.path: e for e in context_entries(ctx, ctx / "Dockerfile")}
    assert changed["link"].content_sha256 == hashlib.sha256(b"src").hexdigest()


def test_generated_images_hash_their_generated_dockerfile() -> None:
    image = ImageSpec(
        name="gen",
        repository="reg.example.com/team/gen",
        tag="v1",
        build=None,
        generated=GeneratedSpec(base="reg.example.com/base:1", env={"A": "1"}),
        location="workspace.yaml:9",
    )
    inputs = read_inputs(image, resolve)
    assert inputs.tag == "v1"  # an explicit tag is kept; the digest still names the inputs
    assert 'ENV A="1"' in inputs.dockerfile
    assert inputs.base_digest == BASE_DIGEST


@pytest.mark.parametrize(
    "name", ["GITHUB_TOKEN", "db_password", "AWS_SECRET_ACCESS_KEY", "API_KEY"]
)
def test_secret_looking_build_args_are_refused(tmp_path: Path, name: str) -> None:
    ctx = make_context(tmp_path)
    with pytest.raises(SpecError) as e:
        check_build_args(spec(built(ctx, args={name: "s3cr3t-value", "PY": "3"})))
    assert name in e.value.message and "workspace.yaml:3" in e.value.message
    assert "s3cr3t-value" not in e.value.render()  # the value itself is never echoed


def test_ordinary_build_args_pass(tmp_path: Path) -> None:
    check_build_args(spec(built(make_context(tmp_path), args={"PY": "3.11", "BASE_TAG": "1"})))


def test_a_comment_inside_the_from_continuation_is_not_the_base(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    (ctx / "Dockerfile").write_text(
        "FROM \\\n# pinned by the platform team\n reg.example.com/base:1\n"
    )
    assert read_inputs(built(ctx), resolve).base_digest == BASE_DIGEST


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"FROM reg.example.com/Base:1\n", "is not an image reference"),
        (b"FROM caf\xe9\n", "UTF-8"),
    ],
)
def test_a_dockerfile_kfws_cannot_use_is_a_located_error(
    tmp_path: Path, content: bytes, fragment: str
) -> None:
    ctx = make_context(tmp_path)
    (ctx / "Dockerfile").write_bytes(content)
    with pytest.raises(SpecError) as e:
        read_inputs(built(ctx), resolve)
    assert fragment in e.value.render()


def test_pip_files_of_a_generated_image_are_part_of_its_digest(tmp_path: Path) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text("pandas\n")

    def image() -> ImageSpec:
        return ImageSpec(
            name="gen",
            repository="reg.example.com/team/gen",
            tag=None,
            build=None,
            generated=GeneratedSpec(
                base="reg.example.com/base:1",
                pip=("--requirement=pip/0-requirements.txt",),
                files=(("pip/0-requirements.txt", req),),
            ),
            location="workspace.yaml:9",
        )

    first = read_inputs(image(), resolve)
    assert first.tag == read_inputs(image(), resolve).tag
    req.write_text("pandas==2.2.0\n")
    assert read_inputs(image(), resolve).tag != first.tag


@pytest.mark.parametrize(
    ("args", "refused"),
    [
        ({"INDEX": "https://bob:hunter2@pypi.example.com/simple"}, True),
        ({"AUTHOR": "me", "BYPASS_PROXY": "1", "COMPASS_HOME": "/x"}, False),
    ],
)
def test_build_args_are_judged_by_the_same_check_as_validate(
    tmp_path: Path, args: dict[str, str], refused: bool
) -> None:
    from kfws.spec.checks import secret_key_problem, secret_value_problem

    ctx = make_context(tmp_path)
    expected = any(secret_key_problem(k) or secret_value_problem(v) for k, v in args.items())
    assert expected == refused
    if refused:
        with pytest.raises(SpecError) as e:
            check_build_args(spec(built(ctx, args=args)))
        assert "hunter2" not in e.value.render()
    else:
        check_build_args(spec(built(ctx, args=args)))


def test_a_dockerignore_that_is_not_utf8_is_a_located_error(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    (ctx / ".dockerignore").write_bytes(b"caf\xe9\n")
    with pytest.raises(SpecError) as e:
        read_inputs(built(ctx), resolve)
    assert "cannot read the build context" in e.value.render()
