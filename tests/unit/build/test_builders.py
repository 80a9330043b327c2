"""What stops an apply's builds before the first one starts (kfws.build.builders): every
problem of the builder setup is said at once; a secret is named by where its value lives."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from kfws.build.builders import Builders
from kfws.errors import ApplyError
from kfws.observe.model import BuildInputs
from kfws.plan.model import Change, ChangeKind
from kfws.spec.model import (
    BuildSecret,
    BuildSettings,
    BuildSpec,
    ClusterSpec,
    ImageSpec,
    SpawnerSpec,
    Spec,
)

DOCKERFILE = "FROM base\nRUN --mount=type=secret,id=pip-index pip install x\n"
IMAGE = ImageSpec(
    "nb",
    "reg.example.com/team/nb",
    None,
    BuildSpec(Path("/ws/nb"), Path("/ws/nb/Dockerfile")),
    None,
    "ws.yaml:5",
)
SECRET = BuildSecret("pip-index", "KFWS_TEST_PIP_INDEX", None, "ws.yaml:3")
SPEC = Spec(
    Path("/ws.yaml"),
    "sha256:0",
    "reg.example.com/team",
    {},
    ClusterSpec(),
    (IMAGE,),
    SpawnerSpec(),
    build=BuildSettings(engine="buildkit", secrets=(SECRET,)),
)
INPUTS = {"nb": BuildInputs("nb", "sha256:1", DOCKERFILE, None, "kfws1-1")}
BUILD = [
    Change(ChangeKind.BUILD_IMAGE, "reg.example.com/team/nb:kfws1-1", "new", details={"name": "nb"})
]


def problems(spec: Spec, env: dict[str, str], inputs: dict[str, BuildInputs] = INPUTS) -> str:
    with pytest.raises(ApplyError) as e:
        Builders(spec, inputs, BUILD, env)
    assert "nothing was built and the cluster was not touched" in e.value.message
    return e.value.message


def test_buildkit_chosen_without_a_daemon_and_a_missing_secret_are_both_said() -> None:
    message = problems(SPEC, {})
    assert "set BUILDKIT_HOST" in message
    assert "ws.yaml:3: image nb: the build secret 'pip-index'" in message
    assert "KFWS_TEST_PIP_INDEX, which is not set" in message


def test_a_secret_the_dockerfile_does_not_mount_is_not_needed() -> None:
    inputs = {"nb": replace(INPUTS["nb"], dockerfile="FROM base\n")}
    message = problems(SPEC, {"BUILDKIT_HOST": "10.0.0.1:1234"}, inputs)
    assert "secret" not in message and "not a BuildKit address" in message


def test_a_missing_secret_file_is_named_not_shown(tmp_path: Path) -> None:
    secret = BuildSecret("pip-index", None, tmp_path / "nope", "ws.yaml:3")
    spec = replace(SPEC, build=BuildSettings(engine="buildkit", secrets=(secret,)))
    message = problems(spec, {"BUILDKIT_HOST": "bogus"})
    assert f"is read from {tmp_path / 'nope'}: No such file or directory" in message


def test_several_platforms_need_buildkit() -> None:
    image = replace(IMAGE, build=replace(IMAGE.build, platform="linux/amd64,linux/arm64"))  # type: ignore[type-var]
    spec = replace(SPEC, images=(image,), build=BuildSettings(engine="docker"))
    assert "only BuildKit builds an index" in problems(spec, {})
