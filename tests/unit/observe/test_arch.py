"""What the architecture check reads of an image to build (kfws.observe.arch): which offered
images a plan may build, the platforms their builds produce, and BuildKit's default platform
from `buildctl debug workers` (hostile-safe)."""

from __future__ import annotations

import dataclasses
import json

from kfws.observe.arch import may_build, observe_build_platforms, offered_refs, worker_platform
from kfws.observe.model import BuildPlatforms
from kfws.spec.model import SpawnerGroup, SpawnerSpec
from kfws.targets.workspacekind.model import DeclaredImage, KindSpec
from tests.unit.factories import image, inputs, observed, spec, state

DIGEST = "sha256:" + "1" * 64  # inputs("…") digest


def test_the_offered_images_a_plan_may_build() -> None:
    named = [image("missing"), image("done"), image("v1", tag="v1"), image("same", tag="v2")]
    named.append(image("hidden"))  # not offered: never run by a node
    group = SpawnerGroup("image", None, ("missing", "done", "v1", "same", "reg/x/y:1"))
    ws = spec(*named, spawner=SpawnerSpec((group,)))
    seen = observed(
        (inputs("missing"), state("r/missing:kfws1-1")),
        (inputs("done"), state("r/done:kfws1-1", registry="sha256:aa")),
        (inputs("v1", tag="v1"), state("r/v1:v1", registry="sha256:bb", label="sha256:old")),
        (inputs("same", tag="v2"), state("r/same:v2", registry="sha256:cc", label=DIGEST)),
        (inputs("hidden"), state("r/hidden:kfws1-1")),
    )
    assert may_build(ws, seen) == ["missing", "v1"]


def test_images_only_a_workspacekind_offers_are_judged_too() -> None:
    """Notebooks 2.0: a WorkspaceKind's image values are offered like spawner options."""
    kind = KindSpec("jupyterlab", (DeclaredImage("lab", "lab"), DeclaredImage("new", "new")))
    ws = dataclasses.replace(
        spec(image("lab"), image("new"), image("unused")), workspace_kinds=(kind,)
    )
    seen = observed(
        (inputs("lab"), state("r/lab:kfws1-1", registry="sha256:aa")),
        (inputs("new"), state("r/new:kfws1-1")),
        (inputs("unused"), state("r/unused:kfws1-1", registry="sha256:bb")),
    )
    assert offered_refs(ws, seen) == ["r/lab:kfws1-1"]  # held by the registry: its platforms
    assert may_build(ws, seen) == ["new"]  # to be built: its build's platforms


def test_a_build_produces_its_own_platforms_else_its_builder_s_asked_once() -> None:
    own = image("own")
    own = dataclasses.replace(
        own, generated=dataclasses.replace(own.generated, platform="linux/amd64,linux/arm64")
    )
    ws = spec(own, image("a"), image("b"))
    asked: list[str] = []

    def docker() -> str | None:
        asked.append("docker")
        return "linux/amd64"

    found = observe_build_platforms(
        ws, ["own", "a", "b"], {}, {"docker": docker, "buildkit": lambda: None}
    )
    assert found == {
        "own": BuildPlatforms(("linux/amd64", "linux/arm64"), "as the workspace sets"),
        "a": BuildPlatforms(("linux/amd64",), "the Docker Engine's platform"),
        "b": BuildPlatforms(("linux/amd64",), "the Docker Engine's platform"),
    }
    assert asked == ["docker"]  # once for both
    # BuildKit named in the environment, and its daemon can't say: not judged
    none = observe_build_platforms(
        ws, ["a"], {"BUILDKIT_HOST": "unix:///x"}, {"docker": docker, "buildkit": lambda: None}
    )
    assert none == {}


def test_buildkit_s_default_platform_is_its_first_worker_s_first() -> None:
    workers = [
        {"platforms": [{"os": "linux", "architecture": "arm64", "variant": "v8"}, {"os": "x"}]},
        {"platforms": [{"os": "linux", "architecture": "amd64"}]},
    ]
    assert worker_platform(json.dumps(workers)) == "linux/arm64/v8"
    assert worker_platform('[{"platforms":[{"os":"linux","architecture":"amd64"}]}]') == (
        "linux/amd64"
    )
    for odd in ("", "nope", "{}", "[]", "[1]", '[{"platforms":[]}]', '[{"platforms":[{"os":1}]}]'):
        assert worker_platform(odd) is None, odd
    assert (
        worker_platform('[{"platforms":[{"os":"linux","architecture":"' + "a" * 65 + '"}]}]')
        is None
    )
