"""Build inputs read from real folders (tmp_path): the files, not the network."""

from __future__ import annotations

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
